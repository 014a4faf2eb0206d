//! The helper's log: every record is kept in memory and sent in the
//! answer's trace, one line each, as `<level> <message>` (level letters of
//! [`glexec_privsep::wire::TraceLevel`]), for the root part to write to
//! glexec's log. Control characters are escaped and long lines cut, so every
//! line is within the wire format's limits; when there are more lines than
//! an answer carries, debug lines go first, then the last ones.

use std::sync::Mutex;

use glexec_privsep::wire::{TraceLevel, MAX_TEXT, MAX_TRACE};
use glexec_privsep::Answer;

static LINES: Mutex<Vec<(TraceLevel, String)>> = Mutex::new(Vec::new());

struct Collector;

impl log::Log for Collector {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        let level = match r.level() {
            log::Level::Error => TraceLevel::Error,
            log::Level::Warn => TraceLevel::Warn,
            log::Level::Info if r.target() == lcmaps_core::log::NOTICE_TARGET => TraceLevel::Notice,
            log::Level::Info => TraceLevel::Info,
            log::Level::Debug | log::Level::Trace => TraceLevel::Debug,
        };
        let text: String = r
            .args()
            .to_string()
            .chars()
            .flat_map(|c| {
                let escaped: Vec<char> = if c.is_control() {
                    c.escape_default().collect()
                } else {
                    vec![c]
                };
                escaped
            })
            .collect();
        let mut cut = MAX_TEXT - 2;
        while !text.is_char_boundary(cut.min(text.len())) {
            cut -= 1;
        }
        let text = text[..cut.min(text.len())].to_string();
        if let Ok(mut l) = LINES.lock() {
            // Bounded: a plugin that logs in a loop cannot exhaust memory.
            if l.len() < 16 * MAX_TRACE {
                l.push((level, text));
            }
        }
    }
    fn flush(&self) {}
}

/// Install the collector (once per process).
pub fn install() {
    if log::set_logger(&Collector).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

/// `answer` with the collected lines as its trace.
pub fn attach(mut answer: Answer) -> Answer {
    let mut lines = LINES.lock().map(|l| l.clone()).unwrap_or_default();
    if lines.len() > MAX_TRACE {
        lines.retain(|(l, _)| *l != TraceLevel::Debug);
    }
    if lines.len() > MAX_TRACE {
        let skip = lines.len() - MAX_TRACE;
        lines.drain(..skip);
    }
    let trace = lines.into_iter().map(|(l, t)| l.line(&t)).collect();
    match &mut answer {
        Answer::Mapped(m) => m.trace = trace,
        Answer::Refused(r) => r.trace = trace,
    }
    answer
}
