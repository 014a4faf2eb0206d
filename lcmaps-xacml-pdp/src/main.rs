//! `xacml-pdp`: a SAML2-XACML2 PDP for tests and demos, on 127.0.0.1 only.
//!
//! ```text
//! xacml-pdp --cert server.pem --key server.key --client-ca ca.pem --map map.txt
//!           [--port N] [--max-seconds N] [--slow SECS] [--drop] [--reset] [--garbage]
//!           [--fault] [--decision Permit|Deny|NotApplicable|Indeterminate]
//!           [--wrong-in-response-to] [--extra-obligation URN] [--huge BYTES]
//! ```
//!
//! `--cert` holds the server certificate, optionally followed by its chain.
//! Prints `listening on 127.0.0.1:PORT` and serves until killed, until its
//! standard input closes, or after `--max-seconds` (default 3600).

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lcmaps_xacml_pdp::{parse_map, Behaviour, Config, Server};
use openssl::pkey::PKey;
use openssl::x509::X509;

fn main() {
    if let Err(e) = run() {
        eprintln!("xacml-pdp: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut cert, mut key, mut cas, mut map) = (None, None, None, None);
    let mut port = 0u16;
    let mut max = Duration::from_secs(3600);
    let mut b = Behaviour::default();
    let mut i = 0;
    while i < args.len() {
        let opt = args[i].clone();
        let v = args.get(i + 1).cloned();
        let mut used = false;
        let mut value = || {
            used = true;
            v.clone().ok_or_else(|| format!("{opt} needs a value"))
        };
        let secs = |v: String| -> Result<Duration, String> {
            v.parse::<f64>()
                .ok()
                .filter(|s| *s >= 0.0 && *s <= 86_400.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("bad seconds {v:?}"))
        };
        match opt.as_str() {
            "--cert" => cert = Some(value()?),
            "--key" => key = Some(value()?),
            "--client-ca" => cas = Some(value()?),
            "--map" => map = Some(value()?),
            "--port" => port = value()?.parse().map_err(|_| "bad --port")?,
            "--max-seconds" => max = secs(value()?)?,
            "--slow" => b.slow = Some(secs(value()?)?),
            "--drop" => b.drop = true,
            "--reset" => b.reset = true,
            "--garbage" => b.garbage = true,
            "--fault" => b.fault = true,
            "--decision" => b.decision = Some(value()?),
            "--wrong-in-response-to" => b.wrong_in_response_to = true,
            "--extra-obligation" => b.extra_obligation = Some(value()?),
            "--huge" => b.huge = Some(value()?.parse().map_err(|_| "bad --huge")?),
            o => return Err(format!("unknown option {o}")),
        }
        i += if used { 2 } else { 1 };
    }
    let read = |what: &str, p: &Option<String>| -> Result<Vec<u8>, String> {
        let p = p.as_ref().ok_or_else(|| format!("--{what} is required"))?;
        std::fs::read(p).map_err(|e| format!("{p}: {e}"))
    };
    // The server certificate, then any chain certificates in the same file.
    let mut chain =
        X509::stack_from_pem(&read("cert", &cert)?).map_err(|e| format!("--cert: {e}"))?;
    if chain.is_empty() {
        return Err("--cert: no certificate".into());
    }
    let cert = chain.remove(0);
    let key = PKey::private_key_from_pem(&read("key", &key)?).map_err(|e| format!("--key: {e}"))?;
    let client_cas =
        X509::stack_from_pem(&read("client-ca", &cas)?).map_err(|e| format!("--client-ca: {e}"))?;
    let map_text = String::from_utf8(read("map", &map)?).map_err(|_| "--map: not UTF-8")?;
    let map = parse_map(&map_text).map_err(|e| format!("--map: {e}"))?;
    let mut server = Server::start(Config {
        cert,
        chain,
        key,
        client_cas,
        map,
        behaviour: b,
        port,
    })?;
    println!("listening on {}", server.addr());
    let _ = std::io::stdout().flush();
    // Stop when stdin closes (the parent went away) or after max-seconds.
    let closed = Arc::new(AtomicBool::new(false));
    let c = closed.clone();
    std::thread::spawn(move || {
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        c.store(true, Ordering::SeqCst);
    });
    let end = Instant::now() + max;
    while Instant::now() < end && !closed.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    server.stop();
    Ok(())
}
