//! `/etc/glexec.conf`: an INI file whose `[glexec]` section holds the keys;
//! loaded only after its ownership and permissions check out.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The configuration file. Fixed at build time; there is no run-time
/// override (tests run glexec in a private mount namespace instead).
pub const CONF_PATH: &str = "/etc/glexec.conf";

/// Who performs setgroups/setgid/setuid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchBy {
    /// glexec itself, in the child right before exec.
    Glexec,
    /// An LCMAPS enforcement plugin (posix_enf) inside glexec's process.
    Lcmaps,
}

/// File lock used while reading input proxies / writing the target proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMechanism {
    /// flock(2).
    Flock,
    /// fcntl(2) record locks (better on NFS).
    Fcntl,
    /// No lock (no protection against concurrent writers; for broken file systems).
    Disabled,
}

/// Where glexec logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDestination {
    /// syslog with `syslog_facility`.
    Syslog,
    /// `log_file`.
    File,
}

/// The `[glexec]` section with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Fork, wait and forward signals (yes) or exec over glexec (no).
    pub linger: bool,
    /// Callers allowed to run glexec: names, or `.prefix` for pool accounts.
    pub user_white_list: Vec<String>,
    /// Callers allowed to pass a proxy without a private key.
    pub omission_private_key_white_list: Vec<String>,
    /// Extra variables kept in the payload's environment.
    pub preserve_env_variables: Vec<String>,
    /// Copy the proxy to the target account.
    pub create_target_proxy: bool,
    /// Who switches identity.
    pub user_identity_switch_by: SwitchBy,
    /// Ask LCAS first.
    pub use_lcas: bool,
    /// glexec's own verbosity, 0-5.
    pub log_level: u8,
    /// syslog or file.
    pub log_destination: LogDestination,
    /// Log file when `log_destination = file`.
    pub log_file: PathBuf,
    /// syslog facility name, e.g. `LOG_DAEMON`.
    pub syslog_facility: String,
    /// Suppress logging.
    pub silent_logging: bool,
    /// LCMAPS policy file.
    pub lcmaps_db_file: PathBuf,
    /// LCMAPS log file.
    pub lcmaps_log_file: Option<PathBuf>,
    /// LCMAPS debug level.
    pub lcmaps_debug_level: u8,
    /// Policies for mapping.
    pub lcmaps_get_account_policy: Vec<String>,
    /// Policies for the legacy verify mode.
    pub lcmaps_verify_account_policy: Vec<String>,
    /// LCAS policy file.
    pub lcas_db_file: PathBuf,
    /// LCAS log file.
    pub lcas_log_file: Option<PathBuf>,
    /// LCAS debug level.
    pub lcas_debug_level: u8,
    /// Lock on the target proxy.
    pub target_lock_mechanism: LockMechanism,
    /// Lock on input proxies.
    pub input_lock_mechanism: LockMechanism,
    /// Lowest uid glexec maps to (our hardening; 0 and below are never allowed).
    pub min_target_uid: u32,
    /// Lowest primary and secondary gid glexec maps to (our hardening; the
    /// tracking gid aside, 0 never).
    pub min_target_gid: u32,
    /// Also write the mapping record as one JSON line (our extension).
    pub json_log: bool,
    /// Program run after the payload (linger mode, glexec switching only).
    pub epilogue: Option<PathBuf>,
    /// Account the epilogue runs as.
    pub epilogue_user: String,
    /// Group the epilogue runs as (default: gid 0).
    pub epilogue_group: Option<String>,
    /// Seconds before the epilogue is killed.
    pub epilogue_timeout: u64,
    /// Run the mapping (every parser of the caller's credential, LCAS and
    /// LCMAPS with their plugins) in a helper process as
    /// `mapping_account` (yes), or as root (no: for C plugins that need
    /// root). Our addition (issue #18); when the key is absent, `no`, so a
    /// site's existing glexec.conf keeps working; the shipped one says yes.
    pub privilege_separation: bool,
    /// The account the mapping helper runs as with privilege separation.
    pub mapping_account: String,
    /// The mapping helper program (root-owned, checked like glexec.conf).
    pub mapping_helper: PathBuf,
    /// Seconds the mapping helper may take (a slow PDP included).
    pub mapping_timeout: u64,
    /// The Unix socket of the mapping service (`glexec-mapper --serve`),
    /// asked instead of starting a helper when it is there (with
    /// `privilege_separation = yes`). Our addition; absent: none.
    pub mapping_service: Option<PathBuf>,
}

