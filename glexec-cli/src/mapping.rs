//! The mapping (steps 8 and 9 of the run): from the payload's credential to
//! an account, through LCAS (when `use_lcas`) and the LCMAPS engine with
//! its plugins.
//!
//! This is the part that issue #18 moves into an unprivileged helper
//! process, so it takes and gives plain data only. In: a [`Request`] — the
//! credential bytes as glexec read them as the caller, the caller's account
//! name, the mode, the command (for LCAS) and the glexec.conf values it
//! needs ([`Settings`]). Out: a [`Mapping`] (what LCMAPS's credential store
//! holds, not yet checked), or a refusal, a [`Failure`] with its class and
//! reason: 201 an unusable credential, 202 an unusable LCAS/LCMAPS
//! configuration, 203 LCAS or LCMAPS said no. Everything else — sanitising,
//! the configuration, the white list, reading the credential, checking the
//! answer, the target proxy, the environment, the switch, exec or linger —
//! is glexec's root side (`run.rs`). The log lines of the mapping (LCAS and
//! LCMAPS diagnostics, the plugins' own lines, one trace line per plugin
//! run) go to the `log` facade as they happen.

use std::path::PathBuf;

use lcmaps_core::db;
use lcmaps_core::lcas::{self, AuthzRequest, Lcas};
use lcmaps_core::plugin::Request as EngineRequest;
use lcmaps_core::policy::{self, Engine, Outcome, RunOptions};
use nix::unistd::{Uid, User};

use crate::config::{self, Config, SwitchBy};
use crate::tracking::{self, Tracking};
use crate::{proxy, Failure};

/// The payload user's credential, as read (nothing parsed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A proxy (PEM): its bytes, and where they came from (a path, or
    /// `SSL_CLIENT_CERT`) for messages.
    Proxy { pem: Vec<u8>, source: String },
    /// A bearer token (when no proxy was given).
    Token(String),
}

/// What is asked of LCMAPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Map the credential (`lcmaps_get_account_policy`).
    GetAccount,
    /// Legacy `GLEXEC_MODE=lcmaps_verify_account`: may the credential use
    /// this account (`lcmaps_verify_account_policy`)?
    VerifyAccount { uid: u32, gid: u32 },
}

/// The glexec.conf values the mapping uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Callers that may pass a proxy without a private key.
    pub omission_private_key_white_list: Vec<String>,
    /// Ask LCAS first.
    pub use_lcas: bool,
    /// `lcas_db_file`.
    pub lcas_db_file: PathBuf,
    /// `lcas_debug_level`.
    pub lcas_debug_level: u8,
    /// `lcmaps_db_file`.
    pub lcmaps_db_file: PathBuf,
    /// `lcmaps_log_file`.
    pub lcmaps_log_file: Option<PathBuf>,
    /// `lcmaps_debug_level`.
    pub lcmaps_debug_level: u8,
    /// `lcmaps_get_account_policy`.
    pub get_account_policy: Vec<String>,
    /// `lcmaps_verify_account_policy`.
    pub verify_account_policy: Vec<String>,
    /// LCMAPS runs dry (plugins that would change the process identity do
    /// not): glexec switches identity itself (`user_identity_switch_by =
    /// glexec`).
    pub dry_run: bool,
}

impl Settings {
    /// The values from glexec.conf.
    pub fn from_config(cfg: &Config) -> Self {
        Settings {
            omission_private_key_white_list: cfg.omission_private_key_white_list.clone(),
            use_lcas: cfg.use_lcas,
            lcas_db_file: cfg.lcas_db_file.clone(),
            lcas_debug_level: cfg.lcas_debug_level,
            lcmaps_db_file: cfg.lcmaps_db_file.clone(),
            lcmaps_log_file: cfg.lcmaps_log_file.clone(),
            lcmaps_debug_level: cfg.lcmaps_debug_level,
            get_account_policy: cfg.lcmaps_get_account_policy.clone(),
            verify_account_policy: cfg.lcmaps_verify_account_policy.clone(),
            dry_run: cfg.user_identity_switch_by == SwitchBy::Glexec,
        }
    }
}

/// One question to the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The credential.
    pub credential: Credential,
    /// The caller's account name.
    pub caller_name: String,
    /// The command the payload will run (LCAS's `executable`).
    pub command: PathBuf,
    /// Map, or verify.
    pub mode: Mode,
    /// From glexec.conf.
    pub settings: Settings,
}

/// The answer: the credential's identity and what LCMAPS's credential store
/// holds at the end, as it is. The root side checks it
/// ([`crate::checks::check_mapping`]) before anything runs with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
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
    /// The tracking gid and options, when the tracking plugin gave one.
    pub tracking: Option<Tracking>,
}

