//! `lcmaps_sys::symbols` is the one list of exported functions: the
//! generated header and the plugin SDK's imports agree with it (the linker
//! version script is generated from it by lcmaps-capi/build.rs; `nm -D` and
//! the hand-written headers are compared with it in headers.rs).

use std::collections::BTreeSet;

use ffi_tests::*;
use lcmaps_sys::symbols;

fn listed() -> BTreeSet<String> {
    symbols::all().map(String::from).collect()
}

/// The functions a C header declares: each statement (comments and
/// preprocessor lines left out) with a `(`, by the name before it.
fn declared_functions(header: &str) -> BTreeSet<String> {
    let mut code = String::new();
    let mut rest = header;
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    code.push_str(rest);
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    code.split([';', '{', '}'])
        .filter_map(|stmt| {
            let head = &stmt[..stmt.find('(')?];
            let name = head.trim().split([' ', '*']).next_back()?;
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect()
}

/// The quoted names in the `exclude = [...]` array of a cbindgen.toml.
fn cbindgen_excluded(toml: &str) -> BTreeSet<String> {
    let start = toml.find("exclude = [").expect("an exclude list");
    let end = start + toml[start..].find(']').expect("the list's end");
    toml[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

#[test]
fn the_generated_header_and_cbindgens_excludes_are_the_list() {
    let header = std::fs::read_to_string(include_dir().join("lcmaps_rs_abi.h")).unwrap();
    let mut declared = declared_functions(&header);
    let toml = std::fs::read_to_string(workspace().join("lcmaps-capi/cbindgen.toml")).unwrap();
    // Excluded functions are declared by hand (types cbindgen cannot name);
    // the excluded `_t` names are the structs of lcmaps-sys.
    let excluded = cbindgen_excluded(&toml);
    declared.extend(excluded.into_iter().filter(|n| !n.ends_with("_t")));
    assert_eq!(
        declared,
        listed(),
        "lcmaps_rs_abi.h + cbindgen.toml's excluded functions (left) vs lcmaps_sys::symbols (right)"
    );
}

/// The functions the SDK's `extern "C"` blocks import, and the ones it
/// looks up by name (`b"name\0"`).
fn sdk_imports() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let dir = workspace().join("lcmaps-plugin-sdk/src");
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let mut in_block = false;
        for line in text.lines() {
            let l = line.trim();
            if l == "extern \"C\" {" {
                in_block = true;
            } else if in_block && l == "}" {
                in_block = false;
            } else if in_block {
                if let Some(rest) = l.strip_prefix("fn ") {
                    out.insert(rest[..rest.find('(').unwrap()].to_string());
                }
            }
            for part in l.split("b\"").skip(1) {
                if let Some(name) = part.split("\\0\"").next().filter(|n| n.len() < part.len()) {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn the_sdk_imports_only_plugin_helpers() {
    let helpers: BTreeSet<String> = symbols::PLUGIN_HELPERS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let imports = sdk_imports();
    // The SDK's own entry points are looked up by hosts, not imported.
    let imports: BTreeSet<String> = imports
        .into_iter()
        .filter(|n| !n.starts_with("plugin_"))
        .collect();
    for must in [
        "getCredentialData",
        "addCredentialData",
        "lcmaps_log",
        "lcas_log",
    ] {
        assert!(imports.contains(must), "{must} not found in {imports:?}");
    }
    let unknown: Vec<&String> = imports.difference(&helpers).collect();
    assert!(
        unknown.is_empty(),
        "the SDK imports {unknown:?}, which lcmaps_sys::symbols::PLUGIN_HELPERS does not list"
    );
}
