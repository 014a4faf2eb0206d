//! The callout against the test PDP over loopback, with certificates made
//! at test time.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_plugin_common::accounts::StaticAccounts;
use lcmaps_x509::fixtures::{self, Ca};
use lcmaps_xacml_client::{Flavour, XacmlClient};
use lcmaps_xacml_pdp::{parse_map, Behaviour, Config, Server};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

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

fn logs_with(s: &str) -> Vec<String> {
    LOGS.lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(s))
        .cloned()
        .collect()
}

const ALICE: &str = "/DC=org/DC=example/CN=Alice";

struct World {
    dir: tempfile::TempDir,
    ca: Ca,
    capath: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

impl World {
    fn new() -> World {
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

    fn pdp_with(&self, map: &str, b: Behaviour, cert: (X509, PKey<Private>)) -> Server {
        Server::start(Config {
            cert: cert.0,
            chain: Vec::new(),
            key: cert.1,
            client_cas: vec![self.ca.cert.clone()],
            map: parse_map(map).unwrap(),
            behaviour: b,
            port: 0,
        })
        .unwrap()
    }

    fn pdp(&self, map: &str, b: Behaviour) -> Server {
        self.pdp_with(map, b, fixtures::server_cert(&self.ca, &["localhost"]))
    }

    fn client(&self, urls: &[String], extra: &[&str]) -> XacmlClient {
        let mut p = XacmlClient::with_accounts(
            Flavour::Gums,
            Arc::new(StaticAccounts::new(&[("alice", 5100, 5100, &[5200])])),
        );
        p.set_host_name("wn.example.org");
        let mut argv = vec!["lcmaps_gums_client.mod".to_string()];
        for u in urls {
            argv.push("--endpoint".into());
            argv.push(u.clone());
        }
        for (k, v) in [
            ("--capath", &self.capath),
            ("--cert", &self.cert),
            ("--key", &self.key),
        ] {
            argv.push(k.into());
            argv.push(v.display().to_string());
        }
        argv.extend(
            [
                "--endpoint-strategy",
                "ordered",
                "--connect-timeout",
                "2",
                "--timeout",
                "5",
            ]
            .map(String::from),
        );
        argv.extend(extra.iter().map(|s| s.to_string()));
        p.initialize(&argv).unwrap();
        p
    }
}

fn run(p: &mut XacmlClient, dn: &str, fqans: &[&str]) -> (Status, Store) {
    let req = Request {
        user_dn: Some(dn.into()),
        fqans: fqans.iter().map(|s| s.to_string()).collect(),
        ..Request::default()
    };
    let mut store = Store::new();
    let s = p.run(&mut RunContext {
        request: &req,
        store: &mut store,
    });
    (s, store)
}

fn url(s: &Server) -> String {
    s.url(Some("localhost"))
}

/// Runs for ALICE against one PDP with behaviour `b` and expects failure
/// with a log line naming the endpoint and containing `reason`.
fn fails_with(b: Behaviour, map: &str, reason: &str) {
    let w = World::new();
    let s = w.pdp(map, b);
    let mut p = w.client(&[url(&s)], &[]);
    let (st, store) = run(&mut p, ALICE, &[]);
    assert_eq!(st, Status::Failure);
    assert!(store.uids.is_empty() && store.pri_gids.is_empty() && store.sec_gids.is_empty());
    let l = logs_with(&url(&s));
    assert!(
        l.iter().any(|l| l.contains(reason)),
        "{reason:?} not in {l:?}"
    );
}

const MAP: &str =
    "\"/DC=org/DC=example/CN=Alice\" 5001 5002 6001,6002\n/atlas/Role=pilot 7000 7001\n";

#[test]
fn permit_maps_uid_gid_and_secondary_gids() {
    let w = World::new();
    let s = w.pdp(MAP, Behaviour::default());
    let mut p = w.client(&[url(&s)], &[]);
    let (st, store) = run(&mut p, ALICE, &[]);
    assert_eq!(st, Status::Success);
    assert_eq!(store.uids, [5001]);
    assert_eq!(store.pri_gids, [5002]);
    assert_eq!(store.sec_gids, [6001, 6002]);
    assert_eq!(s.requests(), 1);
    assert!(!logs_with(&format!("{}: Permit", url(&s))).is_empty());
}

#[test]
fn permit_by_fqan_and_scas_flavour() {
    let w = World::new();
    let s = w.pdp(MAP, Behaviour::default());
    let mut p = w.client(
        &[url(&s)],
        &["-resourcetype", "wn", "-actiontype", "execute-now"],
    );
    let (st, store) = run(
        &mut p,
        "/DC=org/DC=example/CN=Bob",
        &["/atlas/Role=pilot", "/atlas"],
    );
    assert_eq!(st, Status::Success);
    let q = s.last_query().unwrap();
    let a = |id: &str| q.attributes.get(id).cloned().unwrap_or_default();
    let i = "http://authz-interop.org/xacml/subject/";
    assert_eq!(a(&format!("{i}voms-fqan")), ["/atlas/Role=pilot", "/atlas"]);
    assert_eq!(a(&format!("{i}voms-primary-fqan")), ["/atlas/Role=pilot"]);
    assert_eq!(a(&format!("{i}vo")), ["atlas"]);
    assert_eq!(
        (store.uids.as_slice(), store.pri_gids.as_slice()),
        (&[7000][..], &[7001][..])
    );
    assert!(store.sec_gids.is_empty());
    let mut scas = XacmlClient::new(Flavour::Scas);
    assert!(scas
        .initialize(&["lcmaps_scas_client.mod".into(), "--nope".into()])
        .unwrap_err()
        .0
        .starts_with("lcmaps_scas_client"));
}

#[test]
fn username_obligation_resolves_locally() {
    let w = World::new();
    let s = w.pdp(
        "\"/DC=org/DC=example/CN=Alice\" - - alice\n",
        Behaviour::default(),
    );
    let mut p = w.client(&[url(&s)], &[]);
    let (st, store) = run(&mut p, ALICE, &[]);
    assert_eq!(st, Status::Success);
    assert_eq!(
        (store.uids.as_slice(), store.pri_gids.as_slice()),
        (&[5100][..], &[5100][..])
    );
    assert!(store.sec_gids.contains(&5200));
    // An account we do not have fails.
    let s = w.pdp(
        "\"/DC=org/DC=example/CN=Alice\" - - nobody-here\n",
        Behaviour::default(),
    );
    let mut p = w.client(&[url(&s)], &[]);
    assert_eq!(run(&mut p, ALICE, &[]).0, Status::Failure);
}

#[test]
fn authorization_only_needs_no_mapping() {
    let w = World::new();
    let s = w.pdp(
        "\"/DC=org/DC=example/CN=Alice\" - -\n",
        Behaviour::default(),
    );
    let mut p = w.client(&[url(&s)], &[]);
    assert_eq!(
        run(&mut p, ALICE, &[]).0,
        Status::Failure,
        "Permit without a mapping"
    );
    let mut p = w.client(&[url(&s)], &["-authorization-only"]);
    let (st, store) = run(&mut p, ALICE, &[]);
    assert_eq!(st, Status::Success);
    assert!(store.uids.is_empty());
}

#[test]
fn deny_fails() {
    fails_with(
        Behaviour::default(),
        "/CN=someone-else 1 1\n",
        "decision Deny",
    );
}

#[test]
fn not_applicable_fails() {
    let b = Behaviour {
        decision: Some("NotApplicable".into()),
        ..Behaviour::default()
    };
    fails_with(b, MAP, "decision NotApplicable");
}

#[test]
fn indeterminate_fails() {
    let b = Behaviour {
        decision: Some("Indeterminate".into()),
        ..Behaviour::default()
    };
    fails_with(
        b,
        MAP,
        "decision Indeterminate (status urn:oasis:names:tc:xacml:1.0:status:processing-error)",
    );
}

#[test]
fn unknown_obligation_fails() {
    let b = Behaviour {
        extra_obligation: Some("http://authz-interop.org/xacml/obligation/afs-token".into()),
        ..Behaviour::default()
    };
    fails_with(
        b,
        MAP,
        "obligation not understood: http://authz-interop.org/xacml/obligation/afs-token",
    );
}

#[test]
fn in_response_to_mismatch_fails() {
    let b = Behaviour {
        wrong_in_response_to: true,
        ..Behaviour::default()
    };
    fails_with(b, MAP, "does not match request ID");
}

#[test]
fn garbage_fails() {
    let b = Behaviour {
        garbage: true,
        ..Behaviour::default()
    };
    fails_with(b, MAP, "expected one samlp:Response");
}

#[test]
fn soap_fault_fails() {
    let b = Behaviour {
        fault: true,
        ..Behaviour::default()
    };
    fails_with(b, MAP, "SOAP fault: PDP told to fail");
}

#[test]
fn ten_megabyte_answer_fails() {
    let b = Behaviour {
        huge: Some(10 << 20),
        ..Behaviour::default()
    };
    fails_with(b, MAP, "answer larger than");
}

#[test]
fn slow_server_hits_the_timeout() {
    let w = World::new();
    let s = w.pdp(
        MAP,
        Behaviour {
            slow: Some(Duration::from_secs(20)),
            ..Behaviour::default()
        },
    );
    let mut p = w.client(&[url(&s)], &["--timeout", "1"]);
    let (st, store) = run(&mut p, ALICE, &[]);
    // Had the client waited for the answer (20 s), it would have been a
    // Permit: the failure and its message show the timeout cut it short.
    assert_eq!(st, Status::Failure);
    assert!(store.uids.is_empty());
    let l = logs_with(&url(&s));
    assert!(
        l.iter().any(|l| l.contains("timeout (reading the answer)")),
        "{l:?}"
    );
}

#[test]
fn dropped_connection_moves_to_the_next_endpoint() {
    let w = World::new();
    let bad = w.pdp(
        MAP,
        Behaviour {
            drop: true,
            ..Behaviour::default()
        },
    );
    let good = w.pdp(MAP, Behaviour::default());
    let mut p = w.client(&[url(&bad), url(&good)], &[]);
    let (st, store) = run(&mut p, ALICE, &[]);
    assert_eq!(st, Status::Success);
    assert_eq!(store.uids, [5001]);
    assert_eq!((bad.requests(), good.requests()), (1, 1));
    assert!(!logs_with(&url(&bad)).is_empty());
}

#[test]
fn connection_reset_fails_and_moves_to_the_next_endpoint() {
    let b = Behaviour {
        reset: true,
        ..Behaviour::default()
    };
    fails_with(b.clone(), MAP, "reset by peer");
    let w = World::new();
    let bad = w.pdp(MAP, b);
    let good = w.pdp(MAP, Behaviour::default());
    let mut p = w.client(&[url(&bad), url(&good)], &[]);
    let (st, store) = run(&mut p, ALICE, &[]);
    assert_eq!(st, Status::Success);
    assert_eq!(store.uids, [5001]);
    assert_eq!((bad.requests(), good.requests()), (1, 1));
}

#[test]
fn afs_token_obligation_is_not_understood_so_fails() {
    // We do not act on AFS tokens; an obligation we cannot honour fails.
    let b = Behaviour {
        extra_obligation: Some("http://authz-interop.org/xacml/obligation/afs-token".into()),
        ..Behaviour::default()
    };
    fails_with(
        b,
        MAP,
        "obligation not understood: http://authz-interop.org/xacml/obligation/afs-token",
    );
}

#[test]
fn first_endpoint_down_second_answers() {
    let w = World::new();
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = format!("https://127.0.0.1:{port}/pdp");
    let good = w.pdp(MAP, Behaviour::default());
    let mut p = w.client(&[down.clone(), url(&good)], &[]);
    let (st, store) = run(&mut p, ALICE, &[]);
    assert_eq!(st, Status::Success);
    assert_eq!(store.uids, [5001]);
    assert!(logs_with(&down).iter().any(|l| l.contains("connect")));
}

#[test]
fn deny_does_not_move_on() {
    let w = World::new();
    let deny = w.pdp("/CN=nobody 1 1\n", Behaviour::default());
    let good = w.pdp(MAP, Behaviour::default());
    let mut p = w.client(&[url(&deny), url(&good)], &[]);
    let (st, store) = run(&mut p, ALICE, &[]);
    assert_eq!(st, Status::Failure);
    assert!(store.uids.is_empty());
    assert_eq!((deny.requests(), good.requests()), (1, 0));
}

#[test]
fn wrong_server_hostname_fails() {
    let w = World::new();
    let s = w.pdp(MAP, Behaviour::default());
    // The certificate names localhost only.
    let by_ip = s.url(None);
    let mut p = w.client(std::slice::from_ref(&by_ip), &[]);
    assert_eq!(run(&mut p, ALICE, &[]).0, Status::Failure);
    assert!(logs_with(&by_ip)
        .iter()
        .any(|l| l.contains("server certificate rejected")));
    // The override accepts the name the certificate has ...
    let mut p = w.client(
        std::slice::from_ref(&by_ip),
        &["--override-expected-hostname", "localhost"],
    );
    assert_eq!(run(&mut p, ALICE, &[]).0, Status::Success);
    // ... and only that.
    let mut p = w.client(
        &[url(&s)],
        &["--override-expected-hostname", "gums.example.org"],
    );
    assert_eq!(run(&mut p, ALICE, &[]).0, Status::Failure);
}

#[test]
fn untrusted_server_ca_fails() {
    let w = World::new();
    let other = fixtures::ca("Other CA");
    let s = w.pdp_with(
        MAP,
        Behaviour::default(),
        fixtures::server_cert(&other, &["localhost"]),
    );
    let mut p = w.client(&[url(&s)], &[]);
    assert_eq!(run(&mut p, ALICE, &[]).0, Status::Failure);
    assert!(logs_with(&url(&s))
        .iter()
        .any(|l| l.contains("server certificate rejected")));
    assert_eq!(s.requests(), 0);
}

#[test]
fn client_certificate_from_an_unknown_ca_is_refused() {
    let w = World::new();
    let s = w.pdp(MAP, Behaviour::default());
    let other = fixtures::ca("Other CA");
    let (c, k) = fixtures::user(&other, "host/evil.example.org", 9);
    let cert = write(w.dir.path(), "evil.pem", &c.to_pem().unwrap());
    let key = write(
        w.dir.path(),
        "evil.key",
        &k.private_key_to_pem_pkcs8().unwrap(),
    );
    let mut p = w.client(
        &[url(&s)],
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(run(&mut p, ALICE, &[]).0, Status::Failure);
    assert_eq!(s.requests(), 0);
}

#[test]
fn client_without_a_certificate_is_refused_by_the_pdp() {
    use std::io::{Read, Write};
    let w = World::new();
    let s = w.pdp(MAP, Behaviour::default());
    let mut b = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls_client()).unwrap();
    b.set_ca_file(
        w.capath
            .join(format!("{:08x}.0", w.ca.cert.issuer_name_hash())),
    )
    .unwrap();
    let conn = b.build();
    let tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let refused = match conn.connect("localhost", tcp) {
        Err(_) => true,
        Ok(mut tls) => {
            let _ = tls.write_all(b"POST /pdp HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
            let mut buf = Vec::new();
            // TLS 1.3: the refusal arrives as an alert on the first read.
            tls.read_to_end(&mut buf).is_err() || buf.is_empty()
        }
    };
    assert!(refused);
    assert_eq!(s.requests(), 0);
}

#[test]
fn cert_owner_is_checked() {
    let w = World::new();
    let s = w.pdp(MAP, Behaviour::default());
    // The files belong to whoever runs the test, not to uid 5100 (alice).
    let mut p = w.client(&[url(&s)], &["--cert-owner", "alice"]);
    assert_eq!(run(&mut p, ALICE, &[]).0, Status::Failure);
    assert_eq!(s.requests(), 0);
}

#[test]
fn concurrent_callouts_are_all_correct_with_latency_percentiles() {
    let w = World::new();
    let mut map = String::new();
    for i in 0..16u32 {
        map.push_str(&format!(
            "\"/DC=org/DC=example/CN=User {i}\" {} {} 9000\n",
            10_000 + i,
            20_000 + i
        ));
    }
    let s = w.pdp(&map, Behaviour::default());
    let (threads, each) = (8u32, 12u32);
    let start = Instant::now();
    let mut hs = Vec::new();
    for t in 0..threads {
        let mut p = w.client(&[url(&s)], &[]);
        hs.push(std::thread::spawn(move || {
            let mut lat = Vec::new();
            for k in 0..each {
                let i = (t * each + k) % 16;
                let t0 = Instant::now();
                let (st, store) = run(&mut p, &format!("/DC=org/DC=example/CN=User {i}"), &[]);
                lat.push(t0.elapsed());
                assert_eq!(st, Status::Success);
                assert_eq!(store.uids, [10_000 + i]);
                assert_eq!(store.pri_gids, [20_000 + i]);
                assert_eq!(store.sec_gids, [9000]);
            }
            lat
        }));
    }
    let mut lat: Vec<Duration> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let total = start.elapsed();
    lat.sort_unstable();
    let n = lat.len();
    assert_eq!(n as u32, threads * each);
    assert_eq!(s.requests(), n);
    eprintln!(
        "callouts: {n} in {total:?} ({:.0}/s, {threads} threads); latency p50 {:?} p99 {:?} max {:?}",
        n as f64 / total.as_secs_f64(),
        lat[n / 2],
        lat[(n * 99 / 100).min(n - 1)],
        lat[n - 1]
    );
}

#[test]
fn host_proxy_as_client_credential_and_issuer_from_pem() {
    let w = World::new();
    let s = w.pdp(MAP, Behaviour::default());
    let (hc, hk) = fixtures::user(&w.ca, "host/wn2.example.org", 11);
    let (pc, pk) = fixtures::proxy(&hc, &hk, fixtures::Kind::Rfc, fixtures::Tweak::default());
    // One file: proxy, its key, the host certificate (as grid proxies are).
    let proxy = write(
        w.dir.path(),
        "hostproxy.pem",
        fixtures::pem(&[&pc, &hc], Some(&pk)).as_bytes(),
    );
    let mut p = w.client(
        &[url(&s)],
        &[
            "--cert",
            proxy.to_str().unwrap(),
            "--key",
            proxy.to_str().unwrap(),
        ],
    );
    // The user's PEM gives the issuer attribute; the mapping is by DN.
    let (uc, uk) = fixtures::user(&w.ca, "Alice", 12);
    let req = Request {
        user_dn: Some(ALICE.into()),
        pem: Some(fixtures::pem(&[&uc], Some(&uk))),
        ..Request::default()
    };
    let mut store = Store::new();
    let st = p.run(&mut RunContext {
        request: &req,
        store: &mut store,
    });
    assert_eq!(st, Status::Success);
    assert_eq!(store.uids, [5001]);
    assert_eq!(s.requests(), 1);
    let q = s.last_query().unwrap();
    let a = |id: &str| q.attributes.get(id).cloned().unwrap_or_default();
    let i = "http://authz-interop.org/xacml/";
    assert_eq!(a(&format!("{i}subject/subject-x509-id")), [ALICE]);
    assert_eq!(
        a(&format!("{i}subject/subject-x509-issuer")),
        ["/DC=org/DC=example/CN=Test CA"]
    );
    assert_eq!(
        a(&format!("{i}resource/resource-x509-id")),
        ["/DC=org/DC=example/CN=host/wn2.example.org/CN=123456789"]
    );
    assert_eq!(a(&format!("{i}resource/dns-host-name")), ["wn.example.org"]);
    assert_eq!(
        a("urn:oasis:names:tc:xacml:1.0:action:action-id"),
        [format!("{i}action/action-type/execute-now")]
    );
    assert_eq!(
        a("urn:oasis:names:tc:xacml:1.0:resource:resource-id"),
        [format!("{i}resource/resource-type/wn")]
    );
}
