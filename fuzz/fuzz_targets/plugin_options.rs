//! Fuzz the plugins' declarative option parser
//! (`lcmaps_plugin_common::options::parse`, the words of an lcmaps.db
//! plugin line): any words give a parsed state or one error, never a panic;
//! on success every word was consumed by a declared option, integers are
//! in their range, enumerated words are among theirs, and an option refused
//! twice was given at most once; an unknown option is reported as the word
//! it is. (File and directory options touch the file system and are left
//! to the plugins' own tests.)
#![no_main]

use lcmaps_plugin_common::options::{parse, Kind, Opt, OptionError};
use libfuzzer_sys::fuzz_target;

#[derive(Default, Debug)]
struct State {
    flags: u32,
    texts: Vec<String>,
    raws: Vec<String>,
    paths: Vec<std::path::PathBuf>,
    yes_no: Option<bool>,
    ints: Vec<i32>,
    words: Vec<&'static str>,
    once: u32,
    prefixed: Vec<String>,
}

const WORDS: &[&str] = &["auto", "off", "required"];

const SPEC: &[Opt<State>] = &[
    Opt::flag(&["-f", "--flag"], |s, _| {
        s.flags += 1;
        Ok(())
    }),
    Opt::text(&["-t"], "a word", |s, _, v| {
        s.texts.push(v.into());
        Ok(())
    }),
    Opt::new(
        &["-r"],
        Kind::Raw(|s, _, v| {
            s.raws.push(v.into());
            Ok(())
        }),
    ),
    Opt::path(&["-p", "-PATH"], "a path", |s, p| s.paths.push(p)),
    Opt::yes_no(&["-yn"], |s, b| s.yes_no = Some(b)),
    Opt::new(
        &["-i"],
        Kind::Int {
            what: "a number",
            min: -5,
            max: 1000,
            bad: |o, v| format!("bad {o} {v}"),
            set: |s, n| s.ints.push(n),
        },
    ),
    Opt::new(
        &["-w"],
        Kind::Word {
            words: WORDS,
            bad: |o, v| format!("bad {o} {v}"),
            set: |s, w| s.words.push(w),
        },
    ),
    Opt::flag(&["-once", "-ONCE"], |s: &mut State, _| {
        s.once += 1;
        Ok(())
    })
    .once(),
    Opt::text(&["--pre"], "a value", |s: &mut State, o, v| {
        s.prefixed.push(format!("{o}={v}"));
        Ok(())
    })
    .prefix_ignoring_case(),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // One word per line, empty words included (a db value can be "").
    let words: Vec<String> = text.split('\n').map(String::from).collect();
    let mut state = State::default();
    match parse(SPEC, &words, &mut state) {
        Ok(()) => {
            assert!(state.ints.iter().all(|n| (-5..=1000).contains(n)));
            assert!(state.words.iter().all(|w| WORDS.contains(w)));
            assert!(state.once <= 1);
            assert!(state.texts.iter().all(|t| !t.is_empty()));
            let with_values = state.texts.len()
                + state.raws.len()
                + state.paths.len()
                + usize::from(state.yes_no.is_some())
                + state.ints.len()
                + state.words.len()
                + state.prefixed.len();
            // Every word is an option or a value; -yn may repeat (last wins).
            assert!(state.flags as usize + state.once as usize + 2 * with_values <= words.len());
        }
        Err(OptionError::Unknown(o)) => assert!(words.contains(&o), "{o:?}"),
        Err(e) => assert!(!e.message().is_empty()),
    }
});
