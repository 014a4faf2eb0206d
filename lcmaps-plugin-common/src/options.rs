//! A declarative parser for the options of `plugin_initialize`.
//!
//! A plugin lists its options once, as a table of [`Opt`]s: the spellings
//! LCMAPS configurations use (`-gridmapfile`, `-GRIDMAPFILE`, `-gridmap`,
//! ...), the kind of value that follows (none, a word, a file, a directory,
//! a path, `yes`/`no`, an integer in a range, one of some words), whether it may be
//! given again, and the function that stores the checked value in the
//! plugin's state `T`. [`parse`] walks the words in order and calls those
//! functions; the messages are upstream's:
//!
//! * an option nobody declared: [`OptionError::Unknown`], worded by
//!   [`OptionError::message`] as `Unknown argument for plugin: <o> (failure)`;
//! * no value: [`OptionError::Missing`], worded as `option <o> needs to be
//!   followed by <what>`;
//! * an option that may not be repeated, again: `option <o> given more than
//!   once` (the check comes before its value is read).
//!
//! A value is taken as it comes, even when it looks like an option
//! (`-gridmapfile -x` names the file `-x`), as upstream's loops do.

use std::path::{Path, PathBuf};

/// One option of a plugin with state `T`.
#[derive(Debug)]
pub struct Opt<T> {
    names: &'static [&'static str],
    kind: Kind<T>,
    repeat: Repeat,
    matching: Matching,
}

/// How a word is recognised as one of an option's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// The word is the name.
    Exact,
    /// The word starts with the name, ignoring ASCII case (upstream
    /// verify-proxy's `strncasecmp`): `--Allow-Limited-Proxy=x` is
    /// `--allow-limited-proxy`. The option's function gets the whole word.
    PrefixIgnoringCase,
}

/// May an option be given more than once?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Yes: each occurrence is handed to the option's function in turn (a
    /// setter thus keeps the last one, a list collects them all).
    Allowed,
    /// No: the second occurrence fails.
    Refused,
}

/// What follows an option, and where it goes once checked.
#[derive(Debug)]
pub enum Kind<T> {
    /// Nothing follows. The function gets the spelling used and may refuse
    /// it (conflicting flags).
    Flag(fn(&mut T, &str) -> Result<(), String>),
    /// Any non-empty word; `what` completes "needs to be followed by". The
    /// function gets the spelling used and the word, and may refuse it.
    Text {
        /// What the option wants, for the missing-value message.
        what: &'static str,
        /// Stores the word.
        set: fn(&mut T, &str, &str) -> Result<(), String>,
    },
    /// The next word, whatever it is, even empty. The function gets the
    /// spelling used and the word, and may refuse it.
    Raw(fn(&mut T, &str, &str) -> Result<(), String>),
    /// Any non-empty word, as a path taken as it is (not resolved, not
    /// checked); `what` completes "needs to be followed by".
    Path {
        /// What the option wants, for the missing-value message.
        what: &'static str,
        /// Stores the path.
        set: fn(&mut T, PathBuf),
    },
    /// A file, resolved as upstream resolves file options
    /// ([`crate::files::resolve_file_option`]); when it exists a privileged
    /// process must be able to trust it ([`trusted`]).
    File(fn(&mut T, PathBuf)),
    /// An absolute directory (`-gridmapdir`, `-groupmapdir`), checked as
    /// [`Kind::File`] is when it exists.
    AbsoluteDir(fn(&mut T, PathBuf)),
    /// `yes` or `no`.
    YesNo(fn(&mut T, bool)),
    /// A decimal integer (an `i32`) from `min` to `max`.
    Int {
        /// What the option wants, for the missing-value message.
        what: &'static str,
        /// The smallest value accepted.
        min: i32,
        /// The largest value accepted.
        max: i32,
        /// The message for a value that is no such integer, from the
        /// spelling used and the value.
        bad: fn(&str, &str) -> String,
        /// Stores the value.
        set: fn(&mut T, i32),
    },
    /// One of `words` (when missing: "needs to be followed by a value").
    Word {
        /// The words accepted.
        words: &'static [&'static str],
        /// The message for another word, from the spelling used and the value.
        bad: fn(&str, &str) -> String,
        /// Stores the word (one of `words`).
        set: fn(&mut T, &'static str),
    },
}

impl<T> Opt<T> {
    /// An option of `kind` under `names`, which may be repeated.
    pub const fn new(names: &'static [&'static str], kind: Kind<T>) -> Self {
        Opt {
            names,
            kind,
            repeat: Repeat::Allowed,
            matching: Matching::Exact,
        }
    }

    /// [`Opt::new`] with [`Kind::Flag`].
    pub const fn flag(
        names: &'static [&'static str],
        set: fn(&mut T, &str) -> Result<(), String>,
    ) -> Self {
        Self::new(names, Kind::Flag(set))
    }

    /// [`Opt::new`] with [`Kind::Text`].
    pub const fn text(
        names: &'static [&'static str],
        what: &'static str,
        set: fn(&mut T, &str, &str) -> Result<(), String>,
    ) -> Self {
        Self::new(names, Kind::Text { what, set })
    }

    /// [`Opt::new`] with [`Kind::Path`].
    pub const fn path(
        names: &'static [&'static str],
        what: &'static str,
        set: fn(&mut T, PathBuf),
    ) -> Self {
        Self::new(names, Kind::Path { what, set })
    }

    /// [`Opt::new`] with [`Kind::File`].
    pub const fn file(names: &'static [&'static str], set: fn(&mut T, PathBuf)) -> Self {
        Self::new(names, Kind::File(set))
    }

    /// [`Opt::new`] with [`Kind::AbsoluteDir`].
    pub const fn absolute_dir(names: &'static [&'static str], set: fn(&mut T, PathBuf)) -> Self {
        Self::new(names, Kind::AbsoluteDir(set))
    }

    /// [`Opt::new`] with [`Kind::YesNo`].
    pub const fn yes_no(names: &'static [&'static str], set: fn(&mut T, bool)) -> Self {
        Self::new(names, Kind::YesNo(set))
    }

    /// The same option, refused when given twice (under any of its names).
    pub const fn once(mut self) -> Self {
        self.repeat = Repeat::Refused;
        self
    }

    /// The same option, recognised by [`Matching::PrefixIgnoringCase`].
    pub const fn prefix_ignoring_case(mut self) -> Self {
        self.matching = Matching::PrefixIgnoringCase;
        self
    }

    fn names(&self, word: &str) -> bool {
        self.names.iter().any(|n| match self.matching {
            Matching::Exact => word == *n,
            Matching::PrefixIgnoringCase => word
                .as_bytes()
                .get(..n.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(n.as_bytes())),
        })
    }
}

