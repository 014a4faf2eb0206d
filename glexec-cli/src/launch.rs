//! Switch and exec or linger (steps 15 to 17 of the run): who switches
//! identity, then either `exec` the payload as the target in place of
//! glexec, or (`linger = yes`) start it as a child, wait for it
//! ([`crate::linger`]) and run the epilogue.

use std::path::PathBuf;
use std::process::Command;

use nix::unistd::{Gid, Uid};

use crate::checks::Target;
use crate::config::{Config, SwitchBy};
use crate::privs::{self, CallerLimits, Launch};
use crate::{epilogue, linger, Failure};

/// How the payload will be started: as the target (glexec switches), or
/// as glexec is now (an LCMAPS plugin switched already, which is checked
/// here); in `cwd`, else the target's home; with the caller's limits.
pub fn switch_plan(
    cfg: &Config,
    target: &Target,
    cwd: PathBuf,
    caller_limits: CallerLimits,
) -> Result<Launch, Failure> {
    let dirs = vec![cwd, target.home.clone()];
    match cfg.user_identity_switch_by {
        SwitchBy::Glexec => {
            if !privs::running_as_root() {
                return Err(Failure::system(
                    "glexec is not running with root privileges",
                    "install it setuid root",
                ));
            }
            Ok(Launch {
                ids: Some(target.ids.clone()),
                limits: Some(caller_limits),
                dirs,
            })
        }
        SwitchBy::Lcmaps => {
            let r = nix::unistd::getresuid()
                .map_err(|e| Failure::system(e.to_string(), "check the node"))?;
            let g = nix::unistd::getresgid()
                .map_err(|e| Failure::system(e.to_string(), "check the node"))?;
            let u = Uid::from_raw(target.ids.uid);
            let gg = Gid::from_raw(target.ids.gid);
            if [r.real, r.effective, r.saved] != [u, u, u]
                || [g.real, g.effective, g.saved] != [gg, gg, gg]
            {
                return Err(Failure::system(
                    "user_identity_switch_by = lcmaps, but the policy did not switch identity",
                    "add lcmaps_posix_enf.mod at the end of the policy, or set user_identity_switch_by = glexec",
                ));
            }
            Ok(Launch {
                ids: None,
                limits: Some(caller_limits),
                dirs,
            })
        }
    }
}

/// Start the payload: refuse to fork while a plugin's thread runs; make the
/// payload's cgroup when tracking asks for one; then exec, or linger and
/// run the epilogue. Returns glexec's exit code.
pub fn exec_or_linger(
    cfg: &Config,
    mut cmd: Command,
    launch: &Launch,
    target: &Target,
    caller_name: &str,
) -> Result<u8, Failure> {
    if !the_only_thread() {
        return Err(Failure::system(
            "a plugin left a thread running; refusing to fork",
            "report the plugin to the site",
        ));
    }
    let cgroup = match &target.tracking {
        Some(t) => linger::payload_cgroup(t, cfg.linger)?,
        None => None,
    };
    if cfg.linger {
        let (code, pid) = linger::linger(cmd, launch, target.tracking.clone(), cgroup)?;
        let payload = epilogue::Payload {
            user: target.name.clone(),
            uid: target.ids.uid,
            gid: target.ids.gid,
            caller: caller_name.to_string(),
            pid,
            exit: code,
        };
        epilogue::run(cfg, &payload)
    } else {
        let e = launch.exec(&mut cmd);
        Err(Failure::not_started(&e))
    }
}

fn the_only_thread() -> bool {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count() == 1)
        .unwrap_or(false)
}
