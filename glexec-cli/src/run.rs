//! One glexec run, in the order of the specification: sanitise, options,
//! configuration, logging, caller white list, proxies, LCAS, LCMAPS, mapping
//! checks, target proxy, environment, identity switch and exec.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use lcmaps_core::db;
use lcmaps_core::lcas::{self, AuthzRequest, Lcas};
use lcmaps_core::plugin::Request;
use lcmaps_core::policy::{Engine, Mode, RunOptions};
use nix::sys::signal::{SigSet, Signal};
use nix::unistd::{Gid, Pid, Uid, User};
use signal_hook::iterator::Signals;

use crate::config::{self, Config, SwitchBy};
use crate::env::{self, CallerEnv, TargetIdentity};
use crate::log::{self as glog, GlexecLogger};
use crate::privs::{self, Ids, Launch};
use crate::proxy;
use crate::tracking::{self, Tracking};
use crate::{payload_code, Exit, Failure};

const USAGE: &str =
    "usage: glexec /absolute/path/to/command [arguments...]\n       glexec -h | -v | -V\n\n\
Runs the command as the account the site's LCAS/LCMAPS policy maps the proxy in\n\
GLEXEC_CLIENT_CERT (or X509_USER_PROXY) to. Exit codes: 201 caller error,\n\
202 site configuration or system error, 203 not authorized, 204 the command\n\
itself exited 201-204; otherwise the command's exit code.\n";

/// Signals a lingering glexec passes on to the payload.
const FORWARDED: [Signal; 8] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGCONT,
    Signal::SIGTSTP,
];

fn client(what: impl Into<String>, todo: impl Into<String>) -> Failure {
    Failure::new(Exit::Client, what, todo)
}

fn system(what: impl Into<String>, todo: impl Into<String>) -> Failure {
    Failure::new(Exit::System, what, todo)
}

fn authz(what: impl Into<String>, todo: impl Into<String>) -> Failure {
    Failure::new(Exit::Authz, what, todo)
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
                .map_err(|e| system(format!("cannot open /dev/null: {e}"), "check the node"))?;
            let got = f.into_raw_fd();
            if got != fd {
                return Err(system(
                    "cannot reopen closed standard descriptors",
                    "check the node",
                ));
            }
        }
    }
    Ok(())
}

