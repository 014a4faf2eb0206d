//! Keys refreshed from the issuer (`jwks_refresh`) against a loopback
//! HTTPS server made here: a test CA and server certificates generated
//! with openssl, the server on 127.0.0.1 serving the OpenID discovery
//! document and the JWKS, counting requests. Time is the verifier's `now`
//! argument, never the wall clock.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{b64, AUD, NOW};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lcmaps_scitokens::{Config, TokenError, Verifier};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Name, X509};
use serde_json::{json, Value};

// ---------------------------------------------------------------- logs

struct Capture;
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        let line = format!("{} {}", r.level(), r.args());
        LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }
    fn flush(&self) {}
}

/// Log lines (level first) mentioning `what`.
fn logs(what: &str) -> Vec<String> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = log::set_logger(&Capture);
        log::set_max_level(log::LevelFilter::Debug);
    });
    LINES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|l| l.contains(what))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------- PKI

fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut n = X509Name::builder().unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    n.build()
}

fn serial() -> openssl::asn1::Asn1Integer {
    let mut bn = BigNum::new().unwrap();
    bn.rand(64, openssl::bn::MsbOption::MAYBE_ZERO, false)
        .unwrap();
    bn.to_asn1_integer().unwrap()
}

struct Ca {
    cert: X509,
    key: PKey<Private>,
}

impl Ca {
    fn new(cn: &str) -> Ca {
        let key = ec_key();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name(cn)).unwrap();
        b.set_issuer_name(&name(cn)).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
            .unwrap();
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()
                .unwrap(),
        )
        .unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        Ca {
            cert: b.build(),
            key,
        }
    }

    /// A server certificate with these subject alternative names
    /// (`IP:...` or `DNS:...`).
    fn server(&self, sans: &[&str]) -> (X509, PKey<Private>) {
        let key = ec_key();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name("test server")).unwrap();
        b.set_issuer_name(self.cert.subject_name()).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
            .unwrap();
        let mut san = SubjectAlternativeName::new();
        for s in sans {
            match s.split_once(':').unwrap() {
                ("IP", v) => san.ip(v),
                (_, v) => san.dns(v),
            };
        }
        let ext = san
            .build(&b.x509v3_context(Some(&self.cert), None))
            .unwrap();
        b.append_extension(ext).unwrap();
        b.sign(&self.key, MessageDigest::sha256()).unwrap();
        (b.build(), key)
    }

    fn write(&self, dir: &Path, file: &str) -> PathBuf {
        let p = dir.join(file);
        std::fs::write(&p, self.cert.to_pem().unwrap()).unwrap();
        p
    }
}

// ---------------------------------------------------------------- server

/// Path (below the server's prefix) to status, body, and whether to send
/// a Content-Length (else the body ends at the close).
type Routes = HashMap<String, (u16, Vec<u8>, bool)>;

/// A loopback HTTPS server answering GETs below `prefix` from a route
/// table, counting requests per path. Stopped (thread joined) on drop.
struct Server {
    addr: SocketAddr,
    routes: Arc<Mutex<Routes>>,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(cert: &X509, key: &PKey<Private>, prefix: &str) -> Server {
        let mut acc = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
        acc.set_certificate(cert).unwrap();
        acc.set_private_key(key).unwrap();
        let acc = acc.build();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (r, h, s) = (routes.clone(), hits.clone(), stop.clone());
        let prefix = prefix.to_string();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = tcp.set_write_timeout(Some(Duration::from_secs(5)));
                // Handshake failures (the client refusing us) just end
                // the connection.
                let Ok(mut tls) = acc.accept(tcp) else {
                    continue;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16384 {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let req = String::from_utf8_lossy(&req);
                let Some(path) = req.strip_prefix("GET ").and_then(|r| r.split(' ').next()) else {
                    continue;
                };
                let path = path.strip_prefix(&prefix).unwrap_or(path).to_string();
                h.lock().unwrap().push(path.clone());
                let (status, body, with_length) = r
                    .lock()
                    .unwrap()
                    .get(&path)
                    .cloned()
                    .unwrap_or((404, b"not found".to_vec(), true));
                let length = if with_length {
                    format!("Content-Length: {}\r\n", body.len())
                } else {
                    String::new()
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                     {length}Connection: close\r\n\r\n"
                );
                let _ = tls
                    .write_all(head.as_bytes())
                    .and_then(|()| tls.write_all(&body));
                let _ = tls.shutdown();
            }
        });
        Server {
            addr,
            routes,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn set(&self, path: &str, status: u16, body: impl Into<Vec<u8>>) {
        self.set_raw(path, status, body, true);
    }

    fn set_raw(&self, path: &str, status: u16, body: impl Into<Vec<u8>>, with_length: bool) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), (status, body.into(), with_length));
    }

    fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }

    fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().len()
    }

    fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(self.addr);
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------- keys, tokens

