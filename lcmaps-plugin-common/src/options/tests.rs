use super::*;

#[derive(Debug, Default, PartialEq)]
struct State {
    quiet: Vec<String>,
    name: Option<String>,
    file: Option<PathBuf>,
    exec: Option<PathBuf>,
    dir: Option<PathBuf>,
    strict: Option<bool>,
    count: Option<i32>,
    colour: Option<&'static str>,
    tags: Vec<String>,
    raw: Vec<String>,
    loud: Vec<String>,
}

const SPEC: &[Opt<State>] = &[
    Opt::new(
        &["--raw"],
        Kind::Raw(|s, _, v| {
            s.raw.push(v.to_owned());
            Ok(())
        }),
    ),
    Opt::flag(&["--loud", "-l0ud"], |s: &mut State, o| {
        s.loud.push(o.to_owned());
        Ok(())
    })
    .prefix_ignoring_case(),
    Opt::flag(&["-quiet", "--quiet", "-QUIET"], |s, o| {
        if o == "-QUIET" && !s.quiet.is_empty() {
            return Err(format!("cannot specify both {o} and -quiet"));
        }
        s.quiet.push(o.to_owned());
        Ok(())
    }),
    Opt::text(&["-name"], "a name", |s: &mut State, _, v| {
        s.name = Some(v.to_owned());
        Ok(())
    })
    .once(),
    Opt::text(&["-tag"], "a tag", |s, o, v| {
        if v == "bad" {
            return Err(format!("option {o}: no bad tags"));
        }
        s.tags.push(v.to_owned());
        Ok(())
    }),
    Opt::path(&["-exec"], "a program", |s, p| s.exec = Some(p)),
    Opt::file(&["-file", "-FILE"], |s, p| s.file = Some(p)),
    Opt::absolute_dir(&["-dir"], |s, p| s.dir = Some(p)),
    Opt::yes_no(&["-strict"], |s, b| s.strict = Some(b)),
    Opt::new(
        &["-count"],
        Kind::Int {
            what: "a valid number",
            min: 1,
            max: 99,
            bad: |o, v| format!("Illegal value for \"{o}\" ({v}): Should be in the range: 1-99"),
            set: |s: &mut State, n| s.count = Some(n),
        },
    )
    .once(),
    Opt::new(
        &["-colour", "--color"],
        Kind::Word {
            words: &["red", "green"],
            bad: |o, v| format!("option {o}: use red or green, not {v:?}"),
            set: |s, w| s.colour = Some(w),
        },
    ),
];

fn parse_words(words: &[&str]) -> Result<State, OptionError> {
    let opts: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let mut s = State::default();
    parse(SPEC, &opts, &mut s).map(|()| s)
}

fn error(words: &[&str]) -> String {
    parse_words(words).unwrap_err().message()
}

#[test]
fn every_kind_under_its_aliases() {
    let s = parse_words(&[
        "--quiet",
        "-name",
        "x y",
        "-exec",
        "bin/x",
        "-FILE",
        "/etc/passwd",
        "-dir",
        "/nonexistent/dir",
        "-strict",
        "no",
        "-count",
        "99",
        "--color",
        "green",
        "-tag",
        "a",
        "-tag",
        "b",
    ])
    .unwrap();
    assert_eq!(
        s,
        State {
            quiet: vec!["--quiet".into()],
            name: Some("x y".into()),
            file: Some("/etc/passwd".into()),
            exec: Some("bin/x".into()),
            dir: Some("/nonexistent/dir".into()),
            strict: Some(false),
            count: Some(99),
            colour: Some("green"),
            tags: vec!["a".into(), "b".into()],
            ..State::default()
        }
    );
    assert_eq!(parse_words(&[]).unwrap(), State::default());
    assert_eq!(parse_words(&["-strict", "yes"]).unwrap().strict, Some(true));
    assert_eq!(parse_words(&["-count", "1"]).unwrap().count, Some(1));
}

#[test]
fn a_relative_file_is_resolved_as_upstream() {
    let got = parse_words(&["-file", "no-such-grid-mapfile"]).map(|s| s.file.unwrap());
    let want = crate::files::resolve_file_option("no-such-grid-mapfile");
    assert_eq!(got.map_err(OptionError::message), want);
}

#[test]
fn unknown_options_keep_upstreams_wording() {
    assert_eq!(
        parse_words(&["-quiet", "-bogus", "-name"]),
        Err(OptionError::Unknown("-bogus".into()))
    );
    assert_eq!(
        error(&["-Name", "x"]),
        "Unknown argument for plugin: -Name (failure)"
    );
    // A value is not an option.
    assert_eq!(
        error(&["-name", "x", "y"]),
        "Unknown argument for plugin: y (failure)"
    );
}