/// Capture and clear the environment; reset umask and signal mask.
fn sanitise() -> Result<CallerEnv, Failure> {
    ensure_stdio()?;
    let vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    // An entry without a name (`=X=1`, which std reads as the name `=X`)
    // cannot be removed and must not reach anything: refuse the run.
    if let Some((k, _)) = vars
        .iter()
        .find(|(k, _)| k.is_empty() || k.as_encoded_bytes().contains(&b'='))
    {
        return Err(client(
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
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    let _ = SigSet::empty().thread_set_mask();
    Ok(CallerEnv::capture(vars))
}

fn print_defaults() {
    println!("glexec {} (lcmaps-rs)", env!("CARGO_PKG_VERSION"));
    println!("configuration file: {}", config::CONF_PATH);
    let d = Config::default();
    println!("lcmaps_db_file default: {}", d.lcmaps_db_file.display());
    println!(
        "lcmaps_get_account_policy default: {}",
        d.lcmaps_get_account_policy.join(":")
    );
    println!("lcas_db_file default: {}", d.lcas_db_file.display());
    println!(
        "LCMAPS module directory default: {}",
        lcmaps_core::env::MOD_HOME
    );
    println!(
        "LCAS module directory default: {}",
        lcmaps_core::lcas::MOD_HOME
    );
    println!(
        "log: syslog {} (or log_file {})",
        d.syslog_facility,
        d.log_file.display()
    );
    println!("min_target_uid default: {}", d.min_target_uid);
    println!("maximum proxy size: {} bytes", proxy::MAX_PROXY_SIZE);
}

fn install_logging(cfg: &Config, id: &str) -> Result<(), Failure> {
    let max = glog::level_filter(cfg.log_level);
    let logger = if cfg.silent_logging {
        GlexecLogger::silent(id.to_string())
    } else {
        match cfg.log_destination {
            config::LogDestination::Syslog => {
                let fac =
                    glog::facility(&cfg.syslog_facility).unwrap_or(syslog::Facility::LOG_DAEMON);
                GlexecLogger::syslog(fac, id.to_string(), max).map_err(|e| {
                    system(e, "make syslog available, or set log_destination = file")
                })?
            }
            config::LogDestination::File => {
                let f = glog::open_log_file(&cfg.log_file)
                    .map_err(|e| system(e, "fix log_file in /etc/glexec.conf"))?;
                GlexecLogger::file(f, id.to_string(), max)
            }
        }
    };
    logger.install();
    Ok(())
}

/// Where the credential comes from.
struct Inputs {
    client_pem: Vec<u8>,
    source_pem: Vec<u8>,
    client_name: String,
}

/// The proxy inputs, or `None` when no proxy is given at all.
fn read_inputs(
    caller_env: &CallerEnv,
    caller: &Ids,
    cfg: &Config,
) -> Result<Option<Inputs>, Failure> {
    let fix =
        "point GLEXEC_CLIENT_CERT at the payload's proxy: absolute path, owned by you, mode 600";
    let client_path = caller_env
        .get("GLEXEC_CLIENT_CERT")
        .filter(|v| !v.is_empty())
        .or_else(|| caller_env.get("X509_USER_PROXY").filter(|v| !v.is_empty()))
        .map(PathBuf::from);
    let (client_pem, client_name) = match (&client_path, caller_env.get("SSL_CLIENT_CERT")) {
        (Some(p), _) => (
            proxy::read_input(p, caller, cfg.input_lock_mechanism).map_err(|e| client(e, fix))?,
            p.display().to_string(),
        ),
        (None, Some(pem)) if !pem.is_empty() => {
            let b = std::os::unix::ffi::OsStrExt::as_bytes(pem).to_vec();
            if b.len() as u64 > proxy::MAX_PROXY_SIZE {
                return Err(client("SSL_CLIENT_CERT is too large", fix));
            }
            (b, "SSL_CLIENT_CERT".to_string())
        }
        _ => return Ok(None),
    };
    let source_pem = match caller_env.get("GLEXEC_SOURCE_PROXY") {
        None => client_pem.clone(),
        Some(v) if v.is_empty() => {
            return Err(client(
                "GLEXEC_SOURCE_PROXY is set but empty",
                "unset it or name the proxy to copy",
            ))
        }
        Some(v) => {
            let p = PathBuf::from(v);
            if client_path.as_deref() == Some(p.as_path()) {
                client_pem.clone()
            } else {
                proxy::read_input(&p, caller, cfg.input_lock_mechanism).map_err(|e| {
                    client(
                        e,
                        "fix GLEXEC_SOURCE_PROXY: absolute path, owned by you, mode 600",
                    )
                })?
            }
        }
    };
    Ok(Some(Inputs {
        client_pem,
        source_pem,
        client_name,
    }))
}

/// A bearer token: `GLEXEC_BEARER_TOKEN_FILE`, else the WLCG discovery
/// (`BEARER_TOKEN`, `BEARER_TOKEN_FILE`, `$XDG_RUNTIME_DIR/bt_u<uid>`,
/// `/tmp/bt_u<uid>`). Files are read like proxies: as the caller, with the
/// same ownership, mode, link and size checks.
fn read_token(
    caller_env: &CallerEnv,
    caller: &Ids,
    cfg: &Config,
) -> Result<Option<String>, Failure> {
    use lcmaps_scitokens::discovery::{self, TokenSource};
    let fix = "point GLEXEC_BEARER_TOKEN_FILE (or BEARER_TOKEN_FILE) at the token: absolute path, owned by you, mode 600";
    let var = |k: &str| caller_env.get(k).and_then(|v| v.to_str()).map(String::from);
    let source = match var("GLEXEC_BEARER_TOKEN_FILE").filter(|v| !v.is_empty()) {
        Some(f) => Some(TokenSource::File(f.into())),
        None => discovery::discover(var, caller.uid, |p| {
            privs::as_user(caller, || p.exists()).unwrap_or(false)
        }),
    };
    match source {
        None => Ok(None),
        Some(TokenSource::Inline(t)) => Ok(Some(t)),
        Some(TokenSource::File(p)) => {
            let bytes = proxy::read_input(&p, caller, cfg.input_lock_mechanism)
                .map_err(|e| client(e, fix))?;
            discovery::token_from_bytes(
                &bytes,
                &p.display().to_string(),
                lcmaps_scitokens::config::DEFAULT_MAX_TOKEN,
            )
            .map(Some)
            .map_err(|e| client(e.to_string(), fix))
        }
    }
}

/// DN and FQANs of the credential.
fn credential(pem: &str, name: &str) -> Result<(String, Vec<String>), Failure> {
    let cred = lcmaps_x509::Credential::from_pem(pem).map_err(|e| {
        client(
            format!("{name} is not a usable proxy: {e}"),
            "pass a valid proxy (voms-proxy-info -all shows it)",
        )
    })?;
    let dn = cred.user_dn().to_string();
    // As LCMAPS: VOMS problems are warnings, the run goes on without them.
    let opts = lcmaps_x509::VomsOptions::default();
    Ok((dn, lcmaps_x509::voms::verified_fqans(&cred, &opts)))
}

/// The payload user's credential: a proxy (DN, FQANs, PEM), a bearer
/// token, or both.
struct Cred {
    dn: Option<String>,
    fqans: Vec<String>,
    pem: Option<String>,
    token: Option<String>,
}

/// The account the mapping gave.
struct Target {
    ids: Ids,
    name: String,
    home: PathBuf,
    tracking: Option<Tracking>,
}

/// Checks what the mapping gave before anything runs with it: one uid, a
/// primary gid, nothing root's, nothing below `min_target_uid` /
/// `min_target_gid` (system accounts and groups such as `disk` or
/// `shadow`), secondary groups included but for the tracking gid, which
/// comes from the tracking plugin's own range.
fn check_mapping(
    uids: &[u32],
    pgids: &[u32],
    sgids: &[u32],
    tracking_gid: Option<u32>,
    cfg: &Config,
) -> Result<Target, Failure> {
    let todo = "ask the site to fix its mapping policy";
    let [uid] = uids else {
        return Err(authz(
            format!(
                "the mapping gave {} uids; exactly one is needed",
                uids.len()
            ),
            todo,
        ));
    };
    let Some(&gid) = pgids.first() else {
        return Err(authz("the mapping gave no primary group", todo));
    };
    let uid = *uid;
    if uid == 0 || gid == 0 {
        return Err(authz(
            format!("the mapping gave uid {uid} / gid {gid}; glexec never runs payloads as root"),
            todo,
        ));
    }
    if uid < cfg.min_target_uid {
        return Err(authz(
            format!(
                "the mapped uid {uid} is below min_target_uid {}",
                cfg.min_target_uid
            ),
            todo,
        ));
    }
    if gid < cfg.min_target_gid {
        return Err(authz(
            format!(
                "the mapped gid {gid} is below min_target_gid {}",
                cfg.min_target_gid
            ),
            todo,
        ));
    }
    if sgids.contains(&0) {
        return Err(authz("the mapping gave secondary group 0 (root)", todo));
    }
    if let Some(g) = sgids
        .iter()
        .find(|g| **g < cfg.min_target_gid && Some(**g) != tracking_gid)
    {
        return Err(authz(
            format!(
                "the mapped secondary gid {g} is below min_target_gid {}",
                cfg.min_target_gid
            ),
            todo,
        ));
    }
    let user = User::from_uid(Uid::from_raw(uid))
        .map_err(|e| {
            system(
                format!("cannot look up uid {uid}: {e}"),
                "check the account database",
            )
        })?
        .ok_or_else(|| {
            authz(
                format!("the mapped uid {uid} has no account on this node"),
                todo,
            )
        })?;
    Ok(Target {
        tracking: None,
        ids: Ids {
            uid,
            gid,
            groups: sgids.to_vec(),
        },
        name: user.name,
        home: user.dir,
    })
}

/// Map with LCAS (when enabled) and LCMAPS. Returns the target account.
/// With `verify = Some((uid, gid))` (legacy `GLEXEC_MODE=lcmaps_verify_account`)
/// the policies of `lcmaps_verify_account_policy` verify that account instead.
fn authorize_and_map(
    cfg: &Config,
    cred: &Cred,
    command: &Path,
    verify: Option<(u32, u32)>,
) -> Result<Target, Failure> {
    // The engine and its plugins see only what glexec.conf says.
    std::env::set_var("LCMAPS_DB_FILE", &cfg.lcmaps_db_file);
    std::env::set_var("LCMAPS_DEBUG_LEVEL", cfg.lcmaps_debug_level.to_string());
    if let Some(f) = &cfg.lcmaps_log_file {
        std::env::set_var("LCMAPS_LOG_FILE", f);
    }
    std::env::set_var("LCAS_DB_FILE", &cfg.lcas_db_file);
    std::env::set_var("LCAS_DEBUG_LEVEL", cfg.lcas_debug_level.to_string());
    let site = "the site must fix its LCAS/LCMAPS configuration (see the glexec log)";

    if cfg.use_lcas {
        let checked = lcas::check_file(&cfg.lcas_db_file, &lcas::Options::from_env());
        for d in &checked.diagnostics {
            d.log();
        }
        let lcas_cfg = checked.config.ok_or_else(|| {
            system(
                format!("{} is not usable", cfg.lcas_db_file.display()),
                site,
            )
        })?;
        let mut l =
            Lcas::new(lcas_cfg, &lcas::BuiltinLoader).map_err(|e| system(e.to_string(), site))?;
        let req = AuthzRequest {
            dn: cred.dn.clone(),
            request: Some(format!("&(executable=\"{}\")", command.display())),
            pem: cred.pem.clone(),
        };
        l.authorize(&req).map_err(|r| {
            authz(
                format!("LCAS refused: {}", r.reason),
                "this credential may not run here; contact the site",
            )
        })?;
    }

    let settings =
        lcmaps_core::env::Settings::from_env().map_err(|e| system(e.to_string(), site))?;
    let opts = lcmaps_builtins::validate_options(settings.modules_dir.clone());
    let checked = db::check_file(&cfg.lcmaps_db_file, &opts);
    for d in &checked.diagnostics {
        d.log();
    }
    let lcmaps_cfg = checked.config.ok_or_else(|| {
        system(
            format!("{} is not usable", cfg.lcmaps_db_file.display()),
            site,
        )
    })?;
    let mut engine = Engine::new(lcmaps_cfg, &loader()).map_err(|e| system(e.to_string(), site))?;
    // Verify mode: LCMAPS's plugins verify a requested account by name
    // (lcmaps_localaccount needs the name; upstream never reads the uid).
    let requested_username = match verify {
        Some((uid, _)) => Some(
            User::from_uid(Uid::from_raw(uid))
                .ok()
                .flatten()
                .ok_or_else(|| {
                    authz(
                        format!("the requested uid {uid} has no account on this node"),
                        "request an account that exists",
                    )
                })?
                .name,
        ),
        None => None,
    };
    let request = Request {
        user_dn: cred.dn.clone(),
        fqans: cred.fqans.clone(),
        pem: cred.pem.clone(),
        token: cred.token.clone(),
        requested_uid: verify.map(|(u, _)| u),
        requested_pgids: verify.map(|(_, g)| vec![g]).unwrap_or_default(),
        requested_username,
        ..Request::default()
    };
    let (mode, policies) = match verify {
        None => (Mode::Run, cfg.lcmaps_get_account_policy.clone()),
        Some(_) => (Mode::Verify, cfg.lcmaps_verify_account_policy.clone()),
    };
    let opts = RunOptions {
        policies,
        dry_run: cfg.user_identity_switch_by == SwitchBy::Glexec,
    };
    let out = engine.run(&request, mode, &opts);
    for s in &out.trace {
        ::log::info!(
            "lcmaps{}: policy {} plugin {} ({}): {:?}",
            if verify.is_some() { " verify" } else { "" },
            s.policy,
            s.plugin,
            s.module,
            s.status
        );
    }
    let why = || {
        out.error.clone().unwrap_or_else(|| match out.trace.last() {
            Some(s) => format!(
                "the last plugin, {} in policy {}, failed",
                s.plugin, s.policy
            ),
            None => "no policy ran".into(),
        })
    };
    if let Some((uid, gid)) = verify {
        if !out.status.is_success() {
            return Err(authz(
                format!(
                    "LCMAPS did not verify uid {uid} gid {gid} for this credential: {}",
                    why()
                ),
                "this credential may not use that account; contact the site",
            ));
        }
        // The payload runs as what LCMAPS mapped, never as what the caller
        // asked for: the request must be exactly the mapped account.
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
    } else if !out.is_mapped() {
        return Err(authz(
            format!("LCMAPS did not map the credential: {}", why()),
            "this credential has no account here; contact the site",
        ));
    }
    let s = &out.store;
    let tracking = tracking::from_config(engine.config(), &s.sec_gids).map_err(|e| {
        system(
            e,
            "the site must fix the tracking plugin in its LCMAPS policy",
        )
    })?;
    let mut target = check_mapping(
        &s.uids,
        &s.pri_gids,
        &s.sec_gids,
        tracking.as_ref().map(|t| t.gid),
        cfg,
    )?;
    target.tracking = tracking;
    Ok(target)
}

/// The plugin loader: built-ins, then C modules.
fn loader() -> impl lcmaps_core::policy::PluginLoader {
    lcmaps_builtins::Loader::new(Box::new(lcmaps_capi::CModLoader))
}

fn the_only_thread() -> bool {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count() == 1)
        .unwrap_or(false)
}

/// The payload's cgroup (tracking plugin `-cgroup`), made before the fork.
struct PayloadCgroup {
    cg: tracking::Cgroup,
    /// glexec's own cgroup, to return to after the fork.
    home: PathBuf,
    required: bool,
}

/// Makes the payload's cgroup when the tracking asks for one and it can be
/// made; with `-cgroup required` a failure is an error (fail closed).
fn payload_cgroup(t: &Tracking, linger: bool) -> Result<Option<PayloadCgroup>, Failure> {
    use lcmaps_plugin_glexec_tracking::cgroup;
    let required = t.cgroup == tracking::CgroupMode::Required;
    let made = || -> Result<PayloadCgroup, String> {
        if !linger {
            return Err("glexec does not linger (linger = no)".into());
        }
        if !privs::running_as_root() {
            return Err(
                "glexec has no root privileges at the fork (user_identity_switch_by = lcmaps?)"
                    .into(),
            );
        }
        let home = cgroup::own_dir()?;
        let parent = cgroup::parent_dir(t.cgroup_parent.as_deref())?;
        let cg = tracking::Cgroup::create(&parent, std::process::id())?;
        Ok(PayloadCgroup { cg, home, required })
    };
    match t.cgroup {
        tracking::CgroupMode::Off => Ok(None),
        _ => match made() {
            Ok(p) => {
                ::log::info!(
                    "tracking gid {}: payload cgroup {}",
                    t.gid,
                    p.cg.path().display()
                );
                Ok(Some(p))
            }
            Err(e) if required => Err(system(
                format!("-cgroup required, but the payload's cgroup cannot be made: {e}"),
                "make cgroup v2 writable for glexec or set -cgroup auto in the tracking plugin",
            )),
            Err(e) => {
                ::log::info!("tracking gid {} without a cgroup: {e}", t.gid);
                Ok(None)
            }
        },
    }
}

/// Run `cmd`, wait for it and pass on signals. Returns the exit code to use
/// and the payload's pid. With a cgroup, glexec enters it just for the fork,
/// so the payload is in it from its start.
fn linger(
    mut cmd: Command,
    launch: &Launch,
    tracking: Option<Tracking>,
    cgroup: Option<PayloadCgroup>,
) -> Result<(u8, u32), Failure> {
    // Forwarded signals and SIGCHLD are caught (signal-hook's self-pipe)
    // from before the fork, so none is lost; the child's mask is glexec's
    // (empty, see `sanitise`), and caught signals revert to their default
    // action in it at exec.
    let mut signals = Signals::new(
        FORWARDED
            .iter()
            .chain(&[Signal::SIGCHLD])
            .map(|s| *s as i32),
    )
    .map_err(|e| system(format!("cannot catch signals: {e}"), "check the node"))?;
    let started = std::time::SystemTime::now();
    let cgroup = match cgroup {
        Some(pc) => match pc.cg.add(0) {
            Ok(()) => Some(pc),
            Err(e) => {
                let _ = pc.cg.remove();
                if pc.required {
                    return Err(system(
                        format!("-cgroup required, but glexec cannot enter the payload's cgroup: {e}"),
                        "make cgroup v2 writable for glexec or set -cgroup auto in the tracking plugin",
                    ));
                }
                ::log::warn!("payload without a cgroup: {e}");
                None
            }
        },
        None => None,
    };
    let spawned = launch.spawn(&mut cmd);
    if let Some(pc) = &cgroup {
        if let Err(e) = tracking::Cgroup::move_to(&pc.home, 0) {
            // glexec must not stay in the cgroup it is going to kill.
            if let Ok(mut c) = spawned {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(system(
                format!("cannot leave the payload's cgroup: {e}"),
                "check the node's cgroups",
            ));
        }
    }
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            if let Some(pc) = cgroup {
                let _ = pc.cg.remove();
            }
            return Err(spawn_failure(&e));
        }
    };
    let pid = Pid::from_raw(child.id() as i32);
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| system(format!("waitpid: {e}"), "check the node"))?
        {
            if let Some(t) = tracking {
                let killed = if t.kill {
                    tracking::kill_leftovers(t.gid, cgroup.as_ref().map(|p| &p.cg))
                } else {
                    0
                };
                let cg_record = match cgroup {
                    Some(pc) => {
                        let text = format!("; cgroup {} {}", pc.cg.path().display(), pc.cg.usage());
                        if pc.cg.populated() {
                            ::log::info!(
                                "{} kept: processes are left in it",
                                pc.cg.path().display()
                            );
                        } else if let Err(e) = pc.cg.remove() {
                            ::log::warn!("cannot remove the payload's cgroup: {e}");
                        }
                        text
                    }
                    None => String::new(),
                };
                let usage =
                    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN);
                let (user, sys, rss) = usage
                    .map(|u| {
                        let secs = |t: nix::sys::time::TimeVal| {
                            t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6
                        };
                        (secs(u.user_time()), secs(u.system_time()), u.max_rss())
                    })
                    .unwrap_or((0.0, 0.0, 0));
                ::log::info!(
                    target: lcmaps_core::log::NOTICE_TARGET,
                    "usage: payload pid {pid} tracking gid {} started {} ended {} user {user:.3}s system {sys:.3}s max rss {rss} KiB; {killed} leftover processes killed{cg_record}",
                    t.gid,
                    lcmaps_core::log::timestamp(started),
                    lcmaps_core::log::timestamp(std::time::SystemTime::now()),
                );
            }
            let code = match (status.code(), status.signal()) {
                (Some(c), _) => {
                    if (201..=204).contains(&c) {
                        ::log::warn!("the payload exited {c}, reported as 204");
                    }
                    payload_code(c)
                }
                (None, Some(sig)) => {
                    ::log::info!("the payload was killed by signal {sig}");
                    (128 + sig) as u8
                }
                _ => 1,
            };
            return Ok((code, child.id()));
        }
        for sig in signals.wait() {
            match Signal::try_from(sig) {
                Ok(Signal::SIGCHLD) | Err(_) => {}
                Ok(sig) => {
                    let _ = nix::sys::signal::kill(pid, sig);
                }
            }
        }
    }
}