/// Why [`parse`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionError {
    /// An option no [`Opt`] names.
    Unknown(String),
    /// An option at the end, or followed by an empty word, that needs a
    /// value; `what` says which.
    Missing {
        /// The option, as spelt.
        option: String,
        /// What it needs, completing "needs to be followed by".
        what: &'static str,
    },
    /// A bad value, a repeat, or what an option's function refused: the
    /// message.
    Invalid(String),
}

impl OptionError {
    /// The message, with upstream's wording for an unknown option.
    pub fn message(self) -> String {
        match self {
            OptionError::Unknown(o) => format!("Unknown argument for plugin: {o} (failure)"),
            OptionError::Missing { option, what } => {
                format!("option {option} needs to be followed by {what}")
            }
            OptionError::Invalid(m) => m,
        }
    }
}

/// Parse `opts` (the words after argv\[0\], see [`options`]) against
/// `spec` into `state`, in order; stops at the first error.
pub fn parse<T>(spec: &[Opt<T>], opts: &[String], state: &mut T) -> Result<(), OptionError> {
    let invalid = OptionError::Invalid;
    let mut seen = vec![false; spec.len()];
    let mut words = opts.iter().map(String::as_str);
    while let Some(o) = words.next() {
        let Some(k) = spec.iter().position(|s| s.names(o)) else {
            return Err(OptionError::Unknown(o.to_owned()));
        };
        if seen[k] && spec[k].repeat == Repeat::Refused {
            return Err(invalid(format!("option {o} given more than once")));
        }
        seen[k] = true;
        match &spec[k].kind {
            Kind::Flag(set) => set(state, o).map_err(invalid)?,
            Kind::Raw(set) => match words.next() {
                Some(v) => set(state, o, v).map_err(invalid)?,
                None => {
                    return Err(OptionError::Missing {
                        option: o.to_owned(),
                        what: "a value",
                    })
                }
            },
            Kind::Text { what, set } => {
                set(state, o, value(o, words.next(), what)?).map_err(invalid)?
            }
            Kind::Path { what, set } => set(state, value(o, words.next(), what)?.into()),
            Kind::File(set) => {
                let v = value(o, words.next(), "valid filename")?;
                let path = crate::files::resolve_file_option(v).map_err(invalid)?;
                trusted(&path).map_err(invalid)?;
                set(state, path);
            }
            Kind::AbsoluteDir(set) => match words.next() {
                Some(v) if v.starts_with('/') => {
                    let path = PathBuf::from(v);
                    trusted(&path).map_err(invalid)?;
                    set(state, path);
                }
                _ => {
                    return Err(invalid(format!(
                        "option {o} needs to be followed by a valid absolute directory."
                    )))
                }
            },
            Kind::YesNo(set) => match value(o, words.next(), "\"yes\" or \"no\"")? {
                "yes" => set(state, true),
                "no" => set(state, false),
                _ => return Err(invalid(format!("use \"yes\" or \"no\" for option {o}"))),
            },
            Kind::Int {
                what,
                min,
                max,
                bad,
                set,
            } => {
                let v = value(o, words.next(), what)?;
                match v.parse::<i32>() {
                    Ok(n) if (*min..=*max).contains(&n) => set(state, n),
                    _ => return Err(invalid(bad(o, v))),
                }
            }
            Kind::Word {
                words: ok,
                bad,
                set,
            } => {
                let v = value(o, words.next(), "a value")?;
                match ok.iter().find(|w| **w == v) {
                    Some(w) => set(state, w),
                    None => return Err(invalid(bad(o, v))),
                }
            }
        }
    }
    Ok(())
}

/// The value after option `o`: must be present and non-empty.
fn value<'a>(o: &str, next: Option<&'a str>, what: &'static str) -> Result<&'a str, OptionError> {
    match next {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(OptionError::Missing {
            option: o.to_owned(),
            what,
        }),
    }
}

/// [`lcmaps_core::trust::check`] on a site file or directory a plugin
/// option names, if it exists (a missing one is the reader's error, at
/// the time it reads it). From the one `stat` with
/// [`lcmaps_core::trust::check_stat`] (its cached walk: a process that
/// initializes LCMAPS once per request checks the same files each time),
/// and a dangling symbolic link with the full walk, which names it.
pub fn trusted(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) => lcmaps_core::trust::check_stat(path, &meta),
        Err(_) if std::fs::symlink_metadata(path).is_ok() => lcmaps_core::trust::check(path),
        Err(_) => return Ok(()),
    }
    .map_err(|e| e.to_string())
}

/// The options LCMAPS passes after argv\[0\].
pub fn options(argv: &[String]) -> &[String] {
    argv.get(1..).unwrap_or_default()
}

#[cfg(test)]
mod tests;