#[test]
fn repeats() {
    assert_eq!(
        error(&["-name", "a", "-name", "b"]),
        "option -name given more than once"
    );
    // Refused before its value is read.
    assert_eq!(
        error(&["-count", "5", "-count"]),
        "option -count given more than once"
    );
    // Repeatable ones see every occurrence, in order.
    let s = parse_words(&["-quiet", "--quiet", "-colour", "red", "--color", "green"]).unwrap();
    assert_eq!(s.quiet, ["-quiet", "--quiet"]);
    assert_eq!(s.colour, Some("green"));
    // A function may refuse a combination.
    assert_eq!(
        error(&["-quiet", "-QUIET"]),
        "cannot specify both -QUIET and -quiet"
    );
}

#[test]
fn raw_values_may_be_empty() {
    let s = parse_words(&["--raw", "", "--raw", "-quiet"]).unwrap();
    assert_eq!(s.raw, ["", "-quiet"]);
    assert_eq!(
        parse_words(&["--raw"]),
        Err(OptionError::Missing {
            option: "--raw".into(),
            what: "a value"
        })
    );
}

#[test]
fn prefix_matching_ignores_case_and_keeps_the_word() {
    let s = parse_words(&["--LOUD", "--loudly=yes", "-L0UDER"]).unwrap();
    assert_eq!(s.loud, ["--LOUD", "--loudly=yes", "-L0UDER"]);
    // Exact names stay exact.
    assert_eq!(
        parse_words(&["-QUIETLY"]),
        Err(OptionError::Unknown("-QUIETLY".into()))
    );
    assert_eq!(
        parse_words(&["--lou"]),
        Err(OptionError::Unknown("--lou".into()))
    );
}

#[test]
fn missing_values() {
    assert_eq!(
        parse_words(&["-name"]),
        Err(OptionError::Missing {
            option: "-name".into(),
            what: "a name"
        })
    );
    assert_eq!(
        error(&["-name"]),
        "option -name needs to be followed by a name"
    );
    assert_eq!(
        error(&["-name", ""]),
        "option -name needs to be followed by a name"
    );
    assert_eq!(
        error(&["-exec", ""]),
        "option -exec needs to be followed by a program"
    );
    assert_eq!(
        error(&["-FILE"]),
        "option -FILE needs to be followed by valid filename"
    );
    assert_eq!(
        error(&["-dir"]),
        "option -dir needs to be followed by a valid absolute directory."
    );
    assert_eq!(
        error(&["-strict"]),
        "option -strict needs to be followed by \"yes\" or \"no\""
    );
    assert_eq!(
        error(&["-count"]),
        "option -count needs to be followed by a valid number"
    );
    assert_eq!(
        error(&["-colour"]),
        "option -colour needs to be followed by a value"
    );
}

#[test]
fn bad_values() {
    assert_eq!(
        error(&["-dir", "relative"]),
        "option -dir needs to be followed by a valid absolute directory."
    );
    assert_eq!(
        error(&["-strict", "Yes"]),
        "use \"yes\" or \"no\" for option -strict"
    );
    for v in ["0", "100", "x", "1.0", "", " 5"] {
        let e = error(&["-count", v]);
        if v.is_empty() {
            assert!(e.contains("needs to be followed"), "{e}");
        } else {
            assert_eq!(
                e,
                format!("Illegal value for \"-count\" ({v}): Should be in the range: 1-99")
            );
        }
    }
    assert_eq!(
        error(&["--color", "blue"]),
        "option --color: use red or green, not \"blue\""
    );
    assert_eq!(error(&["-tag", "bad"]), "option -tag: no bad tags");
}

#[test]
fn a_value_that_looks_like_an_option_is_a_value() {
    let s = parse_words(&["-name", "-quiet", "-tag", "-tag"]).unwrap();
    assert_eq!(s.name.as_deref(), Some("-quiet"));
    assert_eq!(s.tags, ["-tag"]);
    assert!(s.quiet.is_empty());
    // Unless the kind rules it out.
    assert!(error(&["-dir", "-quiet"]).contains("valid absolute directory"));
    assert!(error(&["-count", "-quiet"]).starts_with("Illegal value"));
}

#[test]
fn options_skips_argv0() {
    let argv = ["/x/m.mod".to_string(), "-a".into()];
    assert_eq!(options(&argv), ["-a"]);
    assert!(options(&[]).is_empty());
}
