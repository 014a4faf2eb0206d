//! The mapping record (step 14 of the run): who called, which credential,
//! which account, what command, where; the accountability trail, at notice
//! level, and as one JSON line too with `json_log = yes`.

use std::ffi::OsString;
use std::path::Path;

use lcmaps_core::log::NOTICE_TARGET;

use crate::checks::{Mapping, Target};

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
            let list = |items: &[String]| {
                let quoted: Vec<String> = items.iter().map(|i| json_string(i)).collect();
                format!("[{}]", quoted.join(","))
            };
            let groups: Vec<String> = t.ids.groups.iter().map(u32::to_string).collect();
            let line = format!(
                "{{\"event\":\"glexec-mapping\",\"caller\":{},\"caller_uid\":{},\"dn\":{},\"fqans\":{},\"user\":{},\"uid\":{},\"gid\":{},\"groups\":[{}],\"command\":{},\"args\":{},\"cwd\":{},\"pid\":{}}}",
                json_string(self.caller),
                self.caller_uid,
                json_string(dn),
                list(fqans),
                json_string(&t.name),
                t.ids.uid,
                t.ids.gid,
                groups.join(","),
                json_string(&self.command.display().to_string()),
                list(&argv),
                json_string(&self.cwd.display().to_string()),
                std::process::id(),
            );
            ::log::info!(target: NOTICE_TARGET, "{line}");
        }
    }
}

/// `s` as a JSON string (RFC 8259: quote, backslash and control characters
/// escaped). The root part links no JSON library (issue #18); this is the
/// one JSON value it writes.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::json_string;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("plain"), "\"plain\"");
        assert_eq!(
            json_string("a\"b\\c\nd\u{1}e\u{7f}é"),
            "\"a\\\"b\\\\c\\nd\\u0001e\\u007fé\""
        );
    }
}
