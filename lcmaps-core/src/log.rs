//! Logging with LCMAPS's line format, behind the `log` facade.
//!
//! File lines look like LCMAPS's, so log scrapers keep working:
//! `lcmaps[1234]  LOG_NOTICE: 2026-11-23.10:00:00Z: LCMAPS CRED FINAL: ...`
//!
//! `log` has no NOTICE level; NOTICE messages are `info` records with the
//! target [`NOTICE_TARGET`] (use [`notice`]).

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Target that marks an `info` record as syslog NOTICE.
pub const NOTICE_TARGET: &str = "lcmaps::notice";
/// LCMAPS formats a message into this many bytes at most.
pub const MAX_MESSAGE: usize = 2048;

/// Log a message at NOTICE.
pub fn notice(msg: &str) {
    log::info!(target: NOTICE_TARGET, "{msg}");
}

/// Syslog priorities LCMAPS uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// LOG_ERR (3)
    Err = 3,
    /// LOG_WARNING (4)
    Warning = 4,
    /// LOG_NOTICE (5)
    Notice = 5,
    /// LOG_INFO (6)
    Info = 6,
    /// LOG_DEBUG (7)
    Debug = 7,
}

impl Priority {
    /// The name LCMAPS prints.
    pub fn name(self) -> &'static str {
        match self {
            Priority::Err => "LOG_ERR",
            Priority::Warning => "LOG_WARNING",
            Priority::Notice => "LOG_NOTICE",
            Priority::Info => "LOG_INFO",
            Priority::Debug => "LOG_DEBUG",
        }
    }

    /// The most verbose priority logged at `LCMAPS_DEBUG_LEVEL` `level`.
    pub fn from_debug_level(level: u8) -> Priority {
        match level {
            0 | 1 => Priority::Err,
            2 => Priority::Warning,
            3 => Priority::Notice,
            4 => Priority::Info,
            _ => Priority::Debug,
        }
    }

    /// The priority of a `log` record.
    pub fn of(level: log::Level, target: &str) -> Priority {
        match level {
            log::Level::Error => Priority::Err,
            log::Level::Warn => Priority::Warning,
            log::Level::Info if target == NOTICE_TARGET => Priority::Notice,
            log::Level::Info => Priority::Info,
            log::Level::Debug | log::Level::Trace => Priority::Debug,
        }
    }

    /// The `log` filter that lets through everything up to this priority.
    pub fn level_filter(self) -> log::LevelFilter {
        match self {
            Priority::Err => log::LevelFilter::Error,
            Priority::Warning => log::LevelFilter::Warn,
            Priority::Notice | Priority::Info => log::LevelFilter::Info,
            Priority::Debug => log::LevelFilter::Debug,
        }
    }
}

/// Where log lines go.
#[derive(Debug)]
pub enum Sink {
    /// Standard error.
    Stderr,
    /// A file opened for appending.
    File(std::fs::File),
}

/// A `log::Log` writing LCMAPS-format lines.
#[derive(Debug)]
pub struct Logger {
    sink: Mutex<Sink>,
    max: Priority,
    log_string: Option<String>,
    ident: Option<String>,
}

impl Logger {
    /// A logger writing to `sink` up to priority `max`.
    pub fn new(
        sink: Sink,
        max: Priority,
        log_string: Option<String>,
        ident: Option<String>,
    ) -> Self {
        Logger {
            sink: Mutex::new(sink),
            max,
            log_string,
            ident,
        }
    }

    /// Install as the process logger. Fails if another logger is installed.
    pub fn install(self) -> Result<(), log::SetLoggerError> {
        let filter = self.max.level_filter();
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(filter);
        Ok(())
    }

    /// Format one line (with its newline).
    pub fn format(&self, prio: Priority, msg: &str, now: SystemTime) -> String {
        let mut line = String::new();
        if let Some(i) = &self.ident {
            line.push_str(i);
            line.push(':');
        }
        line.push_str(&format!(
            "lcmaps[{}] {:>11}: {}: ",
            std::process::id(),
            prio.name(),
            timestamp(now)
        ));
        if let Some(s) = &self.log_string {
            line.push_str(s);
            line.push_str(": ");
        }
        line.push_str(&sanitize(msg));
        if !line.ends_with('\n') {
            line.push('\n');
        }
        line
    }
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        Priority::of(m.level(), m.target()) <= self.max
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let prio = Priority::of(record.level(), record.target());
        let line = self.format(prio, &record.args().to_string(), SystemTime::now());
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let _ = match &mut *sink {
            Sink::Stderr => std::io::stderr().write_all(line.as_bytes()),
            Sink::File(f) => f.write_all(line.as_bytes()).and_then(|_| f.flush()),
        };
    }

    fn flush(&self) {}
}

/// Replace non-printable characters by `?` and cut the message at
/// [`MAX_MESSAGE`] bytes with `...`, as LCMAPS does. A final newline stays;
/// a newline inside the message is written as `\n` (LCMAPS writes it as
/// is), so that a plugin or a credential cannot start a log line of its own.
pub fn sanitize(msg: &str) -> String {
    let body = msg.strip_suffix('\n').unwrap_or(msg);
    let mut out = String::with_capacity(msg.len());
    for c in body.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => out.push('?'),
            c => out.push(c),
        }
    }
    if body.len() != msg.len() {
        out.push('\n');
    }
    if out.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE - 4;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...\n");
    }
    out
}

/// `YYYY-MM-DD.hh:mm:ssZ` in UTC.
pub fn timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let u = crate::time::utc(i64::try_from(secs).unwrap_or(i64::MAX));
    format!(
        "{:04}-{:02}-{:02}.{:02}:{:02}:{:02}Z",
        u.year, u.month, u.day, u.hour, u.minute, u.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn line_format() {
        let l = Logger::new(
            Sink::Stderr,
            Priority::Debug,
            Some("jobid=7".into()),
            Some("glexec".into()),
        );
        let t = UNIX_EPOCH + Duration::from_secs(1_795_428_000); // 2026-11-23 10:00:00Z
        let line = l.format(Priority::Notice, "hello\u{1}", t);
        assert_eq!(
            line,
            format!(
                "glexec:lcmaps[{}]  LOG_NOTICE: 2026-11-23.10:00:00Z: jobid=7: hello?\n",
                std::process::id()
            )
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01.00:00:00Z");
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29.00:00:00Z"
        );
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(4_102_444_799)),
            "2099-12-31.23:59:59Z"
        );
    }

    #[test]
    fn levels() {
        assert_eq!(Priority::from_debug_level(1), Priority::Err);
        assert_eq!(Priority::from_debug_level(3), Priority::Notice);
        assert_eq!(
            Priority::of(log::Level::Info, NOTICE_TARGET),
            Priority::Notice
        );
        assert!(Priority::of(log::Level::Info, "x") > Priority::Notice);
        assert_eq!(sanitize("a\nFORGED line\n"), "a\\nFORGED line\n");
        assert_eq!(sanitize("a\rb\u{1b}"), "a?b?");
        let long = "x".repeat(5000);
        let s = sanitize(&long);
        assert_eq!(s.len(), MAX_MESSAGE);
        assert!(s.ends_with("...\n"));
    }
}
