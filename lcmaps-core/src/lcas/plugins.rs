//! The standard LCAS plugins, built in: `lcas_userallow.mod`,
//! `lcas_userban.mod`, `lcas_timeslots.mod`, `lcas_check_executable.mod`.

use std::path::PathBuf;
use std::time::SystemTime;

use chrono::{Datelike, Local, NaiveDateTime, Timelike};

use super::{AuthzPlugin, AuthzRequest, Decision};
use crate::plugin::PluginError;

/// Module names of the built-in LCAS plugins.
pub const BUILTINS: &[&str] = &[
    "lcas_userallow.mod",
    "lcas_userban.mod",
    "lcas_timeslots.mod",
    "lcas_check_executable.mod",
];

/// A new built-in plugin for `module`.
pub fn builtin(module: &str) -> Option<Box<dyn AuthzPlugin>> {
    Some(match module {
        "lcas_userallow.mod" => Box::new(UserList::allow()),
        "lcas_userban.mod" => Box::new(UserList::ban()),
        "lcas_timeslots.mod" => Box::new(Timeslots::default()),
        "lcas_check_executable.mod" => Box::new(CheckExecutable::default()),
        _ => return None,
    })
}

/// Whether the plugin's first non-option argument is a file in the LCAS
/// directory.
pub(super) fn takes_file(module: &str) -> bool {
    matches!(
        module,
        "lcas_userallow.mod" | "lcas_userban.mod" | "lcas_timeslots.mod"
    )
}

/// A file read once and re-read when it changes (inode, size, mtime).
#[derive(Debug, Default)]
struct Watched<T> {
    path: PathBuf,
    stamp: Option<(u64, u64, SystemTime)>,
    value: Option<T>,
}

impl<T> Watched<T> {
    fn new(path: PathBuf) -> Self {
        Watched {
            path,
            stamp: None,
            value: None,
        }
    }

    /// The parsed contents, re-parsed with `parse` when the file changed.
    /// In a privileged process the file must be one only root can change
    /// ([`crate::trust::check`]), checked on every call.
    fn get(&mut self, parse: impl Fn(&str, &str) -> Result<T, String>) -> Result<&T, String> {
        use std::os::unix::fs::MetadataExt;
        let name = self.path.display().to_string();
        let meta = std::fs::metadata(&self.path).map_err(|e| format!("cannot read {name}: {e}"))?;
        crate::trust::check(&self.path).map_err(|e| e.to_string())?;
        let stamp = (
            meta.ino(),
            meta.len(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        );
        if self.stamp != Some(stamp) || self.value.is_none() {
            self.value = None;
            let text = crate::site_file::read_regular(&self.path)
                .and_then(|b| {
                    String::from_utf8(b).map_err(|e| {
                        std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error())
                    })
                })
                .map_err(|e| format!("cannot read {name}: {e}"))?;
            self.value = Some(parse(&name, &text)?);
            self.stamp = Some(stamp);
        }
        Ok(self.value.as_ref().expect("value was just set"))
    }
}

/// Parse a user list: one double-quoted DN per line (anything after the
/// closing quote is ignored), `#` comments, blank lines.
pub fn parse_user_list(name: &str, text: &str) -> Result<Vec<String>, String> {
    let mut dns = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some(rest) = l.strip_prefix('"') else {
            return Err(format!(
                "{name}:{}: a DN must be written in double quotes: {l}",
                i + 1
            ));
        };
        let Some(end) = rest.find('"') else {
            return Err(format!(
                "{name}:{}: the DN's closing quote is missing",
                i + 1
            ));
        };
        dns.push(rest[..end].to_string());
    }
    Ok(dns)
}

/// `lcas_userallow.mod FILE` (only listed DNs pass) and
/// `lcas_userban.mod FILE` (listed DNs are refused). An unreadable or
/// malformed file refuses everybody, saying why.
#[derive(Debug)]
pub struct UserList {
    allow: bool,
    file: Option<Watched<Vec<String>>>,
}

impl UserList {
    /// The allow-list plugin.
    pub fn allow() -> Self {
        UserList {
            allow: true,
            file: None,
        }
    }

    /// The ban-list plugin.
    pub fn ban() -> Self {
        UserList {
            allow: false,
            file: None,
        }
    }
}

