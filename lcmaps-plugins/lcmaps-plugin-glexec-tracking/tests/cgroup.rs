//! The cgroup v2 mode against the real kernel: needs root and a writable
//! cgroup v2 hierarchy (CI runs as root); skipped with a message otherwise.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use lcmaps_plugin_glexec_tracking::cgroup::{self, Cgroup};

/// The tests run one at a time: `Cgroup::create` sweeps empty cgroups of
/// dead owners, and the test cgroups' owners are made up.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The parent to test under, or why the test cannot run here.
fn usable() -> Option<std::path::PathBuf> {
    if !lcmaps_core::testing::root("tracking cgroup tests") {
        return None;
    }
    match cgroup::probe(None) {
        Ok(p) => Some(p),
        Err(e) => {
            let why = format!("cgroup v2 is not writable here: {e}");
            lcmaps_core::testing::requirement("tracking cgroup tests", false, &why);
            None
        }
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| !s.contains("State:\tZ"))
        .unwrap_or(false)
}

/// A shell that moves itself into `cg`, then double-forks a `setsid`
/// process that burns some CPU and sleeps; prints that process's pid once
/// it runs in its new session (it closes the pipe after `setsid`).
fn payload(cg: &Cgroup) -> i32 {
    let script = format!(
        "echo 0 > '{}/cgroup.procs' || exit 1; \
         pid=$( (setsid sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo $$; exec >/dev/null; exec sleep 60' </dev/null 2>/dev/null &) ); \
         echo $pid",
        cg.path().display()
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Kills what is left and removes the cgroup even when a test fails.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.0.exists() {
            let cg = Cgroup::open(&self.0);
            cg.kill(Duration::from_secs(10));
            let _ = cg.remove();
        }
    }
}

#[test]
fn a_double_forked_setsid_payload_is_killed_accounted_and_the_cgroup_removed() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(parent) = usable() else { return };
    // Not our pid as the name: other tests of this binary run in parallel.
    let cg = Cgroup::create(&parent, 4_000_000_000 - std::process::id()).unwrap();
    let path = cg.path().to_path_buf();
    let _cleanup = Cleanup(path.clone());
    assert!(path.starts_with(&parent));
    let pid = payload(&cg);
    // The main process has ended; the grandchild is in its own session,
    // re-parented away from us, and still in the cgroup.
    assert!(alive(pid), "payload's leftover {pid} should be running");
    // setsid ran in the subshell: the sleep is in a session of its own.
    assert_ne!(
        nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))).unwrap(),
        nix::unistd::getsid(None).unwrap()
    );
    assert!(cg.procs().contains(&pid), "{:?}", cg.procs());
    assert!(cg.populated());
    // One round (zero limit) kills: wait for it without killing again.
    let (seen, _) = cg.kill(Duration::ZERO);
    assert!(seen.contains(&pid), "{seen:?}");
    let t = std::time::Instant::now();
    while cg.populated() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !cg.populated(),
        "cgroup not empty after kill: {:?}",
        cg.procs()
    );
    let (_, empty) = cg.kill(Duration::from_secs(10));
    assert!(empty);
    assert!(!alive(pid), "leftover {pid} survived");
    let u = cg.usage();
    // The loop of 20000 shell iterations costs CPU time: accounted.
    assert!(u.usage_usec > 0, "{u:?}");
    assert!(u.usage_usec >= u.user_usec.max(u.system_usec), "{u:?}");
    cg.remove().unwrap();
    assert!(!path.exists());
}

#[test]
fn moving_in_and_out_and_stale_ones_are_swept() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(parent) = usable() else { return };
    // A stale cgroup of a glexec that is gone (pid beyond pid_max).
    let stale = parent.join(format!("{}{}", cgroup::PREFIX, 4_194_305 + 7));
    std::fs::create_dir(&stale).unwrap();
    let _c1 = Cleanup(stale.clone());
    let own = cgroup::own_dir().unwrap();
    // A child process moved in by pid, then out again.
    let mut child = Command::new("sleep").arg("60").spawn().unwrap();
    let cg = Cgroup::create(&parent, 4_000_000_000 - std::process::id() - 1).unwrap();
    let _c2 = Cleanup(cg.path().to_path_buf());
    assert!(!stale.exists(), "stale cgroup not swept");
    cg.add(child.id()).unwrap();
    assert_eq!(cg.procs(), [child.id() as i32]);
    Cgroup::move_to(&own, child.id()).unwrap();
    assert!(cg.procs().is_empty());
    assert!(!cg.populated());
    child.kill().unwrap();
    child.wait().unwrap();
    // An existing empty one of the same name is reused; one with processes
    // is refused.
    let name = cg.path().to_path_buf();
    let again = Cgroup::create(&parent, 4_000_000_000 - std::process::id() - 1).unwrap();
    assert_eq!(again.path(), name);
    let mut child = Command::new("sleep").arg("60").spawn().unwrap();
    again.add(child.id()).unwrap();
    let e = Cgroup::create(&parent, 4_000_000_000 - std::process::id() - 1).unwrap_err();
    assert!(e.contains("has processes"), "{e}");
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, empty) = again.kill(Duration::from_secs(10));
    assert!(empty);
    again.remove().unwrap();
    assert!(!Path::new(&name).exists());
}
