//! glexec end to end (proxy read, verify_proxy, grid-mapfile mapping, proxy
//! copy, identity switch, exec of /bin/true) against a minimal C program that
//! only does setgroups/setgid/setuid/execve of /bin/true. Both are setuid
//! root and run by the same unprivileged caller in the same private mount
//! namespace. Prints both latencies and the ratio. Needs root.
//!
//! Run: `cargo bench -p glexec-cli --bench end_to_end` (or scripts/bench-glexec).

#[path = "../tests/world.rs"]
mod world;

use std::path::Path;
use std::process::Command;

use world::*;

fn main() {
    if !root() {
        println!("glexec bench skipped: needs root and unshare -m");
        return;
    }
    let n: usize = std::env::var("GLEXEC_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // Both modes of issue #18, each beside the same minimal switcher; and,
    // with GLEXEC_BENCH_COMPARE=<a glexec binary> (e.g. one built before
    // privilege separation), that one too, in the same run.
    for (mode, conf) in [
        ("privilege_separation = yes", ""),
        ("privilege_separation = no", "privilege_separation = no\n"),
    ] {
        println!("{mode}:");
        measure(conf, n, None);
    }
    if let Some(other) = std::env::var_os("GLEXEC_BENCH_COMPARE") {
        println!("{}:", Path::new(&other).display());
        measure("privilege_separation = no\n", n, Some(Path::new(&other)));
    }
}

/// glexec (`conf` added to the test world's glexec.conf; `binary` instead
/// of this build's) and the minimal switcher, `n` runs each in one
/// namespace.
fn measure(conf: &str, n: usize, binary: Option<&Path>) {
    let w = World::new(&format!("linger = no\n{conf}"), None);
    if let Some(b) = binary {
        let glexec = w.path("bin/glexec");
        std::fs::remove_file(&glexec).unwrap();
        assert!(Command::new("cp")
            .arg(b)
            .arg(&glexec)
            .status()
            .unwrap()
            .success());
        chmod(&glexec, 0o4755);
    }
    let baseline = w.path("bin/baseline");
    let ok = Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&baseline)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/baseline.c"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        println!("glexec bench skipped: gcc could not build the baseline");
        return;
    }
    chmod(&baseline, 0o4755);
    // One namespace, N runs of each, timed inside it.
    let script = format!(
        "mount --bind \"$1\" /etc || exit 1\n\
         cd /\n\
         t0=$(date +%s%N)\n\
         i=0; while [ $i -lt {n} ]; do setpriv --reuid {CALLER} --regid {CALLER} --clear-groups env -i GLEXEC_CLIENT_CERT=\"$2\" GLEXEC_TARGET_PROXY=\"$3\" \"$4\" /bin/true || exit 2; i=$((i+1)); done\n\
         t1=$(date +%s%N)\n\
         i=0; while [ $i -lt {n} ]; do setpriv --reuid {CALLER} --regid {CALLER} --clear-groups \"$5\" {TARGET} {TARGET} /bin/true || exit 3; i=$((i+1)); done\n\
         t2=$(date +%s%N)\n\
         echo $((t1-t0)) $((t2-t1))\n"
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script, "sh"])
        .arg(w.path("etc"))
        .arg(w.path("caller/proxy"))
        .arg(w.target_proxy())
        .arg(w.path("bin/glexec"))
        .arg(&baseline)
        .output()
        .expect("unshare runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<f64> = text
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    if !out.status.success() || nums.len() != 2 {
        println!(
            "glexec bench failed: {}\n{}\n{}",
            text,
            String::from_utf8_lossy(&out.stderr),
            w.log()
        );
        std::process::exit(1);
    }
    let g = nums[0] / n as f64 / 1e6;
    let b = nums[1] / n as f64 / 1e6;
    println!("glexec end to end (verify_proxy + grid-mapfile + proxy copy + switch + exec /bin/true): {g:.2} ms per run ({n} runs)");
    println!("minimal C setgroups/setgid/setuid/execve of /bin/true:                             {b:.2} ms per run ({n} runs)");
    println!(
        "ratio glexec / minimal: {:.1}x (both include setpriv's own start-up)",
        g / b
    );
}
