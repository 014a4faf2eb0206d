//! Attack tests for issue #14 item 7: in a privileged process (these tests
//! run as root in CI) a CA directory holding a file that anyone but root
//! can change fails `plugin_initialize`.

use std::os::unix::fs::{chown, symlink, PermissionsExt};
use std::path::Path;

use lcmaps_core::plugin::Plugin;
use lcmaps_verify_proxy::VerifyProxy;
use lcmaps_x509::fixtures::*;

/// True when the test can run (euid 0); see `lcmaps_core::testing`.
fn root(test: &str) -> bool {
    lcmaps_core::testing::root(test)
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn init(certs: &Path) -> Result<(), String> {
    let argv = [
        "lcmaps_verify_proxy.mod".to_owned(),
        "-certdir".into(),
        certs.display().to_string(),
    ];
    VerifyProxy::default().initialize(&argv).map_err(|e| e.0)
}

/// A CA directory in a root-owned 0755 directory under /tmp, and the name
/// of the CA certificate in it.
fn world() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let t = tempfile::tempdir().unwrap();
    chmod(t.path(), 0o755);
    let certs = t.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    let ca = ca("Test CA");
    install_ca(&certs, &ca, &[]);
    let name = format!("{:08x}.0", ca.cert.subject_name_hash());
    (t, certs, name)
}

#[test]
fn a_user_owned_certificate_in_the_ca_dir_is_refused_at_initialize() {
    if !root("a_user_owned_certificate_in_the_ca_dir_is_refused_at_initialize") {
        return;
    }
    let (_t, certs, name) = world();
    init(&certs).unwrap();
    chown(certs.join(&name), Some(5001), None).unwrap();
    let e = init(&certs).unwrap_err();
    assert!(e.contains(&certs.join(&name).display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_certificate_linked_from_a_user_directory_is_refused_at_initialize() {
    if !root("a_certificate_linked_from_a_user_directory_is_refused_at_initialize") {
        return;
    }
    let (t, certs, name) = world();
    let user = t.path().join("user");
    std::fs::create_dir(&user).unwrap();
    std::fs::rename(certs.join(&name), user.join("ca.pem")).unwrap();
    symlink(user.join("ca.pem"), certs.join(&name)).unwrap();
    init(&certs).unwrap();
    chown(&user, Some(5001), None).unwrap();
    let e = init(&certs).unwrap_err();
    assert!(e.contains(&user.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_group_writable_ca_dir_is_refused_at_initialize() {
    if !root("a_group_writable_ca_dir_is_refused_at_initialize") {
        return;
    }
    let (_t, certs, _name) = world();
    chmod(&certs, 0o775);
    let e = init(&certs).unwrap_err();
    assert!(e.contains(&certs.display().to_string()), "{e}");
    assert!(e.contains("writable by group"), "{e}");
}
