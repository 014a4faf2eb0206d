//! Attack tests for issue #14 item 7: in a privileged process (these tests
//! run as root in CI) the plugins' site files (grid-mapfiles, ban files,
//! gridmapdirs) must be refused when anyone but root can change them or a
//! directory above them.

use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};

use lcmaps_plugin_common::gridmapdir::Gridmapdir;
use lcmaps_plugin_common::mapfile::{self, BanOptions, Select};
use lcmaps_plugin_common::options;

const USER: u32 = 5001;
const MAP: &str = "\"/CN=Alice\" alice\n";

/// True when the test can run (euid 0); see `lcmaps_core::testing`.
fn root(test: &str) -> bool {
    let met = lcmaps_core::testing::root(test);
    assert!(!met || lcmaps_core::trust::privileged());
    met
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A root-owned 0755 directory under /tmp holding `etc/grid-mapfile`.
fn site() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    chmod(t.path(), 0o755);
    let etc = t.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    let f = etc.join("grid-mapfile");
    std::fs::write(&f, MAP).unwrap();
    (t, f)
}

#[test]
fn a_group_writable_grid_mapfile_is_refused_when_privileged() {
    if !root("a_group_writable_grid_mapfile_is_refused_when_privileged") {
        return;
    }
    let (_t, f) = site();
    assert!(mapfile::load(&f).is_ok());
    chmod(&f, 0o664);
    let e = mapfile::gridmapfile(Some(&f), "/CN=Alice", false, Select::OnlyKey, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains(&f.display().to_string()), "{e}");
    assert!(e.contains("writable by group"), "{e}");
}