struct SigningKey {
    kid: String,
    enc: EncodingKey,
    jwk: Value,
}

fn signing_key(kid: &str) -> SigningKey {
    let key = ec_key();
    let ec = key.ec_key().unwrap();
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
    ec.public_key()
        .affine_coordinates(&group, &mut x, &mut y, &mut BigNumContext::new().unwrap())
        .unwrap();
    SigningKey {
        kid: kid.to_string(),
        enc: EncodingKey::from_ec_pem(&key.private_key_to_pem_pkcs8().unwrap()).unwrap(),
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": b64(&x.to_vec_padded(32).unwrap()), "y": b64(&y.to_vec_padded(32).unwrap())}),
    }
}

fn jwks(keys: &[&SigningKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}).to_string()
}

fn token(iss: &str, k: &SigningKey) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some(k.kid.clone());
    let claims = json!({"iss": iss, "sub": "remote-user", "aud": AUD,
        "exp": NOW + 10 * 86_400, "iat": NOW - 10});
    jsonwebtoken::encode(&h, &claims, &k.enc).unwrap()
}

/// A token naming key id `kid` with a junk signature (key lookup comes
/// before the signature check).
fn junk_token(iss: &str, kid: &str) -> String {
    let h = json!({"alg": "ES256", "kid": kid, "typ": "JWT"});
    let c = json!({"iss": iss, "sub": "x", "aud": AUD, "exp": NOW + 86_400});
    format!(
        "{}.{}.{}",
        b64(h.to_string().as_bytes()),
        b64(c.to_string().as_bytes()),
        b64(&[7u8; 64])
    )
}

// ---------------------------------------------------------------- the world

const DISCOVERY: &str = "/.well-known/openid-configuration";
const JWKS: &str = "/jwks";

struct Fixture {
    dir: tempfile::TempDir,
    ca_file: PathBuf,
    other_ca_file: PathBuf,
    server: Server,
    iss: String,
    k1: SigningKey,
}

impl Fixture {
    /// A server with a certificate for `sans`, serving discovery and a
    /// JWKS holding key `r1`.
    fn new(sans: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("Test Issuer CA");
        let ca_file = ca.write(dir.path(), "ca.pem");
        let other_ca_file = Ca::new("Some Other CA").write(dir.path(), "other-ca.pem");
        let (cert, key) = ca.server(sans);
        // A unique issuer path per fixture, so that log lines (one logger
        // for all tests) are told apart even if a port is reused.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let prefix = format!("/t{:04}", N.fetch_add(1, Ordering::SeqCst));
        let server = Server::start(&cert, &key, &prefix);
        let iss = format!("https://{}{prefix}", server.addr);
        let k1 = signing_key("r1");
        let f = Fixture {
            dir,
            ca_file,
            other_ca_file,
            server,
            iss,
            k1,
        };
        f.serve_discovery(&format!("{}{JWKS}", f.iss));
        f.server.set(JWKS, 200, jwks(&[&f.k1]));
        f
    }

    fn good() -> Fixture {
        Fixture::new(&["IP:127.0.0.1", "DNS:localhost"])
    }

    fn serve_discovery(&self, jwks_uri: &str) {
        self.server.set(
            DISCOVERY,
            200,
            json!({"issuer": self.iss, "jwks_uri": jwks_uri,
                "token_endpoint": format!("{}/token", self.iss)})
            .to_string(),
        );
    }

    /// The issuer configured with `extra` lines (`ca_file` is added unless
    /// `extra` names one).
    fn config_text(&self, extra: &str) -> String {
        let ca = if extra.contains("ca_file") || extra.contains("capath") {
            String::new()
        } else {
            format!("ca_file = {}\n", self.ca_file.display())
        };
        format!(
            "[Issuer Remote]\nissuer = {}\naudience = {AUD}\nmode = map\n{ca}{extra}\n",
            self.iss
        )
    }

