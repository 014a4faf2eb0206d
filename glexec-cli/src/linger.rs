//! Linger (`linger = yes`): the payload runs as glexec's child, in a cgroup
//! of its own when tracking asks for one; glexec forwards signals to it,
//! waits, kills what is left of it by its tracking gid and cgroup
//! ([`crate::tracking`]) and logs its usage.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::SystemTime;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use signal_hook::iterator::Signals;

use crate::privs::{self, Launch};
use crate::tracking::{self, Tracking};
use crate::{payload_code, Failure};

/// Signals a lingering glexec passes on to the payload.
const FORWARDED: [Signal; 8] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGCONT,
    Signal::SIGTSTP,
];

const CGROUP_FIX: &str =
    "make cgroup v2 writable for glexec or set -cgroup auto in the tracking plugin";

/// The payload's cgroup (tracking plugin `-cgroup`), made before the fork.
pub struct PayloadCgroup {
    cg: tracking::Cgroup,
    /// glexec's own cgroup, to return to after the fork.
    home: PathBuf,
    required: bool,
}

/// Makes the payload's cgroup when the tracking asks for one and it can be
/// made; with `-cgroup required` a failure is an error (fail closed).
pub fn payload_cgroup(t: &Tracking, linger: bool) -> Result<Option<PayloadCgroup>, Failure> {
    use lcmaps_plugin_glexec_tracking::cgroup;
    let required = t.cgroup == tracking::CgroupMode::Required;
    let made = || -> Result<PayloadCgroup, String> {
        if !linger {
            return Err("glexec does not linger (linger = no)".into());
        }
        if !privs::running_as_root() {
            return Err(
                "glexec has no root privileges at the fork (user_identity_switch_by = lcmaps?)"
                    .into(),
            );
        }
        let home = cgroup::own_dir()?;
        let parent = cgroup::parent_dir(t.cgroup_parent.as_deref())?;
        let cg = tracking::Cgroup::create(&parent, std::process::id())?;
        Ok(PayloadCgroup { cg, home, required })
    };
    match t.cgroup {
        tracking::CgroupMode::Off => Ok(None),
        _ => match made() {
            Ok(p) => {
                ::log::info!(
                    "tracking gid {}: payload cgroup {}",
                    t.gid,
                    p.cg.path().display()
                );
                Ok(Some(p))
            }
            Err(e) if required => Err(Failure::system(
                format!("-cgroup required, but the payload's cgroup cannot be made: {e}"),
                CGROUP_FIX,
            )),
            Err(e) => {
                ::log::info!("tracking gid {} without a cgroup: {e}", t.gid);
                Ok(None)
            }
        },
    }
}

/// Run `cmd`, wait for it and pass on signals. Returns the exit code to use
/// and the payload's pid. With a cgroup, glexec enters it just for the fork,
/// so the payload is in it from its start.
pub fn linger(
    mut cmd: Command,
    launch: &Launch,
    tracking: Option<Tracking>,
    cgroup: Option<PayloadCgroup>,
) -> Result<(u8, u32), Failure> {
    // Forwarded signals and SIGCHLD are caught (signal-hook's self-pipe)
    // from before the fork, so none is lost; the child's mask is glexec's
    // (empty, see `sanitise`), and caught signals revert to their default
    // action in it at exec.
    let mut signals = Signals::new(
        FORWARDED
            .iter()
            .chain(&[Signal::SIGCHLD])
            .map(|s| *s as i32),
    )
    .map_err(|e| Failure::system(format!("cannot catch signals: {e}"), "check the node"))?;
    let started = SystemTime::now();
    let cgroup = match cgroup {
        Some(pc) => match pc.cg.add(0) {
            Ok(()) => Some(pc),
            Err(e) => {
                let _ = pc.cg.remove();
                if pc.required {
                    return Err(Failure::system(
                        format!(
                            "-cgroup required, but glexec cannot enter the payload's cgroup: {e}"
                        ),
                        CGROUP_FIX,
                    ));
                }
                ::log::warn!("payload without a cgroup: {e}");
                None
            }
        },
        None => None,
    };
    let spawned = launch.spawn(&mut cmd);
    if let Some(pc) = &cgroup {
        if let Err(e) = tracking::Cgroup::move_to(&pc.home, 0) {
            // glexec must not stay in the cgroup it is going to kill.
            if let Ok(mut c) = spawned {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(Failure::system(
                format!("cannot leave the payload's cgroup: {e}"),
                "check the node's cgroups",
            ));
        }
    }
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            if let Some(pc) = cgroup {
                let _ = pc.cg.remove();
            }
            return Err(Failure::not_started(&e));
        }
    };
    let pid = Pid::from_raw(child.id() as i32);
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Failure::system(format!("waitpid: {e}"), "check the node"))?
        {
            if let Some(t) = tracking {
                clean_up(&t, cgroup, pid, started);
            }
            return Ok((exit_code(status), child.id()));
        }
        for sig in signals.wait() {
            match Signal::try_from(sig) {
                Ok(Signal::SIGCHLD) | Err(_) => {}
                Ok(sig) => {
                    let _ = nix::sys::signal::kill(pid, sig);
                }
            }
        }
    }
}

/// After the payload's main process: kill its leftovers (unless
/// `-dont-kill-leftovers`), remove its cgroup when empty, and log its usage.
fn clean_up(t: &Tracking, cgroup: Option<PayloadCgroup>, pid: Pid, started: SystemTime) {
    let killed = if t.kill {
        tracking::kill_leftovers(t.gid, cgroup.as_ref().map(|p| &p.cg))
    } else {
        0
    };
    let cg_record = match cgroup {
        Some(pc) => {
            let text = format!("; cgroup {} {}", pc.cg.path().display(), pc.cg.usage());
            if pc.cg.populated() {
                ::log::info!("{} kept: processes are left in it", pc.cg.path().display());
            } else if let Err(e) = pc.cg.remove() {
                ::log::warn!("cannot remove the payload's cgroup: {e}");
            }
            text
        }
        None => String::new(),
    };
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN);
    let (user, sys, rss) = usage
        .map(|u| {
            let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            (secs(u.user_time()), secs(u.system_time()), u.max_rss())
        })
        .unwrap_or((0.0, 0.0, 0));
    ::log::info!(
        target: lcmaps_core::log::NOTICE_TARGET,
        "usage: payload pid {pid} tracking gid {} started {} ended {} user {user:.3}s system {sys:.3}s max rss {rss} KiB; {killed} leftover processes killed{cg_record}",
        t.gid,
        lcmaps_core::log::timestamp(started),
        lcmaps_core::log::timestamp(SystemTime::now()),
    );
}

/// glexec's exit code for the payload's status: its own code (204 for
/// 201-204), 128+N when killed by signal N.
fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => {
            if (201..=204).contains(&c) {
                ::log::warn!("the payload exited {c}, reported as 204");
            }
            payload_code(c)
        }
        (None, Some(sig)) => {
            ::log::info!("the payload was killed by signal {sig}");
            (128 + sig) as u8
        }
        _ => 1,
    }
}
