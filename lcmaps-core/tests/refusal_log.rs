//! Issue #16 item 3: every refusal, in run mode and in verify mode, names the
//! plugin and its reason in the log at the default LCMAPS_DEBUG_LEVEL.

use std::sync::Mutex;

use lcmaps_core::db::{check_str, ValidateOptions};
use lcmaps_core::env::DEFAULT_DEBUG_LEVEL;
use lcmaps_core::log::Priority;
use lcmaps_core::plugin::Request;
use lcmaps_core::policy::{BuiltinLoader, Engine, Mode, RunOptions};

/// Keeps every line the default level lets through.
struct Capture {
    max: Priority,
    lines: Mutex<Vec<String>>,
}

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        Priority::of(m.level(), m.target()) <= self.max
    }

    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            let p = Priority::of(r.level(), r.target());
            self.lines
                .lock()
                .unwrap()
                .push(format!("{}: {}", p.name(), r.args()));
        }
    }

    fn flush(&self) {}
}

static CAPTURE: std::sync::OnceLock<&'static Capture> = std::sync::OnceLock::new();

fn capture() -> &'static Capture {
    CAPTURE.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture {
            max: Priority::from_debug_level(DEFAULT_DEBUG_LEVEL),
            lines: Mutex::new(Vec::new()),
        }));
        log::set_logger(c).unwrap();
        log::set_max_level(c.max.level_filter());
        c
    })
}

#[test]
fn a_refusal_names_the_plugin_and_its_reason_at_the_default_level() {
    let cap = capture();
    let text = "good = \"lcmaps_dummy_good.mod --dummy-uid 501 --dummy-gid 500\"\n\
                nope = \"lcmaps_dummy_bad.mod\"\n\
                first:\n\
                nope -> good\n\
                second:\n\
                good -> nope\n";
    let c = check_str("lcmaps.db", text, &ValidateOptions::default());
    let mut e = Engine::new(c.config.unwrap(), &BuiltinLoader).unwrap();
    for mode in [Mode::Run, Mode::Verify] {
        cap.lines.lock().unwrap().clear();
        let o = e.run(&Request::with_dn("/CN=x"), mode, &RunOptions::default());
        assert!(!o.status.is_success());
        let log = cap.lines.lock().unwrap().join("\n");
        // The plugin's reason, in its own words.
        assert!(
            log.contains("lcmaps_dummy_bad-plugin_") && log.contains("failed by design"),
            "{mode:?}: {log}"
        );
        // Which plugin ended which policy, at LOG_ERR.
        assert!(
            log.lines().any(|l| l.starts_with("LOG_ERR")
                && l.contains("policy \"first\" failed at plugin \"nope\" (lcmaps_dummy_bad.mod)")
                && l.contains(
                    "policy \"second\" failed at plugin \"nope\" (lcmaps_dummy_bad.mod)"
                )),
            "{mode:?}: {log}"
        );
    }
    // A failure the policy branches around is not a refusal.
    let text = "good = \"lcmaps_dummy_good.mod --dummy-uid 501 --dummy-gid 500\"\n\
                p:\n\
                lcmaps_dummy_bad.mod -> good | good\n";
    let c = check_str("lcmaps.db", text, &ValidateOptions::default());
    let mut e = Engine::new(c.config.unwrap(), &BuiltinLoader).unwrap();
    cap.lines.lock().unwrap().clear();
    assert!(e
        .run(
            &Request::with_dn("/CN=x"),
            Mode::Run,
            &RunOptions::default()
        )
        .is_mapped());
    let log = cap.lines.lock().unwrap().join("\n");
    assert!(!log.contains("LOG_ERR"), "{log}");
}
