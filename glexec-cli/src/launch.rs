//! Switch and exec or linger (steps 15 to 17 of the run): who switches
//! identity, then either `exec` the payload as the target in place of
//! glexec, or (`linger = yes`) start it as a child, wait for it
//! ([`crate::linger`]) and run the epilogue.

use std::path::PathBuf;
use std::process::Command;

use crate::checks::Target;
use crate::config::Config;
use crate::privs::{self, CallerLimits, Launch};
use crate::{epilogue, linger, Failure};

/// How the payload will be started: as the target, in `cwd`, else the
/// target's home, with the caller's limits. glexec switches identity in
/// both `user_identity_switch_by` modes: with `lcmaps`, LCMAPS's
/// enforcement plugins have run (and succeeded) in the mapping helper, as
/// root (`privilege_separation = no`), which switches only the helper; the
/// payload gets the identity they switched to, which is the mapping's.
pub fn switch_plan(
    target: &Target,
    cwd: PathBuf,
    caller_limits: CallerLimits,
) -> Result<Launch, Failure> {
    if !privs::running_as_root() {
        return Err(Failure::system(
            "glexec is not running with root privileges",
            "install it setuid root",
        ));
    }
    Ok(Launch {
        ids: Some(target.ids.clone()),
        limits: Some(caller_limits),
        dirs: vec![cwd, target.home.clone()],
    })
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
