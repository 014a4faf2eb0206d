//! Options (step 2 of the run): `-h`, `-v`, `-V` (root only), or the
//! command and its arguments, with the legacy verify mode
//! `GLEXEC_MODE=lcmaps_verify_account glexec <uid> <gid> <command> ...`.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::config::{self, Config};
use crate::env::CallerEnv;
use crate::{proxy, Failure};
use glexec_privsep::Mode;

const USAGE: &str =
    "usage: glexec /absolute/path/to/command [arguments...]\n       glexec -h | -v | -V\n\n\
Runs the command as the account the site's LCAS/LCMAPS policy maps the proxy in\n\
GLEXEC_CLIENT_CERT (or X509_USER_PROXY) to. Exit codes: 201 caller error,\n\
202 site configuration or system error, 203 not authorized, 204 the command\n\
itself exited 201-204; otherwise the command's exit code.\n";

/// What the caller asked for.
pub enum Invocation {
    /// Print something and exit 0.
    Show(Info),
    /// Run a payload.
    Run(Job),
}

/// What `-h`, `-v` and `-V` print.
pub enum Info {
    /// `-h`, `--help`.
    Usage,
    /// `-v`, `--version`.
    Version,
    /// `-V`: the built-in defaults.
    Defaults,
}

/// The payload to run, and how to map it.
pub struct Job {
    /// The command, an absolute path.
    pub command: PathBuf,
    /// Its arguments (after the command).
    pub args: Vec<OsString>,
    /// Map the credential, or verify a requested account.
    pub mode: Mode,
}

/// Parse glexec's arguments (without `argv[0]`). `caller_uid` is the real
/// uid (`-V` is for root only); `caller_env` holds `GLEXEC_MODE`.
pub fn parse(
    mut args: Vec<OsString>,
    caller_env: &CallerEnv,
    caller_uid: u32,
) -> Result<Invocation, Failure> {
    match args.first().and_then(|a| a.to_str()) {
        None => {
            return Err(Failure::client(
                "no command given",
                "usage: glexec /path/to/command [args]",
            ))
        }
        Some("-h") | Some("--help") => return Ok(Invocation::Show(Info::Usage)),
        Some("-v") | Some("--version") => return Ok(Invocation::Show(Info::Version)),
        Some("-V") => {
            if caller_uid != 0 {
                return Err(Failure::client("-V is for root only", "run it as root"));
            }
            return Ok(Invocation::Show(Info::Defaults));
        }
        Some(o) if o.starts_with('-') => {
            return Err(Failure::client(
                format!("unknown option {o}"),
                "glexec takes -h, -v, -V or a command",
            ))
        }
        _ => {}
    }
    let mode = match caller_env.get("GLEXEC_MODE").and_then(|m| m.to_str()) {
        None | Some("lcmaps_get_account") => Mode::GetAccount,
        Some("lcmaps_verify_account") => {
            let num = |a: Option<&OsString>| {
                a.and_then(|a| a.to_str())
                    .and_then(|a| a.parse::<u32>().ok())
            };
            let (Some(uid), Some(gid)) = (num(args.first()), num(args.get(1))) else {
                return Err(Failure::client(
                    "GLEXEC_MODE=lcmaps_verify_account needs `glexec <uid> <gid> <command> ...`",
                    "give the uid and gid to verify before the command",
                ));
            };
            args.drain(..2);
            if args.is_empty() {
                return Err(Failure::client(
                    "no command given",
                    "usage: glexec <uid> <gid> /path/to/command [args]",
                ));
            }
            Mode::VerifyAccount { uid, gid }
        }
        Some(other) => {
            return Err(Failure::client(
                format!("unknown GLEXEC_MODE {other}"),
                "use lcmaps_get_account (or leave GLEXEC_MODE unset)",
            ))
        }
    };
    let command = PathBuf::from(args.remove(0));
    if !command.is_absolute() {
        return Err(Failure::client(
            format!("the command {} is not an absolute path", command.display()),
            "give the full path",
        ));
    }
    Ok(Invocation::Run(Job {
        command,
        args,
        mode,
    }))
}

impl Info {
    /// Print it on stdout.
    pub fn print(&self) {
        match self {
            Info::Usage => print!("{USAGE}"),
            Info::Version => println!("glexec {} (lcmaps-rs)", env!("CARGO_PKG_VERSION")),
            Info::Defaults => print_defaults(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn env(v: &[(&str, &str)]) -> CallerEnv {
        CallerEnv::capture(v.iter().map(|(k, v)| (k.into(), v.into())))
    }

    #[test]
    fn a_command_with_arguments() {
        let Ok(Invocation::Run(job)) = parse(os(&["/bin/echo", "a", "b"]), &env(&[]), 1000) else {
            panic!("not a job")
        };
        assert_eq!(job.command, PathBuf::from("/bin/echo"));
        assert_eq!(job.args, os(&["a", "b"]));
        assert_eq!(job.mode, Mode::GetAccount);
    }

    #[test]
    fn verify_mode_takes_uid_and_gid_first() {
        let e = env(&[("GLEXEC_MODE", "lcmaps_verify_account")]);
        let Ok(Invocation::Run(job)) = parse(os(&["1001", "1002", "/bin/id"]), &e, 1000) else {
            panic!("not a job")
        };
        assert_eq!(
            job.mode,
            Mode::VerifyAccount {
                uid: 1001,
                gid: 1002
            }
        );
        assert_eq!(job.command, PathBuf::from("/bin/id"));
        assert!(job.args.is_empty());
        for args in [&["1001", "/bin/id"][..], &["1001", "1002"][..]] {
            let Err(f) = parse(os(args), &e, 1000) else {
                panic!("{args:?} accepted")
            };
            assert_eq!(f.exit, crate::Exit::Client);
        }
    }

    #[test]
    fn caller_errors_are_201() {
        for (args, uid) in [
            (&[][..], 1000),
            (&["-V"][..], 1000),
            (&["-x"][..], 1000),
            (&["bin/id"][..], 1000),
        ] {
            let Err(f) = parse(os(args), &env(&[]), uid) else {
                panic!("{args:?} accepted")
            };
            assert_eq!(f.exit, crate::Exit::Client, "{args:?}");
        }
        let bad_mode = env(&[("GLEXEC_MODE", "other")]);
        assert!(parse(os(&["/bin/id"]), &bad_mode, 1000).is_err());
        assert!(matches!(
            parse(os(&["-V"]), &env(&[]), 0),
            Ok(Invocation::Show(Info::Defaults))
        ));
    }
}
