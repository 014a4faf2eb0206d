//! A minimal HTTPS GET client for issuer metadata and key sets: OpenSSL
//! TLS (1.2 or later, peer and host name verified), one `HTTP/1.0`
//! request per connection (so the server neither chunks nor keeps the
//! connection open), no redirects, a hard deadline on every socket
//! operation and a bounded answer.
//!
//! Not a general HTTP client on purpose: it reads one small JSON document
//! from a server the administrator named.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use openssl::ssl::{Ssl, SslContext, SslMethod, SslOptions, SslVerifyMode, SslVersion};
use openssl::x509::verify::X509CheckFlags;

/// Deadline for TCP connect and TLS handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Deadline for a whole refresh (with discovery: both requests).
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// Largest status line and headers accepted.
const MAX_HEAD: usize = 16 << 10;

pub use lcmaps_plugin_common::https_url::Url;

/// Which certificate authorities vouch for the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// A PEM file of CA certificates (`ca_file`).
    pub ca_file: Option<PathBuf>,
    /// A hashed CA directory (`capath`, e.g. `/etc/grid-security/certificates`).
    pub capath: Option<PathBuf>,
}

/// A client: the TLS context, built once.
#[derive(Clone)]
pub struct Client {
    ctx: SslContext,
    trust: Trust,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("trust", &self.trust)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client trusting `trust` only, or the system's default CAs when
    /// `trust` names nothing.
    pub fn new(trust: &Trust) -> Result<Client, String> {
        let setup = |e: openssl::error::ErrorStack| format!("TLS setup: {e}");
        let mut b = SslContext::builder(SslMethod::tls_client()).map_err(setup)?;
        b.set_min_proto_version(Some(SslVersion::TLS1_2))
            .map_err(setup)?;
        b.set_options(SslOptions::NO_COMPRESSION | SslOptions::NO_RENEGOTIATION);
        if trust.ca_file.is_none() && trust.capath.is_none() {
            b.set_default_verify_paths().map_err(setup)?;
        } else {
            if let Some(f) = &trust.ca_file {
                std::fs::metadata(f).map_err(|e| format!("ca_file {}: {e}", f.display()))?;
                lcmaps_core::trust::check(f).map_err(|e| format!("ca_file: {e}"))?;
                b.set_ca_file(f)
                    .map_err(|e| format!("ca_file {}: {e}", f.display()))?;
            }
            if let Some(d) = &trust.capath {
                if !std::fs::metadata(d).is_ok_and(|m| m.is_dir()) {
                    return Err(format!("capath {}: not a directory", d.display()));
                }
                lcmaps_core::trust::check_dir_entries(d).map_err(|e| format!("capath: {e}"))?;
                b.load_verify_locations(None, Some(d))
                    .map_err(|e| format!("capath {}: {e}", d.display()))?;
            }
        }
        b.set_verify(SslVerifyMode::PEER);
        Ok(Client {
            ctx: b.build(),
            trust: trust.clone(),
        })
    }

