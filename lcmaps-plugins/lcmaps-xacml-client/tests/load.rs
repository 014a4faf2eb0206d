//! Load: 64 mapping processes against one test PDP for 30 seconds, over
//! loopback. Every process maps its own DN again and again and checks the
//! account it gets back (half of them by uidgid + secondary-gids
//! obligations, half by a username obligation resolved locally); a wrong or
//! missing answer fails the test. Prints mappings/s and the callout latency
//! percentiles (printed, not asserted: machines differ).
//!
//! `XACML_LOAD_SECONDS` (1-300, default 30) and `XACML_LOAD_PROCESSES`
//! (1-256, default 64) change the size; `scripts/bench-callout` runs it in
//! release. The mapping processes are this test binary started again with
//! `XACML_LOAD_WORKER` set; they stop on their own at the end of the run,
//! and the test kills any that are left however it ends. The PDP runs on
//! threads of the test process and stops with it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_plugin_common::accounts::StaticAccounts;
use lcmaps_x509::fixtures::{self, Spec};
use lcmaps_xacml_client::{Flavour, XacmlClient};
use lcmaps_xacml_pdp::{parse_map, Behaviour, Config, Server};
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::X509Builder;

const NAME: &str = "sixty_four_mapping_processes_against_one_pdp";

fn env_num(name: &str, default: u64, max: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn dn(i: u64) -> String {
    format!("/DC=org/DC=example/CN=Load User {i}")
}

/// What process `i` must get: uid, primary gid, secondary gids.
fn expected(i: u64) -> (u32, u32, Vec<u32>) {
    let i = i as u32;
    (10_000 + i, 20_000 + i, vec![9000, 30_000 + i])
}

fn main() {
    if let Ok(i) = std::env::var("XACML_LOAD_WORKER") {
        std::process::exit(worker(i.parse().expect("XACML_LOAD_WORKER")));
    }
    // Enough of libtest's command line for `cargo test` and its filters.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return;
    }
    let filters: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') && a.parse::<u64>().is_err())
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| NAME.contains(f.as_str())) {
        println!("running 0 tests (1 filtered out)");
        return;
    }
    println!("running 1 test");
    load();
    println!("test {NAME} ... ok");
}

/// Kills and reaps the mapping processes still running, however the test
/// ends.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            if let Ok(None) = c.try_wait() {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

