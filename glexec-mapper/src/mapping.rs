//! The mapping (steps 8 and 9 of glexec's run): from the payload's
//! credential to an account, through LCAS (when `use_lcas`) and the LCMAPS
//! engine with its plugins, in the helper process.
//!
//! In: a [`Job`] — the credential bytes as glexec read them as the caller,
//! the mode, the command (for LCAS) and the glexec.conf values the mapping
//! needs. Out: a [`Mapped`] account (what LCMAPS's credential store holds,
//! for the root part to check) or a [`Refusal`] with its class: client (an
//! unusable credential, 201), system (an unusable LCAS/LCMAPS
//! configuration, 202), authorization (LCAS or LCMAPS said no, 203). The
//! log lines of the mapping (LCAS and LCMAPS diagnostics, the plugins' own
//! lines, one trace line per plugin run) go to the `log` facade.

use glexec_privsep::wire::MAX_TEXT;
use glexec_privsep::{CredentialKind, Job, Mode, Refusal, RefusalKind, Settings};
use lcmaps_core::db;
use lcmaps_core::lcas::{self, AuthzRequest, Lcas};
use lcmaps_core::plugin::Request as EngineRequest;
use lcmaps_core::policy::{self, Engine, Outcome, RunOptions};
use lcmaps_scitokens::decisions;
use nix::unistd::{Uid, User};

/// What LCMAPS gave: the credential's identity and the store's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The proxy's DN (`None` for a bearer token).
    pub dn: Option<String>,
    /// The proxy's verified FQANs.
    pub fqans: Vec<String>,
    /// Uids, in the order the plugins added them.
    pub uids: Vec<u32>,
    /// Primary gids, in the order added.
    pub pri_gids: Vec<u32>,
    /// Secondary gids.
    pub sec_gids: Vec<u32>,
    /// The tracking gid the tracking plugin gave, when it ran.
    pub tracking_gid: Option<u32>,
}

fn refusal(kind: RefusalKind, what: impl Into<String>, todo: impl Into<String>) -> Refusal {
    Refusal {
        kind,
        reason: what.into(),
        todo: todo.into(),
        trace: Vec::new(),
    }
}

fn client(what: impl Into<String>, todo: impl Into<String>) -> Refusal {
    refusal(RefusalKind::Client, what, todo)
}

fn system(what: impl Into<String>, todo: impl Into<String>) -> Refusal {
    refusal(RefusalKind::System, what, todo)
}

fn authz(what: impl Into<String>, todo: impl Into<String>) -> Refusal {
    refusal(RefusalKind::Authorization, what, todo)
}

/// Map (or verify) the credential; see the module documentation.
pub fn map(job: &Job) -> Result<Mapped, Refusal> {
    let s = &job.settings;
    let cred = open_credential(job)?;
    engine_environment(s);
    if s.use_lcas {
        authorize(s, &cred, &job.command)?;
    }
    lcmaps(s, cred, job.mode)
}

const SITE: &str = "the site must fix its LCAS/LCMAPS configuration (see the glexec log)";

/// The credential as the engine sees it: a proxy (DN, FQANs, PEM) or a
/// bearer token.
struct Cred {
    dn: Option<String>,
    fqans: Vec<String>,
    pem: Option<String>,
    token: Option<String>,
}

/// Look inside the credential: PEM text, a private key (unless the caller
/// may omit it), DN and verified FQANs.
fn open_credential(job: &Job) -> Result<Cred, Refusal> {
    let source = &job.credential_source;
    if job.credential_kind == CredentialKind::Token {
        let token = String::from_utf8(job.credential.clone())
            .map_err(|_| client(format!("{source} is not text"), "pass a JWT"))?;
        return Ok(Cred {
            dn: None,
            fqans: Vec::new(),
            pem: None,
            token: Some(token),
        });
    }
    let pem = String::from_utf8(job.credential.clone())
        .map_err(|_| client(format!("{source} is not PEM text"), "pass a PEM proxy file"))?;
    if !has_private_key(&pem) && !job.settings.private_key_optional {
        return Err(client(
            format!("{source} has no private key"),
            "pass the full proxy (certificates and key)",
        ));
    }
    let x509 = lcmaps_x509::Credential::from_pem_shared(&pem).map_err(|e| {
        client(
            format!("{source} is not a usable proxy: {e}"),
            "pass a valid proxy (voms-proxy-info -all shows it)",
        )
    })?;
    let dn = x509.user_dn().to_string();
    // As LCMAPS: VOMS problems are warnings, the run goes on without them.
    let opts = lcmaps_x509::VomsOptions::default();
    let fqans = lcmaps_x509::voms::verified_fqans(&x509, &opts);
    Ok(Cred {
        dn: Some(dn),
        fqans,
        pem: Some(pem),
        token: None,
    })
}