impl AuthzPlugin for UserList {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let Some(path) = argv.get(1) else {
            return Err(PluginError(
                "the user list file is required as first argument".into(),
            ));
        };
        let mut w = Watched::new(PathBuf::from(path));
        w.get(parse_user_list).map_err(PluginError)?;
        self.file = Some(w);
        Ok(())
    }

    fn confirm(&mut self, req: &AuthzRequest) -> Decision {
        let Some(dn) = req.dn.as_deref() else {
            return Decision::Deny("no DN in the request".into());
        };
        let Some(file) = self.file.as_mut() else {
            return Decision::Deny("plugin not initialized".into());
        };
        match file.get(parse_user_list) {
            Err(e) => Decision::Deny(format!("{e} (refusing everybody until it is fixed)")),
            Ok(list) => {
                let listed = list.iter().any(|d| d == dn);
                match (self.allow, listed) {
                    (true, true) | (false, false) => Decision::Permit,
                    (true, false) => {
                        Decision::Deny(format!("{dn} is not in {}", file.path.display()))
                    }
                    (false, true) => {
                        Decision::Deny(format!("{dn} is banned in {}", file.path.display()))
                    }
                }
            }
        }
    }
}

/// One line of a timeslots file:
/// `minute1-minute2 hour1-hour2 mday1-mday2 month1-month2 year1-year2 wday1-wday2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSlot {
    /// Start and end (hour, minute); the end may be 24:00.
    pub time: ((u32, u32), (u32, u32)),
    /// Start and end (year, month, day).
    pub date: ((i32, u32, u32), (i32, u32, u32)),
    /// Start and end weekday, 0 = Sunday; start > end wraps around.
    pub wday: (u32, u32),
}

impl TimeSlot {
    /// Does the wall-clock time `t` (local, weekday from it) fall in the slot?
    pub fn contains(&self, t: NaiveDateTime) -> bool {
        let hm = (t.hour(), t.minute());
        let ymd = (t.year(), t.month(), t.day());
        let wd = t.weekday().num_days_from_sunday();
        let (w1, w2) = self.wday;
        let wday_ok = if w1 <= w2 {
            w1 <= wd && wd <= w2
        } else {
            wd >= w1 || wd <= w2
        };
        self.time.0 <= hm
            && hm <= self.time.1
            && self.date.0 <= ymd
            && ymd <= self.date.1
            && wday_ok
    }
}

/// Parse a timeslots file. Fields are `a-b`, `a-` (to the maximum), `a`
/// (just a) or `*` (the whole range).
pub fn parse_timeslots(name: &str, text: &str) -> Result<Vec<TimeSlot>, String> {
    const RANGES: [(&str, i64, i64); 6] = [
        ("minute", 0, 59),
        ("hour", 0, 24),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("year", 1970, 9999),
        ("weekday", 0, 6),
    ];
    let mut slots = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        let at = |msg: String| format!("{name}:{}: {msg}", i + 1);
        let fields: Vec<&str> = l.split_whitespace().collect();
        if fields.len() != 6 {
            return Err(at(format!(
                "expected 6 fields (minutes hours days months years weekdays), found {}",
                fields.len()
            )));
        }
        let mut r = [(0i64, 0i64); 6];
        for (k, f) in fields.iter().enumerate() {
            let (what, min, max) = RANGES[k];
            let num = |s: &str| -> Result<i64, String> {
                s.parse::<i64>()
                    .ok()
                    .filter(|v| (min..=max).contains(v))
                    .ok_or_else(|| at(format!("{what} `{s}` is not a number from {min} to {max}")))
            };
            r[k] = if *f == "*" {
                (min, max)
            } else if let Some((a, b)) = f.split_once('-') {
                (num(a)?, if b.is_empty() { max } else { num(b)? })
            } else {
                let v = num(f)?;
                (v, v)
            };
        }
        let u = |v: i64| v as u32;
        slots.push(TimeSlot {
            time: ((u(r[1].0), u(r[0].0)), (u(r[1].1), u(r[0].1))),
            date: (
                (r[4].0 as i32, u(r[3].0), u(r[2].0)),
                (r[4].1 as i32, u(r[3].1), u(r[2].1)),
            ),
            wday: (u(r[5].0), u(r[5].1)),
        });
    }
    Ok(slots)
}

/// `lcas_timeslots.mod FILE`: the local wall-clock time must fall in at
/// least one slot.
#[derive(Debug, Default)]
pub struct Timeslots {
    file: Option<Watched<Vec<TimeSlot>>>,
}

