//! The caller's environment, captured once at start, and the payload's
//! environment built from an allow-list.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Variables that can never be preserved (glibc's secure-mode list and
/// more): they change how programs load and behave.
const NEVER: &[&str] = &[
    "GCONV_PATH",
    "NLSPATH",
    "LOCPATH",
    "HOSTALIASES",
    "RES_OPTIONS",
    "TMPDIR",
    "IFS",
    "ENV",
    "BASH_ENV",
];
const NEVER_PREFIXES: &[&str] = &["LD_", "MALLOC_", "GLIBC_TUNABLES"];

/// The safe PATH given to the payload.
pub const SAFE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The caller's environment: first occurrence of each well-formed name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerEnv {
    vars: BTreeMap<String, OsString>,
}

fn valid_name(n: &[u8]) -> bool {
    !n.is_empty()
        && n.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && !n[0].is_ascii_digit()
}

impl CallerEnv {
    /// Capture from `(name, value)` pairs (as from `std::env::vars_os`):
    /// names must be `[A-Za-z_][A-Za-z0-9_]*`; duplicates keep the first.
    pub fn capture<I: IntoIterator<Item = (OsString, OsString)>>(vars: I) -> Self {
        let mut out = BTreeMap::new();
        for (k, v) in vars {
            if !valid_name(k.as_bytes()) {
                continue;
            }
            let Ok(k) = k.into_string() else { continue };
            out.entry(k).or_insert(v);
        }
        CallerEnv { vars: out }
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(name).map(OsString::as_os_str)
    }

    /// A variable's value as UTF-8 text, if it is.
    #[cfg(test)]
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(OsStr::to_str)
    }
}

/// True when `name` may never reach the payload.
pub fn forbidden(name: &str) -> bool {
    NEVER.contains(&name) || NEVER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// What the payload's environment is made of.
#[derive(Debug, Clone)]
pub struct TargetIdentity<'a> {
    /// Account name.
    pub user: &'a str,
    /// Home directory.
    pub home: &'a str,
    /// The target proxy, when one was written.
    pub proxy: Option<&'a str>,
    /// The target's copy of the bearer token, when one was written.
    pub token: Option<&'a str>,
}

/// Build the payload's environment: `GLEXEC_*`, `TZ` and the configured
/// extra names from the caller (never the forbidden ones), then `PATH`,
/// `HOME`, `USER`, `LOGNAME` and `X509_USER_PROXY` set by glexec.
pub fn target_env(
    caller: &CallerEnv,
    preserve: &[String],
    t: &TargetIdentity<'_>,
) -> Vec<(String, OsString)> {
    let mut out: BTreeMap<String, OsString> = BTreeMap::new();
    for (k, v) in &caller.vars {
        let keep = k.starts_with("GLEXEC_") || k == "TZ" || preserve.iter().any(|p| p == k);
        if keep && !forbidden(k) && !k.starts_with("GLEXEC_EPILOG_") {
            out.insert(k.clone(), v.clone());
        }
    }
    if let Some(tz) = out.get("TZ") {
        if !safe_tz(tz.as_bytes()) {
            out.remove("TZ");
        }
    }
    out.insert("PATH".into(), SAFE_PATH.into());
    out.insert("HOME".into(), t.home.into());
    out.insert("USER".into(), t.user.into());
    out.insert("LOGNAME".into(), t.user.into());
    out.remove("X509_USER_PROXY");
    if let Some(p) = t.proxy {
        out.insert("X509_USER_PROXY".into(), p.into());
    }
    if let Some(p) = t.token {
        out.insert("BEARER_TOKEN_FILE".into(), p.into());
    }
    out.into_iter().collect()
}

/// A TZ value is safe when it is not a path outside the zoneinfo tree.
fn safe_tz(tz: &[u8]) -> bool {
    let s = tz.strip_prefix(b":").unwrap_or(tz);
    s.len() < 256
        && s.iter().all(|b| b.is_ascii_graphic())
        && !s.windows(2).any(|w| w == b"..")
        && (!s.starts_with(b"/") || s.starts_with(b"/usr/share/zoneinfo/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> CallerEnv {
        CallerEnv::capture(
            pairs
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        )
    }

    #[test]
    fn allow_list_only() {
        let caller = env(&[
            ("GLEXEC_ENV", "blob"),
            ("GLEXEC_EPILOG_X", "no"),
            ("LD_PRELOAD", "/tmp/evil.so"),
            ("LD_LIBRARY_PATH", "/tmp"),
            ("MALLOC_CHECK_", "3"),
            ("PATH", "/tmp/evil"),
            ("HOME", "/home/pilot"),
            ("TZ", "Europe/Amsterdam"),
            ("KEEP_ME", "1"),
            ("X509_USER_PROXY", "/tmp/pilot-proxy"),
            ("DROP_ME", "1"),
        ]);
        let t = TargetIdentity {
            user: "dteam001",
            home: "/home/dteam001",
            proxy: Some("/tmp/x509up_u501"),
            token: None,
        };
        let e = target_env(
            &caller,
            &[
                "KEEP_ME".into(),
                "LD_PRELOAD".into(),
                "MALLOC_CHECK_".into(),
            ],
            &t,
        );
        let names: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "GLEXEC_ENV",
                "HOME",
                "KEEP_ME",
                "LOGNAME",
                "PATH",
                "TZ",
                "USER",
                "X509_USER_PROXY"
            ]
        );
        let get = |n: &str| {
            e.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.to_str().unwrap().to_string())
        };
        assert_eq!(get("PATH").unwrap(), SAFE_PATH);
        assert_eq!(get("HOME").unwrap(), "/home/dteam001");
        assert_eq!(get("X509_USER_PROXY").unwrap(), "/tmp/x509up_u501");
    }

    #[test]
    fn duplicates_and_bad_names() {
        let caller = CallerEnv::capture(vec![
            (OsString::from("GLEXEC_A"), OsString::from("first")),
            (OsString::from("GLEXEC_A"), OsString::from("second")),
            (OsString::from("GLEXEC=B"), OsString::from("x")),
            (OsString::from("1GLEXEC"), OsString::from("x")),
        ]);
        assert_eq!(caller.get_str("GLEXEC_A"), Some("first"));
        assert_eq!(caller.vars.len(), 1);
    }

    #[test]
    fn tz_must_be_safe() {
        let t = TargetIdentity {
            user: "u",
            home: "/h",
            proxy: None,
            token: None,
        };
        for (tz, kept) in [
            ("UTC", true),
            ("/etc/shadow", false),
            ("../../x", false),
            (":Europe/Paris", true),
        ] {
            let e = target_env(&env(&[("TZ", tz)]), &[], &t);
            assert_eq!(e.iter().any(|(k, _)| k == "TZ"), kept, "{tz}");
        }
        let e = target_env(
            &env(&[("X509_USER_PROXY", "/x")]),
            &["X509_USER_PROXY".into()],
            &t,
        );
        assert!(
            !e.iter().any(|(k, _)| k == "X509_USER_PROXY"),
            "no copy, no variable"
        );
    }
}
