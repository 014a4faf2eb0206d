//! No crate of the workspace has a module cycle (docs/architecture.md:
//! modules by responsibility, each depending one way).

use xtask::modgraph;

#[test]
fn no_crate_has_a_module_cycle() {
    let ws = xtask::workspace();
    let mut found = Vec::new();
    let mut crates = 0;
    for manifest in xtask::manifests() {
        let src = manifest.parent().unwrap().join("src");
        if !src.is_dir() {
            continue;
        }
        crates += 1;
        let g = modgraph::graph(&src).unwrap();
        for c in modgraph::cycles(&g) {
            found.push(format!("{}: {c}", src.strip_prefix(&ws).unwrap().display()));
        }
    }
    assert!(crates > 20, "found only {crates} crates");
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn a_cycle_is_found_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path();
    std::fs::write(src.join("lib.rs"), "mod a; mod b; mod c;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::{b::X, c};\n").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "use super::c::Y;\n// crate::a in a comment\n",
    )
    .unwrap();
    std::fs::create_dir(src.join("c")).unwrap();
    std::fs::write(src.join("c/mod.rs"), "mod d;\n").unwrap();
    std::fs::write(
        src.join("c/d.rs"),
        "fn f() { crate::a::g() }\n#[cfg(test)]\nmod tests { use crate::b; }\n",
    )
    .unwrap();
    let g = modgraph::graph(src).unwrap();
    let cycles = modgraph::cycles(&g);
    assert_eq!(
        cycles,
        vec!["crate: among a, b, c".to_string()],
        "{:?}",
        g.edges
    );
    std::fs::write(src.join("c/d.rs"), "fn f() {}\n").unwrap();
    assert!(modgraph::cycles(&modgraph::graph(src).unwrap()).is_empty());
}