    fn config(&self, extra: &str) -> Result<Config, String> {
        let f = self.dir.path().join("scitokens.cfg");
        std::fs::write(&f, self.config_text(extra)).unwrap();
        Config::load(&f)
    }

    fn verifier(&self, extra: &str) -> Verifier {
        Verifier::new(self.config(extra).unwrap())
    }

    fn fetches(&self) -> usize {
        self.server.hits(JWKS)
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn key_only_published_by_the_issuer_verifies_via_discovery() {
    let f = Fixture::good();
    let v = f.verifier("jwks_refresh = discovery");
    assert_eq!(f.server.total_hits(), 0, "nothing fetched at load");
    let c = v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap();
    assert_eq!(c.claims.sub, "remote-user");
    assert_eq!((c.kid.as_str(), c.alg), ("r1", Algorithm::ES256));
    assert_eq!((f.server.hits(DISCOVERY), f.fetches()), (1, 1));
    assert_eq!(
        logs(&f.iss)
            .iter()
            .filter(|l| l.contains("fetched 1 key(s)") && l.contains("no keys fetched yet"))
            .count(),
        1,
        "{:?}",
        logs(&f.iss)
    );
    // Cached: more tokens within the TTL fetch nothing.
    for t in 0..20 {
        v.verify_at(&token(&f.iss, &f.k1), NOW + t * 100).unwrap();
    }
    assert_eq!(f.server.total_hits(), 2);
    // Clones of the verifier share the cache.
    v.clone().verify_at(&token(&f.iss, &f.k1), NOW + 5).unwrap();
    assert_eq!(f.server.total_hits(), 2);

    // The usual refusals hold for fetched keys: alg none, algorithm
    // confusion (the EC key under an RS256 header), a bad signature.
    let parts: Vec<String> = token(&f.iss, &f.k1).split('.').map(String::from).collect();
    let none = format!(
        "{}.{}.{}",
        b64(json!({"alg": "none", "kid": "r1"}).to_string().as_bytes()),
        parts[1],
        parts[2]
    );
    assert_eq!(
        v.verify_at(&none, NOW).unwrap_err(),
        TokenError::AlgorithmNotAllowed("none".into())
    );
    let rs = format!(
        "{}.{}.{}",
        b64(json!({"alg": "RS256", "kid": "r1"}).to_string().as_bytes()),
        parts[1],
        parts[2]
    );
    assert!(matches!(
        v.verify_at(&rs, NOW).unwrap_err(),
        TokenError::KeyAlgorithmMismatch { .. }
    ));
    let impostor = SigningKey {
        kid: "r1".into(),
        ..signing_key("x")
    };
    assert!(matches!(
        v.verify_at(&token(&f.iss, &impostor), NOW).unwrap_err(),
        TokenError::BadSignature { .. }
    ));
    assert_eq!(f.server.total_hits(), 2);
}

#[test]
fn direct_jwks_url_and_local_keys_first() {
    let f = Fixture::good();
    // A local JWKS with another key: its tokens never touch the network.
    let local = signing_key("local1");
    std::fs::write(f.dir.path().join("local.json"), jwks(&[&local])).unwrap();
    let v = f.verifier(&format!(
        "jwks = local.json\njwks_refresh = {}{JWKS}\njwks_ttl = 600",
        f.iss
    ));
    v.verify_at(&token(&f.iss, &local), NOW).unwrap();
    v.verify_at(&token(&f.iss, &local), NOW + 86_400).unwrap();
    assert_eq!(f.server.total_hits(), 0);
    // A key only the issuer has: one JWKS request, no discovery.
    v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap();
    assert_eq!((f.server.hits(DISCOVERY), f.fetches()), (0, 1));
}

#[test]
fn unknown_key_id_refreshes_once_rate_limited() {
    let f = Fixture::good();
    let v = f.verifier("jwks_refresh = discovery");
    v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap();
    assert_eq!(f.fetches(), 1);

    // The issuer rotates in a new key.
    let k2 = signing_key("r2");
    f.server.set(JWKS, 200, jwks(&[&f.k1, &k2]));
    // Within a minute of the last fetch: not refetched yet.
    let e = v.verify_at(&token(&f.iss, &k2), NOW + 59).unwrap_err();
    assert_eq!(
        e,
        TokenError::UnknownKey {
            kid: "r2".into(),
            issuer: f.iss.clone()
        }
    );
    assert_eq!(f.fetches(), 1);
    // Then the unknown key id triggers exactly one refresh.
    v.verify_at(&token(&f.iss, &k2), NOW + 60).unwrap();
    assert_eq!((f.server.hits(DISCOVERY), f.fetches()), (2, 2));
    assert!(logs(&f.iss)
        .iter()
        .any(|l| l.contains("fetched 2 key(s)") && l.contains("key id r2 not among")));

    // Garbage key ids: at most one fetch per minute, however many tokens.
    for i in 0..200 {
        let e = v
            .verify_at(&junk_token(&f.iss, &format!("junk{i}")), NOW + 61 + i / 4)
            .unwrap_err();
        assert!(matches!(e, TokenError::UnknownKey { .. }), "{e}");
    }
    // NOW + 61 .. NOW + 110: one attempt at NOW + 120 at the earliest.
    assert_eq!(f.fetches(), 2);
    v.verify_at(&junk_token(&f.iss, "junkA"), NOW + 120)
        .unwrap_err();
    assert_eq!(f.fetches(), 3);
    v.verify_at(&junk_token(&f.iss, "junkB"), NOW + 179)
        .unwrap_err();
    assert_eq!(f.fetches(), 3);
    // Known keys are still served from the cache meanwhile.
    v.verify_at(&token(&f.iss, &f.k1), NOW + 150).unwrap();
    v.verify_at(&token(&f.iss, &k2), NOW + 150).unwrap();
    assert_eq!(f.fetches(), 3);
}

#[test]
fn ttl_expiry_refetches_and_drops_removed_keys() {
    let f = Fixture::good();
    let v = f.verifier("jwks_refresh = discovery\njwks_ttl = 600");
    v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap();
    v.verify_at(&token(&f.iss, &f.k1), NOW + 599).unwrap();
    assert_eq!(f.fetches(), 1);
    // The issuer drops r1 (e.g. compromised) for r2.
    let k2 = signing_key("r2");
    f.server.set(JWKS, 200, jwks(&[&k2]));
    // TTL reached: refetched, r1 is no longer accepted.
    let e = v.verify_at(&token(&f.iss, &f.k1), NOW + 600).unwrap_err();
    assert!(matches!(e, TokenError::UnknownKey { .. }), "{e}");
    assert_eq!(f.fetches(), 2);
    assert!(logs(&f.iss)
        .iter()
        .any(|l| l.contains("older than jwks_ttl")));
    v.verify_at(&token(&f.iss, &k2), NOW + 601).unwrap();
    assert_eq!(f.fetches(), 2);
    v.verify_at(&token(&f.iss, &k2), NOW + 1199).unwrap();
    assert_eq!(f.fetches(), 2);
    v.verify_at(&token(&f.iss, &k2), NOW + 1200).unwrap();
    assert_eq!(f.fetches(), 3);
}

#[test]
fn issuer_down_keeps_old_keys_within_grace_then_local_only() {
    let mut f = Fixture::good();
    let local = signing_key("local1");
    std::fs::write(f.dir.path().join("local.json"), jwks(&[&local])).unwrap();
    let v =
        f.verifier("jwks = local.json\njwks_refresh = discovery\njwks_ttl = 600\njwks_grace = 300");
    v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap();
    assert_eq!(f.fetches(), 1);
    f.server.stop();

    // Past the TTL the refresh fails: the old keys stay, one log line.
    v.verify_at(&token(&f.iss, &f.k1), NOW + 600).unwrap();
    let warn: Vec<_> = logs(&f.iss)
        .into_iter()
        .filter(|l| l.starts_with("WARN") && l.contains("key refresh"))
        .collect();
    assert_eq!(warn.len(), 1, "{warn:?}");
    assert!(
        warn[0].contains("failed (keys older than jwks_ttl)"),
        "{}",
        warn[0]
    );
    assert!(warn[0].contains("connect to 127.0.0.1"), "{}", warn[0]);
    assert!(
        warn[0].contains(
            "keeping the keys fetched at 2026-11-23T00:00:00Z until 2026-11-23T00:15:00Z"
        ),
        "{}",
        warn[0]
    );
    // Rate-limited: no new attempt (nor line) within the minute.
    v.verify_at(&token(&f.iss, &f.k1), NOW + 659).unwrap();
    assert_eq!(
        logs(&f.iss)
            .iter()
            .filter(|l| l.contains("key refresh"))
            .count(),
        1
    );
    v.verify_at(&token(&f.iss, &f.k1), NOW + 899).unwrap();
    assert_eq!(
        logs(&f.iss)
            .iter()
            .filter(|l| l.contains("key refresh"))
            .count(),
        2
    );

    // TTL + grace over: only the local keys remain.
    let e = v.verify_at(&token(&f.iss, &f.k1), NOW + 960).unwrap_err();
    assert!(matches!(e, TokenError::UnknownKey { .. }), "{e}");
    let last = logs(&f.iss).pop().unwrap();
    assert!(
        last.contains("are past jwks_ttl + jwks_grace, using local keys only"),
        "{last}"
    );
    v.verify_at(&token(&f.iss, &local), NOW + 961).unwrap();
}

#[test]
fn wrong_host_name_refused() {
    // The certificate is for another name than the one we connect to.
    let f = Fixture::new(&["DNS:issuer.example", "IP:127.0.0.2"]);
    let v = f.verifier("jwks_refresh = discovery");
    let e = v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap_err();
    assert!(matches!(e, TokenError::UnknownKey { .. }), "{e}");
    assert_eq!(f.server.total_hits(), 0);
    let l = logs(&f.iss);
    assert!(
        l.iter().any(|l| l.contains("server certificate rejected")
            && l.contains("IP address mismatch")
            && l.contains("using local keys only")),
        "{l:?}"
    );
}

#[test]
fn unknown_ca_refused() {
    let f = Fixture::good();
    let v = f.verifier(&format!(
        "jwks_refresh = discovery\nca_file = {}",
        f.other_ca_file.display()
    ));
    let e = v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap_err();
    assert!(matches!(e, TokenError::UnknownKey { .. }), "{e}");
    assert_eq!(f.server.total_hits(), 0);
    let l = logs(&f.iss);
    assert!(
        l.iter().any(|l| l.contains("server certificate rejected")),
        "{l:?}"
    );
    // Trust in a CA directory works too (hashed name link made here).
    let capath = f.dir.path().join("certificates");
    std::fs::create_dir(&capath).unwrap();
    let ca = X509::from_pem(&std::fs::read(&f.ca_file).unwrap()).unwrap();
    let hash = ca.subject_name_hash();
    std::fs::copy(&f.ca_file, capath.join(format!("{hash:08x}.0"))).unwrap();
    let v = f.verifier(&format!(
        "jwks_refresh = discovery\ncapath = {}",
        capath.display()
    ));
    v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap();
}

#[test]
fn bad_answers_refused_cleanly() {
    let f = Fixture::good();
    let v = f.verifier("jwks_refresh = discovery");
    let mut now = NOW;
    let mut attempt = |what: &str| -> String {
        let before = logs(&f.iss).len();
        let e = v.verify_at(&token(&f.iss, &f.k1), now).unwrap_err();
        assert!(matches!(e, TokenError::UnknownKey { .. }), "{what}: {e}");
        now += 60;
        let l = logs(&f.iss);
        assert_eq!(l.len(), before + 1, "{what}: {l:?}");
        l[before].clone()
    };
    let check = |line: String, want: &str| {
        assert!(
            line.starts_with("WARN") && line.contains(want),
            "want {want:?} in {line}"
        )
    };

    f.server.set(JWKS, 200, vec![b' '; (1 << 20) + 1]);
    check(attempt("oversize"), "answer larger than 1048576 bytes");
    f.server.set(JWKS, 200, "{\"keys\": [");
    check(attempt("truncated JSON"), "/jwks: not JSON");
    f.server.set(JWKS, 200, "<html>hello</html>");
    check(attempt("HTML"), "/jwks: not JSON");
    f.server.set(JWKS, 200, "{\"keys\": 5}");
    check(attempt("no keys array"), "no \"keys\" array");
    f.server.set(
        JWKS,
        200,
        json!({"keys": [{"kty": "OKP", "kid": "e", "crv": "Ed25519", "x": "AAAA"}]}).to_string(),
    );
    check(attempt("no usable key"), "no RS256 or ES256 signing key");
    f.server.set(JWKS, 500, "oops");
    check(attempt("500"), "HTTP status 500");
    f.server.set(JWKS, 200, jwks(&[&f.k1]));

    f.server.set(DISCOVERY, 200, "not json");
    check(attempt("discovery garbage"), "not an OpenID configuration");
    f.server
        .set(DISCOVERY, 200, json!({"issuer": f.iss}).to_string());
    check(attempt("no jwks_uri"), "not an OpenID configuration");
    f.serve_discovery(&format!("http://{}{JWKS}", f.server.addr));
    check(attempt("http jwks_uri"), "jwks_uri: \"http://");
    f.server.set(
        DISCOVERY,
        200,
        json!({"issuer": "https://evil.example", "jwks_uri": format!("{}{JWKS}", f.iss)})
            .to_string(),
    );
    check(attempt("other issuer"), "names issuer https://evil.example");
    f.server.set(DISCOVERY, 302, "");
    check(attempt("redirect"), "redirects are not followed");
    f.server.set(DISCOVERY, 200, vec![b'x'; 3 << 20]);
    check(
        attempt("oversize discovery"),
        "answer larger than 1048576 bytes",
    );
    // Without Content-Length the cap holds while reading.
    f.server.set_raw(DISCOVERY, 200, vec![b'x'; 3 << 20], false);
    check(
        attempt("oversize stream"),
        "answer larger than 1048576 bytes",
    );

    // Fixed: the next attempt (a minute later) succeeds; a body without
    // Content-Length ends at the close.
    f.serve_discovery(&format!("{}{JWKS}", f.iss));
    f.server.set_raw(JWKS, 200, jwks(&[&f.k1]), false);
    v.verify_at(&token(&f.iss, &f.k1), now).unwrap();
}

#[test]
fn configuration_refuses_http_and_bad_values() {
    let f = Fixture::good();
    let file = f.dir.path().join("scitokens.cfg").display().to_string();
    let e = f
        .config(&format!("jwks_refresh = http://{}{JWKS}", f.server.addr))
        .unwrap_err();
    assert!(
        e.starts_with(&format!(
            "{file}:6: jwks_refresh: expected discovery or the https:// URL"
        )),
        "{e}"
    );
    assert!(e.contains("is not an https:// URL"), "{e}");
    for (extra, want) in [
        ("jwks_refresh = yes", ":6: jwks_refresh: expected discovery"),
        (
            "jwks_refresh = discovery\njwks_ttl = 86401",
            ":7: jwks_ttl must be a number from 60 to 86400",
        ),
        (
            "jwks_refresh = discovery\njwks_ttl = 59",
            ":7: jwks_ttl must be a number from 60 to 86400",
        ),
        (
            "jwks_refresh = discovery\njwks_grace = 100000",
            ":7: jwks_grace must be a number from 0 to 86400",
        ),
        (
            "jwks_ttl = 600",
            ":6: jwks_ttl is only used with jwks_refresh",
        ),
        (
            "jwks_refresh = discovery\nca_file = /nonexistent/ca.pem",
            ":6: ca_file /nonexistent/ca.pem",
        ),
        (
            "jwks_refresh = discovery\ncapath = /nonexistent",
            ":6: capath /nonexistent: not a directory",
        ),
    ] {
        let e = f.config(extra).unwrap_err();
        assert!(e.contains(want), "{extra:?}: {e}");
    }
    let cfg = f.dir.path().join("nokeys.cfg");
    std::fs::write(
        &cfg,
        "[Issuer N]\nissuer = https://n.example\naudience = x\nmode = map\n",
    )
    .unwrap();
    let e = Config::load(&cfg).unwrap_err();
    assert!(
        e.ends_with(":1: [Issuer N] has no jwks (a JWKS file or directory) and no jwks_refresh"),
        "{e}"
    );
    // Discovery needs an https:// issuer.
    let cfg = f.dir.path().join("http.cfg");
    std::fs::write(
        &cfg,
        format!(
            "[Issuer H]\nissuer = http://{}\naudience = x\nmode = map\njwks_refresh = discovery\n",
            f.server.addr
        ),
    )
    .unwrap();
    let e = Config::load(&cfg).unwrap_err();
    assert!(
        e.contains(":5: jwks_refresh: discovery needs an https:// issuer"),
        "{e}"
    );
    assert_eq!(f.server.total_hits(), 0);
}

#[test]
fn disk_cache_survives_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    let mut f = Fixture::good();
    let cache = f.dir.path().join("cache");
    let text = format!(
        "[Global]\njwks_cache_dir = {}\n{}",
        cache.display(),
        f.config_text("jwks_refresh = discovery\njwks_ttl = 600\njwks_grace = 300")
    );
    let cfg = f.dir.path().join("cached.cfg");
    std::fs::write(&cfg, &text).unwrap();
    let v = Verifier::new(Config::load(&cfg).unwrap());
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o700
    );
    v.verify_at(&token(&f.iss, &f.k1), NOW).unwrap();
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let entry: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(entry["fetched"], json!(NOW));
    assert_eq!(entry["issuer"], json!(f.iss));
    f.server.stop();

