//! Attack: make the Rust code behind the C ABI panic and read the host's
//! stderr (security issue #14, item 8). std's default panic hook prints
//! `thread '…' panicked at …` on stderr, and a full backtrace when the
//! host's environment has `RUST_BACKTRACE=full`, even though the panic is
//! caught at the boundary: the gatekeeper's stderr is not LCMAPS's to write
//! (it may go to the client, or into a service's logs unfiltered). The
//! panic belongs in the LCMAPS log, as one error line with its message and
//! location, and the entry point returns its error code.
//!
//! The triggers are real inputs, no test hooks in the library:
//!
//! * liblcmaps_rs.so: a C host that maps from a pthread key destructor, as
//!   a thread exits. glibc destroys the thread's Rust thread-locals before
//!   it runs those destructors, and the C-module host's thread-local
//!   bookkeeping then panics ("cannot access a Thread Local Storage value
//!   during or after destruction"). If that ever stops panicking, this test
//!   says so ("exit rc=0"): find another real trigger;
//! * a `.mod` built with the plugin SDK: the SDK's example
//!   `panicking_plugin` (a plugin whose run panics), built here as a `.mod`
//!   and loaded by our library and by Debian's.
//!
//! Under `CI=true` a missing gcc or Debian LCMAPS fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use ffi_tests::*;

/// The C host (c/panic_host.c) built against `include` and linked with
/// `-llcmaps` from `libdir` (the system's when `None`).
fn panic_host(dir: &Path, name: &str, include: &str, libdir: Option<&Path>) -> PathBuf {
    build_program(
        dir,
        &c_source("panic_host.c"),
        name,
        &[format!("-I{include}")],
        libdir,
        &["-llcmaps", "-lpthread"],
    )
}

/// Run the host with `RUST_BACKTRACE=full`, logging to `log`; returns the
/// result and the log's text.
fn run_host(
    host: &Path,
    args: &[&str],
    db: &Path,
    log: &Path,
    libdir: Option<&Path>,
) -> (Ran, String) {
    let _ = std::fs::remove_file(log);
    let mut c = Command::new(host);
    c.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LCMAPS_DB_FILE", db)
        .env("LCMAPS_LOG_FILE", log)
        .env("LCMAPS_DEBUG_LEVEL", "5")
        .env("RUST_BACKTRACE", "full")
        .env("RUST_LIB_BACKTRACE", "1");
    if let Some(l) = libdir {
        c.env("LD_LIBRARY_PATH", l);
    }
    let r = run(&mut c);
    let text = std::fs::read_to_string(log).unwrap_or_default();
    (r, text)
}

/// The one log line with `needle`; fails showing the whole log otherwise.
fn one_line<'a>(log: &'a str, needle: &str) -> &'a str {
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one log line with {needle:?}; the log:\n{log}"
    );
    lines[0]
}

/// Whether `line` has a `file.rs:LINE:COL` location.
fn has_location(line: &str) -> bool {
    line.split(' ').any(|w| {
        let mut parts = w.trim_end_matches(':').rsplitn(3, ':');
        let (col, ln, file) = (parts.next(), parts.next(), parts.next());
        file.is_some_and(|f| f.ends_with(".rs"))
            && ln.is_some_and(|n| n.parse::<u32>().is_ok())
            && col.is_some_and(|n| n.parse::<u32>().is_ok())
    })
}

