//! Folders say what things are: every package of the workspace is named
//! after its folder, and `lcmaps-plugins/` holds plugins only.

use std::path::Path;

/// `name = "..."` of the `[package]` table of `manifest`.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let package = text
        .split("\n[")
        .find(|t| t.starts_with("package]") || t.starts_with("[package]"))?;
    package.lines().find_map(|l| {
        let v = l
            .strip_prefix("name")?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        Some(v.trim_matches('"').to_string())
    })
}

#[test]
fn every_package_is_named_after_its_folder() {
    let ws = xtask::workspace();
    let all = xtask::manifests();
    let mut wrong = Vec::new();
    let mut packages = 0;
    for m in &all {
        let Some(name) = package_name(m) else {
            continue;
        };
        packages += 1;
        let folder = m
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // The fuzz crate is cargo-fuzz's layout (`fuzz/`, package lcmaps-fuzz).
        if name != folder && folder != "fuzz" {
            wrong.push(format!(
                "{}: package {name}",
                m.parent().unwrap().strip_prefix(&ws).unwrap().display()
            ));
        }
    }
    assert!(packages > 30, "found only {packages} packages");
    assert!(
        wrong.is_empty(),
        "packages not named after their folders:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn lcmaps_plugins_holds_plugins_only() {
    let dir = xtask::workspace().join("lcmaps-plugins");
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let lib = std::fs::read_to_string(e.path().join("src/lib.rs")).unwrap();
        // A plugin crate implements the engine's Plugin trait.
        assert!(
            lib.contains("impl Plugin for") || has_plugin_impl(&e.path().join("src")),
            "{name} has no plugin"
        );
    }
}

/// Whether some source file under `src` implements `Plugin`.
fn has_plugin_impl(src: &Path) -> bool {
    xtask::modgraph::rust_files(src)
        .unwrap()
        .iter()
        .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("impl Plugin for")))
}
