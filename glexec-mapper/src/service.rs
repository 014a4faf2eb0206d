//! The mapping service: helpers started ahead of time, so that a glexec run
//! does not wait for the start of a program linked with OpenSSL.
//!
//! `glexec-mapper --serve [--workers N] [--timeout SECONDS]` is started by
//! systemd's socket activation (`glexec-mapper.socket`: a Unix socket only
//! root may connect to; `glexec-mapper.service`: `User=` the mapping
//! account). It takes the listening socket from `LISTEN_FDS` (or as its
//! standard input), keeps `N` workers (default 4) waiting on it and starts
//! a new one whenever one exits. It reads nothing from the socket itself,
//! and is not dumpable (its workers run as the same account).
//!
//! A worker (`--worker`, started by the service only) is the one-run helper
//! with a different door: it confines itself as that helper does (no new
//! privileges, a clean descriptor table, not dumpable, the seccomp filter),
//! accepts **one** connection, closes the listening socket (a parser or
//! plugin subverted by one caller's credential cannot take other callers'
//! requests), reads one request until glexec's root part closes its side,
//! answers on the connection and exits. A worker that takes longer than the
//! timeout is killed by `SIGALRM`; glexec's root part keeps its own
//! deadline (`mapping_timeout`) too.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use glexec_privsep::wire::MAX_REQUEST;
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::socket::{getsockopt, sockopt::AcceptConn};
use nix::sys::wait::{wait, WaitStatus};

/// A worker's exit status when it could not get as far as a connection
/// (the service waits before it starts the next one, rather than spin).
const NOT_STARTED: u8 = 3;

/// After this many workers in a row could not start, the service exits
/// (status 1): callers would otherwise wait in the socket's queue until
/// their `mapping_timeout`. Under systemd it is restarted, and once its
/// start limit is hit the socket stops listening and glexec starts its own
/// helpers.
const GIVE_UP: u32 = 5;

const USAGE: &str = "usage: glexec-mapper [--serve [--workers N] [--timeout SECONDS]]";

/// What the service's command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Role {
    Serve { workers: usize, timeout: u32 },
    Worker { timeout: u32 },
}

/// `glexec-mapper` with arguments.
pub fn main(args: &[String]) -> ExitCode {
    match parse(args) {
        Ok(Role::Serve { workers, timeout }) => serve(workers, timeout),
        Ok(Role::Worker { timeout }) => worker(timeout),
        Err(e) => {
            eprintln!("glexec-mapper: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: &[String]) -> Result<Role, String> {
    let (worker, rest) = match args.split_first() {
        Some((a, rest)) if a == "--serve" => (false, rest),
        Some((a, rest)) if a == "--worker" => (true, rest),
        _ => return Err(format!("unknown arguments {args:?}")),
    };
    let (mut workers, mut timeout) = (4usize, 60u32);
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str, max: u64| -> Result<u64, String> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            match v.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!("{name} {v}: give a whole number from 1 to {max}")),
            }
        };
        match a.as_str() {
            "--workers" if !worker => workers = value("--workers", 256)? as usize,
            "--timeout" => timeout = value("--timeout", 3600)? as u32,
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok(if worker {
        Role::Worker { timeout }
    } else {
        Role::Serve { workers, timeout }
    })
}

/// Keep `workers` workers waiting on the listening socket.
fn serve(workers: usize, timeout: u32) -> ExitCode {
    // Not dumpable: a worker (same account) subverted by a credential must
    // not open this process's memory, which holds the listening socket.
    if nix::sys::prctl::set_no_new_privs().is_err() || nix::sys::prctl::set_dumpable(false).is_err()
    {
        eprintln!("glexec-mapper: cannot confine the service");
        return ExitCode::from(2);
    }
    let listener = match take_listener() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("glexec-mapper: {e}");
            return ExitCode::from(2);
        }
    };
    let exe = Path::new("/proc/self/exe")
        .read_link()
        .unwrap_or_else(|_| "/proc/self/exe".into());
    let mut running: HashMap<i32, Instant> = HashMap::new();
    // Workers that could not start, one after the other.
    let mut failed = 0;
    loop {
        if failed >= GIVE_UP {
            eprintln!(
                "glexec-mapper: {failed} workers in a row could not start; stopping \
                 (glexec starts its own helper while nothing listens)"
            );
            return ExitCode::from(1);
        }
        while running.len() < workers {
            match start_worker(&exe, &listener, timeout) {
                Ok(pid) => {
                    running.insert(pid, Instant::now());
                }
                Err(e) => {
                    eprintln!("glexec-mapper: cannot start a worker: {e}");
                    failed += 1;
                    std::thread::sleep(Duration::from_secs(1));
                    break;
                }
            }
        }
        match wait() {
            Ok(st) => {
                let Some(pid) = st.pid() else { continue };
                let Some(since) = running.remove(&pid.as_raw()) else {
                    continue;
                };
                if st != WaitStatus::Exited(pid, NOT_STARTED.into()) {
                    failed = 0;
                } else {
                    failed += 1;
                    if since.elapsed() < Duration::from_secs(1) {
                        eprintln!("glexec-mapper: a worker could not start; waiting 1 s");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
            Err(Errno::EINTR) | Err(Errno::ECHILD) => {}
            Err(e) => {
                eprintln!("glexec-mapper: waiting for workers: {e}");
                return ExitCode::from(2);
            }
        }
    }
}

/// The listening socket: systemd's (`LISTEN_FDS=1`, descriptor 3, moved to
/// standard input so that workers inherit it there) or standard input.
fn take_listener() -> Result<UnixListener, String> {
    if let Ok(n) = std::env::var("LISTEN_FDS") {
        let ours = std::env::var("LISTEN_PID").ok() == Some(std::process::id().to_string());
        if !ours {
            return Err("LISTEN_FDS is set, but LISTEN_PID is not this process".into());
        }
        if n != "1" {
            return Err(format!(
                "systemd passed {n} sockets; the service listens on exactly one"
            ));
        }
        nix::unistd::dup2(3, 0).map_err(|e| format!("taking socket 3: {e}"))?;
        let _ = nix::unistd::close(3);
    }
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| format!("standard input: {e}"))?;
    match getsockopt(&fd, AcceptConn) {
        Ok(true) => Ok(UnixListener::from(fd)),
        _ => Err(
            "no listening socket: start the service from glexec-mapper.socket (systemd), \
             or with the listening Unix socket as standard input"
                .into(),
        ),
    }
}

fn start_worker(exe: &Path, listener: &UnixListener, timeout: u32) -> std::io::Result<i32> {
    let socket = OwnedFd::from(listener.try_clone()?);
    let child = Command::new(exe)
        .args(["--worker", "--timeout", &timeout.to_string()])
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::from(socket))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Reaped by `wait` in `serve`.
    Ok(child.id() as i32)
}

