//! Payload tracking with `lcmaps_glexec_tracking.mod`: the plugin gives the
//! payload a tracking gid (a secondary group in its `-min-gid`..`-max-gid`
//! range); a lingering glexec kills whatever still carries that gid when the
//! payload's main process has ended, unless `-dont-kill-leftovers`.
//!
//! Our addition (plugin option `-cgroup auto|off|required`): where cgroup
//! v2 is writable the payload also runs in a cgroup of its own
//! (`lcmaps_glexec_tracking::cgroup`), which catches even processes that
//! somehow shed the gid; what is left in it is killed with `cgroup.kill`
//! and its accounting goes into the usage record.

use std::time::{Duration, Instant};

use lcmaps_core::db::Config;
pub use lcmaps_plugin_glexec_tracking::cgroup::{Cgroup, Mode as CgroupMode};
use nix::sys::signal::Signal;

/// Default tracking range of the plugin.
const DEFAULT_RANGE: (u32, u32) = (65000, 65049);
/// How long leftovers get between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// Upper bound on the whole clean-up.
const LIMIT: Duration = Duration::from_secs(10);

/// The tracking of one payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    /// The tracking gid.
    pub gid: u32,
    /// Kill leftovers when the main process ends.
    pub kill: bool,
    /// `-cgroup`.
    pub cgroup: CgroupMode,
    /// `-cgroup-parent`.
    pub cgroup_parent: Option<std::path::PathBuf>,
}

/// The tracking of this run: the gid the tracking plugin allocated (and
/// holds) in this process, with the plugin's options from the policy.
/// `Ok(None)` when the policy has no tracking plugin or it did not run;
/// an error when the allocated gid is not what the mapping gave or lies
/// outside the plugin's range (fail closed).
pub fn from_config(config: &Config, sec_gids: &[u32]) -> Result<Option<Tracking>, String> {
    let Some(decl) = config.plugins.iter().find(|p| {
        std::path::Path::new(&p.module)
            .file_name()
            .and_then(|n| n.to_str())
            == Some("lcmaps_glexec_tracking.mod")
    }) else {
        return Ok(None);
    };
    let (mut min, mut max) = DEFAULT_RANGE;
    let mut kill = true;
    let mut cgroup = CgroupMode::Auto;
    let mut cgroup_parent = None;
    let mut it = decl.args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-min-gid" => min = it.next().and_then(|v| v.parse().ok()).unwrap_or(min),
            "-max-gid" => max = it.next().and_then(|v| v.parse().ok()).unwrap_or(max),
            "-dont-kill-leftovers" => kill = false,
            // The plugin refused bad values already; fail closed anyway.
            "-cgroup" => {
                cgroup = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(CgroupMode::Required)
            }
            "-cgroup-parent" => cgroup_parent = it.next().map(std::path::PathBuf::from),
            _ => {}
        }
    }
    let Some(gid) = lcmaps_plugin_glexec_tracking::leased_gid() else {
        if sec_gids.iter().any(|g| (min..=max).contains(g)) {
            return Err(format!(
                "the mapping has a gid in the tracking range {min}-{max}, but the tracking plugin allocated none in this process"
            ));
        }
        return Ok(None);
    };
    if !(min..=max).contains(&gid) || !sec_gids.contains(&gid) {
        return Err(format!(
            "the allocated tracking gid {gid} is not among the mapped groups {sec_gids:?} or outside {min}-{max}"
        ));
    }
    // Another gid of the range would be shared with another payload (and
    // its processes killed when that one ends).
    if let Some(other) = sec_gids
        .iter()
        .find(|g| **g != gid && (min..=max).contains(*g))
    {
        return Err(format!(
            "the mapping gives group {other}, inside the tracking range {min}-{max} (only the allocated tracking gid {gid} may be)"
        ));
    }
    Ok(Some(Tracking {
        gid,
        kill,
        cgroup,
        cgroup_parent,
    }))
}

/// Whether process `pid` carries `gid` among its supplementary groups.
fn carries(pid: i32, gid: u32) -> bool {
    lcmaps_plugin_glexec_tracking::groups(std::path::Path::new(&format!("/proc/{pid}")))
        .contains(&gid)
}

/// Pids of the processes whose supplementary groups contain `gid`.
pub fn holders(gid: u32) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| *pid != me && carries(*pid, gid))
        .collect()
}

/// Whether process `pid` is in the cgroup `cg`.
fn inside(pid: i32, cg: &Cgroup) -> bool {
    cg.procs().contains(&pid)
}

/// Signals `pid` through a pidfd, and only if the process the pidfd pins
/// passes `belongs` (checked after the pidfd is open: until it is reaped,
/// that process keeps its pid, so the check and the signal are about the
/// same process, never a newcomer that reused the pid).
fn signal_pinned(pid: i32, sig: Signal, belongs: impl Fn(i32) -> bool) -> bool {
    use rustix::process::{pidfd_open, pidfd_send_signal, PidfdFlags};
    let Some(p) = rustix::process::Pid::from_raw(pid) else {
        return false;
    };
    let Ok(fd) = pidfd_open(p, PidfdFlags::empty()) else {
        return false;
    };
    if !belongs(pid) {
        return false;
    }
    let sig = match sig {
        Signal::SIGKILL => rustix::process::Signal::KILL,
        _ => rustix::process::Signal::TERM,
    };
    pidfd_send_signal(&fd, sig).is_ok()
}

/// Kill every process carrying `gid` or in `cgroup`: SIGTERM, then SIGKILL
/// (`cgroup.kill`) after a grace period, rescanning until none is left or
/// [`LIMIT`] has passed. Returns how many processes were signalled.
pub fn kill_leftovers(gid: u32, cgroup: Option<&Cgroup>) -> usize {
    let start = Instant::now();
    let mut signalled = std::collections::BTreeSet::new();
    let mut sig = Signal::SIGTERM;
    loop {
        let mut left = holders(gid);
        if let Some(cg) = cgroup {
            left.extend(cg.procs());
            left.sort_unstable();
            left.dedup();
        }
        let populated = cgroup.is_some_and(|c| c.populated());
        if (left.is_empty() && !populated) || start.elapsed() > LIMIT {
            if !left.is_empty() {
                log::error!(
                    "tracking gid {gid}: {} processes survived SIGKILL",
                    left.len()
                );
            }
            return signalled.len();
        }
        if start.elapsed() > GRACE {
            sig = Signal::SIGKILL;
        }
        if let (Some(cg), Signal::SIGKILL) = (cgroup, sig) {
            let (seen, _) = cg.kill(Duration::ZERO);
            signalled.extend(seen);
        }
        for pid in left {
            let belongs = |p: i32| carries(p, gid) || cgroup.is_some_and(|cg| inside(p, cg));
            if signal_pinned(pid, sig, belongs) {
                signalled.insert(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