/// Where `cargo xtask install` puts the mapping helper.
pub const DEFAULT_MAPPING_HELPER: &str = "/usr/libexec/lcmaps-rs/glexec-mapper";

impl Default for Config {
    fn default() -> Self {
        Config {
            linger: true,
            user_white_list: Vec::new(),
            omission_private_key_white_list: Vec::new(),
            preserve_env_variables: Vec::new(),
            create_target_proxy: true,
            user_identity_switch_by: SwitchBy::Glexec,
            use_lcas: true,
            log_level: 3,
            log_destination: LogDestination::Syslog,
            log_file: "/var/log/glexec/glexec_log".into(),
            syslog_facility: "LOG_DAEMON".into(),
            silent_logging: false,
            lcmaps_db_file: "/etc/lcmaps/lcmaps-glexec.db".into(),
            lcmaps_log_file: None,
            lcmaps_debug_level: 3,
            lcmaps_get_account_policy: vec!["glexec_get_account".into()],
            lcmaps_verify_account_policy: vec!["glexec_verify_account".into()],
            lcas_db_file: "/etc/lcas/lcas-glexec.db".into(),
            lcas_log_file: None,
            lcas_debug_level: 3,
            target_lock_mechanism: LockMechanism::Flock,
            input_lock_mechanism: LockMechanism::Flock,
            min_target_uid: 100,
            min_target_gid: 100,
            json_log: false,
            epilogue: None,
            epilogue_user: "root".into(),
            epilogue_group: None,
            epilogue_timeout: 300,
            privilege_separation: false,
            mapping_account: "glexec".into(),
            mapping_helper: DEFAULT_MAPPING_HELPER.into(),
            mapping_timeout: 60,
            mapping_service: None,
        }
    }
}

/// A problem with the configuration file (always exit 202).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// What is wrong, with file and line where there is one.
    pub message: String,
    /// What the admin should do.
    pub hint: String,
}

fn err(message: impl Into<String>, hint: impl Into<String>) -> ConfigError {
    ConfigError {
        message: message.into(),
        hint: hint.into(),
    }
}

/// Check that `path` is a regular root-owned file, not a symlink, not
/// writable by group or others, and that every directory above it is
/// root-owned and not writable by group or others.
pub fn check_trusted_file(path: &Path) -> Result<(), ConfigError> {
    check_trusted(path, false)
}

/// As [`check_trusted_file`], for a Unix socket (the mapping service's):
/// only root can have made it, and nobody else can replace it.
pub fn check_trusted_socket(path: &Path) -> Result<(), ConfigError> {
    check_trusted(path, true)
}

