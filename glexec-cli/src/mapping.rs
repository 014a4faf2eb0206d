//! The mapping (steps 8 and 9 of the run), asked of the mapping helper
//! (`glexec-mapper`, issue #18): the root part parses nothing of the
//! caller's credential. It leases the tracking gid ([`tracking::lease`]),
//! starts the helper — as `mapping_account` with `privilege_separation =
//! yes`, as root otherwise — gives it the credential bytes, the caller and
//! the glexec.conf settings the mapping needs, writes the helper's log lines
//! to glexec's log, and turns its answer into a [`Mapping`] for the checks
//! (`checks.rs`) or a [`Failure`]. A helper that cannot start, crashes,
//! hangs past `mapping_timeout` or answers garbage is a 202 (the helper is
//! killed and reaped, nothing is written); its refusals keep their class
//! (201, 202, 203).

use std::path::Path;
use std::time::Duration;

use glexec_privsep::wire::TraceLevel;
use glexec_privsep::{
    Answer, Caller, CredentialKind, Helper, Job, Mode, RefusalKind, ServiceFailure, Settings,
};
use nix::unistd::User;

use crate::checks::Mapping;
use crate::config::{self, Config, SwitchBy};
use crate::credential::{Credential, Input};
use crate::privs::Ids;
use crate::tracking::{self, Lease};
use crate::{Exit, Failure};

/// What the mapping is asked about.
pub struct Question<'a> {
    /// The caller.
    pub caller: &'a Ids,
    /// The caller's account name.
    pub caller_name: &'a str,
    /// This run's id.
    pub id: &'a str,
    /// The credential as read.
    pub input: &'a Input,
    /// The payload's command.
    pub command: &'a Path,
    /// Map, or verify.
    pub mode: Mode,
}

const FIX_HELPER: &str = "the site must fix glexec's mapping helper (see the glexec log)";

/// Ask the helper; see the module documentation. The returned lease (if
/// any) must live until the payload has the gid (glexec execs or lingers
/// with it).
pub fn map(cfg: &Config, q: &Question<'_>) -> Result<(Mapping, Option<Lease>), Failure> {
    config::check_trusted_file(&cfg.mapping_helper)
        .map_err(|e| Failure::system(format!("mapping_helper: {}", e.message), e.hint))?;
    let account = mapping_account(cfg, q.caller)?;
    // A gid that cannot be leased (none free, -cgroup required without
    // cgroup v2) fails the tracking plugin in the helper, if the policy
    // runs it: LCMAPS refuses then, as when the plugin leased itself.
    let leased = tracking::lease(&cfg.lcmaps_db_file);
    let tracking = match &leased {
        Ok(l) => l.as_ref().map(|l| Ok(l.gid())),
        Err(e) => Some(Err(e.clone())),
    };
    let lease = leased.ok().flatten();
    let request = job(cfg, q, tracking).to_request();
    let timeout = Duration::from_secs(cfg.mapping_timeout);
    let answer = match ask_service(cfg, account, &request, timeout)? {
        Some(a) => a,
        None => {
            let helper = Helper {
                program: cfg.mapping_helper.clone(),
                args: Vec::new(),
                env: Vec::new(),
                account,
                timeout,
            };
            glexec_privsep::ask(&helper, &request)
                .map_err(|e| Failure::system(e.to_string(), FIX_HELPER))?
        }
    };
    match answer {
        Answer::Refused(r) => {
            log_trace(&r.trace);
            let exit = match r.kind {
                RefusalKind::Client => Exit::Client,
                RefusalKind::System => Exit::System,
                RefusalKind::Authorization => Exit::Authz,
            };
            Err(Failure::new(exit, r.reason, r.todo))
        }
        Answer::Mapped(m) => {
            log_trace(&m.trace);
            let tracking =
                tracking::adopt(lease.as_ref(), m.tracking_gid, &m.groups).map_err(|e| {
                    Failure::system(
                        e,
                        "the site must fix the tracking plugin in its LCMAPS policy",
                    )
                })?;
            let mapping = Mapping {
                dn: m.dn,
                fqans: m.fqans,
                uids: vec![m.uid],
                pri_gids: vec![m.gid],
                sec_gids: m.groups,
                tracking,
                helper: account,
            };
            Ok((mapping, lease))
        }
    }
}

