//! The `xacml-pdp` binary: starts on 127.0.0.1, answers over mutual TLS,
//! refuses bad options, and is killed when the test ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
use openssl::x509::{X509Builder, X509NameBuilder, X509};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn key() -> PKey<Private> {
    let g = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&g).unwrap()).unwrap()
}

fn cert(cn: &str, k: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>, ca: bool) -> X509 {
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    let n = n.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&n).unwrap();
    b.set_issuer_name(issuer.map_or(&*n, |(c, _)| c.subject_name()))
        .unwrap();
    b.set_pubkey(k).unwrap();
    b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    if ca {
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
            .unwrap();
    } else {
        let san = SubjectAlternativeName::new()
            .dns("localhost")
            .build(&b.x509v3_context(None, None))
            .unwrap();
        b.append_extension(san).unwrap();
    }
    b.sign(issuer.map_or(k, |(_, ik)| ik), MessageDigest::sha256())
        .unwrap();
    b.build()
}

#[test]
fn binary_serves_loopback_with_client_certificates() {
    let d = tempfile::tempdir().unwrap();
    let cak = key();
    let ca = cert("Test CA", &cak, None, true);
    let sk = key();
    let sc = cert("localhost", &sk, Some((&ca, &cak)), false);
    let ck = key();
    let cc = cert("client", &ck, Some((&ca, &cak)), false);
    let w = |n: &str, b: Vec<u8>| {
        let p = d.path().join(n);
        std::fs::write(&p, b).unwrap();
        p
    };
    let (scp, skp, cap) = (
        w("s.pem", sc.to_pem().unwrap()),
        w("s.key", sk.private_key_to_pem_pkcs8().unwrap()),
        w("ca.pem", ca.to_pem().unwrap()),
    );
    let map = w("map", b"\"/CN=Alice\" 501 502 600\n".to_vec());
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_xacml-pdp"))
            .args([
                "--cert",
                scp.to_str().unwrap(),
                "--key",
                skp.to_str().unwrap(),
            ])
            .args([
                "--client-ca",
                cap.to_str().unwrap(),
                "--map",
                map.to_str().unwrap(),
            ])
            .args(["--max-seconds", "60"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    let mut b = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls_client()).unwrap();
    b.cert_store_mut().add_cert(ca.clone()).unwrap();
    b.set_certificate(&cc).unwrap();
    b.set_private_key(&ck).unwrap();
    let conn = b.build();
    let tcp = std::net::TcpStream::connect(&addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = conn.connect("localhost", tcp).unwrap();
    let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><q:XACMLAuthzDecisionQuery xmlns:q="urn:oasis:xacml:2.0:saml:protocol:schema:os" xmlns:c="urn:oasis:names:tc:xacml:2.0:context:schema:os" ID="_abc"><c:Request><c:Subject><c:Attribute AttributeId="http://authz-interop.org/xacml/subject/subject-x509-id"><c:AttributeValue>/CN=Alice</c:AttributeValue></c:Attribute></c:Subject></c:Request></q:XACMLAuthzDecisionQuery></s:Body></s:Envelope>"#;
    write!(
        tls,
        "POST /pdp HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("InResponseTo=\"_abc\""), "{out}");
    assert!(out.contains("<xacml-context:Decision>Permit</xacml-context:Decision>"));
    assert!(out.contains(">501<") && out.contains(">502<") && out.contains(">600<"));

    // Closing its stdin stops it.
    drop(child.0.stdin.take());
    let mut stopped = false;
    for _ in 0..200 {
        if child.0.try_wait().unwrap().is_some() {
            stopped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(stopped, "xacml-pdp did not stop when its stdin closed");
}

#[test]
fn binary_refuses_unknown_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_xacml-pdp"))
        .arg("--listen-everywhere")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option --listen-everywhere"));
}