fn check_trusted(path: &Path, socket: bool) -> Result<(), ConfigError> {
    let shown = path.display();
    let meta = std::fs::symlink_metadata(path).map_err(|e| {
        err(
            format!("cannot stat {shown}: {e}"),
            "install the file, owned by root, mode 0640 or 0600",
        )
    })?;
    if meta.file_type().is_symlink() {
        return Err(err(
            format!("{shown} is a symbolic link"),
            "replace it with the file itself",
        ));
    }
    if socket && !meta.file_type().is_socket() {
        return Err(err(
            format!("{shown} is not a socket"),
            "point mapping_service at glexec-mapper.socket's ListenStream",
        ));
    }
    if !socket && !meta.is_file() {
        return Err(err(
            format!("{shown} is not a regular file"),
            "install a regular file there",
        ));
    }
    if meta.uid() != 0 {
        return Err(err(
            format!("{shown} is owned by uid {}, not root", meta.uid()),
            format!("chown root {shown}"),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(err(
            format!(
                "{shown} is writable by group or others (mode {:04o})",
                meta.mode() & 0o7777
            ),
            format!("chmod go-w {shown}"),
        ));
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d.as_os_str().is_empty() {
            break;
        }
        let m = std::fs::metadata(d).map_err(|e| {
            err(
                format!("cannot stat {}: {e}", d.display()),
                "fix the directory",
            )
        })?;
        if m.uid() != 0 || m.mode() & 0o022 != 0 {
            return Err(err(
                format!(
                    "directory {} above {shown} is not root-owned or is writable by group or others",
                    d.display()
                ),
                format!("chown root {0} && chmod go-w {0}", d.display()),
            ));
        }
        dir = d.parent();
    }
    Ok(())
}

fn list(v: &str) -> Vec<String> {
    v.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn policies(v: &str) -> Vec<String> {
    v.split([':', ',', ' ', '\t'])
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Parse the text of glexec.conf called `name`. Returns the configuration
/// and warnings (unknown keys); malformed lines and values are errors.
pub fn parse(name: &str, text: &str) -> Result<(Config, Vec<String>), ConfigError> {
    let mut c = Config::default();
    let mut warnings = Vec::new();
    let mut in_glexec = false;
    let mut seen_section = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(sec) = line.strip_prefix('[') {
            let Some(sec) = sec.strip_suffix(']') else {
                return Err(err(
                    format!("{name}:{n}: malformed section header `{line}`"),
                    "write `[glexec]`",
                ));
            };
            in_glexec = sec.trim() == "glexec";
            seen_section = true;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(err(
                format!("{name}:{n}: expected `key = value`, found `{line}`"),
                "fix or comment out the line",
            ));
        };
        if !seen_section {
            return Err(err(
                format!("{name}:{n}: `{}` is outside any section", key.trim()),
                "put the keys under a `[glexec]` line",
            ));
        }
        if !in_glexec {
            continue;
        }
        let key = key.trim();
        let value = value.trim();
        let bad = |what: &str| {
            err(
                format!("{name}:{n}: {key} = `{value}`: {what}"),
                "fix the value and try again",
            )
        };
        let yes_no = |v: &str| match v {
            "yes" | "true" => Ok(true),
            "no" | "false" => Ok(false),
            _ => Err(bad("expected yes or no")),
        };
        let level = |v: &str| -> Result<u8, ConfigError> {
            v.parse::<u8>()
                .ok()
                .filter(|l| *l <= 5)
                .ok_or_else(|| bad("expected a level from 0 to 5"))
        };
        let lock = |v: &str| match v {
            "flock" => Ok(LockMechanism::Flock),
            "fcntl" => Ok(LockMechanism::Fcntl),
            "disabled" => Ok(LockMechanism::Disabled),
            _ => Err(bad("expected flock, fcntl or disabled")),
        };
        let path = |v: &str| -> Result<PathBuf, ConfigError> {
            if v.starts_with('/') {
                Ok(PathBuf::from(v))
            } else {
                Err(bad("expected an absolute path"))
            }
        };
        let number = |v: &str| v.parse::<u32>().map_err(|_| bad("expected a number"));
        match key {
            "linger" => c.linger = yes_no(value)?,
            "user_white_list" => c.user_white_list = list(value),
            "omission_private_key_white_list" => c.omission_private_key_white_list = list(value),
            "preserve_env_variables" => {
                c.preserve_env_variables = if value == "no" {
                    Vec::new()
                } else {
                    list(value)
                };
            }
            "create_target_proxy" => c.create_target_proxy = yes_no(value)?,
            "user_identity_switch_by" => {
                c.user_identity_switch_by = match value {
                    "glexec" => SwitchBy::Glexec,
                    "lcmaps" => SwitchBy::Lcmaps,
                    _ => return Err(bad("expected glexec or lcmaps")),
                }
            }
            "use_lcas" => c.use_lcas = yes_no(value)?,
            "log_level" => c.log_level = level(value)?,
            "log_destination" => {
                c.log_destination = match value {
                    "syslog" => LogDestination::Syslog,
                    "file" => LogDestination::File,
                    _ => return Err(bad("expected syslog or file")),
                }
            }
            "log_file" => c.log_file = path(value)?,
            "syslog_facility" => {
                if crate::log::facility(value).is_none() {
                    return Err(bad(
                        "expected a syslog facility such as LOG_DAEMON or LOG_LOCAL1",
                    ));
                }
                c.syslog_facility = value.to_string();
            }
            "silent_logging" => c.silent_logging = yes_no(value)?,
            "lcmaps_db_file" => c.lcmaps_db_file = path(value)?,
            "lcmaps_log_file" => c.lcmaps_log_file = Some(path(value)?),
            "lcmaps_debug_level" => c.lcmaps_debug_level = level(value)?,
            "lcmaps_log_level" => {
                level(value)?;
            }
            "lcmaps_get_account_policy" => c.lcmaps_get_account_policy = policies(value),
            "lcmaps_verify_account_policy" => c.lcmaps_verify_account_policy = policies(value),
            "lcas_db_file" => c.lcas_db_file = path(value)?,
            "lcas_log_file" => c.lcas_log_file = Some(path(value)?),
            "lcas_debug_level" => c.lcas_debug_level = level(value)?,
            "lcas_log_level" => {
                level(value)?;
            }
            "target_lock_mechanism" | "lock_mechanism" => c.target_lock_mechanism = lock(value)?,
            "input_lock_mechanism" => c.input_lock_mechanism = lock(value)?,
            "min_target_uid" => {
                c.min_target_uid = number(value)?.max(1);
            }
            "min_target_gid" => {
                c.min_target_gid = number(value)?.max(1);
            }
            "json_log" => c.json_log = yes_no(value)?,
            "epilogue" => c.epilogue = Some(path(value)?),
            "epilogue_user" => c.epilogue_user = value.to_string(),
            "epilogue_group" => c.epilogue_group = Some(value.to_string()),
            "epilogue_timeout" => c.epilogue_timeout = number(value)?.into(),
            "privilege_separation" => c.privilege_separation = yes_no(value)?,
            "mapping_account" => {
                if value == "root" || !glexec_privsep::wire::is_account_name(value.as_bytes()) {
                    return Err(bad("expected an unprivileged account's name"));
                }
                c.mapping_account = value.to_string();
            }
            "mapping_helper" => c.mapping_helper = path(value)?,
            "mapping_service" => {
                c.mapping_service = match value {
                    "" | "none" => None,
                    v => Some(path(v)?),
                }
            }
            "mapping_timeout" => {
                c.mapping_timeout = number(value)?.into();
                if c.mapping_timeout == 0 {
                    return Err(bad("expected a number of seconds above 0"));
                }
            }
            other => warnings.push(format!("{name}:{n}: unknown key `{other}` ignored")),
        }
    }
    if c.epilogue.is_some() && (!c.linger || c.user_identity_switch_by != SwitchBy::Glexec) {
        return Err(err(
            format!("{name}: an epilogue needs linger = yes and user_identity_switch_by = glexec"),
            "set both, or remove the epilogue",
        ));
    }
    if c.privilege_separation && c.user_identity_switch_by == SwitchBy::Lcmaps {
        return Err(err(
            format!(
                "{name}: user_identity_switch_by = lcmaps needs root in the mapping, which privilege_separation = yes takes away"
            ),
            "set user_identity_switch_by = glexec (recommended), or privilege_separation = no",
        ));
    }
    Ok((c, warnings))
}

/// Load and check the file at `path`.
pub fn load(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
    check_trusted_file(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| {
        err(
            format!("cannot read {}: {e}", path.display()),
            "make it readable by root",
        )
    })?;
    parse(&path.display().to_string(), &text)
}

/// Does the account name `name` match a list of names and `.prefix` pool entries?
pub fn in_white_list(list: &[String], name: &str) -> bool {
    list.iter().any(|e| match e.strip_prefix('.') {
        Some(prefix) => {
            name.len() > prefix.len()
                && name.starts_with(prefix)
                && name[prefix.len()..].bytes().all(|b| b.is_ascii_digit())
        }
        None => e == name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emi_example() {
        let text = "# comment\n[glexec]\nlinger = yes\nuser_white_list = .atlpilot, .cmspilot,dteam001\n\
                    log_destination = syslog\nsyslog_facility = LOG_LOCAL1\nuser_identity_switch_by = glexec\n\
                    use_lcas = no\npreserve_env_variables = no\n\
                    lcmaps_db_file = /etc/lcmaps/lcmaps-glexec.db\nlcmaps_get_account_policy = glexec_get_account:other\n\
                    input_lock_mechanism = fcntl\nlock_mechanism = disabled\nfuture_key = 1\n\
                    [other]\nanything = goes\n";
        let (c, w) = parse("g.conf", text).unwrap();
        assert_eq!(c.user_white_list, [".atlpilot", ".cmspilot", "dteam001"]);
        assert!(!c.use_lcas);
        assert_eq!(c.syslog_facility, "LOG_LOCAL1");
        assert_eq!(c.lcmaps_get_account_policy, ["glexec_get_account", "other"]);
        assert_eq!(c.input_lock_mechanism, LockMechanism::Fcntl);
        assert_eq!(c.target_lock_mechanism, LockMechanism::Disabled);
        assert!(c.preserve_env_variables.is_empty());
        assert_eq!(w, ["g.conf:14: unknown key `future_key` ignored"]);
    }

    #[test]
    fn malformed_values_are_errors_with_a_line() {
        let e = parse("g.conf", "[glexec]\nlinger = maybe\n").unwrap_err();
        assert_eq!(e.message, "g.conf:2: linger = `maybe`: expected yes or no");
        let e = parse("g.conf", "linger = yes\n").unwrap_err();
        assert_eq!(e.message, "g.conf:1: `linger` is outside any section");
        let e = parse("g.conf", "[glexec]\nlog_file = relative.log\n").unwrap_err();
        assert!(e.message.contains("expected an absolute path"));
        let e = parse("g.conf", "[glexec]\njunk\n").unwrap_err();
        assert_eq!(e.message, "g.conf:2: expected `key = value`, found `junk`");
        let e = parse("g.conf", "[glexec]\nsyslog_facility = LOG_NOPE\n").unwrap_err();
        assert!(e.message.contains("syslog facility"));
    }

    #[test]
    fn privilege_separation_keys() {
        let (c, _) = parse(
            "g.conf",
            "[glexec]
",
        )
        .unwrap();
        assert!(!c.privilege_separation);
        assert_eq!(c.mapping_account, "glexec");
        assert_eq!(c.mapping_timeout, 60);
        assert_eq!(c.mapping_service, None);
        let (c, _) = parse(
            "g.conf",
            "[glexec]
privilege_separation = yes
mapping_account = glexmap
             mapping_helper = /opt/glexec-mapper
mapping_timeout = 5
mapping_service = /run/lcmaps-rs/glexec-mapper.sock
",
        )
        .unwrap();
        assert_eq!(
            c.mapping_service.as_deref(),
            Some(Path::new("/run/lcmaps-rs/glexec-mapper.sock"))
        );
        assert!(c.privilege_separation);
        assert_eq!(c.mapping_account, "glexmap");
        assert_eq!(c.mapping_helper, Path::new("/opt/glexec-mapper"));
        assert_eq!(c.mapping_timeout, 5);
        // `none` (as the fuzz target writes an absent one back; a corpus
        // seed since CI's fuzzing found the target's round trip lacking it).
        let (c, w) = parse("g.conf", "[glexec]\nmapping_service = none\n").unwrap();
        assert_eq!((c.mapping_service, w.len()), (None, 0));
        for (text, want) in [
            (
                "mapping_account = root
",
                "unprivileged account",
            ),
            (
                "mapping_timeout = 0
",
                "above 0",
            ),
            (
                "mapping_helper = glexec-mapper
",
                "absolute path",
            ),
            (
                "mapping_service = run/glexec-mapper.sock
",
                "absolute path",
            ),
            (
                "privilege_separation = yes
user_identity_switch_by = lcmaps
",
                "needs root in the mapping",
            ),
        ] {
            let e = parse(
                "g.conf",
                &format!(
                    "[glexec]
{text}"
                ),
            )
            .unwrap_err();
            assert!(e.message.contains(want), "{text}: {}", e.message);
        }
    }

    #[test]
    fn white_list_matching() {
        let l = vec![".pilatl".to_string(), "dteam001".to_string()];
        assert!(in_white_list(&l, "pilatl001"));
        assert!(in_white_list(&l, "dteam001"));
        assert!(!in_white_list(&l, "pilatl"));
        assert!(!in_white_list(&l, "pilatlx01"));
        assert!(!in_white_list(&l, "dteam002"));
        assert!(!in_white_list(&[], "root"));
    }

    #[test]
    fn trusted_file_checks() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("g.conf");
        std::fs::write(&f, "[glexec]\n").unwrap();
        // Running as root in CI: the temp dir is root-owned but /tmp is
        // world-writable (sticky), which the check refuses.
        let e = check_trusted_file(&f).unwrap_err();
        assert!(
            e.message.contains("not root-owned or is writable"),
            "{}",
            e.message
        );
        let link = dir.path().join("link.conf");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(check_trusted_file(&link)
            .unwrap_err()
            .message
            .contains("symbolic link"));
        assert!(check_trusted_file(Path::new("/nonexistent/g.conf")).is_err());
        // The mapping service's socket: a socket, where only root can put one.
        assert!(check_trusted_socket(&f)
            .unwrap_err()
            .message
            .contains("is not a socket"));
        let sock = dir.path().join("s");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(check_trusted_file(&sock)
            .unwrap_err()
            .message
            .contains("not a regular file"));
        let e = check_trusted_socket(&sock).unwrap_err();
        assert!(
            e.message.contains("not root-owned or is writable"),
            "{}",
            e.message
        );
    }
}