/// The mapping service's answer, with privilege separation and a
/// `mapping_service` whose socket is there (`None`: no service to ask,
/// nothing sent; the run starts its own helper). A socket only root could
/// have made, answered by root's listener (systemd's) or the mapping
/// account's; after the request went out, every failure is the run's.
fn ask_service(
    cfg: &Config,
    account: Option<(u32, u32)>,
    request: &glexec_privsep::Request,
    timeout: Duration,
) -> Result<Option<Answer>, Failure> {
    let (Some(socket), Some((uid, _))) = (&cfg.mapping_service, account) else {
        return Ok(None);
    };
    if let Err(e) = config::check_trusted_socket(socket) {
        // No socket at all: no service (one lookup on the usual path).
        if std::fs::symlink_metadata(socket).is_err() {
            ::log::debug!(
                "mapping service {} is not running; starting a helper",
                socket.display()
            );
            return Ok(None);
        }
        return Err(Failure::system(
            format!("mapping_service: {}", e.message),
            e.hint,
        ));
    }
    match glexec_privsep::ask_service(socket, &[0, uid], request, timeout) {
        Ok(a) => {
            ::log::info!("mapped by the mapping service {}", socket.display());
            Ok(Some(a))
        }
        Err(ServiceFailure::Unavailable(e)) => {
            ::log::info!("the mapping service is not running ({e}); starting a helper");
            Ok(None)
        }
        Err(e) => Err(Failure::system(
            e.to_string(),
            "the site must fix glexec's mapping service (see the glexec log and the service's journal)",
        )),
    }
}

/// The helper's uid and gid: the mapping account with privilege
/// separation (never root, never the caller: a caller that could signal or
/// trace its helper could forge the answer), else none (it runs as glexec
/// does, as root).
fn mapping_account(cfg: &Config, caller: &Ids) -> Result<Option<(u32, u32)>, Failure> {
    if !cfg.privilege_separation {
        return Ok(None);
    }
    let name = &cfg.mapping_account;
    let user = User::from_name(name).ok().flatten().ok_or_else(|| {
        Failure::system(
            format!("mapping_account {name} does not exist"),
            "create the account (useradd --system glexec), or set mapping_account in /etc/glexec.conf",
        )
    })?;
    let (uid, gid) = (user.uid.as_raw(), user.gid.as_raw());
    if uid == 0 || gid == 0 {
        return Err(Failure::system(
            format!("mapping_account {name} is root's (uid {uid}, gid {gid})"),
            "give the mapping helper an unprivileged account of its own",
        ));
    }
    if uid == caller.uid {
        return Err(Failure::system(
            format!("mapping_account {name} is the caller's account"),
            "give the mapping helper an account of its own, not a pilot's",
        ));
    }
    Ok(Some((uid, gid)))
}

/// The question as the helper's job.
fn job(cfg: &Config, q: &Question<'_>, tracking: Option<Result<u32, String>>) -> Job {
    let (credential_kind, credential, credential_source) = match &q.input.credential {
        Credential::Proxy { pem, source } => (CredentialKind::Proxy, pem.clone(), source.clone()),
        Credential::Token { bytes, source } => {
            (CredentialKind::Token, bytes.clone(), source.clone())
        }
    };
    Job {
        caller: Caller {
            uid: q.caller.uid,
            gid: q.caller.gid,
            name: q.caller_name.to_string(),
        },
        correlation_id: q.id.to_string(),
        credential_kind,
        credential,
        credential_source,
        command: q.command.to_string_lossy().into_owned(),
        mode: q.mode,
        settings: Settings {
            private_key_optional: config::in_white_list(
                &cfg.omission_private_key_white_list,
                q.caller_name,
            ),
            use_lcas: cfg.use_lcas,
            lcas_db_file: cfg.lcas_db_file.clone(),
            lcas_debug_level: cfg.lcas_debug_level,
            lcmaps_db_file: cfg.lcmaps_db_file.clone(),
            lcmaps_log_file: cfg.lcmaps_log_file.clone(),
            lcmaps_debug_level: cfg.lcmaps_debug_level,
            get_account_policy: cfg.lcmaps_get_account_policy.clone(),
            verify_account_policy: cfg.lcmaps_verify_account_policy.clone(),
            dry_run: cfg.user_identity_switch_by == SwitchBy::Glexec,
            tracking,
        },
    }
}

/// The helper's log lines, into glexec's log at their levels.
fn log_trace(trace: &[String]) {
    for line in trace {
        let (level, text) = TraceLevel::split(line);
        match level {
            TraceLevel::Error => ::log::error!("{text}"),
            TraceLevel::Warn => ::log::warn!("{text}"),
            TraceLevel::Notice => {
                ::log::info!(target: lcmaps_core::log::NOTICE_TARGET, "{text}")
            }
            TraceLevel::Info => ::log::info!("{text}"),
            TraceLevel::Debug => ::log::debug!("{text}"),
        }
    }
}
