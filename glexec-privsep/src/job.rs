//! What the mapping helper is asked, typed: the [`Job`] the root part
//! builds from glexec.conf and the caller's input, carried as a
//! [`Request`]'s mode and `setting` records. Both sides use these functions,
//! so the names of the settings are written down once, here.

use std::path::PathBuf;

use crate::wire::{Caller, CredentialKind, Request, WireError};

/// What is asked of LCMAPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Map the credential (`lcmaps_get_account_policy`).
    GetAccount,
    /// Legacy `GLEXEC_MODE=lcmaps_verify_account`: may the credential use
    /// this account (`lcmaps_verify_account_policy`)?
    VerifyAccount {
        /// The requested uid.
        uid: u32,
        /// The requested primary gid.
        gid: u32,
    },
}

/// The glexec.conf values the mapping uses, and what the root part decided
/// for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// The caller may pass a proxy without a private key
    /// (`omission_private_key_white_list`, decided by the root part).
    pub private_key_optional: bool,
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
    /// not): glexec switches identity itself.
    pub dry_run: bool,
    /// The tracking gid the root part has already leased for this payload
    /// (the tracking plugin gives this one instead of leasing its own), or
    /// why it could lease none (the tracking plugin fails with it).
    pub tracking: Option<Result<u32, String>>,
}