impl Timeslots {
    /// The decision at local time `t`.
    pub fn confirm_at(&mut self, t: NaiveDateTime) -> Decision {
        let Some(file) = self.file.as_mut() else {
            return Decision::Deny("plugin not initialized".into());
        };
        match file.get(parse_timeslots) {
            Err(e) => Decision::Deny(format!("{e} (refusing everybody until it is fixed)")),
            Ok(slots) if slots.iter().any(|s| s.contains(t)) => Decision::Permit,
            Ok(_) => Decision::Deny(format!(
                "{} is outside every time slot of {}",
                t.format("%Y-%m-%d %H:%M"),
                file.path.display()
            )),
        }
    }
}

impl AuthzPlugin for Timeslots {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let Some(path) = argv.get(1) else {
            return Err(PluginError(
                "the timeslots file is required as first argument".into(),
            ));
        };
        let mut w = Watched::new(PathBuf::from(path));
        w.get(parse_timeslots).map_err(PluginError)?;
        self.file = Some(w);
        Ok(())
    }

    fn confirm(&mut self, _req: &AuthzRequest) -> Decision {
        self.confirm_at(Local::now().naive_local())
    }
}

/// `lcas_check_executable.mod -exec /path/a:/path/b`: the executable named
/// in the request (`executable=...` of the RSL) must be one of the list.
#[derive(Debug, Default)]
pub struct CheckExecutable {
    allowed: Vec<String>,
}

