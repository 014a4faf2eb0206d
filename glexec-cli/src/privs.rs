//! Privileged operations: acting as another user for a while, and the final
//! identity switch. Everything goes through `nix`'s safe wrappers; the one
//! `unsafe` of this program is registering the switch as a `pre_exec` hook.

use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::unistd::{self, Gid, Uid};

/// A Unix identity: uid, primary gid, supplementary groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

fn gids(v: &[u32]) -> Vec<Gid> {
    v.iter().map(|g| Gid::from_raw(*g)).collect()
}

/// The caller: real uid and gid, and current supplementary groups.
pub fn caller() -> Ids {
    Ids {
        uid: unistd::getuid().as_raw(),
        gid: unistd::getgid().as_raw(),
        groups: unistd::getgroups()
            .unwrap_or_default()
            .iter()
            .map(|g| g.as_raw())
            .collect(),
    }
}

/// True when the effective uid is root (glexec installed setuid root, or
/// started by root).
pub fn privileged() -> bool {
    unistd::geteuid().is_root()
}

/// Run `f` with effective ids `ids`, then return to root. Without root
/// privileges `f` simply runs as the current user (the kernel then checks
/// the real caller's rights anyway).
pub fn as_user<T>(ids: &Ids, f: impl FnOnce() -> T) -> Result<T, String> {
    if !privileged() {
        return Ok(f());
    }
    let saved_groups = unistd::getgroups().map_err(|e| format!("getgroups: {e}"))?;
    let saved_egid = unistd::getegid();
    unistd::setgroups(&gids(&ids.groups)).map_err(|e| format!("setgroups: {e}"))?;
    unistd::setegid(Gid::from_raw(ids.gid)).map_err(|e| format!("setegid({}): {e}", ids.gid))?;
    unistd::seteuid(Uid::from_raw(ids.uid)).map_err(|e| format!("seteuid({}): {e}", ids.uid))?;
    let out = f();
    // Failing to regain root here would leave glexec in a half state: stop.
    unistd::seteuid(Uid::from_raw(0)).map_err(|e| format!("cannot regain root: {e}"))?;
    unistd::setegid(saved_egid).map_err(|e| format!("cannot restore egid: {e}"))?;
    unistd::setgroups(&saved_groups).map_err(|e| format!("cannot restore groups: {e}"))?;
    Ok(out)
}

/// Become `ids` for good: setgroups, setresgid, setresuid, then read the ids
/// back and make sure root cannot be regained.
pub fn switch_to(ids: &Ids) -> std::io::Result<()> {
    let fail =
        |what: &str| std::io::Error::new(std::io::ErrorKind::PermissionDenied, what.to_string());
    let g = Gid::from_raw(ids.gid);
    let u = Uid::from_raw(ids.uid);
    unistd::setgroups(&gids(&ids.groups)).map_err(std::io::Error::from)?;
    unistd::setresgid(g, g, g).map_err(std::io::Error::from)?;
    unistd::setresuid(u, u, u).map_err(std::io::Error::from)?;
    let r = unistd::getresuid().map_err(std::io::Error::from)?;
    let rg = unistd::getresgid().map_err(std::io::Error::from)?;
    if r.real != u || r.effective != u || r.saved != u {
        return Err(fail("uid switch incomplete"));
    }
    if rg.real != g || rg.effective != g || rg.saved != g {
        return Err(fail("gid switch incomplete"));
    }
    let mut have: Vec<u32> = unistd::getgroups()
        .map_err(std::io::Error::from)?
        .iter()
        .map(|g| g.as_raw())
        .collect();
    let mut want = ids.groups.clone();
    have.sort_unstable();
    have.dedup();
    want.sort_unstable();
    want.dedup();
    if have != want {
        return Err(fail("supplementary groups not as mapped"));
    }
    if ids.uid != 0 && unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(fail("root could be regained after the switch"));
    }
    Ok(())
}

/// Arrange for the child of `cmd`, right before it executes, to clear its
/// signal mask (a lingering glexec blocks the signals it forwards), switch
/// to `ids` when given, and change to the first accessible directory of
/// `dirs`.
pub fn prepare_child(cmd: &mut Command, ids: Option<Ids>, dirs: Vec<std::path::PathBuf>) {
    let hook = move || {
        nix::sys::signal::SigSet::empty()
            .thread_set_mask()
            .map_err(std::io::Error::from)?;
        if let Some(ids) = &ids {
            switch_to(ids)?;
        }
        for d in &dirs {
            if unistd::chdir(d.as_path()).is_ok() {
                return Ok(());
            }
        }
        unistd::chdir("/").map_err(std::io::Error::from)
    };
    // SAFETY: the hook runs in the forked child before exec. It makes system
    // calls through nix (sigprocmask, setgroups, setres[ug]id, getres[ug]id,
    // getgroups, setuid, chdir) and allocates small vectors. That is sound because glexec
    // has a single thread when it spawns the payload (no plugin thread may
    // hold the allocator's lock across the fork), which `main` checks before
    // spawning by counting the entries of /proc/self/task.
    unsafe {
        cmd.pre_exec(hook);
    }
}
