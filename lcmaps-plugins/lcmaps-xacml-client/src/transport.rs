//! A minimal HTTP/1.1 POST over an OpenSSL TLS stream with mutual
//! authentication, written by hand: one request per connection
//! (`Connection: close`), hard connect and total deadlines enforced on every
//! socket operation, a bounded response size, `Content-Length`, chunked or
//! read-to-EOF bodies.
//!
//! The server must prove itself with a server certificate from a CA in
//! `--capath`: no proxy certificate anywhere in its chain (a proxy can be
//! signed by anyone holding a certificate, with any CN), the X.509 purpose
//! `sslserver` (an extendedKeyUsage without serverAuth is refused), and
//! CRLs in `--capath` used as `--crl-mode` says ([`CrlMode`]; by default
//! a CA without a CRL there is accepted with one warning per CA, as
//! upstream's Globus/VOMS-style verification does, and an expired or badly
//! signed CRL or a revoked certificate is refused).

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lcmaps_x509::CrlMode;
use openssl::ssl::{
    Ssl, SslContext, SslFiletype, SslMethod, SslOptions, SslVerifyMode, SslVersion,
};
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{
    X509ExtendedKeyUsage, X509PurposeId, X509Ref, X509StoreContextRef, X509VerifyResult,
};
use x509_cert::der::Decode;

/// Largest answer accepted (headers and body).
pub const MAX_RESPONSE: usize = 1 << 20;

/// Why an exchange failed. Only [`Failure::Transport`] lets the client move
/// on to the next endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Could not get an answer: DNS, connect, TLS, timeout, reset before
    /// any byte of the answer.
    Transport(String),
    /// An answer came, and it is not a usable Permit (or is not valid).
    Answer(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(m) | Failure::Answer(m) => f.write_str(m),
        }
    }
}

pub use lcmaps_plugin_common::https_url::Url;

/// TLS and timeout settings.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// CA (and CRL) directory to verify the server.
    pub capath: PathBuf,
    /// How the CRLs in `capath` are used.
    pub crl_mode: CrlMode,
    /// Client certificate chain (PEM; a proxy file with its chain works).
    pub cert: PathBuf,
    /// Client private key (PEM).
    pub key: PathBuf,
    /// Name the server certificate must carry, when not the URL's host.
    pub expected_hostname: Option<String>,
    /// Deadline for TCP connect + TLS handshake.
    pub connect_timeout: Duration,
    /// Deadline for the whole exchange.
    pub total_timeout: Duration,
}

/// The TLS context: our certificate and key, trust in `--capath` only (no
/// system default CA paths: they must not vouch for an authorization
/// server), peer verification on, TLS 1.2 or later.
fn context(t: &TlsSettings) -> Result<SslContext, String> {
    let setup = |e: openssl::error::ErrorStack| format!("TLS setup: {e}");
    let mut b = SslContext::builder(SslMethod::tls_client()).map_err(setup)?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(setup)?;
    b.set_options(SslOptions::NO_COMPRESSION | SslOptions::NO_RENEGOTIATION);
    b.set_certificate_chain_file(&t.cert)
        .map_err(|e| format!("client certificate {}: {e}", t.cert.display()))?;
    b.set_private_key_file(&t.key, SslFiletype::PEM)
        .map_err(|e| format!("client key {}: {e}", t.key.display()))?;
    b.check_private_key().map_err(|e| {
        format!(
            "client key {} does not match the certificate: {e}",
            t.key.display()
        )
    })?;
    b.load_verify_locations(None, Some(&t.capath))
        .map_err(|e| format!("CA directory {}: {e}", t.capath.display()))?;
    b.set_verify(SslVerifyMode::PEER);
    // This store verifies the *server*: no ALLOW_PROXY_CERTS (our own
    // client certificate may be a host proxy; we send it, we do not verify
    // it). CRLs in the CA directory (`<hash>.r0`) are checked for every
    // certificate of the chain, unless the CRL mode is `ignore`.
    if t.crl_mode != CrlMode::Ignore {
        b.cert_store_mut()
            .set_flags(X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL)
            .map_err(setup)?;
    }
    Ok(b.build())
}

/// Why our verify callback refused the server's chain (the first reason).
type Rejection = Arc<Mutex<Option<String>>>;

