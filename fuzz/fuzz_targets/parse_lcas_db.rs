//! Fuzz the lcas.db reader (`lcmaps_core::lcas::check_bytes`, what
//! `lcas_init` and `lcmaps check --lcas` use): any bytes give a
//! configuration or diagnostics, never a panic; every diagnostic points
//! inside the input (a line that exists, a column within that line's
//! characters + 1); errors and a configuration never come together; an
//! accepted file, written back out one plugin a line, is accepted again
//! with the same plugins and arguments.
#![no_main]

use std::path::Path;

use lcmaps_core::lcas::{self, Checked, Options};
use libfuzzer_sys::fuzz_target;

const NAME: &str = "lcas.db";

fn opts() -> Options {
    Options {
        modules_dir: "/nonexistent".into(),
        ..Options::default()
    }
}

fn check(bytes: &[u8]) -> Checked {
    lcas::check_bytes(NAME, bytes, Path::new("/nonexistent"), &opts())
}

fuzz_target!(|data: &[u8]| {
    let checked = check(data);
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    for d in &checked.diagnostics {
        let rendered = d.to_string();
        if let Some(loc) = &d.location {
            assert_eq!(loc.file, NAME);
            assert!(
                loc.line >= 1 && loc.line <= lines.len(),
                "line {} of {}: {rendered}",
                loc.line,
                lines.len()
            );
            let chars = lines[loc.line - 1].chars().count();
            assert!(
                loc.col >= 1 && loc.col <= chars + 1,
                "column {} on a line of {chars} characters: {rendered}",
                loc.col
            );
        }
    }
    assert_eq!(checked.has_errors(), checked.config.is_none());
    let Some(config) = &checked.config else {
        return;
    };
    let mut again = String::new();
    for p in &config.plugins {
        assert!(!p.module.is_empty());
        again.push_str(&format!(
            "pluginname=\"{}\",pluginargs=\"{}\"\n",
            p.module,
            p.args.join(" ")
        ));
    }
    let rechecked = check(again.as_bytes());
    let Some(reparsed) = &rechecked.config else {
        panic!(
            "{again:?} (written from an accepted file) is refused: {:?}",
            rechecked.diagnostics
        );
    };
    let strip = |c: &lcas::LcasConfig| {
        c.plugins
            .iter()
            .map(|p| (p.module.clone(), p.args.clone(), p.file.clone(), p.builtin))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(config), strip(reparsed), "{again:?}");
});
