//! The mapping record (step 14 of the run): who called, which credential,
//! which account, what command, where; the accountability trail, at notice
//! level, and as one JSON line too with `json_log = yes`.

use std::ffi::OsString;
use std::path::Path;

use lcmaps_core::log::NOTICE_TARGET;

use crate::checks::Target;
use crate::mapping::Mapping;

/// What the record says.
pub struct Record<'a> {
    /// The caller's account name.
    pub caller: &'a str,
    /// The caller's uid.
    pub caller_uid: u32,
    /// The mapping (DN and FQANs).
    pub mapping: &'a Mapping,
    /// The account.
    pub target: &'a Target,
    /// The command.
    pub command: &'a Path,
    /// Its arguments.
    pub args: &'a [OsString],
    /// The caller's working directory.
    pub cwd: &'a Path,
}

impl Record<'_> {
    /// Log the record (and its JSON line when `json`).
    pub fn log(&self, json: bool) {
        let dn = self.mapping.dn.as_deref().unwrap_or("(bearer token)");
        let fqans = &self.mapping.fqans;
        let t = self.target;
        let argv: Vec<String> = self
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        ::log::info!(
            target: NOTICE_TARGET,
            "mapping: caller {} (uid {}) DN \"{dn}\" FQANs [{}] -> {} uid {} gid {} groups {:?}; command {} {}; cwd {}; pid {}",
            self.caller,
            self.caller_uid,
            fqans.join(", "),
            t.name,
            t.ids.uid,
            t.ids.gid,
            t.ids.groups,
            self.command.display(),
            argv.join(" "),
            self.cwd.display(),
            std::process::id()
        );
        if json {
            let line = serde_json::json!({
                "event": "glexec-mapping",
                "caller": self.caller,
                "caller_uid": self.caller_uid,
                "dn": dn,
                "fqans": fqans,
                "user": t.name,
                "uid": t.ids.uid,
                "gid": t.ids.gid,
                "groups": t.ids.groups,
                "command": self.command.display().to_string(),
                "args": argv,
                "cwd": self.cwd.display().to_string(),
                "pid": std::process::id(),
            })
            .to_string();
            ::log::info!(target: NOTICE_TARGET, "{line}");
        }
    }
}