/// OpenSSL's verification results (`X509_V_ERR_*`, stable since 1.1.0) we
/// treat apart from the rest.
const UNABLE_TO_GET_CRL: i32 = 3;
const CERT_REVOKED: i32 = 23;
const INVALID_PURPOSE: i32 = 26;
const PROXY_CERTIFICATES_NOT_ALLOWED: i32 = 40;

const PROXY_IN_CHAIN: &str = "proxy certificate in the server chain";

/// Whether `c` carries an RFC 3820 or a GT3 proxyCertInfo extension.
/// Ours, not OpenSSL's: `OPENSSL_ALLOW_PROXY_CERTS` in the environment makes
/// OpenSSL accept proxies whatever the store's flags say.
fn is_proxy(c: &X509Ref) -> Result<bool, String> {
    use lcmaps_x509::cred::{OID_GT3_PROXY, OID_RFC_PROXY};
    let der = c.to_der().map_err(|e| e.to_string())?;
    let parsed = x509_cert::Certificate::from_der(&der).map_err(|e| e.to_string())?;
    Ok(parsed
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .any(|e| e.extn_id == OID_RFC_PROXY || e.extn_id == OID_GT3_PROXY))
}

/// The verify callback for the server's chain, called by OpenSSL for each
/// certificate (with `ok` true once it passed) and for each error. On top of
/// OpenSSL's checks: no certificate of the chain is a proxy, and the leaf's
/// extendedKeyUsage (if any) allows serverAuth. Of OpenSSL's errors, only
/// "unable to get certificate CRL" (a CA without a CRL in the directory) is
/// forgiven, unless the CRL mode is `require`.
fn verify_server(
    ok: bool,
    x: &mut X509StoreContextRef,
    why: &Mutex<Option<String>>,
    capath: &Path,
    mode: CrlMode,
) -> bool {
    let depth = x.error_depth();
    let subject = x
        .current_cert()
        .map(|c| lcmaps_x509::name::oneline(c.subject_name()))
        .unwrap_or_default();
    let reject = |reason: &str| {
        if let Ok(mut w) = why.lock() {
            if w.is_none() {
                *w = Some(format!(
                    "server certificate rejected: {reason} (depth {depth}: {subject})"
                ));
            }
        }
        false
    };
    let ours = x.current_cert().and_then(|c| {
        let server = X509ExtendedKeyUsage::SSL_SERVER | X509ExtendedKeyUsage::SGC;
        match is_proxy(c) {
            Ok(true) => Some(PROXY_IN_CHAIN.to_owned()),
            Err(e) => Some(format!("cannot read the certificate: {e}")),
            Ok(false)
                if depth == 0
                    && c.extended_key_usage()
                        .is_some_and(|k| !k.intersects(server)) =>
            {
                Some("not a server certificate (extendedKeyUsage without serverAuth)".to_owned())
            }
            Ok(false) => None,
        }
    });
    if let Some(reason) = ours {
        x.set_error(X509VerifyResult::APPLICATION_VERIFICATION);
        return reject(&reason);
    }
    if ok {
        return true;
    }
    let e = x.error();
    match e.as_raw() {
        UNABLE_TO_GET_CRL if mode == CrlMode::Require => {
            reject("no CRL in the CA directory for its issuer (--crl-mode require)")
        }
        UNABLE_TO_GET_CRL => {
            if let Some(c) = x.current_cert() {
                let looked_for = capath.join(format!("{:08x}.r0", c.issuer_name_hash()));
                lcmaps_x509::crl::warn_missing_crl(
                    &looked_for,
                    &lcmaps_x509::name::oneline(c.issuer_name()),
                );
            }
            true
        }
        PROXY_CERTIFICATES_NOT_ALLOWED => reject(PROXY_IN_CHAIN),
        INVALID_PURPOSE => reject("not a server certificate (X.509 purpose sslserver)"),
        CERT_REVOKED => reject("certificate revoked by a CRL in the CA directory"),
        _ => reject(e.error_string()),
    }
}

