//! Running the mapping helper: start it as the mapping account with an
//! empty environment (plus what the caller adds), write the request on its
//! stdin, read one bounded answer from its stdout until it closes, and take
//! the answer only if the helper then exits 0 before the deadline. A helper
//! that crashes, hangs, answers too much or answers garbage is killed with
//! its whole process group, reaped, and reported as one [`HelperFailure`].

use std::ffi::OsString;
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
use rustix::process::{pidfd_open, PidfdFlags};

use crate::wire::{Answer, Request, WireError, MAX_ANSWER};

/// How to start the helper.
#[derive(Debug, Clone)]
pub struct Helper {
    /// The helper program (a root-owned file the root part has checked).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its whole environment (it starts from an empty one).
    pub env: Vec<(OsString, OsString)>,
    /// Run it as this uid and gid, with no supplementary groups; `None`
    /// keeps the caller's identity (`privilege_separation = no`, tests).
    pub account: Option<(u32, u32)>,
    /// How long it may take from start to exit.
    pub timeout: Duration,
}

/// Why there is no answer.
#[derive(Debug)]
pub enum HelperFailure {
    /// It could not be started (or its groups not be dropped).
    Start(String),
    /// It did not close its answer and exit in time; it was killed.
    TimedOut(Duration),
    /// It exited with a non-zero status or was killed by a signal.
    Died(ExitStatus),
    /// It wrote more than an answer may hold; it was killed.
    Oversized,
    /// What it wrote is not one well-formed answer.
    Malformed(WireError),
}

impl fmt::Display for HelperFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelperFailure::Start(e) => write!(f, "the mapping helper could not start: {e}"),
            HelperFailure::TimedOut(t) => {
                write!(
                    f,
                    "the mapping helper gave no answer within {} s; killed",
                    t.as_secs()
                )
            }
            HelperFailure::Died(st) => match st.signal() {
                Some(sig) => write!(f, "the mapping helper was killed by signal {sig}"),
                None => write!(
                    f,
                    "the mapping helper failed with exit status {}",
                    st.code().unwrap_or(-1)
                ),
            },
            HelperFailure::Oversized => {
                write!(
                    f,
                    "the mapping helper wrote more than {MAX_ANSWER} bytes; killed"
                )
            }
            HelperFailure::Malformed(e) => {
                write!(f, "the mapping helper's answer is malformed: {e}")
            }
        }
    }
}

impl std::error::Error for HelperFailure {}

/// Ask the helper about `request`.
///
/// With an `account`, the calling process must be root (effective uid 0):
/// it drops its own supplementary groups first, since the helper inherits
/// them and std sets groups only when the real uid is 0 (in a set-uid
/// glexec it is the caller's). The root part sets the target's groups later
/// anyway.
pub fn ask(helper: &Helper, request: &Request) -> Result<Answer, HelperFailure> {
    let started = Instant::now();
    let mut cmd = Command::new(&helper.program);
    cmd.args(&helper.args)
        .env_clear()
        .envs(helper.env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some((uid, gid)) = helper.account {
        nix::unistd::setgroups(&[])
            .map_err(|e| HelperFailure::Start(format!("cannot drop supplementary groups: {e}")))?;
        cmd.uid(uid).gid(gid);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| HelperFailure::Start(format!("{}: {e}", helper.program.display())))?;
    let result = converse(&mut child, request, helper.timeout, started);
    if result.is_err() {
        kill_group(&mut child);
    }
    result
}

/// Feed the request, collect the answer, wait for the exit: one thread,
/// `poll(2)` on both pipes (non-blocking) and then on a pidfd of the helper,
/// so that the root part wakes up the moment the helper exits, and never
/// blocks past the deadline on a helper that does not read, does not write
/// or does not exit.
fn converse(
    child: &mut Child,
    request: &Request,
    timeout: Duration,
    started: Instant,
) -> Result<Answer, HelperFailure> {
    let deadline = started + timeout;
    let io = |what: &str, e: std::io::Error| HelperFailure::Start(format!("{what}: {e}"));
    let mut stdin = Some(child.stdin.take().expect("piped"));
    let mut stdout = child.stdout.take().expect("piped");
    for fd in [stdin.as_ref().map(|s| s.as_fd()), Some(stdout.as_fd())]
        .into_iter()
        .flatten()
    {
        set_nonblocking(fd).map_err(|e| io("setting up its pipes", e))?;
    }
    let bytes = request.encode();
    let mut sent = 0;
    let mut answer = Vec::new();
    // Until the helper closes its answer (normally: when it exits).
    loop {
        let mut fds = Vec::with_capacity(2);
        fds.push(PollFd::new(&stdout, PollFlags::IN));
        if let Some(w) = &stdin {
            fds.push(PollFd::new(w, PollFlags::OUT));
        }
        wait_for(&mut fds, deadline).ok_or(HelperFailure::TimedOut(timeout))?;
        let (readable, writable) = (
            !fds[0].revents().is_empty(),
            fds.get(1).is_some_and(|f| !f.revents().is_empty()),
        );
        if writable {
            let w = stdin.as_mut().expect("polled");
            match w.write(&bytes[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A broken pipe is the helper's business; its answer tells.
                Err(_) => sent = bytes.len(),
            }
            if sent == bytes.len() {
                stdin = None;
            }
        }
        if readable {
            let mut chunk = [0u8; 16 * 1024];
            match stdout.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io("reading its answer", e)),
            }
            if answer.len() > MAX_ANSWER {
                return Err(HelperFailure::Oversized);
            }
        }
    }
    drop(stdin);
    // The answer is closed; the helper must now exit 0, in time.
    let pidfd = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .and_then(|pid| pidfd_open(pid, PidfdFlags::empty()).ok());
    let status = wait_exit(child, pidfd, deadline).ok_or(HelperFailure::TimedOut(timeout))??;
    if !status.success() {
        return Err(HelperFailure::Died(status));
    }
    Answer::decode(&answer).map_err(HelperFailure::Malformed)
}

