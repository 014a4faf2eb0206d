//! glexec's mapping helper (issue #18): the program `glexec-mapper`, which
//! glexec's set-uid root part starts for every run, as the unprivileged
//! `mapping_account` (`privilege_separation = yes`) or as root (`no`).
//!
//! It reads one [`glexec_privsep::Request`] on stdin (at most
//! [`MAX_REQUEST`] bytes), runs the mapping ([`mapping::map`]: the proxy
//! chain and VOMS attributes or the token, LCAS, LCMAPS with built-in and C
//! plugins) and writes one [`Answer`] on stdout: the account, or a refusal
//! with its reason. Its log lines travel in the answer's trace, for the
//! root part to write to glexec's log. It exits 0 when it answered; a
//! request it cannot read ends it with exit status 2 and no answer, which
//! the root part treats as a failed helper.
//!
//! Before it reads anything it sets `PR_SET_NO_NEW_PRIVS`, closes every
//! descriptor but 0, 1 and 2, and installs a seccomp filter ([`sandbox`]:
//! no ptrace, namespaces, mounts, keyrings, bpf, modules, ...). It starts with an empty environment; the
//! engine's variables come from the request. Panics are caught and
//! answered as a system refusal, never printed.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod mapping;
mod sandbox;
mod service;
mod trace;

use std::io::{Read, Write};
use std::process::ExitCode;

use glexec_privsep::wire::{MAX_REQUEST, MAX_USERNAME};
use glexec_privsep::{Answer, Job, Mapping, Refusal, RefusalKind, Request};
use nix::unistd::{Uid, User};

use crate::mapping::Mapped;

/// The helper's `main`: with no arguments, one request on stdin and its
/// answer on stdout (started by glexec for a run); `--serve` and `--worker`
/// are the mapping service ([`service`]).
pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|_| {}));
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        return service::main(&args);
    }
    if confine().is_err() {
        return ExitCode::from(2);
    }
    let mut input = Vec::new();
    if std::io::stdin()
        .lock()
        .take(MAX_REQUEST as u64 + 1)
        .read_to_end(&mut input)
        .is_err()
    {
        return ExitCode::from(2);
    }
    let Some(answer) = respond(&input) else {
        return ExitCode::from(2);
    };
    let mut out = std::io::stdout().lock();
    if out.write_all(&answer).is_err() || out.flush().is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// What the helper does before it reads anything: `PR_SET_NO_NEW_PRIVS`,
/// no descriptors but 0, 1 and 2, not dumpable (no core file with the
/// caller's key; another helper of the same account cannot open its
/// memory through /proc), the seccomp filter. Fail closed: a helper that could not confine itself does not
/// map.
fn confine() -> Result<(), ()> {
    nix::sys::prctl::set_no_new_privs().map_err(drop)?;
    close_other_descriptors();
    nix::sys::prctl::set_dumpable(false).map_err(drop)?;
    sandbox::confine().map_err(drop)
}

/// The encoded answer to the encoded request `input` (`None`: it is not a
/// request).
fn respond(input: &[u8]) -> Option<Vec<u8>> {
    let job = Request::decode(input).and_then(Job::from_request).ok()?;
    // It decides for glexec's root part: the same file trust rules as a
    // privileged process (files only root or the mapping account can change).
    lcmaps_core::trust::act_on_behalf_of_root();
    trace::install();
    let answer = std::panic::catch_unwind(|| answer(&job)).unwrap_or_else(|_| {
        Answer::Refused(Refusal {
            kind: RefusalKind::System,
            reason: "internal error in the mapping helper".into(),
            todo: "report it to the site with this id".into(),
            trace: Vec::new(),
        })
    });
    Some(trace::attach(answer).encode())
}

/// Run the mapping for `job` and put its outcome in an answer.
fn answer(job: &Job) -> Answer {
    // No HTTPS client runs for a caller's token on the worker node: key
    // refresh uses the cache and the local keys only (as before the split).
    lcmaps_scitokens::remote::forbid_network();
    if let Some(t) = &job.settings.tracking {
        lcmaps_plugin_glexec_tracking::use_leased_by_parent(t.clone());
    }
    // A refusal's reason is logged by the root part, with its exit code.
    match mapping::map(job).and_then(account) {
        Ok(m) => Answer::Mapped(m),
        Err(r) => Answer::Refused(r),
    }
}

/// The one account of a mapping, by name; the root part checks the rest.
fn account(m: Mapped) -> Result<Mapping, Refusal> {
    let refuse = |reason: String| Refusal {
        kind: RefusalKind::Authorization,
        reason,
        todo: "ask the site to fix its mapping policy".into(),
        trace: Vec::new(),
    };
    let [uid] = m.uids[..] else {
        return Err(refuse(format!(
            "the mapping gave {} uids; exactly one is needed",
            m.uids.len()
        )));
    };
    let Some(&gid) = m.pri_gids.first() else {
        return Err(refuse("the mapping gave no primary group".into()));
    };
    // For the log; the root part looks the uid up itself and refuses one
    // with no account.
    let username = User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .filter(|n| n.len() <= MAX_USERNAME);
    Ok(Mapping {
        uid,
        gid,
        groups: m.sec_gids,
        tracking_gid: m.tracking_gid,
        pool_index: None,
        username,
        dn: m.dn,
        fqans: m.fqans,
        trace: Vec::new(),
    })
}

/// Close every descriptor above 2 (the root part's are close-on-exec; this
/// is the helper's own guarantee of a clean table).
fn close_other_descriptors() {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect();
    for fd in fds {
        // The directory's own descriptor is among them and already closed
        // when this runs: EBADF is fine.
        let _ = nix::unistd::close(fd);
    }
}
