//! Payload tracking with `lcmaps_glexec_tracking.mod`: the plugin gives the
//! payload a tracking gid (a secondary group in its `-min-gid`..`-max-gid`
//! range); a lingering glexec kills whatever still carries that gid when the
//! payload's main process has ended, unless `-dont-kill-leftovers`.

use std::time::{Duration, Instant};

use lcmaps_core::db::Config;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Default tracking range of the plugin.
const DEFAULT_RANGE: (u32, u32) = (65000, 65049);
/// How long leftovers get between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// Upper bound on the whole clean-up.
const LIMIT: Duration = Duration::from_secs(10);

/// The tracking of one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracking {
    /// The tracking gid.
    pub gid: u32,
    /// Kill leftovers when the main process ends.
    pub kill: bool,
}

/// The tracking gid among `sec_gids`, if the policy has the tracking plugin.
pub fn from_config(config: &Config, sec_gids: &[u32]) -> Option<Tracking> {
    let decl = config.plugins.iter().find(|p| {
        std::path::Path::new(&p.module)
            .file_name()
            .and_then(|n| n.to_str())
            == Some("lcmaps_glexec_tracking.mod")
    })?;
    let (mut min, mut max) = DEFAULT_RANGE;
    let mut kill = true;
    let mut it = decl.args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-min-gid" => min = it.next().and_then(|v| v.parse().ok()).unwrap_or(min),
            "-max-gid" => max = it.next().and_then(|v| v.parse().ok()).unwrap_or(max),
            "-dont-kill-leftovers" => kill = false,
            _ => {}
        }
    }
    let gid = sec_gids.iter().copied().find(|g| (min..=max).contains(g))?;
    Some(Tracking { gid, kill })
}

/// Pids of the processes whose supplementary groups contain `gid`.
pub fn holders(gid: u32) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| {
                    s.lines().find(|l| l.starts_with("Groups:")).map(|l| {
                        l["Groups:".len()..]
                            .split_whitespace()
                            .any(|g| g == gid.to_string())
                    })
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Kill every process carrying `gid`: SIGTERM, then SIGKILL after a grace
/// period, rescanning until none is left or [`LIMIT`] has passed. Returns
/// how many processes were signalled.
pub fn kill_leftovers(gid: u32) -> usize {
    let start = Instant::now();
    let mut signalled = std::collections::BTreeSet::new();
    let mut sig = Signal::SIGTERM;
    loop {
        let left = holders(gid);
        if left.is_empty() || start.elapsed() > LIMIT {
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
        for pid in left {
            if kill(Pid::from_raw(pid), sig).is_ok() {
                signalled.insert(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
