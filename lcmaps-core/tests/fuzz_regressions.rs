//! Inputs found by the `parse_db` fuzz target (fuzz/fuzz_targets/parse_db.rs),
//! fed through the entry points `lcmaps check` and `lcmaps_init` use:
//! [`db::check_file`] on a file and [`db::check_bytes`] in memory. Each must
//! be rejected (or accepted) without a panic, with every diagnostic pointing
//! inside the input and naming the file.

use std::panic::{catch_unwind, AssertUnwindSafe};

use lcmaps_core::db::{self, Checked, ValidateOptions};
use lcmaps_core::diag::render_all;

fn opts() -> ValidateOptions {
    ValidateOptions {
        modules_dir: None,
        mod_home: "/nonexistent".into(),
        builtins: vec![
            "lcmaps_dummy_good.mod".into(),
            "lcmaps_dummy_bad.mod".into(),
        ],
        assume_modules: false,
    }
}

/// Every diagnostic's location is inside `bytes` (1-based line that exists,
/// column at most one past the end of that line, in characters) and names
/// `name`; the rendered text names the file too.
fn assert_inside(name: &str, bytes: &[u8], checked: &Checked) {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    for d in &checked.diagnostics {
        let rendered = d.to_string();
        if let Some(loc) = &d.location {
            assert_eq!(loc.file, name, "{rendered}");
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
            assert!(
                rendered.contains(&format!("--> {name}:{}:{}", loc.line, loc.col)),
                "{rendered}"
            );
            assert!(d.one_line().starts_with(&format!("{name}:")));
        }
    }
    if checked.has_errors() {
        assert!(checked.config.is_none());
    }
    let _ = render_all(&checked.diagnostics);
}

/// Check `bytes` in memory and from a temporary file; both must agree and
/// neither may panic. Returns the in-memory result.
fn check_both(bytes: &[u8]) -> Checked {
    let mem = catch_unwind(AssertUnwindSafe(|| {
        db::check_bytes("lcmaps.db", bytes, &opts())
    }))
    .unwrap_or_else(|_| panic!("check_bytes panicked on {bytes:02x?}"));
    assert_inside("lcmaps.db", bytes, &mem);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lcmaps.db");
    std::fs::write(&path, bytes).unwrap();
    let file = catch_unwind(AssertUnwindSafe(|| db::check_file(&path, &opts())))
        .unwrap_or_else(|_| panic!("check_file panicked on {bytes:02x?}"));
    let name = path.display().to_string();
    assert_inside(&name, bytes, &file);
    if file.diagnostics.iter().any(|d| d.location.is_some()) {
        let rendered = render_all(&file.diagnostics);
        assert!(rendered.contains(&name), "{rendered}");
    }
    assert_eq!(
        mem.diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>(),
        file.diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
    mem
}

/// Issue #15: a multi-byte character right before a mid-line `name:` made
/// the "label must start its own line" explanation slice inside the
/// character ("start byte index 2 is not a char boundary").
#[test]
fn issue_15_multibyte_before_mid_line_label() {
    let bytes: &[u8] = &[
        0x33, 0x3a, 0x78, 0xf1, 0x8b, 0x97, 0x90, 0x68, 0x3a, 0x3b, 0x70, 0x61, 0x74, 0x68, 0x3a,
        0x0a,
    ];
    assert_eq!(bytes, "3:x\u{4b5d0}h:;path:\n".as_bytes());
    let c = check_both(bytes);
    assert!(c.has_errors(), "{:#?}", c.diagnostics);
    let line_chars = "3:x\u{4b5d0}h:;path:".chars().count();
    let err = c
        .diagnostics
        .iter()
        .find(|d| d.is_error() && d.location.is_some())
        .expect("an error with a location");
    let loc = err.location.as_ref().unwrap();
    assert_eq!(loc.line, 1, "{err}");
    assert!(loc.col >= 1 && loc.col <= line_chars, "{err}");
    assert_eq!(loc.source_line, "3:x\u{4b5d0}h:;path:");
    // The label is the word after the wide character: `h:` at column 5.
    assert_eq!(err.message, "policy label `h:` must start its own line");
    assert_eq!((loc.col, loc.len), (5, 2), "{err}");
    assert!(err.to_string().contains("--> lcmaps.db:1:5"), "{err}");

    // What `lcmaps check` prints for the file names the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issue15.db");
    std::fs::write(&path, bytes).unwrap();
    let c = db::check_file(&path, &opts());
    assert!(c.has_errors() && c.config.is_none());
    let rendered = render_all(&c.diagnostics);
    let at = format!("--> {}:1:5", path.display());
    assert!(rendered.contains(&at), "{rendered}");
}

/// The "not valid UTF-8" diagnostic showed at most 200 bytes of the line, so
/// a bad byte further right got a column past the end of the text shown.
#[test]
fn invalid_utf8_far_right_is_inside_the_shown_line() {
    let mut bytes = b"p:\n".to_vec();
    bytes.extend([b'a'; 300]);
    bytes.extend(b"\xff -> b\n");
    let c = check_both(&bytes);
    assert_eq!(c.diagnostics.len(), 1, "{:#?}", c.diagnostics);
    let loc = c.diagnostics[0].location.as_ref().unwrap();
    assert_eq!((loc.line, loc.col), (2, 301));
    assert!(
        loc.source_line.chars().count() >= loc.col,
        "column {} but {} characters shown",
        loc.col,
        loc.source_line.chars().count()
    );
    assert_eq!(loc.source_line.chars().nth(300), Some('\u{fffd}'));
}

/// A declaration whose quoted value names itself (or another declaration
/// naming it back) was accepted without a diagnostic, its rules silently
/// dropped: `p:` came out with no rules, and running it indexed `rules[0]`.
#[test]
fn quoted_values_that_loop_are_rejected() {
    for (text, members) in [
        ("a = \"a\"\np:\na -> lcmaps_dummy_bad.mod\n", "a = \"a\""),
        (
            "a = \"b\"\nb = \"a\"\np:\na -> lcmaps_dummy_bad.mod\n",
            "a = \"b\", b = \"a\"",
        ),
        (
            "b = \"a\"\na = b\np:\nlcmaps_dummy_bad.mod -> a\n",
            "b = \"a\", a = b",
        ),
    ] {
        let c = check_both(text.as_bytes());
        assert!(c.config.is_none(), "{text:?} accepted: {:#?}", c.config);
        let m: Vec<&str> = c.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            m,
            [format!(
                "declarations refer to each other in a loop: {members}"
            )],
            "{text:?}"
        );
    }
    // A quoted value naming a declaration that names a module is fine.
    let c =
        check_both(b"a = \"b\"\nb = \"lcmaps_dummy_good.mod\"\np:\na -> lcmaps_dummy_bad.mod\n");
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    assert_eq!(c.config.unwrap().policies[0].rules.len(), 1);
}

