//! Attack tests for issue #14 item 7: in a privileged process (these tests
//! run as root in CI) the CA directory, its CRLs and the vomsdir's LSC files
//! must be refused when anyone but root can change them or a directory
//! above them.

use std::os::unix::fs::{chown, PermissionsExt};
use std::path::Path;

use lcmaps_x509::fixtures::*;
use lcmaps_x509::voms::verify_acs;
use lcmaps_x509::{verify, Credential, VerifyOptions, VomsOptions};

const USER: u32 = 5001;
const HOST: &str = "voms.example.org";

/// True when the test can run (euid 0); see `lcmaps_core::testing`.
fn root(test: &str) -> bool {
    lcmaps_core::testing::root(test)
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

struct World {
    _t: tempfile::TempDir,
    certs: std::path::PathBuf,
    vomsdir: std::path::PathBuf,
}

/// `certs/` and `vomsdir/dteam/voms.example.org.lsc` in a root-owned 0755
/// directory under /tmp.
fn world() -> (World, Credential) {
    let t = tempfile::tempdir().unwrap();
    chmod(t.path(), 0o755);
    let certs = t.path().join("certs");
    let vomsdir = t.path().join("vomsdir");
    std::fs::create_dir(&certs).unwrap();
    std::fs::create_dir(&vomsdir).unwrap();
    let ca = ca("Test CA");
    install_ca(&certs, &ca, &[]);
    let (user, user_key) = user(&ca, "Jane Doe", 100);
    let (server, server_key) = voms_server(&ca, HOST);
    install_lsc(&vomsdir, "dteam", HOST, &server);
    let spec = AcSpec {
        holder: &user,
        signer: &server,
        signer_key: &server_key,
        vo: "dteam",
        host: HOST,
        fqans: vec!["/dteam/Role=NULL/Capability=NULL".into()],
        not_before: now() - HOUR,
        not_after: now() + 12 * HOUR,
        holder_by_subject: false,
    };
    let (p, k) = proxy(
        &user,
        &user_key,
        Kind::Rfc,
        Tweak {
            extra: vec![acseq_ext(vec![ac(&spec)])],
            ..Tweak::default()
        },
    );
    // A CRL of the user for their proxies, read by our own CRL code.
    let user_ca = Ca {
        cert: user.clone(),
        key: user_key.clone(),
    };
    let c = crl(&user_ca, &[], now() - HOUR, now() + 24 * HOUR);
    std::fs::write(
        certs.join(format!("{:08x}.r0", p.issuer_name_hash())),
        c.to_pem().unwrap(),
    )
    .unwrap();
    let cred = Credential::from_pem(&pem(&[&p, &user], Some(&k))).unwrap();
    (
        World {
            _t: t,
            certs,
            vomsdir,
        },
        cred,
    )
}

impl World {
    fn verify(&self, cred: &Credential) -> Result<(), String> {
        let opts = VerifyOptions {
            ca_dir: self.certs.clone(),
            ..VerifyOptions::default()
        };
        verify(cred, &opts).map_err(|e| e.to_string())
    }
    fn voms(&self, cred: &Credential) -> Result<(), String> {
        let opts = VomsOptions {
            voms_dir: self.vomsdir.clone(),
            ca_dir: self.certs.clone(),
            at: None,
            crl_mode: Default::default(),
        };
        let r = verify_acs(cred, &opts);
        assert_eq!(r.len(), 1);
        r[0].clone().map(drop).map_err(|e| e.to_string())
    }
}

#[test]
fn a_root_owned_world_is_accepted() {
    if !root("a_root_owned_world_is_accepted") {
        return;
    }
    let (w, cred) = world();
    w.verify(&cred).unwrap();
    w.voms(&cred).unwrap();
}

#[test]
fn a_user_owned_ca_dir_is_refused() {
    if !root("a_user_owned_ca_dir_is_refused") {
        return;
    }
    let (w, cred) = world();
    chown(&w.certs, Some(USER), None).unwrap();
    let e = w.verify(&cred).unwrap_err();
    assert!(e.contains(&w.certs.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
    // The VOMS server certificate is verified against the same CA dir.
    let e = w.voms(&cred).unwrap_err();
    assert!(e.contains("owned by uid 5001"), "{e}");
}

#[test]
fn a_group_writable_proxy_crl_is_refused() {
    if !root("a_group_writable_proxy_crl_is_refused") {
        return;
    }
    let (w, cred) = world();
    let crl = w
        .certs
        .join(format!("{:08x}.r0", cred.leaf().cert.issuer_name_hash()));
    chmod(&crl, 0o664);
    let e = w.verify(&cred).unwrap_err();
    assert!(e.contains(&crl.display().to_string()), "{e}");
    assert!(e.contains("writable by group"), "{e}");
}

#[test]
fn an_lsc_file_writable_by_others_is_refused() {
    if !root("an_lsc_file_writable_by_others_is_refused") {
        return;
    }
    let (w, cred) = world();
    let lsc = w.vomsdir.join("dteam").join(format!("{HOST}.lsc"));
    chmod(&lsc, 0o646);
    let e = w.voms(&cred).unwrap_err();
    assert!(e.contains(&lsc.display().to_string()), "{e}");
    assert!(e.contains("writable by others"), "{e}");
}

#[test]
fn a_vo_directory_owned_by_a_user_is_refused() {
    if !root("a_vo_directory_owned_by_a_user_is_refused") {
        return;
    }
    let (w, cred) = world();
    let vo = w.vomsdir.join("dteam");
    chown(&vo, Some(USER), None).unwrap();
    let e = w.voms(&cred).unwrap_err();
    assert!(e.contains(&vo.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
}
