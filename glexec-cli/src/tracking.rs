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

use std::path::Path;
use std::time::{Duration, Instant};

use lcmaps_core::db::{self, ValidateOptions};
use lcmaps_core::plugin::Plugin;
use lcmaps_plugin_glexec_tracking::cgroup;
pub use lcmaps_plugin_glexec_tracking::cgroup::{Cgroup, Mode as CgroupMode};
use lcmaps_plugin_glexec_tracking::GlexecTracking;
use nix::sys::signal::Signal;

/// The tracking plugin's module file name.
const MODULE: &str = "lcmaps_glexec_tracking.mod";
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

/// A tracking gid glexec's root part holds for this payload.
pub struct Lease {
    /// The tracking plugin as lcmaps.db declares it (range, options).
    plugin: GlexecTracking,
    /// The gid, locked in the plugin's state directory by this process.
    gid: u32,
}

impl Lease {
    /// The gid.
    pub fn gid(&self) -> u32 {
        self.gid
    }
}

/// Before the mapping helper starts: when the LCMAPS policy file declares
/// the tracking plugin, lease a tracking gid from its range here, as root,
/// with the plugin's own lock protocol (the lock stays with glexec for the
/// payload's life; the helper exits). The root part reads lcmaps.db, a
/// root-owned site file, for this declaration only. `Ok(None)` when the
/// policy file has no usable tracking declaration: then the helper must not
/// answer with a tracking gid ([`adopt`]).
pub fn lease(lcmaps_db: &Path) -> Result<Option<Lease>, String> {
    let opts = ValidateOptions {
        assume_modules: true,
        ..ValidateOptions::default()
    };
    let checked = db::check_file(lcmaps_db, &opts);
    // An unusable file is the helper's to report (it reads the same file).
    let Some(config) = checked.config else {
        return Ok(None);
    };
    let Some(decl) = config
        .plugins
        .iter()
        .find(|p| Path::new(&p.module).file_name().and_then(|n| n.to_str()) == Some(MODULE))
    else {
        return Ok(None);
    };
    let mut argv = vec![decl.module.clone()];
    argv.extend(decl.args.iter().cloned());
    let mut plugin = GlexecTracking::default();
    if plugin.initialize(&argv).is_err() {
        // The helper's engine fails on the same options and says why.
        return Ok(None);
    }
    if plugin.cgroup == CgroupMode::Required {
        // The unprivileged helper cannot probe; glexec makes the cgroup.
        cgroup::probe(plugin.cgroup_parent.as_deref())
            .map_err(|e| format!("-cgroup required, but cgroup v2 is not usable: {e}"))?;
    }
    let gid = plugin.allocate(std::process::id())?;
    Ok(Some(Lease { plugin, gid }))
}

/// After the helper answered: the payload's tracking. The helper's policy
/// may give only the gid glexec leased ([`lease`]), and no other gid of the
/// plugin's range (it would be shared with another payload, whose processes
/// would be killed when this one ends); fail closed otherwise.
pub fn adopt(
    lease: Option<&Lease>,
    answered: Option<u32>,
    sec_gids: &[u32],
) -> Result<Option<Tracking>, String> {
    let Some(lease) = lease else {
        return match answered {
            Some(g) => Err(format!(
                "the mapping gave tracking gid {g}, but glexec leased none (no usable {MODULE} in the policy file)"
            )),
            None => Ok(None),
        };
    };
    let p = &lease.plugin;
    let (min, max) = (p.min_gid, p.max_gid);
    if let Some(other) = sec_gids
        .iter()
        .find(|g| **g != lease.gid && (min..=max).contains(*g))
    {
        return Err(format!(
            "the mapping gives group {other}, inside the tracking range {min}-{max} (only the tracking gid {} glexec leased may be)",
            lease.gid
        ));
    }
    match answered {
        None if sec_gids.contains(&lease.gid) => Err(format!(
            "the mapping has the tracking gid {}, but its tracking plugin did not give it",
            lease.gid
        )),
        None => Ok(None),
        Some(g) if g != lease.gid || !sec_gids.contains(&g) => Err(format!(
            "the mapping's tracking gid {g} is not the gid {} glexec leased, or not among the mapped groups {sec_gids:?}",
            lease.gid
        )),
        Some(gid) => Ok(Some(Tracking {
            gid,
            kill: !p.dont_kill_leftovers,
            cgroup: p.cgroup,
            cgroup_parent: p.cgroup_parent.clone(),
        })),
    }
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