    // A new process (new configuration, empty memory), issuer down: the
    // cached keys serve within TTL + grace, with no attempt in the TTL.
    let v = Verifier::new(Config::load(&cfg).unwrap());
    v.verify_at(&token(&f.iss, &f.k1), NOW + 300).unwrap();
    assert!(!logs(&f.iss).iter().any(|l| l.contains("key refresh")));
    v.verify_at(&token(&f.iss, &f.k1), NOW + 700).unwrap();
    assert!(logs(&f.iss).iter().any(|l| l.contains("key refresh")));
    // Too old for another new process: ignored.
    let v = Verifier::new(Config::load(&cfg).unwrap());
    assert!(v.verify_at(&token(&f.iss, &f.k1), NOW + 900).is_err());
    assert!(logs(&f.iss)
        .iter()
        .any(|l| l.contains("is too old, ignored")));
    // A cache file others may write is not trusted.
    std::fs::set_permissions(&files[0], std::fs::Permissions::from_mode(0o666)).unwrap();
    let v = Verifier::new(Config::load(&cfg).unwrap());
    assert!(v.verify_at(&token(&f.iss, &f.k1), NOW + 1).is_err());
    assert!(logs(&f.iss)
        .iter()
        .any(|l| l.contains("writable only by it")));
    // A cache directory open to others stops the configuration.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = Config::load(&cfg).unwrap_err();
    assert!(
        e.contains(":2: jwks_cache_dir: ") && e.contains("mode 0755"),
        "{e}"
    );
}

