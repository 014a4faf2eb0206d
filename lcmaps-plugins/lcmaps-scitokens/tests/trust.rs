//! Attack tests for issue #14 item 7: in a privileged process (these tests
//! run as root in CI) the issuer configuration, the token mapfile, the
//! issuers' key files and the key cache directory are refused when anyone
//! but root can change them or a directory above them.

mod common;

use std::os::unix::fs::{chown, PermissionsExt};
use std::path::Path;

use common::*;
use lcmaps_scitokens::{Config, TokenMapfile};

/// True when the test can run (euid 0); see `lcmaps_core::testing`.
fn root(test: &str) -> bool {
    lcmaps_core::testing::root(test)
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_group_writable_issuer_configuration_is_refused() {
    if !root("a_group_writable_issuer_configuration_is_refused") {
        return;
    }
    let w = World::new();
    Config::load(&w.issuers).unwrap();
    chmod(&w.issuers, 0o664);
    let e = Config::load(&w.issuers).unwrap_err();
    assert!(e.contains(&w.issuers.display().to_string()), "{e}");
    assert!(e.contains("writable by group"), "{e}");
}

#[test]
fn a_user_owned_token_mapfile_is_refused() {
    if !root("a_user_owned_token_mapfile_is_refused") {
        return;
    }
    let w = World::new();
    TokenMapfile::load(&w.mapfile).unwrap();
    chown(&w.mapfile, Some(5001), None).unwrap();
    let e = TokenMapfile::load(&w.mapfile).unwrap_err();
    assert!(e.contains(&w.mapfile.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_user_owned_issuer_key_file_is_refused() {
    if !root("a_user_owned_issuer_key_file_is_refused") {
        return;
    }
    let w = World::new();
    let key = w.dir.path().join("keys").join("ec.json");
    chown(&key, Some(5001), None).unwrap();
    let e = Config::load(&w.issuers).unwrap_err();
    assert!(e.contains(&key.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_key_cache_dir_in_a_user_directory_is_refused() {
    if !root("a_key_cache_dir_in_a_user_directory_is_refused") {
        return;
    }
    let w = World::new();
    let user = w.dir.path().join("user");
    std::fs::create_dir(&user).unwrap();
    chown(&user, Some(5001), None).unwrap();
    let cfg = w.dir.path().join("cached.cfg");
    std::fs::write(
        &cfg,
        format!(
            "[Global]\njwks_cache_dir = {}\n{}",
            user.join("cache").display(),
            CONFIG.replace("[Global]\n", "")
        ),
    )
    .unwrap();
    let e = Config::load(&cfg).unwrap_err();
    assert!(e.contains(&user.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}