    /// GET `url` before `deadline` (connect and handshake also within
    /// [`CONNECT_TIMEOUT`]); the body of a 200 answer of at most
    /// [`MAX_BODY`] bytes.
    pub fn get(&self, url: &Url, deadline: Instant) -> Result<Vec<u8>, String> {
        let connect_deadline = deadline.min(Instant::now() + CONNECT_TIMEOUT);
        let addrs: Vec<_> = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|e| format!("resolving {}: {e}", url.host))?
            .take(8)
            .collect();
        let mut last = format!("{} has no address", url.host);
        let mut tcp = None;
        for a in addrs {
            let left = remaining(connect_deadline, "connect")?;
            match TcpStream::connect_timeout(&a, left) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = io_error(&format!("connect to {a}"), &e),
            }
        }
        let tcp = tcp.ok_or(last)?;
        set_deadline(&tcp, connect_deadline, "TLS handshake")?;

        let setup = |e: openssl::error::ErrorStack| format!("TLS setup: {e}");
        let mut ssl = Ssl::new(&self.ctx).map_err(setup)?;
        let ip = url.host.parse::<IpAddr>().ok();
        if ip.is_none() {
            ssl.set_hostname(&url.host).map_err(setup)?;
        }
        let p = ssl.param_mut();
        p.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
        match ip {
            Some(ip) => p.set_ip(ip).map_err(setup)?,
            None => p.set_host(&url.host).map_err(setup)?,
        }
        let mut tls = ssl.connect(tcp).map_err(|e| match &e {
            openssl::ssl::HandshakeError::Failure(m)
                if m.ssl().verify_result() != openssl::x509::X509VerifyResult::OK =>
            {
                format!(
                    "TLS handshake: server certificate rejected: {}",
                    m.ssl().verify_result().error_string()
                )
            }
            openssl::ssl::HandshakeError::Failure(m) => format!("TLS handshake: {}", m.error()),
            openssl::ssl::HandshakeError::WouldBlock(_) => "timeout (TLS handshake)".into(),
            other => format!("TLS handshake: {other}"),
        })?;

        let host = match ip {
            Some(IpAddr::V6(_)) => format!("[{}]:{}", url.host, url.port),
            _ => format!("{}:{}", url.host, url.port),
        };
        let req = format!(
            "GET {} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n\
             User-Agent: lcmaps-rs-scitokens\r\n\r\n",
            url.path
        );
        set_deadline(tls.get_ref(), deadline, "sending")?;
        tls.write_all(req.as_bytes())
            .and_then(|()| tls.flush())
            .map_err(|e| io_error("sending", &e))?;

        let mut got = false;
        let read = read_until_done(|chunk| {
            set_deadline(tls.get_ref(), deadline, "reading the answer")?;
            match tls.read(chunk) {
                Ok(n) => {
                    got |= n > 0;
                    Ok(n)
                }
                // Servers that close without close_notify: the length
                // checks catch a truncated body.
                Err(e) if got && e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
                Err(e) => Err(io_error("reading the answer", &e)),
            }
        });
        let (buf, head) = read?;
        let _ = tls.shutdown();
        body_of(buf, head)
    }
}

/// What [`read_until_done`] read: the bytes, and where the body starts and
/// its Content-Length once the headers were seen.
type Answer = (Vec<u8>, Option<(usize, Option<usize>)>);

/// Read an answer with `read` (which fills a buffer as [`std::io::Read`]
/// does, `Ok(0)` at the end, a message on error) until its end: the end of
/// the stream, or the whole body given by Content-Length. Headers are
/// checked as soon as they are there.
fn read_until_done(
    mut read: impl FnMut(&mut [u8]) -> Result<usize, String>,
) -> Result<Answer, String> {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 16384];
    let mut head: Option<(usize, Option<usize>)> = None;
    loop {
        let n = read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        // The limits are on the headers (with the blank line after them) and
        // on the body, whatever else came in the same read: the answer does
        // not depend on how the bytes arrive.
        if head.is_none() {
            match buf.windows(4).position(|w| w == b"\r\n\r\n") {
                Some(end) if end + 4 <= MAX_HEAD => {
                    head = Some((end + 4, parse_head(&buf[..end])?));
                }
                None if buf.len() < MAX_HEAD => {}
                _ => return Err(format!("answer headers larger than {MAX_HEAD} bytes")),
            }
        }
        if let Some((start, len)) = head {
            let body = buf.len() - start;
            // Content-Length is at most MAX_BODY (parse_head).
            if len.is_some_and(|l| body >= l) {
                break;
            }
            if body > MAX_BODY {
                return Err(format!("answer larger than {MAX_BODY} bytes"));
            }
        }
    }
    Ok((buf, head))
}

/// The body of what [`read_until_done`] read.
fn body_of(mut buf: Vec<u8>, head: Option<(usize, Option<usize>)>) -> Result<Vec<u8>, String> {
    let Some((start, len)) = head else {
        return Err(if buf.is_empty() {
            "connection closed without an answer".into()
        } else {
            "not an HTTP answer".into()
        });
    };
    let mut body = buf.split_off(start);
    if let Some(l) = len {
        if body.len() < l {
            return Err(format!("truncated answer ({} of {l} bytes)", body.len()));
        }
        body.truncate(l);
    }
    Ok(body)
}

/// The body of the answer `read` returns, read and checked as
/// [`Client::get`] reads one from the server (`read` fills a buffer as
/// [`std::io::Read`] does, `Ok(0)` at the end, a message on error): a 200
/// answer, no Transfer-Encoding, at most [`MAX_BODY`] bytes, all the bytes
/// its Content-Length announces (what follows is ignored) or everything up
/// to the end. For tests and fuzzing (`fuzz/fuzz_targets/read_https_answer.rs`).
pub fn read_answer(
    read: impl FnMut(&mut [u8]) -> Result<usize, String>,
) -> Result<Vec<u8>, String> {
    let (buf, head) = read_until_done(read)?;
    body_of(buf, head)
}

