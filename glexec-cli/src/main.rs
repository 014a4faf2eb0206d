//! glexec: run a command as the Unix account that the site's LCAS/LCMAPS
//! policy maps the payload's grid credential to.
//!
//! Exit codes: 201 the caller must fix something, 202 the site must fix
//! something, 203 not authorized, 204 the payload itself exited 201-204;
//! otherwise the payload's own exit code (128+N when killed by signal N).

#![forbid(unsafe_code)]

mod checks;
mod credential;
mod env;
mod epilogue;
mod launch;
mod linger;
mod mapping;
mod options;
mod privs;
mod proxy;
mod record;
mod run;
mod sanitise;
mod target_proxy;
mod tracking;

use std::io::Write;
use std::process::ExitCode;

// The configuration parser and the log helpers are in the library part of
// the package (src/lib.rs), so that they can be fuzzed; the other modules
// reach them as `crate::config` and `crate::log`.
use glexec_cli::{config, log};

/// The classes of failure and their exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 201: the caller (pilot) must fix something.
    Client = 201,
    /// 202: the site must fix something.
    System = 202,
    /// 203: not authorized.
    Authz = 203,
    /// 204: the payload's own exit code collided with 201-204.
    Overlap = 204,
}

/// A failure: its class, what happened and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Exit class.
    pub exit: Exit,
    /// What failed.
    pub what: String,
    /// What to do.
    pub todo: String,
}

impl Failure {
    /// A new failure.
    pub fn new(exit: Exit, what: impl Into<String>, todo: impl Into<String>) -> Self {
        Failure {
            exit,
            what: what.into(),
            todo: todo.into(),
        }
    }

    /// A 201: the caller must fix something.
    pub fn client(what: impl Into<String>, todo: impl Into<String>) -> Self {
        Failure::new(Exit::Client, what, todo)
    }

    /// A 202: the site must fix something.
    pub fn system(what: impl Into<String>, todo: impl Into<String>) -> Self {
        Failure::new(Exit::System, what, todo)
    }

    /// A 203: not authorized.
    pub fn authz(what: impl Into<String>, todo: impl Into<String>) -> Self {
        Failure::new(Exit::Authz, what, todo)
    }

    /// The payload could not be started (spawned or executed): a 201 when
    /// the command is missing or not executable by the target, else a 202.
    pub fn not_started(e: &std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENOENT) => Failure::client(
                format!("cannot run the command: {e}"),
                "give an existing absolute path",
            ),
            Some(libc::EACCES) | Some(libc::ENOEXEC) => Failure::client(
                format!("cannot run the command as the mapped account: {e}"),
                "make the command executable by that account",
            ),
            _ => Failure::system(
                format!("cannot start the payload: {e}"),
                "see the glexec log",
            ),
        }
    }
}

/// The payload's exit status as glexec returns it.
pub fn payload_code(code: i32) -> u8 {
    if (201..=204).contains(&code) {
        Exit::Overlap as u8
    } else {
        (code & 0xff) as u8
    }
}

/// The message of the last panic, kept by [`quiet_panics`]'s hook for
/// `main` to log once the stack has unwound (the hook itself must not take
/// the logger's lock, which the panicking code may hold).
static PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// A setuid program never prints a panic message or a backtrace, whatever
/// `RUST_BACKTRACE` says: the hook only remembers the message.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut slot) = PANIC.try_lock() {
            *slot = Some(format!("{what}{at}"));
        }
    }));
}

fn main() -> ExitCode {
    quiet_panics();
    let id = log::correlation_id();
    let outcome = std::panic::catch_unwind(|| run::run(&id)).unwrap_or_else(|_| {
        let what = PANIC
            .try_lock()
            .ok()
            .and_then(|mut p| p.take())
            .unwrap_or_else(|| "panic".into());
        ::log::error!("internal error: {what}");
        Err(Failure::new(
            Exit::System,
            "internal error (logged)",
            "report it to the site with this id",
        ))
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            ::log::error!("error {}: {}", f.exit as u8, f.what);
            // Not eprintln!: a closed pipe on stderr must not panic.
            let _ = writeln!(
                std::io::stderr(),
                "glexec: error {} [id {id}]: {}; {}",
                f.exit as u8,
                log::escape(&f.what),
                f.todo
            );
            ExitCode::from(f.exit as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_codes() {
        assert_eq!(payload_code(0), 0);
        assert_eq!(payload_code(1), 1);
        assert_eq!(payload_code(126), 126);
        for c in 201..=204 {
            assert_eq!(payload_code(c), 204);
        }
        assert_eq!(payload_code(205), 205);
    }
}
