//! Sanitise (step 1 of the run), before anything is parsed: standard
//! descriptors open, the caller's environment captured and cleared, umask
//! and signal mask reset, glexec's own resource limits raised.

use std::ffi::OsString;

use nix::sys::signal::SigSet;

use crate::env::CallerEnv;
use crate::privs::{self, CallerLimits};
use crate::Failure;

/// What sanitising keeps of the caller's process state, for the payload.
pub struct Sanitised {
    /// The caller's environment (glexec's own is empty from here on).
    pub caller_env: CallerEnv,
    /// The caller's resource limits, given back to the payload.
    pub caller_limits: CallerLimits,
}

/// Sanitise glexec's process state; see the module documentation.
pub fn process_state() -> Result<Sanitised, Failure> {
    ensure_stdio()?;
    let caller_env = take_environment()?;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    let _ = SigSet::empty().thread_set_mask();
    // The caller's `ulimit -f` must not turn glexec's own writes into a
    // SIGXFSZ death: the signal is caught (writes fail with EFBIG instead;
    // caught signals are default again in the payload) and the limits are
    // raised for glexec, the caller's going back to the payload.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let caller_limits = privs::reset_limits().map_err(|e| {
        Failure::client(
            e,
            "raise the hard file size limit (ulimit -Hf unlimited) of the pilot",
        )
    })?;
    Ok(Sanitised {
        caller_env,
        caller_limits,
    })
}

/// Make sure fds 0, 1 and 2 are open (on /dev/null if they were closed), so
/// that files glexec opens never become the payload's stdio.
fn ensure_stdio() -> Result<(), Failure> {
    use std::os::fd::IntoRawFd;
    for fd in 0..3 {
        if nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_err() {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
                .map_err(|e| {
                    Failure::system(format!("cannot open /dev/null: {e}"), "check the node")
                })?;
            let got = f.into_raw_fd();
            if got != fd {
                return Err(Failure::system(
                    "cannot reopen closed standard descriptors",
                    "check the node",
                ));
            }
        }
    }
    Ok(())
}

/// Capture the environment and clear it.
fn take_environment() -> Result<CallerEnv, Failure> {
    let vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    // An entry without a name (`=X=1`, which std reads as the name `=X`)
    // cannot be removed and must not reach anything: refuse the run.
    if let Some((k, _)) = vars
        .iter()
        .find(|(k, _)| k.is_empty() || k.as_encoded_bytes().contains(&b'='))
    {
        return Err(Failure::client(
            format!(
                "malformed environment entry {:?} (no variable name)",
                k.to_string_lossy()
            ),
            "call glexec with a well-formed environment (NAME=value entries)",
        ));
    }
    for (k, _) in &vars {
        std::env::remove_var(k);
    }
    Ok(CallerEnv::capture(vars))
}