fn load() {
    let secs = env_num("XACML_LOAD_SECONDS", 30, 300);
    let procs = env_num("XACML_LOAD_PROCESSES", 64, 256);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // A CA, the WN's host credential, the PDP's certificate.
    let ca = fixtures::ca("Load CA");
    let capath = d.join("certificates");
    std::fs::create_dir(&capath).unwrap();
    fixtures::install_ca(&capath, &ca, &[]);
    let (c, k) = fixtures::user(&ca, "host/wn.example.org", 5);
    std::fs::write(d.join("hostcert.pem"), c.to_pem().unwrap()).unwrap();
    std::fs::write(d.join("hostkey.pem"), k.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let sk = fixtures::key();
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .build(&X509Builder::new().unwrap().x509v3_context(None, None))
        .unwrap();
    let sc = fixtures::build(Spec {
        subject: fixtures::name(&[("DC", "org"), ("DC", "example"), ("CN", "localhost")]),
        issuer: Some(&ca.cert),
        issuer_key: &ca.key,
        key: &sk,
        serial: 77,
        not_before: fixtures::now() - 3600,
        not_after: fixtures::now() + 86400,
        exts: vec![san],
    });

    // Even processes are mapped by uidgid + secondary-gids, odd ones by
    // username.
    let mut map = String::new();
    for i in 0..procs {
        let (u, g, s) = expected(i);
        if i % 2 == 0 {
            map.push_str(&format!("\"{}\" {u} {g} {},{}\n", dn(i), s[0], s[1]));
        } else {
            map.push_str(&format!("\"{}\" - - load{i}\n", dn(i)));
        }
    }
    let server = Server::start(Config {
        cert: sc,
        chain: Vec::new(),
        key: sk,
        client_cas: vec![ca.cert.clone()],
        map: parse_map(&map).unwrap(),
        behaviour: Behaviour::default(),
        port: 0,
    })
    .unwrap();
    let url = server.url(Some("localhost"));

    // Everyone starts together, after their set-up.
    let start = now_ms() + 3000;
    let mut workers = Workers(Vec::new());
    for i in 0..procs {
        let child = Command::new(std::env::current_exe().unwrap())
            .env("XACML_LOAD_WORKER", i.to_string())
            .env("XACML_LOAD_DIR", d)
            .env("XACML_LOAD_URL", &url)
            .env("XACML_LOAD_START_MS", start.to_string())
            .env("XACML_LOAD_SECONDS", secs.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        workers.0.push(child);
    }
    // Bounded wait: the run, set-up, and a generous margin.
    let deadline = Instant::now() + Duration::from_secs(secs + 120);
    let mut failed = Vec::new();
    for (i, c) in workers.0.iter_mut().enumerate() {
        let status = loop {
            if let Some(s) = c.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "mapping process {i} still running after {} s",
                secs + 120
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        if !status.success() {
            failed.push((i, status));
        }
    }
    assert!(failed.is_empty(), "mapping processes failed: {failed:?}");

    let mut lat: Vec<u64> = Vec::new();
    let mut total = 0u64;
    for i in 0..procs {
        let text = std::fs::read_to_string(d.join(format!("w{i}.txt"))).unwrap();
        let mut lines = text.lines();
        let n: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("ok "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("process {i}: {text}"));
        assert!(n > 0, "process {i} mapped nothing");
        let l: Vec<u64> = lines
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(l.len() as u64, n, "process {i}");
        total += n;
        lat.extend(l);
    }
    // None lost: every query the PDP read was answered and checked.
    assert_eq!(server.requests() as u64, total);
    lat.sort_unstable();
    let pct = |p: usize| Duration::from_micros(lat[(lat.len() * p / 100).min(lat.len() - 1)]);
    println!(
        "xacml load: {procs} processes x {secs} s against one PDP: {total} mappings, all correct, \
         {:.0} mappings/s; callout latency p50 {:.2?} p90 {:.2?} p99 {:.2?} max {:.2?}",
        total as f64 / secs as f64,
        pct(50),
        pct(90),
        pct(99),
        Duration::from_micros(*lat.last().unwrap()),
    );
}

/// Logs a worker's warnings and errors to stderr.
struct Stderr(u64);

impl log::Log for Stderr {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!("load worker {}: {} {}", self.0, r.level(), r.args());
        }
    }
    fn flush(&self) {}
}

/// One mapping process: maps its DN until the end of the run; writes
/// `ok <count>` and the latencies (µs) to `<dir>/w<i>.txt`. Returns the
/// exit code.
fn worker(i: u64) -> i32 {
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n} not set"));
    let dir = PathBuf::from(var("XACML_LOAD_DIR"));
    let start: u64 = var("XACML_LOAD_START_MS").parse().unwrap();
    let secs: u64 = var("XACML_LOAD_SECONDS").parse().unwrap();
    let _ = log::set_boxed_logger(Box::new(Stderr(i)));
    log::set_max_level(log::LevelFilter::Warn);

    let (uid, gid, sgids) = expected(i);
    let name = format!("load{i}");
    let mut p = XacmlClient::with_accounts(
        Flavour::Gums,
        Arc::new(StaticAccounts::new(&[(&name, uid, gid, &sgids)])),
    );
    p.set_host_name("wn.example.org");
    let path = |f: &str| dir.join(f).display().to_string();
    let argv: Vec<String> = [
        "lcmaps_gums_client.mod",
        "--endpoint",
        &var("XACML_LOAD_URL"),
        "--capath",
        &path("certificates"),
        "--cert",
        &path("hostcert.pem"),
        "--key",
        &path("hostkey.pem"),
        "--connect-timeout",
        "10",
        "--timeout",
        "20",
    ]
    .map(String::from)
    .to_vec();
    if let Err(e) = p.initialize(&argv) {
        eprintln!("load worker {i}: {e}");
        return 1;
    }
    let req = Request {
        user_dn: Some(dn(i)),
        ..Request::default()
    };
    let wait = start.saturating_sub(now_ms());
    std::thread::sleep(Duration::from_millis(wait));
    let end = Instant::now() + Duration::from_secs(secs);
    let mut lat = Vec::new();
    while Instant::now() < end {
        let mut store = Store::new();
        let t = Instant::now();
        let s = p.run(&mut RunContext {
            request: &req,
            store: &mut store,
        });
        lat.push(t.elapsed().as_micros() as u64);
        let mut sec = store.sec_gids.clone();
        sec.retain(|g| *g != gid);
        sec.sort_unstable();
        if s != Status::Success || store.uids != [uid] || store.pri_gids != [gid] || sec != sgids {
            eprintln!(
                "load worker {i}: callout {} for {}: {s:?} uids {:?} gids {:?} sgids {:?}, want {uid} {gid} {sgids:?}",
                lat.len(),
                dn(i),
                store.uids,
                store.pri_gids,
                store.sec_gids
            );
            return 1;
        }
    }
    let text: Vec<String> = lat.iter().map(u64::to_string).collect();
    let out = format!("ok {}\n{}\n", lat.len(), text.join(" "));
    if let Err(e) = std::fs::write(dir.join(format!("w{i}.txt")), out) {
        eprintln!("load worker {i}: {e}");
        return 1;
    }
    0
}
