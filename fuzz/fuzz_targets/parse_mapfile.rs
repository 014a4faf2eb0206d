//! Fuzz the grid-mapfile format (`lcmaps_plugin_common::mapfile`: also ban
//! files and group-mapfiles): any bytes parse without a panic; entries and
//! the first malformed line name lines that exist, in order; an entry's
//! key has no unescaped blank (unquoted) or quote (quoted); the written-out
//! entries parse again to the same keys and mappings; and a lookup through
//! the index gives what a top-to-bottom scan gives (exact and wildcard).
#![no_main]

use std::path::Path;

use lcmaps_plugin_common::fnmatch::fnmatch;
use lcmaps_plugin_common::mapfile::{Entry, Mapfile, Select};
use libfuzzer_sys::fuzz_target;

/// Whether `key` has `c` outside a `\x` pair.
fn has_bare(key: &[u8], c: u8) -> bool {
    let mut i = 0;
    while i < key.len() {
        match key[i] {
            b'\\' => i += 2,
            b if b == c => return true,
            _ => i += 1,
        }
    }
    false
}

/// One line that parses to `e`'s key and mappings.
fn render(e: &Entry) -> Vec<u8> {
    let mut out = Vec::new();
    if has_bare(&e.key, b'"') {
        // Only an unquoted key can hold a bare quote, and then it holds no
        // bare blank and does not start with a quote or `#`.
        out.extend_from_slice(&e.key);
    } else {
        out.push(b'"');
        out.extend_from_slice(&e.key);
        out.push(b'"');
    }
    for (i, m) in e.mappings.iter().enumerate() {
        out.push(if i == 0 { b' ' } else { b',' });
        for &b in m.as_bytes() {
            if matches!(b, b'\\' | b',' | b' ' | b'\t' | b'#') {
                out.push(b'\\');
            }
            out.push(b);
        }
    }
    out.push(b'\n');
    out
}

/// What upstream's top-to-bottom scan returns for `subject`.
fn scan(
    m: &Mapfile,
    subject: &[u8],
    wildcards: bool,
    only_key: bool,
) -> Result<Option<usize>, usize> {
    for e in &m.entries {
        let hit = if wildcards {
            fnmatch(&e.key, subject)
        } else {
            e.key == subject
        };
        if !hit {
            continue;
        }
        if only_key {
            return Ok(Some(e.line));
        }
        if e.mappings.iter().any(|m| !m.starts_with('.')) {
            return Ok(Some(e.line));
        }
    }
    match &m.error {
        Some(err) => Err(err.line),
        None => Ok(None),
    }
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/etc/grid-security/grid-mapfile");
    let m = Mapfile::parse(path, data);
    let lines = data.split(|&b| b == b'\n').count();
    let mut last = 0;
    for e in &m.entries {
        assert!(
            e.line > last && e.line <= lines,
            "line {} of {lines}",
            e.line
        );
        last = e.line;
        assert!(!e.key.contains(&b'\n'));
        assert!(e
            .mappings
            .iter()
            .all(|m| !m.is_empty() && !m.contains('\n')));
    }
    if let Some(err) = &m.error {
        assert!(
            err.line > last && err.line <= lines,
            "error on line {} of {lines}",
            err.line
        );
        assert_eq!(err.file, path);
    }

    let again: Vec<u8> = m.entries.iter().flat_map(render).collect();
    let m2 = Mapfile::parse(path, &again);
    assert!(
        m2.error.is_none(),
        "{:?}: {:?}",
        String::from_utf8_lossy(&again),
        m2.error
    );
    let pairs = |m: &Mapfile| {
        m.entries
            .iter()
            .map(|e| (e.key.clone(), e.mappings.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pairs(&m),
        pairs(&m2),
        "{:?}",
        String::from_utf8_lossy(&again)
    );

    // The index against the scan, for the first few keys as subjects.
    for e in m.entries.iter().take(8) {
        let Ok(subject) = std::str::from_utf8(&e.key) else {
            continue;
        };
        for wildcards in [false, true] {
            for only_key in [false, true] {
                let select = if only_key {
                    Select::OnlyKey
                } else {
                    Select::Exclude(".")
                };
                let got = m
                    .lookup(subject, wildcards, select)
                    .map(|h| h.map(|h| h.line))
                    .map_err(|e| e.line);
                let want = scan(&m, subject.as_bytes(), wildcards, only_key);
                assert_eq!(
                    got, want,
                    "{subject:?} wildcards {wildcards} only_key {only_key}"
                );
            }
        }
    }
});