/// Map (or verify) the credential; see the module documentation.
pub fn map(request: &Request) -> Result<Mapping, Failure> {
    let s = &request.settings;
    let cred = open_credential(&request.credential, &request.caller_name, s)?;
    engine_environment(s);
    if s.use_lcas {
        authorize(s, &cred, &request.command)?;
    }
    lcmaps(s, cred, request.mode)
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
fn open_credential(c: &Credential, caller_name: &str, s: &Settings) -> Result<Cred, Failure> {
    let (pem, source) = match c {
        Credential::Token(t) => {
            return Ok(Cred {
                dn: None,
                fqans: Vec::new(),
                pem: None,
                token: Some(t.clone()),
            })
        }
        Credential::Proxy { pem, source } => (pem, source),
    };
    let pem = String::from_utf8(pem.clone()).map_err(|_| {
        Failure::client(format!("{source} is not PEM text"), "pass a PEM proxy file")
    })?;
    if !proxy::has_private_key(&pem)
        && !config::in_white_list(&s.omission_private_key_white_list, caller_name)
    {
        return Err(Failure::client(
            format!("{source} has no private key"),
            "pass the full proxy (certificates and key)",
        ));
    }
    let x509 = lcmaps_x509::Credential::from_pem(&pem).map_err(|e| {
        Failure::client(
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
fn authorize(s: &Settings, cred: &Cred, command: &std::path::Path) -> Result<(), Failure> {
    let checked = lcas::check_file(&s.lcas_db_file, &lcas::Options::from_env());
    for d in &checked.diagnostics {
        d.log();
    }
    let lcas_cfg = checked.config.ok_or_else(|| {
        Failure::system(format!("{} is not usable", s.lcas_db_file.display()), SITE)
    })?;
    let mut l = Lcas::new(lcas_cfg, &lcas::BuiltinLoader)
        .map_err(|e| Failure::system(e.to_string(), SITE))?;
    let req = AuthzRequest {
        dn: cred.dn.clone(),
        request: Some(format!("&(executable=\"{}\")", command.display())),
        pem: cred.pem.clone(),
    };
    l.authorize(&req).map_err(|r| {
        Failure::authz(
            format!("LCAS refused: {}", r.reason),
            "this credential may not run here; contact the site",
        )
    })
}

/// LCMAPS: load the policy, run it, and take the account from the store.
fn lcmaps(s: &Settings, cred: Cred, mode: Mode) -> Result<Mapping, Failure> {
    let mut engine = load_engine(s)?;
    let request = engine_request(&cred, mode)?;
    let (engine_mode, policies) = match mode {
        Mode::GetAccount => (policy::Mode::Run, s.get_account_policy.clone()),
        Mode::VerifyAccount { .. } => (policy::Mode::Verify, s.verify_account_policy.clone()),
    };
    let opts = RunOptions {
        policies,
        dry_run: s.dry_run,
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
    check_outcome(&out, mode)?;
    let st = out.store;
    // The tracking plugin's gid lease and options are read while its
    // engine is alive.
    let tracking = tracking::from_config(engine.config(), &st.sec_gids).map_err(|e| {
        Failure::system(
            e,
            "the site must fix the tracking plugin in its LCMAPS policy",
        )
    })?;
    Ok(Mapping {
        dn: cred.dn,
        fqans: cred.fqans,
        uids: st.uids,
        pri_gids: st.pri_gids,
        sec_gids: st.sec_gids,
        tracking,
    })
}

/// The engine on `lcmaps_db_file`, with the built-in plugins, then C
/// `.mod`s.
fn load_engine(s: &Settings) -> Result<Engine, Failure> {
    let settings =
        lcmaps_core::env::Settings::from_env().map_err(|e| Failure::system(e.to_string(), SITE))?;
    let opts = lcmaps_builtins::validate_options(settings.modules_dir.clone());
    let checked = db::check_file(&s.lcmaps_db_file, &opts);
    for d in &checked.diagnostics {
        d.log();
    }
    let lcmaps_cfg = checked.config.ok_or_else(|| {
        Failure::system(
            format!("{} is not usable", s.lcmaps_db_file.display()),
            SITE,
        )
    })?;
    let loader = lcmaps_builtins::Loader::new(Box::new(lcmaps_host::CModLoader));
    Engine::new(lcmaps_cfg, &loader).map_err(|e| Failure::system(e.to_string(), SITE))
}

/// The engine's request. In verify mode LCMAPS's plugins verify a
/// requested account by name (lcmaps_localaccount needs the name; upstream
/// never reads the uid).
fn engine_request(cred: &Cred, mode: Mode) -> Result<EngineRequest, Failure> {
    let (requested_uid, requested_pgids, requested_username) = match mode {
        Mode::GetAccount => (None, Vec::new(), None),
        Mode::VerifyAccount { uid, gid } => {
            let name = User::from_uid(Uid::from_raw(uid))
                .ok()
                .flatten()
                .ok_or_else(|| {
                    Failure::authz(
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
fn check_outcome(out: &Outcome, mode: Mode) -> Result<(), Failure> {
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
                return Err(Failure::authz(
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
                return Err(Failure::authz(
                    format!(
                        "the requested uid {uid} gid {gid} is not what LCMAPS mapped for this credential (uids {:?}, primary gids {:?})",
                        st.uids, st.pri_gids
                    ),
                    "request the account the credential maps to",
                ));
            }
            Ok(())
        }
        Mode::GetAccount if !out.is_mapped() => Err(Failure::authz(
            format!("LCMAPS did not map the credential: {}", why()),
            "this credential has no account here; contact the site",
        )),
        Mode::GetAccount => Ok(()),
    }
}
