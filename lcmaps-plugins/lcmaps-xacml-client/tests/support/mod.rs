//! Shared by the attack tests: a CA directory made at test time, a client
//! host certificate, a loopback PDP presenting whatever chain a test gives
//! it, and a log capture.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};

use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_plugin_common::accounts::StaticAccounts;
use lcmaps_x509::fixtures::{self, Ca, Spec};
use lcmaps_xacml_client::{Flavour, XacmlClient};
use lcmaps_xacml_pdp::{parse_map, Behaviour, Config, Server};
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{ExtendedKeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Builder, X509Extension, X509};

static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        if r.level() <= log::Level::Info {
            LOGS.lock()
                .unwrap()
                .push(format!("{} {}", r.level(), r.args()));
        }
    }
    fn flush(&self) {}
}

/// Captured log lines containing `s`.
pub fn logs_with(s: &str) -> Vec<String> {
    LOGS.lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(s))
        .cloned()
        .collect()
}

pub const ALICE: &str = "/DC=org/DC=example/CN=Alice";
/// What an attacker answers: an account of their choice (daemon; root
/// itself is refused by the client whoever answers).
pub const EVIL_MAP: &str = "\"/DC=org/DC=example/CN=Alice\" 1 1\n";
/// What the real PDP answers.
pub const MAP: &str = "\"/DC=org/DC=example/CN=Alice\" 5001 5002\n";

pub struct World {
    pub dir: tempfile::TempDir,
    pub ca: Ca,
    pub capath: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// subjectAltName DNS:`name`.
pub fn san(name: &str) -> X509Extension {
    let b = X509Builder::new().unwrap();
    SubjectAlternativeName::new()
        .dns(name)
        .build(&b.x509v3_context(None, None))
        .unwrap()
}

/// extendedKeyUsage clientAuth (only).
pub fn client_auth_only() -> X509Extension {
    ExtendedKeyUsage::new().client_auth().build().unwrap()
}

/// A certificate `/DC=org/DC=example/CN=<cn>` from `ca` with `exts`.
pub fn cert(ca: &Ca, cn: &str, serial: u32, exts: Vec<X509Extension>) -> (X509, PKey<Private>) {
    let k = fixtures::key();
    let c = fixtures::build(Spec {
        subject: fixtures::name(&[("DC", "org"), ("DC", "example"), ("CN", cn)]),
        issuer: Some(&ca.cert),
        issuer_key: &ca.key,
        key: &k,
        serial,
        not_before: fixtures::now() - 3600,
        not_after: fixtures::now() + 86400,
        exts,
    });
    (c, k)
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

impl World {
    /// A CA directory holding "Test CA" and its (empty) CRL, and a host
    /// certificate of that CA for the client.
    pub fn new() -> World {
        static INIT: Once = Once::new();
        INIT.call_once(|| {
            let _ = log::set_logger(&Capture);
            log::set_max_level(log::LevelFilter::Info);
        });
        let dir = tempfile::tempdir().unwrap();
        let ca = fixtures::ca("Test CA");
        let capath = dir.path().join("certificates");
        std::fs::create_dir(&capath).unwrap();
        fixtures::install_ca(&capath, &ca, &[]);
        let (c, k) = fixtures::user(&ca, "host/wn.example.org", 5);
        let cert = write(dir.path(), "hostcert.pem", &c.to_pem().unwrap());
        let key = write(
            dir.path(),
            "hostkey.pem",
            &k.private_key_to_pem_pkcs8().unwrap(),
        );
        World {
            dir,
            ca,
            capath,
            cert,
            key,
        }
    }

    /// The CRL file of "Test CA" in the CA directory.
    pub fn crl_path(&self) -> PathBuf {
        self.capath
            .join(format!("{:08x}.r0", self.ca.cert.issuer_name_hash()))
    }

    /// A PDP presenting `leaf` followed by `chain`.
    pub fn pdp(&self, map: &str, leaf: (X509, PKey<Private>), chain: Vec<X509>) -> Server {
        Server::start(Config {
            cert: leaf.0,
            key: leaf.1,
            chain,
            client_cas: vec![self.ca.cert.clone()],
            map: parse_map(map).unwrap(),
            behaviour: Behaviour::default(),
            port: 0,
        })
        .unwrap()
    }

    pub fn client(&self, url: &str) -> XacmlClient {
        self.client_with(url, &[])
    }

    /// [`World::client`] with `extra` options.
    pub fn client_with(&self, url: &str, extra: &[&str]) -> XacmlClient {
        let mut p = XacmlClient::with_accounts(
            Flavour::Gums,
            Arc::new(StaticAccounts::new(&[("alice", 5100, 5100, &[5200])])),
        );
        p.set_host_name("wn.example.org");
        let mut argv = vec!["lcmaps_gums_client.mod".to_string()];
        argv.extend(["--endpoint".to_string(), url.to_string()]);
        for (k, v) in [
            ("--capath", &self.capath),
            ("--cert", &self.cert),
            ("--key", &self.key),
        ] {
            argv.push(k.into());
            argv.push(v.display().to_string());
        }
        argv.extend(["--connect-timeout", "2", "--timeout", "5"].map(String::from));
        argv.extend(extra.iter().map(|a| a.to_string()));
        p.initialize(&argv).unwrap();
        p
    }
}

pub fn run(p: &mut XacmlClient) -> (Status, Store) {
    let req = Request {
        user_dn: Some(ALICE.into()),
        ..Request::default()
    };
    let mut store = Store::new();
    let s = p.run(&mut RunContext {
        request: &req,
        store: &mut store,
    });
    (s, store)
}

pub fn url(s: &Server) -> String {
    s.url(Some("localhost"))
}

/// The callout to `s` maps ALICE as the real PDP would.
pub fn accepted(w: &World, s: &Server) {
    accepted_with(w, s, &[]);
}

/// [`accepted`] with `extra` client options.
pub fn accepted_with(w: &World, s: &Server, extra: &[&str]) {
    let (st, store) = run(&mut w.client_with(&url(s), extra));
    assert_eq!(st, Status::Success, "{:?}", logs_with(&url(s)));
    assert_eq!(
        (store.uids.as_slice(), store.pri_gids.as_slice()),
        (&[5001][..], &[5002][..])
    );
}

/// The callout to `s` fails before any request is sent, with `reason` in
/// a log line naming the endpoint.
pub fn refused(w: &World, s: &Server, reason: &str) {
    refused_with(w, s, &[], reason);
}

/// [`refused`] with `extra` client options.
pub fn refused_with(w: &World, s: &Server, extra: &[&str], reason: &str) {
    let before = s.requests();
    let logged = LOGS.lock().unwrap().len();
    let (st, store) = run(&mut w.client_with(&url(s), extra));
    assert_eq!(
        (st, store.uids.as_slice(), store.pri_gids.as_slice()),
        (Status::Failure, &[][..], &[][..]),
        "the PDP's answer was used"
    );
    assert_eq!(s.requests(), before, "a request was sent");
    let l: Vec<String> = LOGS.lock().unwrap()[logged..]
        .iter()
        .filter(|l| l.contains(&url(s)))
        .cloned()
        .collect();
    assert!(
        l.iter().any(|l| l.contains(reason)),
        "{reason:?} not in {l:?}"
    );
}
