//! Benchmarks: parse + validate a 1,000-policy lcmaps.db, and evaluate a
//! chain of five built-in plugins.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use lcmaps_core::db::PluginDecl;
use lcmaps_core::db::{check_str, ValidateOptions};
use lcmaps_core::plugin::{DummyGood, Plugin, Request};
use lcmaps_core::policy::{Engine, Mode, PluginLoader, RunOptions};

/// A file with 10 declarations and `n` policies of 5 rules each.
fn big_db(n: usize) -> String {
    let mut s = String::from("# generated for the benchmark\n");
    for i in 0..5 {
        s.push_str(&format!(
            "good{i} = \"m{i}.mod\"\n          \"--dummy-uid {} --dummy-gid {}\"\n",
            1000 + i,
            1000 + i
        ));
    }
    s.push_str("bad = \"lcmaps_dummy_bad.mod\"\n");
    // Five distinct modules (one module may have only one option set).
    for p in 0..n {
        s.push_str(&format!(
            "policy{p}:\ngood0 -> good1 | bad\ngood1 -> good2\ngood2 -> good3 | bad\n~good3 -> good4\ngood4 -> bad\n"
        ));
    }
    s
}

fn parse(c: &mut Criterion) {
    let text = big_db(1000);
    let opts = five_modules();
    c.bench_function("parse+validate 1000 policies", |b| {
        b.iter(|| {
            let checked = check_str("bench.db", black_box(&text), &opts);
            assert!(checked.config.is_some());
        })
    });
}

/// Loads every declared module as a dummy_good instance, so that a chain of
/// five distinct plugins can be built from the built-in code.
struct FiveLoader;

impl PluginLoader for FiveLoader {
    fn load(&self, _decl: &PluginDecl) -> Result<Box<dyn Plugin>, String> {
        Ok(Box::new(DummyGood::default()))
    }
}

const FIVE: &str = "\
s1 = \"m1.mod --dummy-uid 501\"
s2 = \"m2.mod --dummy-gid 500\"
s3 = \"m3.mod --dummy-sec-gid 600\"
s4 = \"m4.mod --dummy-sec-gid 601\"
s5 = \"m5.mod --dummy-uid 501 --dummy-gid 500\"
chain:
s1 -> s2
s2 -> s3 | s5
s3 -> s4
s4 -> s5
";

/// Validation options that treat m0.mod .. m5.mod as built-in plugins.
fn five_modules() -> ValidateOptions {
    ValidateOptions {
        builtins: (0..=5)
            .map(|i| format!("m{i}.mod"))
            .chain(["lcmaps_dummy_bad.mod".into()])
            .collect(),
        ..ValidateOptions::default()
    }
}

fn evaluate(c: &mut Criterion) {
    let opts = five_modules();
    let config = check_str("bench.db", FIVE, &opts).config.expect("valid");
    let mut engine = Engine::new(config, &FiveLoader).expect("loads");
    let req = Request::with_dn("/DC=org/DC=example/CN=Jane Doe");
    let run = RunOptions::default();
    c.bench_function("evaluate 5-plugin chain", |b| {
        b.iter(|| {
            let o = engine.run(black_box(&req), Mode::Run, &run);
            assert_eq!(o.trace.len(), 5);
            assert!(o.is_mapped());
        })
    });
}

criterion_group!(benches, parse, evaluate);
criterion_main!(benches);