/// `poll(2)` until an event or the deadline (`None`: the deadline passed).
fn wait_for(fds: &mut [PollFd<'_>], deadline: Instant) -> Option<()> {
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        let ts = Timespec::try_from(left).ok()?;
        match poll(fds, Some(&ts)) {
            Ok(0) => {}
            Ok(_) => return Some(()),
            // A signal for glexec: poll again with what is left.
            Err(rustix::io::Errno::INTR) => {}
            // Cannot happen with valid descriptors; fail closed.
            Err(_) => return None,
        }
    }
}

/// Wait for the helper's exit until the deadline (`None`): on its pidfd,
/// which becomes readable when the process exits; without one (a kernel
/// before Linux 5.3), by polling `waitpid` at short intervals.
fn wait_exit(
    child: &mut Child,
    pidfd: Option<OwnedFd>,
    deadline: Instant,
) -> Option<Result<ExitStatus, HelperFailure>> {
    let mut pause = Duration::from_micros(50);
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(Ok(st)),
            Ok(None) => {}
            Err(e) => return Some(Err(HelperFailure::Start(format!("waiting for it: {e}")))),
        }
        match &pidfd {
            Some(fd) => wait_for(&mut [PollFd::new(fd, PollFlags::IN)], deadline)?,
            None => {
                let left = deadline.checked_duration_since(Instant::now())?;
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_millis(2));
            }
        }
    }
}

fn set_nonblocking(fd: BorrowedFd<'_>) -> std::io::Result<()> {
    let flags = fcntl_getfl(fd)?;
    fcntl_setfl(fd, flags | OFlags::NONBLOCK)?;
    Ok(())
}

/// SIGKILL the helper's process group (it leads it) and reap the helper.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(secs: &str) -> Child {
        Command::new("sleep").arg(secs).spawn().unwrap()
    }

    fn pidfd(c: &Child) -> Option<OwnedFd> {
        let pid = rustix::process::Pid::from_raw(c.id() as i32)?;
        Some(pidfd_open(pid, PidfdFlags::empty()).expect("Linux 5.3 or later"))
    }

    /// With and without a pidfd: an exit is seen, and a child that does not
    /// exit is given up on at the deadline.
    #[test]
    fn the_exit_is_seen_and_the_deadline_kept() {
        for with_pidfd in [true, false] {
            let mut c = child("0.05");
            let fd = if with_pidfd { pidfd(&c) } else { None };
            let st = wait_exit(&mut c, fd, Instant::now() + Duration::from_secs(10));
            assert!(st.unwrap().unwrap().success(), "pidfd {with_pidfd}");
            let mut c = child("10");
            let fd = if with_pidfd { pidfd(&c) } else { None };
            let t = Instant::now();
            let st = wait_exit(&mut c, fd, t + Duration::from_millis(100));
            assert!(st.is_none(), "pidfd {with_pidfd}");
            assert!(t.elapsed() < Duration::from_secs(5), "pidfd {with_pidfd}");
            kill_group(&mut c);
        }
    }
}
