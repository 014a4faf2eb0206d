//! Fuzz the lcmaps.db reader: any bytes must give a result or diagnostics,
//! never a panic, and every diagnostic must point inside the input.
#![no_main]

use lcmaps_core::db::{check_bytes, ValidateOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ValidateOptions {
        modules_dir: None,
        mod_home: "/nonexistent".into(),
        builtins: vec!["lcmaps_dummy_good.mod".into(), "lcmaps_dummy_bad.mod".into()],
        assume_modules: false,
    };
    let checked = check_bytes("fuzz.db", data, &opts);
    let lines = data.split(|b| *b == b'\n').count();
    for d in &checked.diagnostics {
        if let Some(loc) = &d.location {
            assert!(loc.line >= 1 && loc.line <= lines, "line {} of {lines}", loc.line);
            assert!(loc.col >= 1);
        }
        let _ = d.to_string();
    }
    if checked.has_errors() {
        assert!(checked.config.is_none());
    }
});