/// The `executable` attribute of an RSL request such as
/// `&(executable="/bin/sh")(arguments=-c x)`, case-insensitive.
pub fn rsl_executable(rsl: &str) -> Option<String> {
    let lower = rsl.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("executable") {
        let start = from + i;
        from = start + "executable".len();
        let before_ok = lower[..start].trim_end().ends_with('(');
        let rest = rsl[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let v = rest[1..].trim_start();
        let value = if let Some(q) = v.strip_prefix('"') {
            q.split('"').next().unwrap_or("")
        } else {
            v.split(|c: char| c == ')' || c.is_whitespace())
                .next()
                .unwrap_or("")
        };
        return Some(value.to_string());
    }
    None
}

impl AuthzPlugin for CheckExecutable {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let mut it = argv.iter().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "-exec" | "-EXEC" => {
                    let v = it
                        .next()
                        .ok_or_else(|| PluginError("-exec needs a value".into()))?;
                    self.allowed
                        .extend(v.split(':').filter(|s| !s.is_empty()).map(String::from));
                }
                other => return Err(PluginError(format!("unknown option {other}"))),
            }
        }
        if self.allowed.is_empty() {
            return Err(PluginError(
                "no allowed executable given (use -exec /path/one:/path/two)".into(),
            ));
        }
        Ok(())
    }

    fn confirm(&mut self, req: &AuthzRequest) -> Decision {
        match req.request.as_deref().and_then(rsl_executable) {
            None => Decision::Deny("the request names no executable".into()),
            Some(e) if self.allowed.contains(&e) => Decision::Permit,
            Some(e) => Decision::Deny(format!("executable {e} is not allowed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn slots(text: &str) -> Vec<TimeSlot> {
        parse_timeslots("t.db", text).unwrap()
    }

    fn open(text: &str, t: NaiveDateTime) -> bool {
        slots(text).iter().any(|s| s.contains(t))
    }

    #[test]
    fn timeslots_examples_from_the_lcas_file() {
        // Working days 8:30-18:00 from 1 July 2002 till 15 January 2003.
        let s = "30-0 8-18 1-15 7-1 2002-2003 1-5\n";
        assert!(open(s, at(2002, 7, 1, 8, 30))); // a Monday
        assert!(!open(s, at(2002, 7, 1, 8, 29)));
        assert!(open(s, at(2002, 7, 1, 18, 0)));
        assert!(!open(s, at(2002, 7, 1, 18, 1)));
        assert!(open(s, at(2002, 12, 31, 12, 0))); // Tuesday, inside the date range
        assert!(!open(s, at(2003, 1, 16, 12, 0)));
        assert!(!open(s, at(2002, 7, 6, 12, 0))); // Saturday
                                                  // Nights, across midnight as two slots.
        let n = "0-0 18-24 * * * *\n0-0 0-7 * * * *\n";
        assert!(open(n, at(2026, 11, 23, 23, 59)));
        assert!(open(n, at(2026, 11, 24, 0, 0)));
        assert!(open(n, at(2026, 11, 24, 7, 0)));
        assert!(!open(n, at(2026, 11, 24, 7, 1)));
        assert!(!open(n, at(2026, 11, 24, 12, 0)));
        assert!(open("* * * * * *\n", at(1999, 1, 1, 0, 0)));
    }

    #[test]
    fn weekday_ranges_wrap() {
        // Friday to Wednesday: only Thursday is closed. 2026-11-26 is a Thursday.
        let s = "* * * * * 5-3\n";
        assert!(!open(s, at(2026, 11, 26, 12, 0)));
        assert!(open(s, at(2026, 11, 27, 12, 0)));
        assert!(open(s, at(2026, 11, 22, 12, 0))); // Sunday
        assert!(open(s, at(2026, 11, 25, 23, 59))); // Wednesday
                                                    // `5-` means Friday to Saturday.
        assert!(!open("* * * * * 5-\n", at(2026, 11, 22, 12, 0)));
        assert!(open("* * * * * 6\n", at(2026, 11, 28, 12, 0)));
    }

    #[test]
    fn timeslot_errors_name_the_line() {
        assert_eq!(
            parse_timeslots("t.db", "# c\n* * * * *\n").unwrap_err(),
            "t.db:2: expected 6 fields (minutes hours days months years weekdays), found 5"
        );
        assert_eq!(
            parse_timeslots("t.db", "60 * * * * *\n").unwrap_err(),
            "t.db:1: minute `60` is not a number from 0 to 59"
        );
        assert_eq!(
            parse_timeslots("t.db", "* * * * * x-1\n").unwrap_err(),
            "t.db:1: weekday `x` is not a number from 0 to 6"
        );
    }

    #[test]
    fn user_lists() {
        assert_eq!(
            parse_user_list("u", "# c\n\n \"/O=x/CN=Jane Doe\" trailing\n\"/CN=b\"\n").unwrap(),
            ["/O=x/CN=Jane Doe", "/CN=b"]
        );
        assert_eq!(
            parse_user_list("u", "\"/CN=a\"\n/CN=b\n").unwrap_err(),
            "u:2: a DN must be written in double quotes: /CN=b"
        );
        assert_eq!(
            parse_user_list("u", "\"/CN=a\n").unwrap_err(),
            "u:1: the DN's closing quote is missing"
        );
    }

    #[test]
    fn ban_file_changes_are_picked_up_and_breakage_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ban.db");
        std::fs::write(&f, "\"/CN=x\"\n").unwrap();
        let mut p = UserList::ban();
        p.initialize(&["m".into(), f.display().to_string()])
            .unwrap();
        let jane = AuthzRequest::with_dn("/CN=Jane");
        assert_eq!(p.confirm(&jane), Decision::Permit);
        std::fs::write(&f, "\"/CN=x\"\n\"/CN=Jane\"\n").unwrap();
        assert!(matches!(p.confirm(&jane), Decision::Deny(r) if r.contains("is banned")));
        std::fs::write(&f, "garbage\n").unwrap();
        assert!(
            matches!(p.confirm(&AuthzRequest::with_dn("/CN=y")), Decision::Deny(r) if r.contains("ban.db:1"))
        );
        std::fs::remove_file(&f).unwrap();
        assert!(
            matches!(p.confirm(&AuthzRequest::with_dn("/CN=y")), Decision::Deny(r) if r.contains("cannot read"))
        );
        assert!(matches!(
            p.confirm(&AuthzRequest::default()),
            Decision::Deny(_)
        ));
    }

    #[test]
    fn check_executable() {
        assert_eq!(
            rsl_executable("&(executable=\"/bin/sh\")(arguments=-c)").as_deref(),
            Some("/bin/sh")
        );
        assert_eq!(
            rsl_executable("&( EXECUTABLE = /usr/bin/env )").as_deref(),
            Some("/usr/bin/env")
        );
        assert_eq!(rsl_executable("&(arguments=executable)"), None);
        let mut p = CheckExecutable::default();
        assert!(p.initialize(&["m".into()]).is_err());
        assert!(p.initialize(&["m".into(), "-bogus".into()]).is_err());
        p.initialize(&["m".into(), "-exec".into(), "/bin/sh:/usr/bin/env".into()])
            .unwrap();
        let req = |r: &str| AuthzRequest {
            request: Some(r.into()),
            ..AuthzRequest::default()
        };
        assert_eq!(p.confirm(&req("&(executable=/bin/sh)")), Decision::Permit);
        assert!(
            matches!(p.confirm(&req("&(executable=/bin/bash)")), Decision::Deny(r) if r == "executable /bin/bash is not allowed")
        );
        assert!(matches!(
            p.confirm(&AuthzRequest::default()),
            Decision::Deny(_)
        ));
    }
}