#[test]
fn a_grid_mapfile_in_a_user_owned_directory_is_refused() {
    if !root("a_grid_mapfile_in_a_user_owned_directory_is_refused") {
        return;
    }
    let (_t, f) = site();
    let etc = f.parent().unwrap();
    chown(etc, Some(USER), None).unwrap();
    let e = mapfile::load(&f).unwrap_err().to_string();
    assert!(e.contains(&etc.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_group_writable_grid_mapfile_option_is_refused_at_initialize() {
    if !root("a_group_writable_grid_mapfile_option_is_refused_at_initialize") {
        return;
    }
    let (_t, f) = site();
    chmod(&f, 0o620);
    let opts = ["-gridmapfile".to_string(), f.display().to_string()];
    let mut file = None;
    let e = options::parse(
        &[options::Opt::file(
            &["-gridmapfile"],
            |f: &mut Option<std::path::PathBuf>, p| *f = Some(p),
        )],
        &opts,
        &mut file,
    )
    .unwrap_err()
    .message();
    assert!(e.contains(&f.display().to_string()), "{e}");
    assert!(e.contains("writable by group"), "{e}");
}

#[test]
fn a_ban_file_owned_by_a_user_is_refused() {
    if !root("a_ban_file_owned_by_a_user_is_refused") {
        return;
    }
    let (_t, f) = site();
    chown(&f, Some(USER), None).unwrap();
    let argv = [
        "lcmaps_ban_dn.mod".to_string(),
        "-banmapfile".into(),
        f.display().to_string(),
    ];
    let e = BanOptions::parse("ban", &argv).unwrap_err().to_string();
    assert!(e.contains(&f.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_user_owned_gridmapdir_is_refused() {
    if !root("a_user_owned_gridmapdir_is_refused") {
        return;
    }
    let (t, _f) = site();
    let gmd = t.path().join("gridmapdir");
    std::fs::create_dir(&gmd).unwrap();
    assert!(Gridmapdir::open(&gmd).is_ok());
    chown(&gmd, Some(USER), None).unwrap();
    let e = Gridmapdir::open(&gmd).unwrap_err();
    assert!(e.contains(&gmd.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_group_writable_gridmapdir_is_refused() {
    if !root("a_group_writable_gridmapdir_is_refused") {
        return;
    }
    let (t, _f) = site();
    let gmd = t.path().join("gridmapdir");
    std::fs::create_dir(&gmd).unwrap();
    chmod(&gmd, 0o775);
    let e = Gridmapdir::open(&gmd).unwrap_err();
    assert!(e.contains(&gmd.display().to_string()), "{e}");
    assert!(e.contains("writable by group"), "{e}");
}

// The file-system work of a mapping (issue #19): `mapfile::load` walks the
// directories above a grid-mapfile again only when the file is another or
// has changed, or its last walk is `VERIFIED_TTL` old. These check that
// nothing a walk on every call refuses gets through in between.

/// The site's `etc/` is made world-writable and the grid-mapfile replaced
/// by another file with the same content: refused at once.
#[test]
fn a_grid_mapfile_swapped_under_a_weakened_directory_after_a_cached_load_is_refused() {
    if !root("a_grid_mapfile_swapped_under_a_weakened_directory_after_a_cached_load_is_refused") {
        return;
    }
    let (_t, f) = site();
    let etc = f.parent().unwrap();
    // A file written just now is not kept (lcmaps_core::trust::settled).
    std::thread::sleep(lcmaps_core::trust::SETTLE + std::time::Duration::from_millis(1100));
    let first = mapfile::load(&f).unwrap();
    let again = mapfile::load(&f).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again), "cache hit");
    chmod(etc, 0o777);
    let new = etc.join("grid-mapfile.new");
    std::fs::write(&new, MAP).unwrap();
    std::fs::rename(&new, &f).unwrap();
    for _ in 0..2 {
        let e = mapfile::load(&f).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "directory {} is writable by group and others",
                etc.display()
            )),
            "{e}"
        );
        let e = mapfile::gridmapfile(Some(&f), "/CN=Alice", false, Select::OnlyKey, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("writable by group and others"), "{e}");
    }
    chmod(etc, 0o755);
    assert_eq!(mapfile::load(&f).unwrap().entries, first.entries);
}

/// A chmod of the file itself, and a chown, are seen by the next load.
#[test]
fn a_chmod_or_chown_of_a_cached_grid_mapfile_is_noticed() {
    if !root("a_chmod_or_chown_of_a_cached_grid_mapfile_is_noticed") {
        return;
    }
    let (_t, f) = site();
    mapfile::load(&f).unwrap();
    chmod(&f, 0o646);
    let e = mapfile::load(&f).unwrap_err().to_string();
    assert!(
        e.contains(&format!("file {} is writable by others", f.display())),
        "{e}"
    );
    chmod(&f, 0o644);
    mapfile::load(&f).unwrap();
    chown(&f, Some(USER), None).unwrap();
    let e = mapfile::load(&f).unwrap_err().to_string();
    assert!(e.contains("owned by uid 5001"), "{e}");
}

/// A cache hit returns the parsed content of the file as it is; a write
/// in place is read again.
#[test]
fn a_cached_grid_mapfile_gives_the_current_content() {
    if !root("a_cached_grid_mapfile_gives_the_current_content") {
        return;
    }
    let (_t, f) = site();
    let hit = |who: &str| {
        mapfile::gridmapfile(Some(&f), who, false, Select::Exclude("."), false)
            .unwrap()
            .and_then(|h| h.mapping)
    };
    for _ in 0..3 {
        assert_eq!(hit("/CN=Alice").as_deref(), Some("alice"));
        assert_eq!(hit("/CN=Bob"), None);
    }
    std::fs::write(&f, "\"/CN=Bob\" bob\n").unwrap();
    assert_eq!(hit("/CN=Alice"), None);
    assert_eq!(hit("/CN=Bob").as_deref(), Some("bob"));
}

/// A directory above made world-writable by root, the file untouched:
/// refused once the last walk is `VERIFIED_TTL` old (the one thing a
/// cached walk can miss for that long).
#[test]
fn a_weakened_directory_above_a_cached_grid_mapfile_is_refused_after_the_ttl() {
    if !root("a_weakened_directory_above_a_cached_grid_mapfile_is_refused_after_the_ttl") {
        return;
    }
    let (t, f) = site();
    mapfile::load(&f).unwrap();
    chmod(t.path(), 0o757);
    std::thread::sleep(lcmaps_core::trust::VERIFIED_TTL);
    let e = mapfile::load(&f).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "directory {} is writable by others",
            t.path().display()
        )),
        "{e}"
    );
}
