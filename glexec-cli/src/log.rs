//! glexec's own log: syslog (ident `glexec`, configured facility) or a
//! root-owned log file opened O_APPEND|O_NOFOLLOW. Every line carries the
//! run's correlation id, which is also printed on stderr when glexec fails.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Mutex;

use syslog::{Facility, Formatter3164, Logger, LoggerBackend};

/// The syslog facility called `name` (`LOG_DAEMON`, `LOG_LOCAL0`..`7`, ...).
pub fn facility(name: &str) -> Option<Facility> {
    Some(match name {
        "LOG_DAEMON" => Facility::LOG_DAEMON,
        "LOG_AUTH" => Facility::LOG_AUTH,
        "LOG_AUTHPRIV" => Facility::LOG_AUTHPRIV,
        "LOG_USER" => Facility::LOG_USER,
        "LOG_LOCAL0" => Facility::LOG_LOCAL0,
        "LOG_LOCAL1" => Facility::LOG_LOCAL1,
        "LOG_LOCAL2" => Facility::LOG_LOCAL2,
        "LOG_LOCAL3" => Facility::LOG_LOCAL3,
        "LOG_LOCAL4" => Facility::LOG_LOCAL4,
        "LOG_LOCAL5" => Facility::LOG_LOCAL5,
        "LOG_LOCAL6" => Facility::LOG_LOCAL6,
        "LOG_LOCAL7" => Facility::LOG_LOCAL7,
        _ => return None,
    })
}

enum Sink {
    Syslog(Logger<LoggerBackend, Formatter3164>),
    File(File),
    Silent,
}

/// A `log::Log` that writes glexec's lines with the correlation id.
pub struct GlexecLogger {
    sink: Mutex<Sink>,
    id: String,
    max: log::LevelFilter,
}

impl std::fmt::Debug for GlexecLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlexecLogger")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// glexec's log_level 0-5 as a `log` filter.
pub fn level_filter(level: u8) -> log::LevelFilter {
    match level {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 | 4 => log::LevelFilter::Info,
        _ => log::LevelFilter::Debug,
    }
}

/// Open the log file as root: O_APPEND|O_NOFOLLOW, and refuse a file that
/// is not root-owned or is writable by group or others.
pub fn open_log_file(path: &Path) -> Result<File, String> {
    let f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
    let m = f
        .metadata()
        .map_err(|e| format!("cannot stat log file {}: {e}", path.display()))?;
    if !m.is_file() || m.uid() != 0 || m.mode() & 0o022 != 0 || m.nlink() != 1 {
        return Err(format!(
            "log file {} must be a regular root-owned file with one link, not writable by group or others (it is: owner {}, mode {:04o}, {} links)",
            path.display(),
            m.uid(),
            m.mode() & 0o7777,
            m.nlink()
        ));
    }
    Ok(f)
}

impl GlexecLogger {
    /// Log to syslog with `facility`.
    pub fn syslog(facility: Facility, id: String, max: log::LevelFilter) -> Result<Self, String> {
        let fmt = Formatter3164 {
            facility,
            hostname: None,
            process: "glexec".into(),
            pid: std::process::id(),
        };
        let l = syslog::unix(fmt).map_err(|e| format!("cannot connect to syslog: {e}"))?;
        Ok(GlexecLogger {
            sink: Mutex::new(Sink::Syslog(l)),
            id,
            max,
        })
    }

    /// Log to an open file.
    pub fn file(f: File, id: String, max: log::LevelFilter) -> Self {
        GlexecLogger {
            sink: Mutex::new(Sink::File(f)),
            id,
            max,
        }
    }

    /// Log nothing (`silent_logging = yes`).
    pub fn silent(id: String) -> Self {
        GlexecLogger {
            sink: Mutex::new(Sink::Silent),
            id,
            max: log::LevelFilter::Off,
        }
    }

    /// Install as the process logger.
    pub fn install(self) {
        let max = self.max;
        if log::set_boxed_logger(Box::new(self)).is_ok() {
            log::set_max_level(max);
        }
    }
}

impl log::Log for GlexecLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= self.max
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let msg = format!("[{}] {}", self.id, escape(&r.args().to_string()));
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *sink {
            Sink::Syslog(l) => {
                let _ = match r.level() {
                    log::Level::Error => l.err(msg),
                    log::Level::Warn => l.warning(msg),
                    log::Level::Info if r.target() == lcmaps_core::log::NOTICE_TARGET => {
                        l.notice(msg)
                    }
                    log::Level::Info => l.info(msg),
                    _ => l.debug(msg),
                };
            }
            Sink::File(f) => {
                let line = format!(
                    "glexec[{}] {:>7}: {}: {msg}\n",
                    std::process::id(),
                    r.level(),
                    lcmaps_core::log::timestamp(std::time::SystemTime::now())
                );
                let _ = f.write_all(line.as_bytes());
            }
            Sink::Silent => {}
        }
    }

    fn flush(&self) {}
}

/// Longest message written (bytes, before escaping).
const MAX_MESSAGE: usize = 4096;

/// One record, one line: a trailing newline is dropped, every other control
/// character (newlines, carriage returns, escapes, Unicode line separators)
/// is written as `\n`, `\r`, `\t` or `\xNN`, so that nothing a caller, a
/// credential or a plugin wrote can start a line of its own. Backslashes are
/// left alone, so the JSON record (whose strings serde_json has escaped
/// already) stays valid JSON. Messages are cut at [`MAX_MESSAGE`] bytes.
pub fn escape(msg: &str) -> String {
    let msg = msg.trim_end_matches(['\n', '\r']);
    let mut out = String::with_capacity(msg.len().min(MAX_MESSAGE) + 8);
    for (i, c) in msg.char_indices() {
        if i >= MAX_MESSAGE {
            out.push_str("...");
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// A short random id for this run, from the kernel's random source.
pub fn correlation_id() -> String {
    let mut b = [0u8; 4];
    if let Ok(mut f) = File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut b);
    }
    let pid = std::process::id();
    format!("{:08x}{:04x}", u32::from_le_bytes(b), pid & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_one_record_on_one_line() {
        assert_eq!(escape("plain text\n"), "plain text");
        assert_eq!(
            escape("x\nglexec[1] NOTICE: FORGED"),
            "x\\nglexec[1] NOTICE: FORGED"
        );
        assert_eq!(escape("a\rb\tc\u{1b}[31md\\"), "a\\rb\\tc\\x1b[31md\\");
        assert_eq!(escape("a\u{2028}b"), "a\\x2028b");
        assert_eq!(escape("\u{85}next line"), "\\x85next line");
        assert!(!escape(&"\n".repeat(10_000)).contains('\n'));
        assert!(escape(&"é".repeat(5000)).ends_with("..."));
    }

    #[test]
    fn facilities_and_levels() {
        assert!(facility("LOG_LOCAL1").is_some());
        assert!(facility("local1").is_none());
        assert_eq!(level_filter(0), log::LevelFilter::Off);
        assert_eq!(level_filter(3), log::LevelFilter::Info);
        let a = correlation_id();
        assert_eq!(a.len(), 12);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