#[test]
fn plugin_maps_a_token_signed_with_a_fetched_key() {
    use lcmaps_core::cred::Store;
    use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
    use lcmaps_plugin_common::accounts::StaticAccounts;
    use lcmaps_scitokens::SciTokens;

    let f = Fixture::good();
    f.config("jwks_refresh = discovery").unwrap();
    let mapfile = f.dir.path().join("token-mapfile");
    std::fs::write(
        &mapfile,
        format!("\"{}\" sub \"remote-user\" alice\n", f.iss),
    )
    .unwrap();
    let mut p =
        SciTokens::with_accounts(Arc::new(StaticAccounts::new(&[("alice", 501, 500, &[])])))
            .with_clock(NOW);
    let argv: Vec<String> = [
        "lcmaps_scitokens.mod",
        "-issuers",
        &f.dir.path().join("scitokens.cfg").display().to_string(),
        "-mapfile",
        &mapfile.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    p.initialize(&argv).unwrap();
    assert_eq!(f.server.total_hits(), 0);
    let req = Request {
        token: Some(token(&f.iss, &f.k1)),
        ..Request::default()
    };
    let mut store = Store::new();
    let mut ctx = RunContext {
        request: &req,
        store: &mut store,
    };
    assert_eq!(p.run(&mut ctx), Status::Success);
    assert_eq!(
        (store.uids.as_slice(), store.pri_gids.as_slice()),
        (&[501][..], &[500][..])
    );
    assert_eq!(f.fetches(), 1);
}