#[test]
fn a_panic_in_the_library_writes_nothing_to_the_hosts_stderr() {
    const TEST: &str = "a_panic_in_the_library_writes_nothing_to_the_hosts_stderr";
    if !have_gcc() {
        skip(TEST, "gcc is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    // A C module in the policy: the run goes through the C-module host.
    let c_mod = build_plugin(tmp.path(), "plugin_bad.c", "plugin_c.mod", &[]);
    let db = tmp.path().join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "c = \"{}\"\nstandard:\nc -> lcmaps_dummy_good.mod\n",
            c_mod.display()
        ),
    )
    .unwrap();
    let host = panic_host(
        tmp.path(),
        "panic_host",
        &include_dir().display().to_string(),
        Some(&clib),
    );
    let log = tmp.path().join("lcmaps.log");
    let (r, log) = run_host(&host, &["thread-exit", "/CN=Jane"], &db, &log, Some(&clib));
    let all = format!("stdout:\n{}stderr:\n{}log:\n{log}", r.stdout, r.stderr);
    assert_eq!(r.code, 0, "{all}");
    assert!(r.stdout.contains("thread rc=0\n"), "maps normally: {all}");
    assert!(
        r.stdout.contains("exit rc=1\n"),
        "the panic became the entry point's error code (exit rc=0: the trigger no longer \
         panics, find another): {all}"
    );
    assert_eq!(r.stderr, "", "nothing on the host's stderr: {all}");
    let line = one_line(&log, "panicked at");
    assert!(line.contains("LOG_ERR"), "{line}");
    assert!(
        line.contains("lcmaps_run_with_fqans_mapcounter_and_return_account(): internal error"),
        "names the entry point: {line}"
    );
    assert!(
        line.to_lowercase().contains("thread local storage"),
        "the panic's message: {line}"
    );
    assert!(has_location(line), "the panic's location: {line}");
    assert!(!log.contains("stack backtrace"), "{log}");
}

/// Build the SDK's example `panicking_plugin` as a `.mod` (its own target
/// dir: the cargo running this test holds the workspace's).
fn panicking_mod(dir: &Path) -> PathBuf {
    let ws = workspace();
    let target = ws
        .join(std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()))
        .join("ffi-tests-mods");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&ws)
        .args([
            "build",
            "--quiet",
            "-p",
            "lcmaps-plugin-sdk",
            "--example",
            "panicking_plugin",
            "--target-dir",
        ])
        .arg(&target)
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the panicking plugin failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = dir.join("lcmaps_panicking.mod");
    std::fs::copy(target.join("debug/examples/libpanicking_plugin.so"), &m).expect("copy .mod");
    m
}

#[test]
fn a_panic_in_a_rust_plugin_writes_nothing_to_the_hosts_stderr() {
    const TEST: &str = "a_panic_in_a_rust_plugin_writes_nothing_to_the_hosts_stderr";
    if !have_gcc() {
        skip(TEST, "gcc is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let rust_mod = panicking_mod(tmp.path());
    let c_mod = build_plugin(tmp.path(), "plugin_bad.c", "plugin_c.mod", &[]);
    let db = tmp.path().join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "p = \"{}\"\nc = \"{}\"\nstandard:\np -> c\n",
            rust_mod.display(),
            c_mod.display()
        ),
    )
    .unwrap();
    let mut hosts = vec![(
        "lcmaps-rs",
        panic_host(
            tmp.path(),
            "panic_host",
            &include_dir().display().to_string(),
            Some(&clib),
        ),
        Some(clib.as_path()),
    )];
    if have_debian_lcmaps() {
        hosts.push((
            "Debian's liblcmaps",
            panic_host(tmp.path(), "panic_host_debian", DEBIAN_INCLUDE, None),
            None,
        ));
    } else {
        skip(
            &format!("{TEST} (Debian's LCMAPS as the host)"),
            "liblcmaps0 / liblcmaps-dev are not installed",
        );
    }
    for (name, host, libdir) in hosts {
        let log = host.with_extension("log");
        let (r, log) = run_host(&host, &["map", "/CN=Jane"], &db, &log, libdir);
        let all = format!(
            "{name}: stdout:\n{}stderr:\n{}log:\n{log}",
            r.stdout, r.stderr
        );
        assert_eq!(r.code, 0, "{all}");
        assert_eq!(
            r.stdout, "rc=1\n",
            "the plugin failed, so did the run: {all}"
        );
        assert_eq!(r.stderr, "", "nothing on the host's stderr: {all}");
        let line = one_line(&log, "the plugin panicked at");
        assert!(
            line.contains("lcmaps_panicking-plugin_run(): the plugin panicked at ")
                && line.contains(
                    ": the panicking plugin panics for /CN=Jane\\nand its message has a \
                     second line; failing"
                ),
            "{name}: one line, with the module, the entry point and the message: {line}"
        );
        assert!(
            line.contains("panicking_plugin.rs:"),
            "{name}: location: {line}"
        );
        assert!(has_location(line), "{name}: location: {line}");
        assert!(!log.contains("stack backtrace"), "{all}");
    }
}
