//! One glexec run, in the order of the specification (glexec-spec §2):
//! sanitise, options, configuration and logging, caller white list,
//! credential read as the caller; the mapping (LCAS, LCMAPS); then checks
//! of its answer, target proxy, environment, mapping record, switch, and
//! exec or linger.
//!
//! The mapping ([`mapping::map`]) runs in the mapping helper, a process
//! of its own (as `mapping_account` with `privilege_separation = yes`);
//! every other phase is glexec's root part, which parses nothing of the
//! caller's credential. Each phase's failure ends the run with its exit
//! code (201 caller, 202 site or system, 203 not authorized).

use std::path::PathBuf;
use std::process::Command;

use nix::unistd::{Uid, User};

use crate::checks::{self, Target};
use crate::config::{self, Config};
use crate::env::{self, CallerEnv, TargetIdentity};
use crate::log::{self as glog, GlexecLogger};
use crate::options::{self, Invocation};
use crate::privs::{self, Ids};
use crate::record::Record;
use crate::target_proxy::{self, Copies};
use crate::{credential, launch, mapping, sanitise, Failure};

/// The whole run; returns the exit code, or the failure.
pub fn run(id: &str) -> Result<u8, Failure> {
    let process = sanitise::process_state()?;
    let caller = privs::caller();
    let args = std::env::args_os().skip(1).collect();
    let job = match options::parse(args, &process.caller_env, caller.uid)? {
        Invocation::Show(info) => {
            info.print();
            return Ok(0);
        }
        Invocation::Run(job) => job,
    };
    let cfg = configure(id)?;
    let caller_name = check_white_list(&cfg, &caller)?;
    let input = credential::read_as_caller(&process.caller_env, &caller, &cfg)?;

    // The tracking lease (if any) is held until the payload has its gid.
    let (mapping, _tracking_lease) = mapping::map(
        &cfg,
        &mapping::Question {
            caller: &caller,
            caller_name: &caller_name,
            id,
            input: &input,
            command: &job.command,
            mode: job.mode,
        },
    )?;

    let target = checks::check_mapping(&mapping, &cfg)?;
    let copies = target_proxy::write(&process.caller_env, &input, &target, &cfg)?;
    let payload_env = environment(&process.caller_env, &cfg, &target, &copies);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    Record {
        caller: &caller_name,
        caller_uid: caller.uid,
        mapping: &mapping,
        target: &target,
        command: &job.command,
        args: &job.args,
        cwd: &cwd,
    }
    .log(cfg.json_log);
    let mut cmd = Command::new(&job.command);
    cmd.args(&job.args).env_clear().envs(payload_env);
    let launch = launch::switch_plan(&target, cwd, process.caller_limits)?;
    launch::exec_or_linger(&cfg, cmd, &launch, &target, &caller_name)
}

/// Configuration and logging (steps 3 and 4): `/etc/glexec.conf` once its
/// ownership checks out, then glexec's log, then the file's warnings.
fn configure(id: &str) -> Result<Config, Failure> {
    let (cfg, warnings) = config::load(std::path::Path::new(config::CONF_PATH))
        .map_err(|e| Failure::system(e.message, format!("the site must fix it: {}", e.hint)))?;
    install_logging(&cfg, id)?;
    for w in warnings {
        ::log::warn!("{w}");
    }
    Ok(cfg)
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
                    Failure::system(e, "make syslog available, or set log_destination = file")
                })?
            }
            config::LogDestination::File => {
                let f = glog::open_log_file(&cfg.log_file)
                    .map_err(|e| Failure::system(e, "fix log_file in /etc/glexec.conf"))?;
                GlexecLogger::file(f, id.to_string(), max)
            }
        }
    };
    logger.install();
    Ok(())
}

/// Caller white list (step 5): the caller's account name must be in
/// `user_white_list`. Returns the name.
fn check_white_list(cfg: &Config, caller: &Ids) -> Result<String, Failure> {
    let caller_name = User::from_uid(Uid::from_raw(caller.uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .ok_or_else(|| {
            Failure::authz(
                format!("the calling uid {} has no account name", caller.uid),
                "run glexec from an account",
            )
        })?;
    if !config::in_white_list(&cfg.user_white_list, &caller_name) {
        return Err(Failure::authz(
            format!("the caller {caller_name} is not in user_white_list"),
            "only the site's pilot accounts may run glexec",
        ));
    }
    Ok(caller_name)
}

/// The payload's environment (step 12, [`env::target_env`]).
fn environment(
    caller_env: &CallerEnv,
    cfg: &Config,
    target: &Target,
    copies: &Copies,
) -> Vec<(String, std::ffi::OsString)> {
    let home = target.home.display().to_string();
    let proxy = copies.proxy.as_ref().map(|p| p.display().to_string());
    let token = copies.token.as_ref().map(|p| p.display().to_string());
    env::target_env(
        caller_env,
        &cfg.preserve_env_variables,
        &TargetIdentity {
            user: &target.name,
            home: &home,
            proxy: proxy.as_deref(),
            token: token.as_deref(),
        },
    )
}