/// One connection, one answer; see the module documentation.
fn worker(timeout: u32) -> ExitCode {
    let not_started = ExitCode::from(NOT_STARTED);
    // A worker outlives no service.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || super::confine().is_err() {
        return not_started;
    }
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return not_started;
    };
    let listener = UnixListener::from(fd);
    warm_up();
    let mut conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return not_started,
        }
    };
    drop(listener);
    // Standard input becomes /dev/null: no listening socket is left in this
    // process when it reads the caller's credential.
    let moved = File::open("/dev/null")
        .map_err(drop)
        .and_then(|null| nix::unistd::dup2(null.as_raw_fd(), 0).map_err(drop));
    if moved.is_err() {
        return ExitCode::from(2);
    }
    nix::unistd::alarm::set(timeout);
    let mut input = Vec::new();
    if (&mut conn)
        .take(MAX_REQUEST as u64 + 1)
        .read_to_end(&mut input)
        .is_err()
    {
        return ExitCode::from(2);
    }
    let Some(answer) = super::respond(&input) else {
        return ExitCode::from(2);
    };
    if conn.write_all(&answer).is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// What every mapping does first, done while no caller waits: OpenSSL's
/// first use, the NSS modules for account lookups.
fn warm_up() {
    lcmaps_x509::warm::warm_up();
    // Account lookups: the passwd and group modules (the group database is
    // asked of every source nsswitch.conf names, libnss_systemd's too).
    if let Ok(Some(me)) = nix::unistd::User::from_uid(nix::unistd::getuid()) {
        if let Ok(name) = std::ffi::CString::new(me.name) {
            let _ = nix::unistd::getgrouplist(&name, me.gid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &str) -> Vec<String> {
        a.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            parse(&args("--serve")),
            Ok(Role::Serve {
                workers: 4,
                timeout: 60
            })
        );
        assert_eq!(
            parse(&args("--serve --workers 8 --timeout 5")),
            Ok(Role::Serve {
                workers: 8,
                timeout: 5
            })
        );
        assert_eq!(
            parse(&args("--worker --timeout 7")),
            Ok(Role::Worker { timeout: 7 })
        );
        for bad in [
            "--serve --workers 0",
            "--serve --workers",
            "--serve --timeout x",
            "--worker --workers 2",
            "--bogus",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }
}