/// Check status line and headers: 200 only, no transfer encoding; the
/// Content-Length if any.
fn parse_head(head: &[u8]) -> Result<Option<usize>, String> {
    let head = std::str::from_utf8(head).map_err(|_| "HTTP headers are not text".to_string())?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let short: String = status.chars().take(60).collect();
    let mut parts = status.splitn(3, ' ');
    let (v, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !v.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP answer: {short:?}"));
    }
    let code: u16 = code
        .parse()
        .map_err(|_| format!("bad HTTP status line {short:?}"))?;
    if (300..400).contains(&code) {
        return Err(format!("HTTP status {code} (redirects are not followed)"));
    }
    if code != 200 {
        return Err(format!("HTTP status {code}"));
    }
    let mut len = None;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("content-length") {
            let n: usize = v.parse().map_err(|_| "bad Content-Length".to_string())?;
            if n > MAX_BODY {
                return Err(format!("answer larger than {MAX_BODY} bytes"));
            }
            if len.is_some_and(|l| l != n) {
                return Err("conflicting Content-Length".into());
            }
            len = Some(n);
        } else if k.eq_ignore_ascii_case("transfer-encoding") {
            return Err(format!(
                "unexpected Transfer-Encoding {v} in an HTTP/1.0 answer"
            ));
        }
    }
    Ok(len)
}

fn remaining(deadline: Instant, what: &str) -> Result<Duration, String> {
    let now = Instant::now();
    if now >= deadline {
        return Err(format!("timeout ({what})"));
    }
    Ok(deadline - now)
}

fn set_deadline(s: &TcpStream, deadline: Instant, what: &str) -> Result<(), String> {
    let left = remaining(deadline, what)?;
    s.set_read_timeout(Some(left))
        .and_then(|()| s.set_write_timeout(Some(left)))
        .map_err(|e| io_error(what, &e))
}

fn io_error(what: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind::{TimedOut, WouldBlock};
    match e.kind() {
        WouldBlock | TimedOut => format!("timeout ({what})"),
        _ => format!("{what}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 3"),
            Ok(Some(3))
        );
        assert_eq!(parse_head(b"HTTP/1.0 200 OK\r\nX: y"), Ok(None));
        assert_eq!(
            parse_head(b"HTTP/1.1 302 Found\r\nLocation: https://x/"),
            Err("HTTP status 302 (redirects are not followed)".into())
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 404 Not Found"),
            Err("HTTP status 404".into())
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 9999999").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2").is_err());
        assert!(parse_head(b"SSH-2.0-OpenSSH").is_err());
    }

    /// [`read_answer`] over `stream` in reads of `step` bytes (at most the
    /// reader's buffer).
    fn read_in(stream: &[u8], step: usize) -> Result<Vec<u8>, String> {
        let mut at = 0;
        read_answer(|buf| {
            let n = step.min(buf.len()).min(stream.len() - at);
            buf[..n].copy_from_slice(&stream[at..at + n]);
            at += n;
            Ok(n)
        })
    }

    #[test]
    fn the_answer_does_not_depend_on_how_the_bytes_arrive() {
        // Headers longer than MAX_HEAD are refused, also when they come in
        // one read with their end.
        let mut long = b"HTTP/1.0 200 OK\r\nX: ".to_vec();
        long.resize(MAX_HEAD + 100, b'x');
        long.extend_from_slice(b"\r\n\r\n{}");
        for step in [1, 4096, 16384] {
            assert_eq!(
                read_in(&long, step),
                Err(format!("answer headers larger than {MAX_HEAD} bytes")),
                "reads of {step}"
            );
        }
        // A body of exactly Content-Length = MAX_BODY is read whole, also
        // when bytes after it arrive in the same read.
        let mut full =
            format!("HTTP/1.0 200 OK\r\nContent-Length: {MAX_BODY}\r\n\r\n").into_bytes();
        let start = full.len();
        full.resize(start + MAX_BODY, b'a');
        full.extend_from_slice(b"trailing garbage");
        for step in [1000, 16384] {
            let body = read_in(&full, step).unwrap_or_else(|e| panic!("reads of {step}: {e}"));
            assert_eq!(body.len(), MAX_BODY);
        }
    }
}