/// One question to the mapping helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Who called glexec.
    pub caller: Caller,
    /// This run's id.
    pub correlation_id: String,
    /// What the credential is.
    pub credential_kind: CredentialKind,
    /// The credential's bytes, as read with the caller's rights.
    pub credential: Vec<u8>,
    /// Where the credential came from (a path, `SSL_CLIENT_CERT`, ...), for
    /// messages.
    pub credential_source: String,
    /// The command the payload will run (LCAS's `executable`).
    pub command: String,
    /// Map, or verify.
    pub mode: Mode,
    /// From glexec.conf.
    pub settings: Settings,
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn path(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

impl Job {
    /// The request that carries this job.
    pub fn to_request(&self) -> Request {
        let s = &self.settings;
        let mut set: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: String| set.push((k.into(), v));
        put("credential_source", self.credential_source.clone());
        put("command", self.command.clone());
        if let Mode::VerifyAccount { uid, gid } = self.mode {
            put("verify_uid", uid.to_string());
            put("verify_gid", gid.to_string());
        }
        put("private_key_optional", yes(s.private_key_optional));
        put("use_lcas", yes(s.use_lcas));
        put("lcas_db_file", path(&s.lcas_db_file));
        put("lcas_debug_level", s.lcas_debug_level.to_string());
        put("lcmaps_db_file", path(&s.lcmaps_db_file));
        if let Some(f) = &s.lcmaps_log_file {
            put("lcmaps_log_file", path(f));
        }
        put("lcmaps_debug_level", s.lcmaps_debug_level.to_string());
        for p in &s.get_account_policy {
            put("get_account_policy", p.clone());
        }
        for p in &s.verify_account_policy {
            put("verify_account_policy", p.clone());
        }
        put("dry_run", yes(s.dry_run));
        match &s.tracking {
            Some(Ok(g)) => put("tracking_gid", g.to_string()),
            Some(Err(e)) => put("tracking_error", e.clone()),
            None => {}
        }
        Request {
            mode: match self.mode {
                Mode::GetAccount => "get_account",
                Mode::VerifyAccount { .. } => "verify_account",
            }
            .into(),
            caller: self.caller.clone(),
            correlation_id: self.correlation_id.clone(),
            credential_kind: self.credential_kind,
            credential: self.credential.clone(),
            settings: set,
        }
    }

    /// The job a request carries (the helper's side): every setting known,
    /// well-formed and, but for the policy lists, given once.
    pub fn from_request(r: Request) -> Result<Job, WireError> {
        let bad = |m: String| Err(WireError::new(m));
        let mut s = Settings::default();
        let mut once: Vec<String> = Vec::new();
        let (mut source, mut command) = (None, None);
        let (mut vuid, mut vgid) = (None, None);
        for (k, v) in r.settings {
            let repeatable = matches!(k.as_str(), "get_account_policy" | "verify_account_policy");
            if !repeatable {
                if once.contains(&k) {
                    return bad(format!("setting {k} given twice"));
                }
                once.push(k.clone());
            }
            let flag = |v: &str| match v {
                "yes" => Ok(true),
                "no" => Ok(false),
                _ => Err(WireError::new(format!(
                    "setting {k}: {v:?} is not yes or no"
                ))),
            };
            let num = |v: &str| {
                v.parse::<u32>()
                    .map_err(|_| WireError::new(format!("setting {k}: {v:?} is not a number")))
            };
            let level = |v: &str| {
                v.parse::<u8>()
                    .map_err(|_| WireError::new(format!("setting {k}: {v:?} is not a level")))
            };
            match k.as_str() {
                "credential_source" => source = Some(v),
                "command" => command = Some(v),
                "verify_uid" => vuid = Some(num(&v)?),
                "verify_gid" => vgid = Some(num(&v)?),
                "private_key_optional" => s.private_key_optional = flag(&v)?,
                "use_lcas" => s.use_lcas = flag(&v)?,
                "lcas_db_file" => s.lcas_db_file = v.into(),
                "lcas_debug_level" => s.lcas_debug_level = level(&v)?,
                "lcmaps_db_file" => s.lcmaps_db_file = v.into(),
                "lcmaps_log_file" => s.lcmaps_log_file = Some(v.into()),
                "lcmaps_debug_level" => s.lcmaps_debug_level = level(&v)?,
                "get_account_policy" => s.get_account_policy.push(v),
                "verify_account_policy" => s.verify_account_policy.push(v),
                "dry_run" => s.dry_run = flag(&v)?,
                "tracking_gid" | "tracking_error" if s.tracking.is_some() => {
                    return bad("tracking_gid and tracking_error together".into())
                }
                "tracking_gid" => s.tracking = Some(Ok(num(&v)?)),
                "tracking_error" => s.tracking = Some(Err(v)),
                _ => return bad(format!("unknown setting {k}")),
            }
        }
        let mode = match (r.mode.as_str(), vuid, vgid) {
            ("get_account", None, None) => Mode::GetAccount,
            ("verify_account", Some(uid), Some(gid)) => Mode::VerifyAccount { uid, gid },
            (m, _, _) => return bad(format!("mode {m:?} with the wrong settings")),
        };
        let (Some(credential_source), Some(command)) = (source, command) else {
            return bad("credential_source and command are needed".into());
        };
        if s.lcmaps_db_file.as_os_str().is_empty() {
            return bad("lcmaps_db_file is needed".into());
        }
        Ok(Job {
            caller: r.caller,
            correlation_id: r.correlation_id,
            credential_kind: r.credential_kind,
            credential: r.credential,
            credential_source,
            command,
            mode,
            settings: s,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn job(mode: Mode) -> Job {
        Job {
            caller: Caller {
                uid: 1000,
                gid: 1000,
                name: "pilot".into(),
            },
            correlation_id: "c1".into(),
            credential_kind: CredentialKind::Proxy,
            credential: b"PEM".to_vec(),
            credential_source: "/tmp/x509up_u1000".into(),
            command: "/bin/true".into(),
            mode,
            settings: Settings {
                private_key_optional: true,
                use_lcas: true,
                lcas_db_file: "/etc/lcas/lcas-glexec.db".into(),
                lcas_debug_level: 1,
                lcmaps_db_file: "/etc/lcmaps/lcmaps-glexec.db".into(),
                lcmaps_log_file: Some("/var/log/lcmaps".into()),
                lcmaps_debug_level: 3,
                get_account_policy: vec!["a".into(), "b".into()],
                verify_account_policy: vec!["v".into()],
                dry_run: true,
                tracking: Some(Ok(65001)),
            },
        }
    }

    #[test]
    fn jobs_round_trip_through_the_wire() {
        for mode in [
            Mode::GetAccount,
            Mode::VerifyAccount {
                uid: 5001,
                gid: 5000,
            },
        ] {
            let j = job(mode);
            let bytes = j.to_request().encode();
            let back = Job::from_request(Request::decode(&bytes).unwrap()).unwrap();
            assert_eq!(back, j);
        }
        let mut j = job(Mode::GetAccount);
        j.settings = Settings {
            lcmaps_db_file: "/etc/lcmaps.db".into(),
            ..Settings::default()
        };
        let back = Job::from_request(j.to_request()).unwrap();
        assert_eq!(back, j);
        j.settings.tracking = Some(Err("no free tracking gid in 1-2".into()));
        assert_eq!(Job::from_request(j.to_request()).unwrap(), j);
    }

    #[test]
    fn unknown_repeated_or_malformed_settings_are_refused() {
        let base = job(Mode::GetAccount).to_request();
        for (edit, want) in [
            (("bogus", "1"), "unknown setting bogus"),
            (("use_lcas", "no"), "use_lcas given twice"),
            (("tracking_gid", "-1"), "tracking_gid given twice"),
            (
                ("tracking_error", "x"),
                "tracking_gid and tracking_error together",
            ),
        ] {
            let mut r = base.clone();
            r.settings.push((edit.0.into(), edit.1.into()));
            let e = Job::from_request(r).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        let mut r = base.clone();
        r.settings.retain(|(k, _)| k != "dry_run");
        r.settings.push(("dry_run".into(), "maybe".into()));
        assert!(Job::from_request(r)
            .unwrap_err()
            .to_string()
            .contains("not yes or no"));
        let mut r = base.clone();
        r.mode = "verify_account".into();
        assert!(Job::from_request(r)
            .unwrap_err()
            .to_string()
            .contains("wrong settings"));
        let mut r = base;
        r.settings.retain(|(k, _)| k != "command");
        assert!(Job::from_request(r)
            .unwrap_err()
            .to_string()
            .contains("command are needed"));
    }
}
