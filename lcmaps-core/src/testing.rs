//! What a test of this workspace does when something it needs is missing
//! (root, `unshare`, a Debian package, gcc, cgroup v2): under `CI=true` it
//! fails, so a CI run cannot pass by skipping; elsewhere it says why it
//! skips and, when `LCMAPS_RS_SKIP_LOG` names a file, appends one line
//! there, so `scripts/test` can say how many tests skipped. For the test
//! suites only; nothing in the library calls it.

use std::io::Write;

/// Whether the tests run under CI (`CI=true` or `CI=1`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `test` can run when `met`; otherwise it is missing `why`: a failure
/// under CI, a recorded skip elsewhere. Returns `met`.
pub fn requirement(test: &str, met: bool, why: &str) -> bool {
    if met {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: {why}; CI=true makes a missing requirement a failure, not a skip"
    );
    eprintln!("SKIP {test}: {why}");
    if let Some(log) = std::env::var_os("LCMAPS_RS_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{test}: {why}");
        }
    }
    false
}

/// `test` needs euid 0 (the tests run as root in CI).
pub fn root(test: &str) -> bool {
    requirement(test, nix::unistd::geteuid().is_root(), "needs root")
}

/// The path of `libnss_wrapper.so` (package libnss-wrapper), for `test`.
pub fn nss_wrapper(test: &str) -> Option<&'static str> {
    let lib = [
        "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so",
        "/usr/lib/libnss_wrapper.so",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists());
    requirement(
        test,
        lib.is_some(),
        "libnss_wrapper.so is not installed (package libnss-wrapper)",
    )
    .then_some(lib?)
}

/// A FIFO made at `path` (with coreutils' `mkfifo`), for tests of readers
/// that must refuse one instead of waiting for a writer.
pub fn mkfifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

/// `f`'s result, from a thread given `secs` seconds: a reader that blocks
/// fails the test instead of hanging the suite.
pub fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("no result within {secs} s"))
}
