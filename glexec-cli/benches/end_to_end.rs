//! glexec end to end (proxy read, verify_proxy, grid-mapfile mapping, proxy
//! copy, identity switch, exec of /bin/true) against a minimal C program that
//! only does setgroups/setgid/setuid/execve of /bin/true. Both are setuid
//! root and run by the same unprivileged caller in a private mount
//! namespace. Prints wall time (latency) and CPU time (user + system of
//! every process of a run: a measure the machine's other load disturbs
//! less) per run, the median of alternating rounds. Needs root.
//!
//! Run: `cargo bench -p glexec-cli --bench end_to_end` (or scripts/bench-glexec).

#[path = "../tests/world.rs"]
mod world;

use std::path::{Path, PathBuf};
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
    let rounds: usize = std::env::var("GLEXEC_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    // Both modes of issue #18 and the minimal switcher; with
    // GLEXEC_BENCH_COMPARE=<a glexec binary> (e.g. one built before
    // privilege separation, which mapped in its one process) that one too.
    let mut variants = vec![
        Variant::service(),
        Variant::glexec("privilege_separation = yes", "", None),
        Variant::glexec(
            "privilege_separation = no (root helper)",
            "privilege_separation = no\n",
            None,
        ),
    ];
    if let Some(other) = std::env::var_os("GLEXEC_BENCH_COMPARE") {
        let name = format!(
            "{} (privilege_separation = no)",
            Path::new(&other).display()
        );
        let other = PathBuf::from(other);
        variants.push(Variant::glexec(
            &name,
            "privilege_separation = no\n",
            Some(&other),
        ));
    }
    variants.push(Variant::baseline());
    // GLEXEC_BENCH_KEEP=1 leaves the worlds in place (for perf/strace) and
    // prints where they are and the command that ran.
    if std::env::var_os("GLEXEC_BENCH_KEEP").is_some() {
        for v in &variants {
            println!("world of {}: {}", v.name, v.world.dir.path().display());
        }
    }
    // Rounds alternate the variants, so that a change of the machine's load
    // falls on all of them; the median round is reported.
    let mut times: Vec<Vec<Timing>> = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (v, t) in variants.iter().zip(times.iter_mut()) {
            t.push(v.run(n));
        }
    }
    println!(
        "glexec end to end (verify_proxy + grid-mapfile + proxy copy + switch + exec /bin/true), \
         {n} runs x {rounds} rounds, median round; wall = latency, cpu = user + system time of \
         every process of a run (setpriv, glexec, its helper, /bin/true; not the service's \
         workers, which are no run's children)"
    );
    let base = median(&times[variants.len() - 1]);
    for (v, t) in variants.iter().zip(&times) {
        let m = median(t);
        println!(
            "{:<60} wall {:6.2} ms  cpu {:6.2} ms  ({:.1}x the minimal switcher's wall)",
            v.name,
            m.wall_ms,
            m.cpu_ms,
            m.wall_ms / base.wall_ms
        );
    }
    if std::env::var_os("GLEXEC_BENCH_KEEP").is_some() {
        for v in variants {
            let _ = v.world.dir.keep();
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    wall_ms: f64,
    cpu_ms: f64,
}

fn median(t: &[Timing]) -> Timing {
    let mut t = t.to_vec();
    t.sort_by(|a, b| a.wall_ms.total_cmp(&b.wall_ms));
    t[t.len() / 2]
}

/// One thing to time: glexec in a test world (with its mapping service
/// running, or not), or the minimal switcher.
struct Variant {
    name: String,
    world: World,
    baseline: bool,
    service: bool,
}

impl Variant {
    /// glexec with `conf` added to the test world's glexec.conf (`binary`
    /// instead of this build's glexec).
    fn glexec(name: &str, conf: &str, binary: Option<&Path>) -> Variant {
        let world = World::new(&format!("linger = no\n{conf}"), None);
        if let Some(b) = binary {
            let glexec = world.path("bin/glexec");
            std::fs::remove_file(&glexec).unwrap();
            assert!(Command::new("cp")
                .arg(b)
                .arg(&glexec)
                .status()
                .unwrap()
                .success());
            chmod(&glexec, 0o4755);
        }
        Variant {
            name: name.into(),
            world,
            baseline: false,
            service: false,
        }
    }

    /// glexec asking its mapping service (`glexec-mapper --serve`, started
    /// as systemd starts it, running through the whole round).
    fn service() -> Variant {
        let mut v = Variant::glexec(
            "privilege_separation = yes, mapping service running",
            &format!("mapping_service = {SERVICE_SOCKET}\n"),
            None,
        );
        v.service = true;
        v
    }

    /// The minimal C setgroups/setgid/setuid/execve of /bin/true.
    fn baseline() -> Variant {
        let world = World::new("linger = no\n", None);
        let baseline = world.path("bin/baseline");
        let ok = Command::new("gcc")
            .args(["-O2", "-o"])
            .arg(&baseline)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/baseline.c"))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            println!("glexec bench failed: gcc could not build the baseline");
            std::process::exit(1);
        }
        chmod(&baseline, 0o4755);
        Variant {
            name: "minimal C setgroups/setgid/setuid/execve of /bin/true".into(),
            world,
            baseline: true,
            service: false,
        }
    }

    /// `n` runs in one private mount namespace: wall time and the CPU time
    /// of the loop's children (sh's `times`), per run. Both programs start
    /// from the same environment (glexec's two variables and PATH), passed
    /// by the loop's shell: no `env` program in between.
    fn run(&self, n: usize) -> Timing {
        let w = &self.world;
        let one = if self.baseline {
            format!("\"$2\" {TARGET} {TARGET} /bin/true")
        } else {
            "\"$2\" /bin/true".to_string()
        };
        // The service's workers are not the loop's children: their CPU time
        // is not in `times`, only in the wall time.
        let service = if self.service {
            format!(
                "mount -t tmpfs -o mode=755 none /run && mkdir -m 755 {dir} || exit 1\n\
                 (umask 077; exec systemd-socket-activate -l {SERVICE_SOCKET} setpriv --reuid {MAPPER} --regid {MAPPER} --clear-groups /etc/glexec-mapper --serve) 2>/dev/null &\n\
                 while [ ! -S {SERVICE_SOCKET} ]; do sleep 0.01; done\n\
                 setpriv --reuid {CALLER} --regid {CALLER} --clear-groups {one} || exit 2\n",
                dir = Path::new(SERVICE_SOCKET).parent().unwrap().display()
            )
        } else {
            String::new()
        };
        let script = format!(
            "mount --bind \"$1\" /etc || exit 1\n\
             {service}\
             cd /\n\
             t0=$(date +%s%N)\n\
             i=0; while [ $i -lt {n} ]; do setpriv --reuid {CALLER} --regid {CALLER} --clear-groups {one} || exit 2; i=$((i+1)); done\n\
             t1=$(date +%s%N)\n\
             echo $((t1-t0))\n\
             times\n"
        );
        let program = if self.baseline {
            w.path("bin/baseline")
        } else {
            w.path("bin/glexec")
        };
        let out = Command::new("unshare")
            .args(["-m", "-p", "-f", "--mount-proc", "sh", "-c", &script, "sh"])
            .arg(w.path("etc"))
            .arg(program)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("GLEXEC_CLIENT_CERT", w.path("caller/proxy"))
            .env("GLEXEC_TARGET_PROXY", w.target_proxy())
            .output()
            .expect("unshare runs");
        let text = String::from_utf8_lossy(&out.stdout);
        match (out.status.success(), parse(&text)) {
            (true, Some((wall_ns, cpu_s))) => Timing {
                wall_ms: wall_ns / n as f64 / 1e6,
                cpu_ms: cpu_s * 1e3 / n as f64,
            },
            _ => {
                println!(
                    "glexec bench failed ({}): {}\n{}\n{}",
                    self.name,
                    text,
                    String::from_utf8_lossy(&out.stderr),
                    w.log()
                );
                std::process::exit(1);
            }
        }
    }
}

/// The script's output: the wall time in ns, then `times`' two lines (the
/// shell's own, then its children's user and system time, `0m0.120000s`).
fn parse(text: &str) -> Option<(f64, f64)> {
    let mut lines = text.lines();
    let wall: f64 = lines.next()?.trim().parse().ok()?;
    let children = lines.nth(1)?;
    let secs = |v: &str| -> Option<f64> {
        let (m, s) = v.trim_end_matches('s').split_once('m')?;
        Some(m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
    };
    let cpu = children.split_whitespace().map(secs).sum::<Option<f64>>()?;
    Some((wall, cpu))
}
