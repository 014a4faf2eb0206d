//! Asking a running mapping service instead of starting a helper: connect
//! to its Unix socket, check who listens there, send the request, close our
//! side, and read one bounded answer until the service closes, all before
//! the deadline.
//!
//! The service (`glexec-mapper --serve`, started by systemd's socket
//! activation) keeps mapping helpers started ahead of time, each waiting
//! for one connection; a helper answers one request and exits, as one
//! started per run does. What the root part saves is the start of a
//! program linked with OpenSSL for every run.
//!
//! A service that is not there (no socket, nobody listening) is
//! [`ServiceFailure::Unavailable`]: nothing was sent, and the caller may
//! start its own helper. Anything after the request went out (a timeout, a
//! malformed or oversized answer, a broken connection, a listener of the
//! wrong account) is [`ServiceFailure::Broken`] or
//! [`ServiceFailure::Failed`]: the request may have been acted on, so the
//! run fails closed.

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};

use crate::helper::HelperFailure;
use crate::wire::{Answer, Request, MAX_ANSWER};

/// Why the service gave no answer.
#[derive(Debug)]
pub enum ServiceFailure {
    /// Nobody answered the connection; nothing was sent.
    Unavailable(String),
    /// The listener is not one the root part trusts, or the connection
    /// broke.
    Broken(String),
    /// The answer did not come in time, or is not one well-formed answer.
    Failed(HelperFailure),
}

impl fmt::Display for ServiceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceFailure::Unavailable(e) => write!(f, "the mapping service is not running: {e}"),
            ServiceFailure::Broken(e) => write!(f, "the mapping service failed: {e}"),
            ServiceFailure::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ServiceFailure {}

/// Ask the service listening on `socket` about `request`. The process that
/// made the listening socket must run as one of `listeners` (root, for
/// systemd's socket activation, or the mapping account).
pub fn ask_service(
    socket: &Path,
    listeners: &[u32],
    request: &Request,
    timeout: Duration,
) -> Result<Answer, ServiceFailure> {
    let deadline = Instant::now() + timeout;
    let shown = socket.display();
    let stream =
        connect(socket).map_err(|e| ServiceFailure::Unavailable(format!("{shown}: {e}")))?;
    let peer = getsockopt(&stream, PeerCredentials)
        .map_err(|e| ServiceFailure::Broken(format!("{shown}: no peer credentials: {e}")))?;
    if !listeners.contains(&peer.uid()) {
        return Err(ServiceFailure::Broken(format!(
            "{shown} is served by uid {}, not by root or the mapping account",
            peer.uid()
        )));
    }
    converse(stream, request, timeout, deadline)
}

/// A connection to `socket` that never waits: with the service's queue
/// full, `connect(2)` on a blocking Unix socket would wait for a free
/// place with no deadline; here it fails at once (`EAGAIN`), and the run
/// starts its own helper.
fn connect(socket: &Path) -> std::io::Result<UnixStream> {
    use nix::sys::socket::{self as sock, AddressFamily, SockFlag, SockType, UnixAddr};
    let fd = sock::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let addr = UnixAddr::new(socket)?;
    sock::connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr)?;
    let stream = UnixStream::from(fd);
    stream.set_nonblocking(false)?;
    Ok(stream)
}