/// Loop detection walked every declaration's whole chain with a linear
/// `contains` per step: cubic in the length of a chain `a1 = a0`,
/// `a2 = a1`, ... (5000 declarations took about 20 s).
#[test]
fn long_chain_of_declarations_is_checked_quickly() {
    let n = 5000;
    let mut s = String::from("a0 = \"lcmaps_dummy_good.mod\"\n");
    for i in 1..n {
        s.push_str(&format!("a{i} = a{}\n", i - 1));
    }
    s.push_str("p:\n");
    for i in (1..n).step_by(2) {
        s.push_str(&format!("a{i} -> lcmaps_dummy_bad.mod\n"));
    }
    let t = std::time::Instant::now();
    let c = check_both(s.as_bytes());
    // Generous: well under a second when linear, even in a debug build.
    assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
    assert!(!c.has_errors(), "{}", c.diagnostics[0]);
    // Every declaration is used: even ones through the chain of odd ones.
    assert!(c
        .diagnostics
        .iter()
        .all(|d| !d.message.contains("no rule uses it")));
}

/// Spelling suggestions built a table of (length + 1)² counters: two
/// 50 000-character words asked for 20 GB. Long words get no suggestion.
#[test]
fn long_unknown_word_gets_no_suggestion() {
    let w = "w".repeat(8000);
    let text = format!("{w}a = \"lcmaps_dummy_good.mod\"\np:\n{w}b -> lcmaps_dummy_bad.mod\n");
    let c = check_both(text.as_bytes());
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.message.contains("is not a declared plugin"))
        .expect("the unknown word is reported");
    let hint = d.hint.as_deref().unwrap_or_default();
    assert!(!hint.contains("did you mean"), "{hint}");
    // Short words still get one.
    let c = check_both(b"good = \"lcmaps_dummy_good.mod\"\np:\ngood -> god\n");
    let d = &c.diagnostics[0];
    assert!(
        d.hint
            .as_deref()
            .unwrap_or_default()
            .starts_with("did you mean `good`?"),
        "{d}"
    );
}

/// Too many argument tokens followed by a quote that never closes was
/// reported as "has 0 argument tokens".
#[test]
fn too_many_tokens_then_open_quote_counts_the_tokens() {
    let many = vec!["-x"; 50].join(" ");
    // `a\"b \"c` is the argument text `a"b " c`: the first quote is inside
    // a token, the second opens one that never closes.
    let text = format!(
        "g = \"lcmaps_dummy_good.mod {many} a\\\"b \\\"c\"\np:\ng -> lcmaps_dummy_bad.mod\n"
    );
    let c = check_both(text.as_bytes());
    let m: Vec<&str> = c.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        m,
        ["`g` has 52 argument tokens; LCMAPS passes at most 49"],
        "{text}"
    );
}
