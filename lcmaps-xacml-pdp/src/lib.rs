//! A small SAML2-XACML2 policy decision point for tests and demos of the
//! GUMS/SCAS callout: HTTPS on 127.0.0.1 only, client certificates
//! required, a mapping table `DN-or-FQAN uid gid [sgid,...] [username]`,
//! and switches to misbehave (slow, dropped or reset connections, garbage, SOAP
//! faults, fixed decisions, wrong `InResponseTo`, unknown obligations, huge
//! answers) for the fault tests.
//!
//! The server runs on threads of the calling process and stops (and joins
//! every thread) when the [`Server`] is dropped.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod, SslVerifyMode};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::X509;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::NsReader;

const NS_XACML_SAMLP: &str = "urn:oasis:xacml:2.0:saml:protocol:schema:os";
const NS_XACML_CTX: &str = "urn:oasis:names:tc:xacml:2.0:context:schema:os";
const A_DN: &str = "http://authz-interop.org/xacml/subject/subject-x509-id";
const A_FQAN: &str = "http://authz-interop.org/xacml/subject/voms-fqan";
const OB: &str = "http://authz-interop.org/xacml/obligation/";
const AT: &str = "http://authz-interop.org/xacml/attribute/";

/// Largest request accepted (headers + body).
pub const MAX_REQUEST: usize = 256 * 1024;
/// Most connections served at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 256;

/// One line of the mapping table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// DN or FQAN the line matches (exactly).
    pub key: String,
    /// uid (`-` in the file: none).
    pub uid: Option<u32>,
    /// gid (`-` in the file: none).
    pub gid: Option<u32>,
    /// Secondary gids.
    pub sgids: Vec<u32>,
    /// Account name for a `username` obligation.
    pub username: Option<String>,
}

/// Parses a mapping table: one entry a line, `#` comments, the key in
/// double quotes when it has blanks:
/// `"/DC=org/DC=example/CN=Alice" 501 501 600,601 alice`.
pub fn parse_map(text: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |m: &str| format!("line {}: {m}", n + 1);
        let (key, rest) = if let Some(r) = line.strip_prefix('"') {
            let end = r.find('"').ok_or_else(|| bad("unterminated quote"))?;
            (r[..end].to_owned(), &r[end + 1..])
        } else {
            let end = line.find(char::is_whitespace).unwrap_or(line.len());
            (line[..end].to_owned(), &line[end..])
        };
        let toks: Vec<&str> = rest.split_whitespace().collect();
        if toks.len() < 2 || toks.len() > 4 {
            return Err(bad("want: key uid gid [sgid,...] [username]"));
        }
        let num = |t: &str| -> Result<Option<u32>, String> {
            if t == "-" {
                Ok(None)
            } else {
                t.parse()
                    .map(Some)
                    .map_err(|_| bad(&format!("bad number {t:?}")))
            }
        };
        let (uid, gid) = (num(toks[0])?, num(toks[1])?);
        let mut sgids = Vec::new();
        let mut username = None;
        for t in &toks[2..] {
            if t.chars().all(|c| c.is_ascii_digit() || c == ',') {
                for g in t.split(',').filter(|s| !s.is_empty()) {
                    sgids.push(g.parse().map_err(|_| bad("bad gid"))?);
                }
            } else if *t != "-" {
                username = Some((*t).to_owned());
            }
        }
        out.push(Entry {
            key,
            uid,
            gid,
            sgids,
            username,
        });
    }
    Ok(out)
}

/// How the server (mis)behaves.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Wait this long before answering.
    pub slow: Option<Duration>,
    /// Read the request, then close the connection without an answer.
    pub drop: bool,
    /// Wait for the request and reset the connection (TCP RST) without
    /// reading it.
    pub reset: bool,
    /// Answer 200 with a body that is not XML.
    pub garbage: bool,
    /// Answer 500 with a SOAP fault.
    pub fault: bool,
    /// Answer this decision whatever the table says (`NotApplicable`,
    /// `Indeterminate`, `Deny`, `Permit`).
    pub decision: Option<String>,
    /// Put another ID in `InResponseTo`.
    pub wrong_in_response_to: bool,
    /// Add an obligation with this id to every Permit.
    pub extra_obligation: Option<String>,
    /// Answer with a body of this many bytes (padding in a comment).
    pub huge: Option<usize>,
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server certificate.
    pub cert: X509,
    /// Certificates sent after it (intermediate CAs, or the issuer of a
    /// proxy: the fault tests present a proxy chain as a PDP would not).
    pub chain: Vec<X509>,
    /// Its key.
    pub key: PKey<Private>,
    /// CAs trusted for client certificates.
    pub client_cas: Vec<X509>,
    /// The mapping table.
    pub map: Vec<Entry>,
    /// Misbehaviour.
    pub behaviour: Behaviour,
    /// Port on 127.0.0.1 (0: any free one).
    pub port: u16,
}