/// The engine and its plugins see only what glexec.conf says.
fn engine_environment(s: &Settings) {
    std::env::set_var("LCMAPS_DB_FILE", &s.lcmaps_db_file);
    std::env::set_var("LCMAPS_DEBUG_LEVEL", s.lcmaps_debug_level.to_string());
    if let Some(f) = &s.lcmaps_log_file {
        std::env::set_var("LCMAPS_LOG_FILE", f);
    }
    std::env::set_var("LCAS_DB_FILE", &s.lcas_db_file);
    std::env::set_var("LCAS_DEBUG_LEVEL", s.lcas_debug_level.to_string());
}

/// LCAS: may this credential run `command` here at all?
fn authorize(s: &Settings, cred: &Cred, command: &str) -> Result<(), Refusal> {
    let checked = lcas::check_file(&s.lcas_db_file, &lcas::Options::from_env());
    for d in &checked.diagnostics {
        d.log();
    }
    let lcas_cfg = checked
        .config
        .ok_or_else(|| system(format!("{} is not usable", s.lcas_db_file.display()), SITE))?;
    let mut l =
        Lcas::new(lcas_cfg, &lcas::BuiltinLoader).map_err(|e| system(e.to_string(), SITE))?;
    let req = AuthzRequest {
        dn: cred.dn.clone(),
        request: Some(format!("&(executable=\"{command}\")")),
        pem: cred.pem.clone(),
    };
    l.authorize(&req).map_err(|r| {
        authz(
            format!("LCAS refused: {}", r.reason),
            "this credential may not run here; contact the site",
        )
    })
}

/// LCMAPS: load the policy, run it, and take the account from the store.
fn lcmaps(s: &Settings, cred: Cred, mode: Mode) -> Result<Mapped, Refusal> {
    let mut engine = load_engine(s)?;
    let request = engine_request(&cred, mode)?;
    let (engine_mode, policies) = match mode {
        Mode::GetAccount => (policy::Mode::Run, s.get_account_policy.clone()),
        Mode::VerifyAccount { .. } => (policy::Mode::Verify, s.verify_account_policy.clone()),
    };
    let opts = RunOptions {
        policies,
        dry_run: s.dry_run,
        ..RunOptions::default()
    };
    let out = engine.run(&request, engine_mode, &opts);
    for step in &out.trace {
        ::log::info!(
            "lcmaps{}: policy {} plugin {} ({}): {:?}",
            match mode {
                Mode::VerifyAccount { .. } => " verify",
                Mode::GetAccount => "",
            },
            step.policy,
            step.plugin,
            step.module,
            step.status
        );
    }
    check_outcome(&out, mode).map_err(|mut r| {
        // A refused token: say which check refused it (the token plugins'
        // own decision, made again with the same files). As a verification
        // makes it: a refusal must not lease a pool account the run did not
        // (when an earlier plugin refused, the token plugin never ran).
        if let Some(t) = &request.token {
            let why = decisions::refusals(&decisions::explain(
                engine.config(),
                t,
                request.requested_username.as_deref(),
                true,
            ));
            if !why.is_empty() {
                r.reason = wire_text(&format!("{} ({why})", r.reason));
            }
        }
        r
    })?;
    let st = out.store;
    Ok(Mapped {
        dn: cred.dn,
        fqans: cred.fqans,
        uids: st.uids,
        pri_gids: st.pri_gids,
        sec_gids: st.sec_gids,
        tracking_gid: lcmaps_plugin_glexec_tracking::leased_gid(),
    })
}

