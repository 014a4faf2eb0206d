//! The gLExec 0.9 epilogue: a site program run after the payload (lingering
//! glexec only), as `epilogue_user`/`epilogue_group` (root by default),
//! with only its documented variables (`PATH` and `GLEXEC_EPILOG_*`: never
//! a caller's `GLEXEC_*` path or anything else the caller set), killed
//! after `epilogue_timeout` seconds.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::unistd::{Group, User};

use crate::config::Config;
use crate::privs::{Ids, Launch};
use crate::{Exit, Failure};

/// What the epilogue is told about the payload.
#[derive(Debug, Clone)]
pub struct Payload {
    /// Target account name.
    pub user: String,
    /// Target uid.
    pub uid: u32,
    /// Target gid.
    pub gid: u32,
    /// The caller's account name.
    pub caller: String,
    /// The payload's pid.
    pub pid: u32,
    /// glexec's exit code for the payload.
    pub exit: u8,
}

fn site(what: String) -> Failure {
    Failure::new(
        Exit::System,
        what,
        "the site must fix the epilogue settings in /etc/glexec.conf",
    )
}

/// Run the configured epilogue, if any. Returns the exit code glexec should
/// use: the payload's when the epilogue succeeded, 204 when it returned
/// 201-204; an error (202) when it failed, could not run or timed out.
pub fn run(cfg: &Config, p: &Payload) -> Result<u8, Failure> {
    let Some(path) = &cfg.epilogue else {
        return Ok(p.exit);
    };
    let user = User::from_name(&cfg.epilogue_user)
        .ok()
        .flatten()
        .ok_or_else(|| {
            site(format!(
                "epilogue_user {} does not exist",
                cfg.epilogue_user
            ))
        })?;
    let gid = match &cfg.epilogue_group {
        None => 0,
        Some(g) => Group::from_name(g)
            .ok()
            .flatten()
            .ok_or_else(|| site(format!("epilogue_group {g} does not exist")))?
            .gid
            .as_raw(),
    };
    check_program(path, user.uid.as_raw(), gid)?;
    let mut cmd = Command::new(path);
    cmd.env_clear()
        .env("PATH", crate::env::SAFE_PATH)
        .env("GLEXEC_EPILOG_USER", &p.user)
        .env("GLEXEC_EPILOG_UID", p.uid.to_string())
        .env("GLEXEC_EPILOG_GID", p.gid.to_string())
        .env("GLEXEC_EPILOG_CALLER", &p.caller)
        .env("GLEXEC_EPILOG_PAYLOAD_PID", p.pid.to_string())
        .env("GLEXEC_EPILOG_PAYLOAD_EXIT", p.exit.to_string());
    let launch = Launch {
        ids: Some(Ids {
            uid: user.uid.as_raw(),
            gid,
            groups: vec![gid],
        }),
        limits: None,
        dirs: vec![PathBuf::from("/")],
    };
    let mut child = launch
        .spawn(&mut cmd)
        .map_err(|e| site(format!("cannot run the epilogue {}: {e}", path.display())))?;
    let deadline = Instant::now() + Duration::from_secs(cfg.epilogue_timeout);
    let status = loop {
        if let Some(s) = child
            .try_wait()
            .map_err(|e| site(format!("waiting for the epilogue: {e}")))?
        {
            break s;
        }
        if Instant::now() > deadline {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            std::thread::sleep(Duration::from_secs(2));
            let _ = child.kill();
            let _ = child.wait();
            return Err(site(format!(
                "the epilogue {} did not finish within {} s and was killed",
                path.display(),
                cfg.epilogue_timeout
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    match status.code() {
        Some(0) => Ok(p.exit),
        Some(c) if (201..=204).contains(&c) => {
            log::warn!("the epilogue exited {c}, reported as 204");
            Ok(Exit::Overlap as u8)
        }
        _ => Err(site(format!(
            "the epilogue {} failed ({status})",
            path.display()
        ))),
    }
}

/// The epilogue must be a regular file owned by root or the epilogue user,
/// writable by nobody else (its group only when that is root's or the
/// epilogue group), in directories only root can change.
fn check_program(path: &std::path::Path, uid: u32, gid: u32) -> Result<(), Failure> {
    // Whoever can change a directory above it can swap the program.
    if let Some(dir) = path.parent() {
        lcmaps_core::trust::check(dir)
            .map_err(|e| site(format!("the epilogue {}: {e}", path.display())))?;
    }
    let m = std::fs::symlink_metadata(path)
        .map_err(|e| site(format!("cannot stat the epilogue {}: {e}", path.display())))?;
    let bad = !m.is_file()
        || (m.uid() != 0 && m.uid() != uid)
        || m.mode() & 0o002 != 0
        || (m.mode() & 0o020 != 0 && m.gid() != 0 && m.gid() != gid);
    if bad {
        return Err(site(format!(
            "the epilogue {} must be a regular file of root or the epilogue user, writable by nobody else",
            path.display()
        )));
    }
    Ok(())
}