fn converse(
    mut stream: UnixStream,
    request: &Request,
    timeout: Duration,
    deadline: Instant,
) -> Result<Answer, ServiceFailure> {
    let timed_out = || ServiceFailure::Failed(HelperFailure::TimedOut(timeout));
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(timed_out)
    };
    let io = |what: &str, e: std::io::Error| match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => timed_out(),
        _ => ServiceFailure::Broken(format!("{what}: {e}")),
    };
    let bytes = request.encode();
    let mut sent = 0;
    while sent < bytes.len() {
        stream
            .set_write_timeout(Some(left()?))
            .map_err(|e| io("sending the request", e))?;
        match stream.write(&bytes[sent..]) {
            Ok(0) => return Err(ServiceFailure::Broken("it closed the request".into())),
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io("sending the request", e)),
        }
    }
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| io("closing the request", e))?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        stream
            .set_read_timeout(Some(left()?))
            .map_err(|e| io("reading its answer", e))?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io("reading its answer", e)),
        }
        if answer.len() > MAX_ANSWER {
            return Err(ServiceFailure::Failed(HelperFailure::Oversized));
        }
    }
    Answer::decode(&answer).map_err(|e| ServiceFailure::Failed(HelperFailure::Malformed(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Refusal;
    use crate::RefusalKind;
    use std::os::unix::net::UnixListener;
    use std::path::PathBuf;

    fn request() -> Request {
        crate::job::tests::job(crate::Mode::GetAccount).to_request()
    }

    /// A service on a temporary socket that reads the request and then
    /// does `reply` with the connection (unless the request is not one).
    fn serve(reply: impl FnOnce(UnixStream) + Send + 'static) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let l = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut req = Vec::new();
            let _ = c.read_to_end(&mut req);
            if Request::decode(&req).is_ok() {
                reply(c);
            }
        });
        (dir, path)
    }

    fn me() -> u32 {
        nix::unistd::geteuid().as_raw()
    }

    fn refusal() -> Answer {
        Answer::Refused(Refusal {
            kind: RefusalKind::Authorization,
            reason: "no".into(),
            todo: "ask".into(),
            trace: Vec::new(),
        })
    }

    #[test]
    fn an_answer_is_read_to_the_end() {
        let a = refusal();
        let bytes = a.encode();
        let (_d, s) = serve(move |mut c| c.write_all(&bytes).unwrap());
        let got = ask_service(&s, &[me()], &request(), Duration::from_secs(10)).unwrap();
        assert_eq!(got, a);
    }

    #[test]
    fn no_service_is_unavailable_and_sends_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let r = ask_service(
            &dir.path().join("none"),
            &[me()],
            &request(),
            Duration::from_secs(1),
        );
        assert!(matches!(r, Err(ServiceFailure::Unavailable(_))), "{r:?}");
    }

    #[test]
    fn a_listener_of_another_account_is_refused() {
        let (_d, s) = serve(|_| {});
        let other = me().wrapping_add(1);
        let r = ask_service(&s, &[other], &request(), Duration::from_secs(10));
        match r {
            Err(ServiceFailure::Broken(e)) => {
                assert!(e.contains("is served by uid"), "{e}")
            }
            r => panic!("{r:?}"),
        }
    }

    /// A service whose queue is full (it accepts nobody): the run does not
    /// wait for a place in the queue; nothing is sent.
    #[test]
    fn a_full_queue_is_unavailable_at_once() {
        use nix::sys::socket::{self as sock, AddressFamily, Backlog, SockFlag, SockType};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let l = sock::socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::empty(),
            None,
        )
        .unwrap();
        let addr = sock::UnixAddr::new(&path).unwrap();
        sock::bind(std::os::fd::AsRawFd::as_raw_fd(&l), &addr).unwrap();
        sock::listen(&l, Backlog::new(0).unwrap()).unwrap();
        // Fill the queue with connections nobody accepts.
        let mut held = Vec::new();
        while let Ok(c) = connect(&path) {
            held.push(c);
            assert!(held.len() < 64, "the queue never filled");
        }
        let t = Instant::now();
        let r = ask_service(&path, &[me()], &request(), Duration::from_secs(10));
        assert!(matches!(r, Err(ServiceFailure::Unavailable(_))), "{r:?}");
        assert!(t.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn garbage_too_much_or_nothing_in_time_fails() {
        let (_d, s) = serve(|mut c| c.write_all(b"garbage").unwrap());
        let r = ask_service(&s, &[me()], &request(), Duration::from_secs(10));
        assert!(
            matches!(r, Err(ServiceFailure::Failed(HelperFailure::Malformed(_)))),
            "{r:?}"
        );
        let (_d, s) = serve(|mut c| {
            let _ = c.write_all(&vec![b'x'; MAX_ANSWER + 10]);
        });
        let r = ask_service(&s, &[me()], &request(), Duration::from_secs(10));
        assert!(
            matches!(r, Err(ServiceFailure::Failed(HelperFailure::Oversized))),
            "{r:?}"
        );
        let (_d, s) = serve(|c| {
            std::thread::sleep(Duration::from_secs(3));
            drop(c);
        });
        let t = Instant::now();
        let r = ask_service(&s, &[me()], &request(), Duration::from_millis(300));
        assert!(
            matches!(r, Err(ServiceFailure::Failed(HelperFailure::TimedOut(_)))),
            "{r:?}"
        );
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}