/// The engine on `lcmaps_db_file`, with the built-in plugins, then C
/// `.mod`s.
fn load_engine(s: &Settings) -> Result<Engine, Refusal> {
    let settings =
        lcmaps_core::env::Settings::from_env().map_err(|e| system(e.to_string(), SITE))?;
    let opts = lcmaps_builtins::validate_options(settings.modules_dir.clone());
    let checked = db::check_file(&s.lcmaps_db_file, &opts);
    for d in &checked.diagnostics {
        d.log();
    }
    let lcmaps_cfg = checked.config.ok_or_else(|| {
        system(
            format!("{} is not usable", s.lcmaps_db_file.display()),
            SITE,
        )
    })?;
    let loader = lcmaps_builtins::Loader::new(Box::new(lcmaps_host::CModLoader));
    Engine::new(lcmaps_cfg, &loader).map_err(|e| system(e.to_string(), SITE))
}

/// The engine's request. In verify mode LCMAPS's plugins verify a
/// requested account by name (lcmaps_localaccount needs the name; upstream
/// never reads the uid).
fn engine_request(cred: &Cred, mode: Mode) -> Result<EngineRequest, Refusal> {
    let (requested_uid, requested_pgids, requested_username) = match mode {
        Mode::GetAccount => (None, Vec::new(), None),
        Mode::VerifyAccount { uid, gid } => {
            let name = User::from_uid(Uid::from_raw(uid))
                .ok()
                .flatten()
                .ok_or_else(|| {
                    authz(
                        format!("the requested uid {uid} has no account on this node"),
                        "request an account that exists",
                    )
                })?
                .name;
            (Some(uid), vec![gid], Some(name))
        }
    };
    Ok(EngineRequest {
        user_dn: cred.dn.clone(),
        fqans: cred.fqans.clone(),
        pem: cred.pem.clone(),
        token: cred.token.clone(),
        requested_uid,
        requested_pgids,
        requested_username,
        ..EngineRequest::default()
    })
}

/// Did LCMAPS map the credential (or verify the requested account)?
fn check_outcome(out: &Outcome, mode: Mode) -> Result<(), Refusal> {
    let why = || {
        out.error.clone().unwrap_or_else(|| match out.trace.last() {
            Some(s) => format!(
                "the last plugin, {} in policy {}, failed",
                s.plugin, s.policy
            ),
            None => "no policy ran".into(),
        })
    };
    match mode {
        Mode::VerifyAccount { uid, gid } => {
            if !out.status.is_success() {
                return Err(authz(
                    format!(
                        "LCMAPS did not verify uid {uid} gid {gid} for this credential: {}",
                        why()
                    ),
                    "this credential may not use that account; contact the site",
                ));
            }
            // The payload runs as what LCMAPS mapped, never as what the
            // caller asked for: the request must be exactly the mapped
            // account.
            let st = &out.store;
            if st.uids.as_slice() != [uid] || st.pri_gids.first() != Some(&gid) {
                return Err(authz(
                    format!(
                        "the requested uid {uid} gid {gid} is not what LCMAPS mapped for this credential (uids {:?}, primary gids {:?})",
                        st.uids, st.pri_gids
                    ),
                    "request the account the credential maps to",
                ));
            }
            Ok(())
        }
        Mode::GetAccount if !out.is_mapped() => Err(authz(
            format!("LCMAPS did not map the credential: {}", why()),
            "this credential has no account here; contact the site",
        )),
        Mode::GetAccount => Ok(()),
    }
}

/// `s` as a reason the answer can carry: control characters escaped (a
/// token's claims are the client's text), at most [`MAX_TEXT`] bytes.
fn wire_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let e: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        if out.len() + e.len() > MAX_TEXT - 3 {
            out.push_str("...");
            break;
        }
        out.push_str(&e);
    }
    out
}

/// Whether a PEM text carries a private key.
pub fn has_private_key(pem: &str) -> bool {
    pem.contains("PRIVATE KEY-----")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_fit_the_wire() {
        let r = wire_text(&format!("a\nb{}", "x".repeat(5000)));
        assert!(r.starts_with("a\\nb") && r.ends_with("...") && r.len() <= MAX_TEXT);
    }

    #[test]
    fn private_keys_are_recognised() {
        assert!(has_private_key("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(has_private_key("-----BEGIN PRIVATE KEY-----"));
        assert!(!has_private_key("-----BEGIN CERTIFICATE-----"));
    }
}
