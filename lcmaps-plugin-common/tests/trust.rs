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
