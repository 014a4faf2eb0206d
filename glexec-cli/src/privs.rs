//! Privileged operations: acting as another user for a while, and starting
//! a program as another user. Everything goes through `nix`'s safe wrappers
//! and std's `Command`; this crate has no `unsafe`.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command};

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
/// started by root), so it can switch identities. Not the file-trust rule
/// ([`lcmaps_core::trust::privileged`]).
pub fn running_as_root() -> bool {
    unistd::geteuid().is_root()
}

/// Run `f` with effective ids `ids`, then return to root. Without root
/// privileges `f` simply runs as the current user (the kernel then checks
/// the real caller's rights anyway).
pub fn as_user<T>(ids: &Ids, f: impl FnOnce() -> T) -> Result<T, String> {
    if !running_as_root() {
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

/// Marks every open descriptor above 2 close-on-exec, whatever opened it
/// (a C plugin's `open` without `O_CLOEXEC`, a library's socket), so that
/// the payload and the epilogue start with stdin, stdout and stderr only.
/// The list comes from `/proc/self/fd`; without it every descriptor up to
/// the `RLIMIT_NOFILE` hard limit is tried. Any failure but "not open" is
/// an error (fail closed).
pub fn close_on_exec_above_stdio() -> std::io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    let fds: Vec<i32> = match std::fs::read_dir("/proc/self/fd") {
        Ok(d) => d
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
            .collect(),
        Err(_) => {
            let (_, hard) =
                nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                    .map_err(std::io::Error::from)?;
            (0..hard.min(1 << 20) as i32).collect()
        }
    };
    for fd in fds.into_iter().filter(|fd| *fd > 2) {
        match fcntl(fd, FcntlArg::F_GETFD) {
            Ok(flags) => {
                let flags = FdFlag::from_bits_truncate(flags) | FdFlag::FD_CLOEXEC;
                fcntl(fd, FcntlArg::F_SETFD(flags)).map_err(std::io::Error::from)?;
            }
            // Closed meanwhile (the directory's own descriptor), or never open.
            Err(nix::errno::Errno::EBADF) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Resource limits that glexec resets for itself at start and gives back
/// to the payload: the caller sets them, and `ulimit -f 0` must not make
/// glexec's own writes (its log, lock and proxy files) fail or kill it
/// with `SIGXFSZ`, nor a low `ulimit -n` make it run out of descriptors.
const RESET_LIMITS: [(nix::sys::resource::Resource, u64); 2] = [
    (nix::sys::resource::Resource::RLIMIT_FSIZE, u64::MAX),
    (nix::sys::resource::Resource::RLIMIT_NOFILE, 4096),
];

/// The caller's values of [`RESET_LIMITS`], for the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerLimits(Vec<(nix::sys::resource::Resource, u64, u64)>);

/// Raises [`RESET_LIMITS`] for glexec itself (root may raise hard limits
/// where the kernel grants it `CAP_SYS_RESOURCE`; otherwise up to the hard
/// limit) and returns the caller's. An error when the file size limit
/// stays finite: glexec would fail half way through its writes.
pub fn reset_limits() -> Result<CallerLimits, String> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
    let mut caller = Vec::new();
    for (res, want) in RESET_LIMITS {
        let (soft, hard) = getrlimit(res).map_err(|e| format!("getrlimit: {e}"))?;
        caller.push((res, soft, hard));
        let want = if want == u64::MAX {
            RLIM_INFINITY
        } else {
            want
        };
        if setrlimit(res, want.max(soft), want.max(hard)).is_err() {
            let _ = setrlimit(res, want.max(soft).min(hard), hard);
        }
    }
    match getrlimit(Resource::RLIMIT_FSIZE) {
        Ok((RLIM_INFINITY, _)) => Ok(CallerLimits(caller)),
        Ok((soft, _)) => Err(format!(
            "the caller's file size limit ({soft} bytes, hard limit included) cannot be raised for glexec's own files"
        )),
        Err(e) => Err(format!("getrlimit: {e}")),
    }
}

impl CallerLimits {
    /// Puts the caller's limits back (for the payload's fork or exec);
    /// returns glexec's own, for [`CallerLimits::apply`] after the fork.
    pub fn apply(&self) -> CallerLimits {
        use nix::sys::resource::{getrlimit, setrlimit};
        let mut own = Vec::new();
        for (res, soft, hard) in &self.0 {
            if let Ok((s, h)) = getrlimit(*res) {
                own.push((*res, s, h));
            }
            let _ = setrlimit(*res, *soft, *hard);
        }
        CallerLimits(own)
    }
}

fn denied(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, what.to_string())
}

/// Check that the real and effective ids (and, with `saved`, the saved
/// ones) and the supplementary groups are those of `ids`.
fn check_ids(ids: &Ids, saved: bool) -> std::io::Result<()> {
    let (u, g) = (Uid::from_raw(ids.uid), Gid::from_raw(ids.gid));
    let r = unistd::getresuid().map_err(std::io::Error::from)?;
    let rg = unistd::getresgid().map_err(std::io::Error::from)?;
    if r.real != u || r.effective != u || (saved && r.saved != u) {
        return Err(denied("uid switch incomplete"));
    }
    if rg.real != g || rg.effective != g || (saved && rg.saved != g) {
        return Err(denied("gid switch incomplete"));
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
        return Err(denied("supplementary groups not as mapped"));
    }
    Ok(())
}

/// Become `ids` for good: setgroups, setresgid, setresuid, then read the ids
/// back and make sure root cannot be regained.
pub fn switch_to(ids: &Ids) -> std::io::Result<()> {
    let g = Gid::from_raw(ids.gid);
    let u = Uid::from_raw(ids.uid);
    unistd::setgroups(&gids(&ids.groups)).map_err(std::io::Error::from)?;
    unistd::setresgid(g, g, g).map_err(std::io::Error::from)?;
    unistd::setresuid(u, u, u).map_err(std::io::Error::from)?;
    check_ids(ids, true)?;
    if ids.uid != 0 && unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(denied("root could be regained after the switch"));
    }
    Ok(())
}

/// How a child program is started: as `ids` (`None`: with glexec's current
/// identity), in the first directory of `dirs` that identity can enter,
/// else `/`. std clears the child's signal mask (a lingering glexec blocks
/// the signals it forwards).
#[derive(Debug, Clone)]
pub struct Launch {
    /// The identity of the child.
    pub ids: Option<Ids>,
    /// Resource limits of the child (the caller's, for the payload), when
    /// not glexec's own.
    pub limits: Option<CallerLimits>,
    /// Working directories to try, in order.
    pub dirs: Vec<PathBuf>,
}

impl Launch {
    /// The working directory: the first of `dirs` the current real
    /// identity may enter (`access(X_OK)` checks the real ids).
    fn enter_dir(&self, cmd: &mut Command) {
        let ok = |d: &PathBuf| {
            d.is_dir() && unistd::access(d.as_path(), unistd::AccessFlags::X_OK).is_ok()
        };
        match self.dirs.iter().find(|d| ok(d)) {
            Some(d) => cmd.current_dir(d),
            None => cmd.current_dir("/"),
        };
    }

    /// Start `cmd` and keep running as glexec. With `ids`, glexec takes the
    /// target's groups and real and effective ids for the fork while root
    /// stays its saved uid and gid; `execve` then copies the effective ids
    /// into the saved ones, so the program cannot regain root. glexec takes
    /// its own identity back right after the fork (and kills the child if
    /// it cannot: fail closed).
    pub fn spawn(&self, cmd: &mut Command) -> std::io::Result<Child> {
        close_on_exec_above_stdio()?;
        let own = self.limits.as_ref().map(CallerLimits::apply);
        let spawned = self.spawn_as(cmd);
        if let Some(own) = own {
            own.apply();
        }
        spawned
    }

    fn spawn_as(&self, cmd: &mut Command) -> std::io::Result<Child> {
        let Some(ids) = &self.ids else {
            self.enter_dir(cmd);
            return cmd.spawn();
        };
        let io = std::io::Error::from;
        let (r, rg) = (
            unistd::getresuid().map_err(io)?,
            unistd::getresgid().map_err(io)?,
        );
        let groups = unistd::getgroups().map_err(io)?;
        let root = Uid::from_raw(0);
        let restore = || -> std::io::Result<()> {
            unistd::seteuid(root).map_err(io)?;
            unistd::setresgid(rg.real, rg.effective, rg.saved).map_err(io)?;
            unistd::setgroups(&groups).map_err(io)?;
            unistd::setresuid(r.real, r.effective, r.saved).map_err(io)
        };
        let (u, g) = (Uid::from_raw(ids.uid), Gid::from_raw(ids.gid));
        let become_target = || -> std::io::Result<()> {
            unistd::setgroups(&gids(&ids.groups)).map_err(io)?;
            unistd::setresgid(g, g, Gid::from_raw(0)).map_err(io)?;
            unistd::setresuid(u, u, root).map_err(io)?;
            check_ids(ids, false)
        };
        let spawned = become_target().and_then(|()| {
            self.enter_dir(cmd);
            cmd.spawn()
        });
        if let Err(e) = restore() {
            if let Ok(mut c) = spawned {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(denied(&format!("cannot take back glexec's identity: {e}")));
        }
        spawned
    }

    /// Become `ids` for good and execute `cmd` in place of glexec; returns
    /// only on failure.
    pub fn exec(&self, cmd: &mut Command) -> std::io::Error {
        if let Err(e) = close_on_exec_above_stdio() {
            return e;
        }
        if let Some(l) = &self.limits {
            l.apply();
        }
        if let Some(ids) = &self.ids {
            if let Err(e) = switch_to(ids) {
                return e;
            }
        }
        self.enter_dir(cmd);
        cmd.exec()
    }
}
