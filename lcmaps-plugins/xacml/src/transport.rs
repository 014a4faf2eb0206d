//! A minimal HTTP/1.1 POST over an OpenSSL TLS stream with mutual
//! authentication, written by hand: one request per connection
//! (`Connection: close`), hard connect and total deadlines enforced on every
//! socket operation, a bounded response size, `Content-Length`, chunked or
//! read-to-EOF bodies.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use openssl::ssl::{
    Ssl, SslContext, SslFiletype, SslMethod, SslOptions, SslVerifyMode, SslVersion,
};
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::verify::X509VerifyFlags;

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
    // A host proxy may be our client certificate.
    b.cert_store_mut()
        .set_flags(X509VerifyFlags::ALLOW_PROXY_CERTS)
        .map_err(setup)?;
    Ok(b.build())
}

/// One connection's TLS state: SNI `sni` (unless an address), and the
/// server certificate must name `name` (DNS name, or IP address literal).
fn ssl(ctx: &SslContext, sni: &str, name: &str) -> Result<Ssl, String> {
    let setup = |e: openssl::error::ErrorStack| format!("TLS setup: {e}");
    let mut ssl = Ssl::new(ctx).map_err(setup)?;
    if sni.parse::<std::net::IpAddr>().is_err() {
        ssl.set_hostname(sni).map_err(setup)?;
    }
    let p = ssl.param_mut();
    p.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
    match name.parse::<std::net::IpAddr>() {
        Ok(ip) => p.set_ip(ip).map_err(setup)?,
        Err(_) => p.set_host(name).map_err(setup)?,
    }
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
    let ssl = ssl(&ctx, &url.host, name).map_err(|m| tx(Failure::Transport(m)))?;
    let mut tls = ssl.connect(tcp).map_err(|e| {
        let m = match &e {
            openssl::ssl::HandshakeError::Failure(m) => {
                let v = m.ssl().verify_result();
                if v != openssl::x509::X509VerifyResult::OK {
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

/// Whether a whole message with `Content-Length` is in `buf` (so we need not
/// wait for the server to close).
fn complete(buf: &[u8]) -> bool {
    let Some(h) = header_end(buf) else {
        return false;
    };
    match headers(&buf[..h]) {
        Ok((_, Some(len), false)) => buf.len() - h >= len,
        _ => false,
    }
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
                let n: usize = v.parse().map_err(|_| "bad Content-Length".to_string())?;
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
        if rest.len() < n {
            return Err(format!("truncated answer ({} of {n} bytes)", rest.len()));
        }
        rest[..n].to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let i = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunked body")?;
        let size = std::str::from_utf8(&b[..i]).map_err(|_| "bad chunk size")?;
        let size = size.split(';').next().unwrap_or("").trim();
        let n = usize::from_str_radix(size, 16).map_err(|_| "bad chunk size")?;
        b = &b[i + 2..];
        if n == 0 {
            return Ok(out);
        }
        if b.len() < n + 2 || &b[n..n + 2] != b"\r\n" {
            return Err("truncated chunked body".into());
        }
        out.extend_from_slice(&b[..n]);
        b = &b[n + 2..];
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
}
