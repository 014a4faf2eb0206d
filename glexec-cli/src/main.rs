//! glexec: run a command as the Unix account that the site's LCAS/LCMAPS
//! policy maps the payload's grid credential to.
//!
//! Exit codes: 201 the caller must fix something, 202 the site must fix
//! something, 203 not authorized, 204 the payload itself exited 201-204;
//! otherwise the payload's own exit code (128+N when killed by signal N).

#![forbid(unsafe_code)]

mod config;
mod env;
mod epilogue;
mod log;
mod privs;
mod proxy;
mod run;
mod tracking;

use std::process::ExitCode;

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
}

/// The payload's exit status as glexec returns it.
pub fn payload_code(code: i32) -> u8 {
    if (201..=204).contains(&code) {
        Exit::Overlap as u8
    } else {
        (code & 0xff) as u8
    }
}

fn main() -> ExitCode {
    let id = log::correlation_id();
    match run::run(&id) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            ::log::error!("error {}: {}", f.exit as u8, f.what);
            eprintln!(
                "glexec: error {} [id {id}]: {}; {}",
                f.exit as u8, f.what, f.todo
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
