//! Attack tests for issue #14 item 7: a privileged process (these tests run
//! as root in CI) must refuse lcmaps.db, lcas.db and the built-in LCAS
//! plugins' files when anyone but root can change them or a directory above
//! them.

use std::os::unix::fs::{chown, symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use lcmaps_core::{db, lcas};

const USER: u32 = 5001;
const DB: &str = "good = \"lcmaps_dummy_good.mod --dummy-uid 501 --dummy-gid 500\"\n\
                  standard:\ngood -> lcmaps_dummy_bad.mod\n";

/// True when the test can run (euid 0); see `lcmaps_core::testing`.
fn root(test: &str) -> bool {
    lcmaps_core::testing::root(test)
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A root-owned 0755 directory under /tmp with `etc/` (0755) in it.
fn world() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    chmod(t.path(), 0o755);
    let etc = t.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    chmod(&etc, 0o755);
    (t, etc)
}

fn db_error(path: &Path) -> String {
    let c = db::check_file(path, &db::ValidateOptions::default());
    assert!(c.config.is_none(), "{} was accepted", path.display());
    c.diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_user_writable_lcmaps_db_parent_is_refused() {
    if !root("a_user_writable_lcmaps_db_parent_is_refused") {
        return;
    }
    let (_t, etc) = world();
    let file = etc.join("lcmaps.db");
    std::fs::write(&file, DB).unwrap();
    chown(&etc, Some(USER), None).unwrap();
    let e = db_error(&file);
    assert!(e.contains(&etc.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_group_writable_lcmaps_db_is_refused() {
    if !root("a_group_writable_lcmaps_db_is_refused") {
        return;
    }
    let (_t, etc) = world();
    let file = etc.join("lcmaps.db");
    std::fs::write(&file, DB).unwrap();
    chmod(&file, 0o664);
    let e = db_error(&file);
    assert!(e.contains(&file.display().to_string()), "{e}");
    assert!(e.contains("writable by group"), "{e}");
    assert!(e.contains("0664"), "{e}");
}

#[test]
fn a_world_writable_directory_above_lcmaps_db_is_refused() {
    if !root("a_world_writable_directory_above_lcmaps_db_is_refused") {
        return;
    }
    let (t, etc) = world();
    let file = etc.join("lcmaps.db");
    std::fs::write(&file, DB).unwrap();
    chmod(t.path(), 0o777);
    let e = db_error(&file);
    assert!(e.contains(&t.path().display().to_string()), "{e}");
    assert!(e.contains("writable by group and others"), "{e}");
}

#[test]
fn a_sticky_tmp_with_root_owned_files_is_accepted() {
    if !root("a_sticky_tmp_with_root_owned_files_is_accepted") {
        return;
    }
    // The tempdir is a root-owned entry of the sticky, world-writable /tmp.
    let (t, etc) = world();
    let file = etc.join("lcmaps.db");
    std::fs::write(&file, DB).unwrap();
    let c = db::check_file(&file, &db::ValidateOptions::default());
    assert!(c.config.is_some(), "{:?}", c.diagnostics);
    // And a sticky world-writable directory of our own.
    chmod(t.path(), 0o1777);
    let c = db::check_file(&file, &db::ValidateOptions::default());
    assert!(c.config.is_some(), "{:?}", c.diagnostics);
}

#[test]
fn a_user_owned_entry_of_a_sticky_directory_is_refused() {
    if !root("a_user_owned_entry_of_a_sticky_directory_is_refused") {
        return;
    }
    let (t, etc) = world();
    let file = etc.join("lcmaps.db");
    std::fs::write(&file, DB).unwrap();
    chmod(t.path(), 0o1777);
    chown(&etc, Some(USER), None).unwrap();
    let e = db_error(&file);
    assert!(e.contains(&etc.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_link_in_a_user_directory_to_a_root_lcmaps_db_is_refused() {
    if !root("a_link_in_a_user_directory_to_a_root_lcmaps_db_is_refused") {
        return;
    }
    let (t, etc) = world();
    let file = etc.join("lcmaps.db");
    std::fs::write(&file, DB).unwrap();
    let user = t.path().join("user");
    std::fs::create_dir(&user).unwrap();
    chown(&user, Some(USER), None).unwrap();
    symlink(&file, user.join("lcmaps.db")).unwrap();
    let e = db_error(&user.join("lcmaps.db"));
    assert!(e.contains(&user.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_root_link_to_an_lcmaps_db_in_a_user_directory_is_refused() {
    if !root("a_root_link_to_an_lcmaps_db_in_a_user_directory_is_refused") {
        return;
    }
    let (t, etc) = world();
    let user = t.path().join("user");
    std::fs::create_dir(&user).unwrap();
    std::fs::write(user.join("lcmaps.db"), DB).unwrap();
    chown(&user, Some(USER), None).unwrap();
    // A relative link, resolved from etc/.
    symlink("../user/lcmaps.db", etc.join("lcmaps.db")).unwrap();
    let e = db_error(&etc.join("lcmaps.db"));
    assert!(e.contains(&user.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_user_owned_lcas_db_is_refused() {
    if !root("a_user_owned_lcas_db_is_refused") {
        return;
    }
    let (_t, etc) = world();
    std::fs::write(etc.join("ban_users.db"), "\"/CN=Mallory\"\n").unwrap();
    let file = etc.join("lcas.db");
    std::fs::write(
        &file,
        "pluginname=\"lcas_userban.mod\",pluginargs=\"ban_users.db\"\n",
    )
    .unwrap();
    chown(&file, Some(USER), None).unwrap();
    let c = lcas::check_file(&file, &lcas::Options::default());
    assert!(c.config.is_none());
    let e = c.diagnostics[0].to_string();
    assert!(e.contains(&file.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_group_writable_lcas_ban_file_is_refused() {
    if !root("a_group_writable_lcas_ban_file_is_refused") {
        return;
    }
    let (_t, etc) = world();
    let ban = etc.join("ban_users.db");
    std::fs::write(&ban, "\"/CN=Mallory\"\n").unwrap();
    chmod(&ban, 0o664);
    let file = etc.join("lcas.db");
    std::fs::write(
        &file,
        "pluginname=\"lcas_userban.mod\",pluginargs=\"ban_users.db\"\n",
    )
    .unwrap();
    let c = lcas::check_file(&file, &lcas::Options::default());
    let e = lcas::Lcas::new(c.config.unwrap(), &lcas::BuiltinLoader)
        .expect_err("the ban file is group-writable")
        .to_string();
    assert!(e.contains(&ban.display().to_string()), "{e}");
    assert!(e.contains("writable by group"), "{e}");
}

#[test]
fn a_timeslots_file_made_user_owned_after_start_refuses_everybody() {
    if !root("a_timeslots_file_made_user_owned_after_start_refuses_everybody") {
        return;
    }
    let (_t, etc) = world();
    let slots = etc.join("timeslots.db");
    std::fs::write(&slots, "* * * * * *\n").unwrap();
    let file = etc.join("lcas.db");
    std::fs::write(
        &file,
        "pluginname=\"lcas_timeslots.mod\",pluginargs=\"timeslots.db\"\n",
    )
    .unwrap();
    let c = lcas::check_file(&file, &lcas::Options::default());
    let mut l = lcas::Lcas::new(c.config.unwrap(), &lcas::BuiltinLoader).unwrap();
    let req = lcas::AuthzRequest::with_dn("/CN=Alice");
    assert!(l.authorize(&req).is_ok());
    chown(&slots, Some(USER), None).unwrap();
    let r = l.authorize(&req).unwrap_err();
    assert!(r.reason.contains("owned by uid 5001"), "{}", r.reason);
}