/// One connection's TLS state: SNI `sni` (unless an address), the server
/// certificate must name `name` (DNS name, or IP address literal) and pass
/// [`verify_server`], which records why it did not in `why`.
fn ssl(
    ctx: &SslContext,
    sni: &str,
    name: &str,
    why: Rejection,
    t: &TlsSettings,
) -> Result<Ssl, String> {
    let setup = |e: openssl::error::ErrorStack| format!("TLS setup: {e}");
    let mut ssl = Ssl::new(ctx).map_err(setup)?;
    if sni.parse::<std::net::IpAddr>().is_err() {
        ssl.set_hostname(sni).map_err(setup)?;
    }
    let p = ssl.param_mut();
    p.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
    p.set_purpose(X509PurposeId::SSL_SERVER).map_err(setup)?;
    match name.parse::<std::net::IpAddr>() {
        Ok(ip) => p.set_ip(ip).map_err(setup)?,
        Err(_) => p.set_host(name).map_err(setup)?,
    }
    let (capath, mode) = (t.capath.clone(), t.crl_mode);
    ssl.set_verify_callback(SslVerifyMode::PEER, move |ok, x| {
        verify_server(ok, x, &why, &capath, mode)
    });
    Ok(ssl)
}

fn remaining(deadline: Instant, what: &str) -> Result<Duration, Failure> {
    let now = Instant::now();
    if now >= deadline {
        return Err(Failure::Transport(format!("timeout ({what})")));
    }
    Ok(deadline - now)
}

fn io_failure(what: &str, e: &std::io::Error) -> Failure {
    use std::io::ErrorKind::*;
    match e.kind() {
        WouldBlock | TimedOut => Failure::Transport(format!("timeout ({what})")),
        _ => Failure::Transport(format!("{what}: {e}")),
    }
}

/// POSTs `body` to `url` and returns the HTTP response body when the status
/// is 200. Non-200 answers are [`Failure::Answer`] carrying the status and
/// (for SOAP faults, sent with 500) the body, which the caller may parse.
pub fn post(url: &Url, body: &str, t: &TlsSettings) -> Result<Vec<u8>, (Failure, Option<Vec<u8>>)> {
    post_inner(url, body, t)
}

fn post_inner(
    url: &Url,
    body: &str,
    t: &TlsSettings,
) -> Result<Vec<u8>, (Failure, Option<Vec<u8>>)> {
    let start = Instant::now();
    let total = start + t.total_timeout;
    let connect_deadline = start + t.connect_timeout.min(t.total_timeout);
    let tx = |f: Failure| (f, None);
    let ctx = context(t).map_err(|m| tx(Failure::Transport(m)))?;

    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| tx(Failure::Transport(format!("resolving {}: {e}", url.host))))?
        .take(8)
        .collect();
    let mut last = Failure::Transport(format!("{} has no address", url.host));
    let mut tcp = None;
    for a in addrs {
        let left = remaining(connect_deadline, "connect").map_err(tx)?;
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = io_failure(&format!("connect to {a}"), &e),
        }
    }
    let tcp = tcp.ok_or_else(|| tx(last))?;
    let _ = tcp.set_nodelay(true);
    let set = |s: &TcpStream, deadline: Instant, what: &str| -> Result<(), Failure> {
        let left = remaining(deadline, what)?;
        s.set_read_timeout(Some(left))
            .and_then(|()| s.set_write_timeout(Some(left)))
            .map_err(|e| io_failure(what, &e))
    };
    set(&tcp, connect_deadline, "TLS handshake").map_err(tx)?;
    let name = t.expected_hostname.as_deref().unwrap_or(&url.host);
    let why = Rejection::default();
    let ssl = ssl(&ctx, &url.host, name, why.clone(), t).map_err(|m| tx(Failure::Transport(m)))?;
    let mut tls = ssl.connect(tcp).map_err(|e| {
        // Our callback's reason first: it says what was wrong.
        let rejected = why.lock().ok().and_then(|w| w.clone());
        let m = match &e {
            _ if rejected.is_some() => format!("TLS handshake: {}", rejected.unwrap_or_default()),
            openssl::ssl::HandshakeError::Failure(m) => {
                let v = m.ssl().verify_result();
                if v != X509VerifyResult::OK {
                    format!(
                        "TLS handshake: server certificate rejected: {}",
                        v.error_string()
                    )
                } else {
                    format!("TLS handshake: {}", m.error())
                }
            }
            openssl::ssl::HandshakeError::WouldBlock(_) => "timeout (TLS handshake)".to_owned(),
            other => format!("TLS handshake: {other}"),
        };
        tx(Failure::Transport(m))
    })?;

    let host_header = if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let req = format!(
        "POST {} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: text/xml; charset=utf-8\r\n\
         SOAPAction: \"\"\r\nUser-Agent: lcmaps-rs-xacml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        url.path,
        body.len()
    );
    set(tls.get_ref(), total, "sending").map_err(tx)?;
    tls.write_all(req.as_bytes())
        .and_then(|()| tls.write_all(body.as_bytes()))
        .and_then(|()| tls.flush())
        .map_err(|e| tx(io_failure("sending", &e)))?;

    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 16384];
    loop {
        set(tls.get_ref(), total, "reading the answer").map_err(tx)?;
        match tls.ssl_read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > MAX_RESPONSE {
                    return Err((
                        Failure::Answer(format!("answer larger than {MAX_RESPONSE} bytes")),
                        None,
                    ));
                }
                if complete(&buf) {
                    break;
                }
            }
            Err(e) if e.code() == openssl::ssl::ErrorCode::ZERO_RETURN => break,
            Err(e) => {
                let io = e.io_error().map(|i| io_failure("reading the answer", i));
                if buf.is_empty() {
                    return Err(tx(io.unwrap_or_else(|| {
                        Failure::Transport(format!("reading the answer: {e}"))
                    })));
                }
                // Unclean shutdown after data: use what came if it is whole.
                if let Some(Failure::Transport(m)) = io.filter(|_| !complete(&buf)) {
                    return Err((Failure::Answer(format!("truncated answer: {m}")), None));
                }
                break;
            }
        }
    }
    let _ = tls.shutdown();
    if buf.is_empty() {
        return Err(tx(Failure::Transport(
            "connection closed without an answer".into(),
        )));
    }
    let (status, body) = parse_response(&buf).map_err(|m| (Failure::Answer(m), None))?;
    if status != 200 {
        return Err((Failure::Answer(format!("HTTP status {status}")), Some(body)));
    }
    Ok(body)
}

fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Whether nothing more need be read: a whole message with
/// `Content-Length` is in `buf`, or its headers are bad (so we need not wait
/// for the server to close). Once it is true, [`parse_response`] gives the
/// same answer whatever follows in the stream.
pub fn complete(buf: &[u8]) -> bool {
    let Some(h) = header_end(buf) else {
        return false;
    };
    match headers(&buf[..h]) {
        Ok((_, Some(len), false)) => buf.len().saturating_sub(h) >= len,
        Ok(_) => false,
        Err(_) => true,
    }
}

/// A length in `radix` digits only (no sign, no space); `None` also when it
/// does not fit.
fn parse_len(s: &str, radix: u32) -> Option<usize> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let digits = s.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    // More than 19 digits does not fit (u64 in hex, or would not in decimal).
    if digits.len() > 19 {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
}

/// Status, Content-Length, chunked.
fn headers(head: &[u8]) -> Result<(u16, Option<usize>, bool), String> {
    let head = std::str::from_utf8(head).map_err(|_| "HTTP headers not text".to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (v, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !v.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP answer: {:?}", truncate(status_line)));
    }
    let code: u16 = code
        .parse()
        .map_err(|_| format!("bad HTTP status line {:?}", truncate(status_line)))?;
    let (mut len, mut chunked) = (None, false);
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                let digits = !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit());
                let n = match parse_len(v, 10) {
                    Some(n) if n <= MAX_RESPONSE => n,
                    None if !digits => return Err(format!("bad Content-Length {:?}", truncate(v))),
                    _ => {
                        return Err(format!(
                            "answer larger than {MAX_RESPONSE} bytes (Content-Length {})",
                            truncate(v)
                        ))
                    }
                };
                if len.is_some_and(|l| l != n) {
                    return Err("conflicting Content-Length".into());
                }
                len = Some(n);
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.eq_ignore_ascii_case("chunked");
                if !chunked {
                    return Err(format!("unsupported Transfer-Encoding {v}"));
                }
            }
        }
    }
    Ok((code, len, chunked))
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Splits an HTTP answer into status and (de-chunked) body.
pub fn parse_response(buf: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let h = header_end(buf).ok_or_else(|| {
        let first = String::from_utf8_lossy(&buf[..buf.len().min(60)]).into_owned();
        format!("not an HTTP answer: {first:?}")
    })?;
    let (status, len, chunked) = headers(&buf[..h])?;
    let rest = &buf[h..];
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = len {
        let Some(body) = rest.get(..n) else {
            return Err(format!("truncated answer ({} of {n} bytes)", rest.len()));
        };
        body.to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, body))
}