fn spawn_failure(e: &std::io::Error) -> Failure {
    match e.raw_os_error() {
        Some(libc::ENOENT) => client(
            format!("cannot run the command: {e}"),
            "give an existing absolute path",
        ),
        Some(libc::EACCES) | Some(libc::ENOEXEC) => client(
            format!("cannot run the command as the mapped account: {e}"),
            "make the command executable by that account",
        ),
        _ => system(
            format!("cannot start the payload: {e}"),
            "see the glexec log",
        ),
    }
}

/// The whole run; returns the exit code, or the failure.
pub fn run(id: &str) -> Result<u8, Failure> {
    let caller_env = sanitise()?;
    // The caller's `ulimit -f` must not turn glexec's own writes into a
    // SIGXFSZ death: the signal is caught (writes fail with EFBIG instead;
    // caught signals are default again in the payload) and the limits are
    // raised for glexec, the caller's going back to the payload.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let caller_limits = privs::reset_limits().map_err(|e| {
        client(
            e,
            "raise the hard file size limit (ulimit -Hf unlimited) of the pilot",
        )
    })?;
    // No HTTPS client runs with root privileges for a caller's token: key
    // refresh uses the cache and the local keys only.
    lcmaps_scitokens::remote::forbid_network();
    let caller = privs::caller();
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        None => {
            return Err(client(
                "no command given",
                "usage: glexec /path/to/command [args]",
            ))
        }
        Some("-h") | Some("--help") => {
            print!("{USAGE}");
            return Ok(0);
        }
        Some("-v") | Some("--version") => {
            println!("glexec {} (lcmaps-rs)", env!("CARGO_PKG_VERSION"));
            return Ok(0);
        }
        Some("-V") => {
            if caller.uid != 0 {
                return Err(client("-V is for root only", "run it as root"));
            }
            print_defaults();
            return Ok(0);
        }
        Some(o) if o.starts_with('-') => {
            return Err(client(
                format!("unknown option {o}"),
                "glexec takes -h, -v, -V or a command",
            ))
        }
        _ => {}
    }
    // Legacy (gLExec 0.5) verify mode: `glexec <uid> <gid> <command> ...`.
    let verify = match caller_env.get("GLEXEC_MODE").and_then(|m| m.to_str()) {
        None | Some("lcmaps_get_account") => None,
        Some("lcmaps_verify_account") => {
            let num = |a: Option<&OsString>| {
                a.and_then(|a| a.to_str())
                    .and_then(|a| a.parse::<u32>().ok())
            };
            let (Some(uid), Some(gid)) = (num(args.first()), num(args.get(1))) else {
                return Err(client(
                    "GLEXEC_MODE=lcmaps_verify_account needs `glexec <uid> <gid> <command> ...`",
                    "give the uid and gid to verify before the command",
                ));
            };
            args.drain(..2);
            if args.is_empty() {
                return Err(client(
                    "no command given",
                    "usage: glexec <uid> <gid> /path/to/command [args]",
                ));
            }
            Some((uid, gid))
        }
        Some(other) => {
            return Err(client(
                format!("unknown GLEXEC_MODE {other}"),
                "use lcmaps_get_account (or leave GLEXEC_MODE unset)",
            ))
        }
    };
    let command = PathBuf::from(args.remove(0));
    if !command.is_absolute() {
        return Err(client(
            format!("the command {} is not an absolute path", command.display()),
            "give the full path",
        ));
    }

    let (cfg, warnings) = config::load(Path::new(config::CONF_PATH))
        .map_err(|e| system(e.message, format!("the site must fix it: {}", e.hint)))?;
    install_logging(&cfg, id)?;
    for w in warnings {
        ::log::warn!("{w}");
    }

    let caller_name = User::from_uid(Uid::from_raw(caller.uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .ok_or_else(|| {
            authz(
                format!("the calling uid {} has no account name", caller.uid),
                "run glexec from an account",
            )
        })?;
    if !config::in_white_list(&cfg.user_white_list, &caller_name) {
        return Err(authz(
            format!("the caller {caller_name} is not in user_white_list"),
            "only the site's pilot accounts may run glexec",
        ));
    }

    let inputs = read_inputs(&caller_env, &caller, &cfg)?;
    // With a proxy, the proxy is the credential; without one, a bearer token.
    let token = match inputs {
        Some(_) => None,
        None => read_token(&caller_env, &caller, &cfg)?,
    };
    let mut cred = Cred {
        dn: None,
        fqans: Vec::new(),
        pem: None,
        token: token.clone(),
    };
    if let Some(inputs) = &inputs {
        let pem = String::from_utf8(inputs.client_pem.clone()).map_err(|_| {
            client(
                format!("{} is not PEM text", inputs.client_name),
                "pass a PEM proxy file",
            )
        })?;
        if !proxy::has_private_key(&pem)
            && !config::in_white_list(&cfg.omission_private_key_white_list, &caller_name)
        {
            return Err(client(
                format!("{} has no private key", inputs.client_name),
                "pass the full proxy (certificates and key)",
            ));
        }
        let (dn, fqans) = credential(&pem, &inputs.client_name)?;
        cred = Cred {
            dn: Some(dn),
            fqans,
            pem: Some(pem),
            token: None,
        };
    } else if token.is_none() {
        return Err(client(
            "no credential given (no proxy in GLEXEC_CLIENT_CERT or X509_USER_PROXY, and no bearer token)",
            "point GLEXEC_CLIENT_CERT at the payload's proxy, or BEARER_TOKEN_FILE at its token",
        ));
    }
    let dn = cred.dn.clone().unwrap_or_else(|| "(bearer token)".into());
    let fqans = cred.fqans.clone();

    let target = authorize_and_map(&cfg, &cred, &command, verify)?;

    let mut proxy_path = None;
    if let (true, Some(inputs)) = (cfg.create_target_proxy, &inputs) {
        let default = PathBuf::from(format!("/tmp/x509up_u{}", target.ids.uid));
        let (path, is_default) = match caller_env
            .get("GLEXEC_TARGET_PROXY")
            .filter(|v| !v.is_empty())
        {
            Some(p) => (PathBuf::from(p), false),
            None => (default, true),
        };
        proxy::write_target(
            &path,
            &inputs.source_pem,
            &target.ids,
            cfg.target_lock_mechanism,
            is_default,
        )
        .map_err(|e| {
            client(
                e,
                "set GLEXEC_TARGET_PROXY to a file in a directory of the target account",
            )
        })?;
        proxy_path = Some(path);
    }
    let mut token_path = None;
    if let Some(t) = &token {
        let (path, is_default) = match caller_env
            .get("GLEXEC_TARGET_TOKEN")
            .filter(|v| !v.is_empty())
        {
            Some(p) => (PathBuf::from(p), false),
            None => (PathBuf::from(format!("/tmp/bt_u{}", target.ids.uid)), true),
        };
        proxy::write_target(
            &path,
            t.as_bytes(),
            &target.ids,
            cfg.target_lock_mechanism,
            is_default,
        )
        .map_err(|e| {
            client(
                e,
                "set GLEXEC_TARGET_TOKEN to a file in a directory of the target account",
            )
        })?;
        token_path = Some(path);
    }

    let home = target.home.display().to_string();
    let proxy_str = proxy_path.as_ref().map(|p| p.display().to_string());
    let token_str = token_path.as_ref().map(|p| p.display().to_string());
    let tenv = env::target_env(
        &caller_env,
        &cfg.preserve_env_variables,
        &TargetIdentity {
            user: &target.name,
            home: &home,
            proxy: proxy_str.as_deref(),
            token: token_str.as_deref(),
        },
    );

    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let argv: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    ::log::info!(
        target: lcmaps_core::log::NOTICE_TARGET,
        "mapping: caller {caller_name} (uid {}) DN \"{dn}\" FQANs [{}] -> {} uid {} gid {} groups {:?}; command {} {}; cwd {}; pid {}",
        caller.uid,
        fqans.join(", "),
        target.name,
        target.ids.uid,
        target.ids.gid,
        target.ids.groups,
        command.display(),
        argv.join(" "),
        cwd.display(),
        std::process::id()
    );
    if cfg.json_log {
        ::log::info!(target: lcmaps_core::log::NOTICE_TARGET, "{}", json_record(&caller_name, caller.uid, &dn, &fqans, &target, &command, &argv, &cwd));
    }

    let mut cmd = Command::new(&command);
    cmd.args(&args).env_clear().envs(tenv);
    let launch = match cfg.user_identity_switch_by {
        SwitchBy::Glexec => {
            if !privs::running_as_root() {
                return Err(system(
                    "glexec is not running with root privileges",
                    "install it setuid root",
                ));
            }
            Launch {
                ids: Some(target.ids.clone()),
                limits: Some(caller_limits),
                dirs: vec![cwd, target.home.clone()],
            }
        }
        SwitchBy::Lcmaps => {
            let r =
                nix::unistd::getresuid().map_err(|e| system(e.to_string(), "check the node"))?;
            let g =
                nix::unistd::getresgid().map_err(|e| system(e.to_string(), "check the node"))?;
            let u = Uid::from_raw(target.ids.uid);
            let gg = Gid::from_raw(target.ids.gid);
            if [r.real, r.effective, r.saved] != [u, u, u]
                || [g.real, g.effective, g.saved] != [gg, gg, gg]
            {
                return Err(system(
                    "user_identity_switch_by = lcmaps, but the policy did not switch identity",
                    "add lcmaps_posix_enf.mod at the end of the policy, or set user_identity_switch_by = glexec",
                ));
            }
            Launch {
                ids: None,
                limits: Some(caller_limits),
                dirs: vec![cwd, target.home.clone()],
            }
        }
    };
    if !the_only_thread() {
        return Err(system(
            "a plugin left a thread running; refusing to fork",
            "report the plugin to the site",
        ));
    }
    let cgroup = match &target.tracking {
        Some(t) => payload_cgroup(t, cfg.linger)?,
        None => None,
    };
    if cfg.linger {
        let (code, pid) = linger(cmd, &launch, target.tracking.clone(), cgroup)?;
        let payload = crate::epilogue::Payload {
            user: target.name.clone(),
            uid: target.ids.uid,
            gid: target.ids.gid,
            caller: caller_name.clone(),
            pid,
            exit: code,
        };
        crate::epilogue::run(&cfg, &payload)
    } else {
        let e = launch.exec(&mut cmd);
        Err(spawn_failure(&e))
    }
}

#[allow(clippy::too_many_arguments)]
fn json_record(
    caller: &str,
    caller_uid: u32,
    dn: &str,
    fqans: &[String],
    t: &Target,
    cmd: &Path,
    argv: &[String],
    cwd: &Path,
) -> String {
    serde_json::json!({
        "event": "glexec-mapping",
        "caller": caller,
        "caller_uid": caller_uid,
        "dn": dn,
        "fqans": fqans,
        "user": t.name,
        "uid": t.ids.uid,
        "gid": t.ids.gid,
        "groups": t.ids.groups,
        "command": cmd.display().to_string(),
        "args": argv,
        "cwd": cwd.display().to_string(),
        "pid": std::process::id(),
    })
    .to_string()
}