/// A running PDP; dropping it stops it and joins its threads.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    last: Arc<Mutex<Option<Parsed>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1 and starts serving.
    pub fn start(cfg: Config) -> Result<Server, String> {
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
            .map_err(|e| e.to_string())?;
        b.set_certificate(&cfg.cert).map_err(|e| e.to_string())?;
        for c in &cfg.chain {
            b.add_extra_chain_cert(c.clone())
                .map_err(|e| e.to_string())?;
        }
        b.set_private_key(&cfg.key).map_err(|e| e.to_string())?;
        b.check_private_key().map_err(|e| e.to_string())?;
        for ca in &cfg.client_cas {
            b.cert_store_mut()
                .add_cert(ca.clone())
                .map_err(|e| e.to_string())?;
        }
        b.cert_store_mut()
            .set_flags(X509VerifyFlags::ALLOW_PROXY_CERTS)
            .map_err(|e| e.to_string())?;
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        let acceptor = Arc::new(b.build());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, cfg.port))
            .map_err(|e| format!("bind 127.0.0.1:{}: {e}", cfg.port))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(Mutex::new(None));
        let (st, sv, la) = (stop.clone(), served.clone(), last.clone());
        let cfg = Arc::new(cfg);
        let thread = std::thread::spawn(move || accept_loop(listener, acceptor, cfg, st, sv, la));
        Ok(Server {
            addr,
            stop,
            served,
            last,
            thread: Some(thread),
        })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>/pdp`, with `host` instead of the address if
    /// given.
    pub fn url(&self, host: Option<&str>) -> String {
        format!(
            "https://{}:{}/pdp",
            host.unwrap_or("127.0.0.1"),
            self.addr.port()
        )
    }

    /// Connections whose request was read in full.
    pub fn requests(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }

    /// The last query read (parsed), if any.
    pub fn last_query(&self) -> Option<Parsed> {
        self.last.lock().ok().and_then(|l| l.clone())
    }

    /// Stops and joins (also done on drop).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(
    listener: TcpListener,
    acceptor: Arc<SslAcceptor>,
    cfg: Arc<Config>,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    last: Arc<Mutex<Option<Parsed>>>,
) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((s, _)) => {
                workers.retain(|w| !w.is_finished());
                if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                    drop(s);
                    continue;
                }
                active.fetch_add(1, Ordering::SeqCst);
                let (a, c, st, sv, ac, la) = (
                    acceptor.clone(),
                    cfg.clone(),
                    stop.clone(),
                    served.clone(),
                    active.clone(),
                    last.clone(),
                );
                workers.push(std::thread::spawn(move || {
                    if let Err(e) = serve(s, &a, &c, &st, &sv, &la) {
                        log::debug!("xacml-pdp: {e}");
                    }
                    ac.fetch_sub(1, Ordering::SeqCst);
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // Short: the wait is part of every callout's latency.
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => {
                log::warn!("xacml-pdp: accept: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

fn serve(
    s: TcpStream,
    acceptor: &SslAcceptor,
    cfg: &Config,
    stop: &AtomicBool,
    served: &AtomicUsize,
    last: &Mutex<Option<Parsed>>,
) -> Result<(), String> {
    s.set_nonblocking(false).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let mut tls = acceptor.accept(s).map_err(|e| format!("handshake: {e}"))?;
    if cfg.behaviour.reset {
        // Closing a socket with unread data makes the kernel send RST.
        let mut one = [0u8; 1];
        let n = tls
            .get_ref()
            .peek(&mut one)
            .map_err(|e| format!("peek: {e}"))?;
        if n > 0 {
            served.fetch_add(1, Ordering::SeqCst);
        }
        return Ok(());
    }
    // Read one request: headers, then Content-Length bytes; bounded.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if Instant::now() > deadline || stop.load(Ordering::SeqCst) {
            return Err("request too slow".into());
        }
        let n = tls.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("client closed early".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_REQUEST {
            let _ = tls.write_all(
                b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return Err("request too large".into());
        }
        if let Some(h) = header_end(&buf) {
            let Some(len) = content_length(&buf[..h]) else {
                let _ = tls.write_all(b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                return Err("no Content-Length".into());
            };
            if h + len > MAX_REQUEST {
                let _ = tls.write_all(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                return Err("request too large".into());
            }
            if buf.len() >= h + len {
                break buf[h..h + len].to_vec();
            }
        }
    };
    if let Ok(mut l) = last.lock() {
        *l = std::str::from_utf8(&body)
            .ok()
            .and_then(|t| parse_query(t).ok());
    }
    served.fetch_add(1, Ordering::SeqCst);
    let b = &cfg.behaviour;
    if let Some(d) = b.slow {
        let until = Instant::now() + d;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    if b.drop {
        let _ = tls.get_ref().shutdown(std::net::Shutdown::Both);
        return Ok(());
    }
    let (status, reply) = answer(&body, cfg);
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    );
    tls.get_ref()
        .set_write_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let _ = tls
        .write_all(head.as_bytes())
        .and_then(|()| tls.write_all(reply.as_bytes()));
    let _ = tls.shutdown();
    Ok(())
}

/// What the PDP read from a query.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The query's `ID`.
    pub id: Option<String>,
    /// Attribute values by AttributeId.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// Parses an `XACMLAuthzDecisionQuery` (namespace-aware).
pub fn parse_query(xml: &str) -> Result<Parsed, String> {
    let mut r = NsReader::from_str(xml);
    r.config_mut().expand_empty_elements = true;
    let mut p = Parsed::default();
    let mut current: Option<String> = None;
    let mut text = String::new();
    let mut depth = 0usize;
    loop {
        let (ns, ev) = r.read_resolved_event().map_err(|e| e.to_string())?;
        let ns_is = |n: &str| matches!(&ns, quick_xml::name::ResolveResult::Bound(x) if x.as_ref() == n.as_bytes());
        match ev {
            Event::Start(e) => {
                depth += 1;
                if depth > 64 {
                    return Err("too deep".into());
                }
                text.clear();
                let local = e.local_name();
                if local.as_ref() == b"XACMLAuthzDecisionQuery" && ns_is(NS_XACML_SAMLP) {
                    for a in e.attributes().flatten() {
                        if a.key.as_ref() == b"ID" {
                            p.id = a.unescape_value().ok().map(|v| v.into_owned());
                        }
                    }
                } else if local.as_ref() == b"Attribute" && ns_is(NS_XACML_CTX) {
                    current = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == b"AttributeId")
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()));
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if e.local_name().as_ref() == b"AttributeValue" && ns_is(NS_XACML_CTX) {
                    if let Some(id) = &current {
                        p.attributes
                            .entry(id.clone())
                            .or_default()
                            .push(text.trim().to_owned());
                    }
                }
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.unescape().map_err(|e| e.to_string())?),
            Event::DocType(_) => return Err("DOCTYPE".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(p)
}

fn fault(msg: &str) -> (&'static str, String) {
    (
        "500 Internal Server Error",
        format!(
            "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>{}</faultstring>\
             </soap:Fault></soap:Body></soap:Envelope>",
            escape(msg)
        ),
    )
}

fn obligation(id: &str, assignments: &[(&str, String)]) -> String {
    let mut s = format!("<xacml:Obligation ObligationId=\"{OB}{id}\" FulfillOn=\"Permit\">");
    for (a, v) in assignments {
        s.push_str(&format!(
            "<xacml:AttributeAssignment AttributeId=\"{AT}{a}\" DataType=\"http://www.w3.org/2001/XMLSchema#string\">{}</xacml:AttributeAssignment>",
            escape(v.as_str())
        ));
    }
    s.push_str("</xacml:Obligation>");
    s
}

/// The answer (HTTP status line tail and body) to a request body.
pub fn answer(body: &[u8], cfg: &Config) -> (&'static str, String) {
    let b = &cfg.behaviour;
    if b.garbage {
        return ("200 OK", "}}} this is not XML {{{\u{1}".into());
    }
    if b.fault {
        return fault("PDP told to fail");
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return fault("request is not UTF-8");
    };
    let q = match parse_query(text) {
        Ok(q) => q,
        Err(e) => return fault(&format!("bad request: {e}")),
    };
    let Some(id) = q.id.clone() else {
        return fault("no query ID");
    };
    let none = Vec::new();
    let dn = q.attributes.get(A_DN).and_then(|v| v.first());
    let fqans = q.attributes.get(A_FQAN).unwrap_or(&none);
    let entry = cfg
        .map
        .iter()
        .find(|e| Some(&e.key) == dn || fqans.contains(&e.key));
    let mut decision = if entry.is_some() { "Permit" } else { "Deny" }.to_owned();
    if let Some(d) = &b.decision {
        decision = d.clone();
    }
    let mut obligations = String::new();
    if decision == "Permit" {
        if let Some(e) = entry {
            if let (Some(u), Some(g)) = (e.uid, e.gid) {
                obligations.push_str(&obligation(
                    "uidgid",
                    &[("posix-uid", u.to_string()), ("posix-gid", g.to_string())],
                ));
            }
            if !e.sgids.is_empty() {
                let a: Vec<(&str, String)> = e
                    .sgids
                    .iter()
                    .map(|g| ("posix-gid", g.to_string()))
                    .collect();
                obligations.push_str(&obligation("secondary-gids", &a));
            }
            if let Some(n) = &e.username {
                obligations.push_str(&obligation("username", &[("username", n.clone())]));
            }
        }
        if let Some(x) = &b.extra_obligation {
            obligations.push_str(&format!(
                "<xacml:Obligation ObligationId=\"{}\" FulfillOn=\"Permit\"/>",
                escape(x.as_str())
            ));
        }
    }
    let status = if decision == "Indeterminate" {
        "urn:oasis:names:tc:xacml:1.0:status:processing-error"
    } else {
        "urn:oasis:names:tc:xacml:1.0:status:ok"
    };
    let irt = if b.wrong_in_response_to {
        format!("{id}-other")
    } else {
        id
    };
    let pad = b
        .huge
        .map(|n| format!("<!--{}-->", "x".repeat(n)))
        .unwrap_or_default();
    let mut rid = [0u8; 8];
    let _ = openssl::rand::rand_bytes(&mut rid);
    let rid: String = rid.iter().map(|b| format!("{b:02x}")).collect();
    (
        "200 OK",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{pad}\
<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
ID=\"_r{rid}\" Version=\"2.0\" InResponseTo=\"{}\">\
<saml:Issuer>xacml-pdp</saml:Issuer>\
<samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
<saml:Assertion ID=\"_a{rid}\" Version=\"2.0\"><saml:Issuer>xacml-pdp</saml:Issuer>\
<xacml-saml:XACMLAuthzDecisionStatement xmlns:xacml-saml=\"urn:oasis:xacml:2.0:saml:assertion:schema:os\">\
<xacml-context:Response xmlns:xacml-context=\"{NS_XACML_CTX}\"><xacml-context:Result>\
<xacml-context:Decision>{}</xacml-context:Decision>\
<xacml-context:Status><xacml-context:StatusCode Value=\"{status}\"/></xacml-context:Status>\
<xacml:Obligations xmlns:xacml=\"urn:oasis:names:tc:xacml:2.0:policy:schema:os\">{obligations}</xacml:Obligations>\
</xacml-context:Result></xacml-context:Response></xacml-saml:XACMLAuthzDecisionStatement></saml:Assertion>\
</samlp:Response></soap:Body></soap:Envelope>",
            escape(irt.as_str()),
            escape(decision.as_str()),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_file() {
        let m = parse_map(
            "# comment\n\"/DC=org/CN=Alice A\" 501 502 600,601 alice\n/atlas/Role=pilot 700 701\n/x - - bob\n",
        )
        .unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].key, "/DC=org/CN=Alice A");
        assert_eq!(m[0].sgids, [600, 601]);
        assert_eq!(m[0].username.as_deref(), Some("alice"));
        assert_eq!((m[1].uid, m[1].gid), (Some(700), Some(701)));
        assert_eq!((m[2].uid, m[2].username.as_deref()), (None, Some("bob")));
        assert!(parse_map("\"/CN=x 1 2\n").is_err());
        assert!(parse_map("/CN=x one 2\n").is_err());
    }
}