/// The body of a chunked answer. Every size is checked against what is
/// there and against [`MAX_RESPONSE`], with checked arithmetic: any size is
/// an error, never a panic.
fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let truncated = || "truncated chunked body".to_string();
    let mut out = Vec::new();
    loop {
        let i = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(truncated)?;
        let size = std::str::from_utf8(&b[..i]).map_err(|_| "bad chunk size")?;
        let size = size.split(';').next().unwrap_or("").trim();
        let n =
            parse_len(size, 16).ok_or_else(|| format!("bad chunk size {:?}", truncate(size)))?;
        b = &b[i + 2..];
        if n == 0 {
            return Ok(out);
        }
        if out.len().checked_add(n).map_or(true, |t| t > MAX_RESPONSE) {
            return Err(format!("chunked body larger than {MAX_RESPONSE} bytes"));
        }
        let end = n.checked_add(2).ok_or_else(truncated)?;
        match (b.get(..n), b.get(n..end)) {
            (Some(data), Some(b"\r\n")) => out.extend_from_slice(data),
            _ => return Err(truncated()),
        }
        b = &b[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        let (s, b) = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").unwrap();
        assert_eq!((s, b.as_slice()), (200, &b"abc"[..]));
        let (s, b) = parse_response(
            b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((s, b.as_slice()), (500, &b"abcde"[..]));
        assert!(parse_response(b"garbage").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc").is_err());
        assert!(complete(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"));
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab"));
    }

    fn chunked(body: &str) -> Vec<u8> {
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{body}").into_bytes()
    }

    fn with_length(len: &str) -> Vec<u8> {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\nabc").into_bytes()
    }

    #[test]
    fn overflowing_chunk_sizes_are_errors_not_panics() {
        for body in [
            // n + 2 overflows.
            "ffffffffffffffff\r\nabc\r\n0\r\n\r\n",
            "fffffffffffffffe\r\nabc\r\n0\r\n\r\n",
            "ffffffffffffffff\r\n",
            // Larger than usize.
            "10000000000000000\r\nabc\r\n0\r\n\r\n",
            "ffffffffffffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
            // Larger than what is there.
            "7fffffffffffffff\r\nabc\r\n0\r\n\r\n",
            "4\r\nabc\r\n0\r\n\r\n",
            // Not hex digits only.
            "+3\r\nabc\r\n0\r\n\r\n",
            "-0\r\n\r\n",
            "\r\nabc\r\n0\r\n\r\n",
        ] {
            let r = std::panic::catch_unwind(|| parse_response(&chunked(body)));
            assert!(
                matches!(r, Ok(Err(_))),
                "{body:?}: {r:?} (an error was expected)"
            );
        }
        // Chunks adding up to more than MAX_RESPONSE.
        let half = MAX_RESPONSE / 2 + 1;
        let mut b = chunked("");
        for _ in 0..2 {
            b.extend_from_slice(format!("{half:x}\r\n").as_bytes());
            b.extend(std::iter::repeat(b'a').take(half));
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"0\r\n\r\n");
        assert!(parse_response(&b).unwrap_err().contains("larger than"));
    }

    #[test]
    fn overflowing_content_lengths_are_errors_not_panics() {
        for len in [
            "18446744073709551615",
            "18446744073709551614",
            "18446744073709551616",
            "340282366920938463463374607431768211456",
            "99999999999999999999999999999999999999999999",
            "1048577",
            "+3",
            "-1",
            "",
        ] {
            let b = with_length(len);
            let r = std::panic::catch_unwind(|| parse_response(&b));
            assert!(
                matches!(r, Ok(Err(_))),
                "{len:?}: {r:?} (an error was expected)"
            );
            // Nothing more to wait for: the answer is bad whatever follows.
            assert!(complete(&b), "{len:?}");
        }
        assert!(parse_response(&with_length("3")).is_ok());
    }
}
