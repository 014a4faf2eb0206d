//! Running the mapping helper: start it as the mapping account with an
//! empty environment (plus what the caller adds), write the request on its
//! stdin, read one bounded answer from its stdout until it closes, and take
//! the answer only if the helper then exits 0 before the deadline. A helper
//! that crashes, hangs, answers too much or answers garbage is killed with
//! its whole process group, reaped, and reported as one [`HelperFailure`].

use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

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

/// Feed the request, collect the answer, wait for the exit.
fn converse(
    child: &mut Child,
    request: &Request,
    timeout: Duration,
    started: Instant,
) -> Result<Answer, HelperFailure> {
    let mut stdin = child.stdin.take().expect("piped");
    let bytes = request.encode();
    // A helper that does not read must not block us: write from a thread
    // (a broken pipe is the helper's business; its answer tells).
    let (wrote, written) = mpsc::channel();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
        drop(stdin);
        let _ = wrote.send(());
    });
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let read = stdout.take(MAX_ANSWER as u64 + 1).read_to_end(&mut buf);
        let _ = tx.send(read.map(|_| buf));
    });
    let left = |now: Instant| timeout.saturating_sub(now - started);
    let answer = match rx.recv_timeout(left(Instant::now())) {
        Ok(Ok(buf)) if buf.len() > MAX_ANSWER => return Err(HelperFailure::Oversized),
        Ok(Ok(buf)) => buf,
        Ok(Err(e)) => return Err(HelperFailure::Start(format!("reading its answer: {e}"))),
        Err(_) => return Err(HelperFailure::TimedOut(timeout)),
    };
    // The answer is closed; the helper must now exit 0, in time.
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if left(Instant::now()).is_zero() => {
                return Err(HelperFailure::TimedOut(timeout))
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(HelperFailure::Start(format!("waiting for it: {e}"))),
        }
    };
    if !status.success() {
        return Err(HelperFailure::Died(status));
    }
    // Both threads end now (the reader has sent; the writer's pipe lost its
    // reader when the helper exited, unless a child of the helper holds it):
    // wait for them, so that the caller is single-threaded again (glexec
    // forks the payload only then).
    if written.recv_timeout(left(Instant::now())).is_err() {
        return Err(HelperFailure::TimedOut(timeout));
    }
    let _ = writer.join();
    let _ = reader.join();
    Answer::decode(&answer).map_err(HelperFailure::Malformed)
}

/// SIGKILL the helper's process group (it leads it) and reap the helper.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}
