//! The grid-mapfile format (also ban files and group-mapfiles), exactly as
//! upstream's `lcmaps_gridmapfile()` reads it, parsed once per process and
//! re-read when the file changes.
//!
//! * Lines are split at `\n`; leading blanks (space, tab) are skipped; empty
//!   lines and lines whose first non-blank is `#` are ignored.
//! * The key is the text between `"` and the next unescaped `"` (a `\x`
//!   pair is skipped over but **not** unescaped), or, unquoted, the text up
//!   to the first blank.
//! * The rest: leading blanks and commas are skipped; an unescaped `#`
//!   starts a comment; mappings are separated by `,`, space or tab and have
//!   their `\x` escapes unescaped.
//! * An unterminated quote or a `\` at the end of a line is an error. Like
//!   upstream, the error only matters to a lookup that reaches that line
//!   without an earlier match; the message names file and line.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::fnmatch::fnmatch;
use crate::options::{self, Opt};
use lcmaps_core::trust::Stamp;

/// The spellings of the option naming a grid-mapfile.
pub const GRIDMAPFILE_OPTION: &[&str] = &["-gridmapfile", "-GRIDMAPFILE", "-gridmap", "-GRIDMAP"];

/// The spellings of the option naming the ban file of the ban plugins.
pub const BANMAPFILE_OPTION: &[&str] = &[
    "-banmapfile",
    "-BANMAPFILE",
    "-ban_mapfile",
    "-BAN_MAPFILE",
    "-gridmapfile",
    "-GRIDMAPFILE",
    "-gridmap",
    "-GRIDMAP",
];

/// The spellings of the flag that turns off wildcard matching of keys.
pub const NO_WILDCARD_OPTION: &[&str] = &[
    "-no_wildcard",
    "-disablewildcard",
    "--disablewildcard",
    "-disablewildcards",
    "--disablewildcards",
];

/// One meaningful line of a mapfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number.
    pub line: usize,
    /// The key (DN or FQAN, or pattern), escapes kept as written.
    pub key: Vec<u8>,
    /// The mappings, unescaped, in file order (empty: none on the line).
    pub mappings: Vec<String>,
}

/// A malformed line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LineError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapfileError {
    /// The file does not exist.
    #[error("cannot open mapfile {0}: no such file")]
    Missing(PathBuf),
    /// The file could not be read.
    #[error("cannot read mapfile {0}: {1}")]
    Unreadable(PathBuf, String),
    /// A malformed line was reached.
    #[error(transparent)]
    Line(#[from] LineError),
    /// A privileged process may not trust the file
    /// ([`lcmaps_core::trust::check`]).
    #[error(transparent)]
    Untrusted(#[from] lcmaps_core::trust::TrustError),
}

/// A parsed mapfile: the entries up to the first malformed line, and that
/// line's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapfile {
    /// The file it was read from.
    pub path: PathBuf,
    /// The entries before the first malformed line.
    pub entries: Vec<Entry>,
    /// The first malformed line, if any.
    pub error: Option<LineError>,
    /// Where each key's entries are, so that a lookup visits only the
    /// entries that can match instead of every line (see [`Index`]).
    index: Index,
}

/// The entries of a mapfile by key: a lookup of a DN in a 100,000-line
/// grid-mapfile visits the lines with that key and the pattern lines, not
/// all of them. Results are those of a top-to-bottom scan: the candidate
/// positions are visited in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Index {
    /// Every key → the positions (in `entries`) of its entries, ascending.
    by_key: HashMap<Vec<u8>, Vec<usize>>,
    /// Positions of keys with `*`, `?` or `[`, ascending: the only keys
    /// that can match a subject other than themselves under fnmatch (with
    /// FNM_NOESCAPE any other byte, `\` included, matches only itself).
    patterns: Vec<usize>,
}

fn is_pattern(key: &[u8]) -> bool {
    key.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

impl Index {
    fn new(entries: &[Entry]) -> Index {
        let mut ix = Index::default();
        for (i, e) in entries.iter().enumerate() {
            ix.by_key.entry(e.key.clone()).or_default().push(i);
            if is_pattern(&e.key) {
                ix.patterns.push(i);
            }
        }
        ix
    }

    /// Positions of the entries whose key matches `subject`, ascending.
    fn candidates(&self, entries: &[Entry], subject: &[u8], wildcards: bool) -> Vec<usize> {
        let exact = self.by_key.get(subject).map_or(&[][..], Vec::as_slice);
        if !wildcards {
            return exact.to_vec();
        }
        // A literal key matches only itself; a pattern key equal to the
        // subject is found (once) among the patterns.
        let literal = exact
            .iter()
            .copied()
            .filter(|&i| !is_pattern(&entries[i].key));
        let pats = self
            .patterns
            .iter()
            .copied()
            .filter(|&i| fnmatch(&entries[i].key, subject));
        let mut v: Vec<usize> = literal.chain(pats).collect();
        v.sort_unstable();
        v
    }
}

/// How to pick a mapping from a matching line (upstream's MATCH_* flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select<'a> {
    /// MATCH_EXACT: the mapping equal to this.
    Exact(&'a str),
    /// MATCH_INCLUDE: the first mapping starting with this (`.` ⇒ pools).
    Include(&'a str),
    /// Neither flag: the first mapping **not** starting with this.
    Exclude(&'a str),
    /// MATCH_ONLY_DN: any matching key is a hit.
    OnlyKey,
}

/// A successful lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Line of the match.
    pub line: usize,
    /// The selected mapping (`None` for [`Select::OnlyKey`]).
    pub mapping: Option<String>,
}

/// A parsed line: the key (escapes kept) and the unescaped mappings.
pub type ParsedLine = (Vec<u8>, Vec<String>);

/// Parse one line (without its `\n`). `Ok(None)` for blank and comment lines.
pub fn parse_line(line: &[u8]) -> Result<Option<ParsedLine>, &'static str> {
    const CONTINUATION: &str = "continuation char (\\ at end of line) not supported";
    let start = line
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(line.len());
    let s = &line[start..];
    if s.is_empty() || s[0] == b'#' {
        return Ok(None);
    }
    let (key, rest) = if s[0] == b'"' {
        let mut i = 1;
        loop {
            match s.get(i) {
                None => return Err("invalid line: quote-imbalance"),
                Some(b'\\') => {
                    if i + 1 >= s.len() {
                        return Err(CONTINUATION);
                    }
                    i += 2;
                }
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        (&s[1..i], &s[i + 1..])
    } else {
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'\\' => {
                    if i + 1 >= s.len() {
                        return Err(CONTINUATION);
                    }
                    i += 2;
                }
                b' ' | b'\t' => break,
                _ => i += 1,
            }
        }
        (&s[..i.min(s.len())], s.get(i + 1..).unwrap_or_default())
    };
    let skip = rest
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t' | b','))
        .unwrap_or(rest.len());
    let rest = &rest[skip..];
    let mut end = rest.len();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'\\' => {
                if i + 1 >= rest.len() {
                    return Err(CONTINUATION);
                }
                i += 2;
            }
            b'#' => {
                end = i;
                break;
            }
            _ => i += 1,
        }
    }
    Ok(Some((key.to_vec(), split_mappings(&rest[..end]))))
}

/// Split the mapping part at unescaped `,`, space and tab, unescaping `\x`.
fn split_mappings(rest: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'\\' => {
                if let Some(&c) = rest.get(i + 1) {
                    cur.push(c);
                }
                i += 2;
            }
            b',' | b' ' | b'\t' => {
                if !cur.is_empty() {
                    out.push(String::from_utf8_lossy(&cur).into_owned());
                    cur.clear();
                }
                i += 1;
            }
            c => {
                cur.push(c);
                i += 1;
            }
        }
    }
    if !cur.is_empty() {
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
    out
}

impl Mapfile {
    /// Parse the text of `path`.
    pub fn parse(path: &Path, text: &[u8]) -> Mapfile {
        let mut entries = Vec::new();
        let mut error = None;
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            match parse_line(line) {
                Ok(None) => {}
                Ok(Some((key, mappings))) => entries.push(Entry {
                    line: n + 1,
                    key,
                    mappings,
                }),
                Err(message) => {
                    error = Some(LineError {
                        file: path.to_path_buf(),
                        line: n + 1,
                        message: message.into(),
                    });
                    break;
                }
            }
        }
        Mapfile {
            path: path.to_path_buf(),
            index: Index::new(&entries),
            entries,
            error,
        }
    }

    /// Look `subject` up: lines top to bottom; a matching key (exact, or as
    /// an fnmatch pattern with `wildcards`) with an acceptable mapping wins.
    /// `Ok(None)`: no match. Reaching a malformed line is an error.
    pub fn lookup(
        &self,
        subject: &str,
        wildcards: bool,
        select: Select<'_>,
    ) -> Result<Option<Hit>, LineError> {
        let subj = subject.as_bytes();
        for i in self.index.candidates(&self.entries, subj, wildcards) {
            let e = &self.entries[i];
            let want: &dyn Fn(&str) -> bool = match select {
                Select::OnlyKey => {
                    log::info!(
                        "{}:{}: found match \"{}\"",
                        self.path.display(),
                        e.line,
                        String::from_utf8_lossy(&e.key)
                    );
                    return Ok(Some(Hit {
                        line: e.line,
                        mapping: None,
                    }));
                }
                Select::Exact(s) => &move |m: &str| m == s,
                Select::Include(s) => &move |m: &str| m.starts_with(s),
                Select::Exclude(s) => &move |m: &str| !m.starts_with(s),
            };
            if e.mappings.is_empty() {
                log::warn!(
                    "{}:{}: skipping malformed line: no mappings",
                    self.path.display(),
                    e.line
                );
                continue;
            }
            if let Some(m) = e.mappings.iter().find(|m| want(m)) {
                log::info!(
                    "{}:{}: found mapping {m} for \"{}\"",
                    self.path.display(),
                    e.line,
                    String::from_utf8_lossy(&e.key)
                );
                return Ok(Some(Hit {
                    line: e.line,
                    mapping: Some(m.clone()),
                }));
            }
        }
        match &self.error {
            Some(err) => {
                log::error!("{err}");
                Err(err.clone())
            }
            None => Ok(None),
        }
    }
}

/// The version of a file its parsed content is of ([`Stamp`]: device,
/// inode, size, mtime, ctime, owner, mode).
type Cache = Mutex<HashMap<PathBuf, (Stamp, Arc<Mapfile>)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The parsed mapfile at `path`, from the per-process cache when the file's
/// device, inode, size, mtime, ctime, owner and mode ([`Stamp`]) are those
/// of the cached version, otherwise read (once: the identity is taken from
/// the open file) and parsed again. A file changed within the last
/// [`lcmaps_core::trust::SETTLE`] is not kept (read again on every use
/// until then: [`lcmaps_core::trust::settled`] says why). In a privileged process the file must
/// be one only root can change: [`lcmaps_core::trust::check_stat`] on every
/// call, with the one `stat(2)` of the file this call makes (it walks the
/// directories above the file again when that file is another or has
/// changed, and at least every [`lcmaps_core::trust::VERIFIED_TTL`]).
pub fn load(path: &Path) -> Result<Arc<Mapfile>, MapfileError> {
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            MapfileError::Missing(path.to_path_buf())
        } else {
            MapfileError::Unreadable(path.to_path_buf(), e.to_string())
        }
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    lcmaps_core::trust::check_stat(path, &meta)?;
    if let Some((stamp, parsed)) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(path) {
        if *stamp == Stamp::of(&meta) {
            return Ok(parsed.clone());
        }
    }
    let mut f = lcmaps_core::site_file::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    let mut text = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut text).map_err(io)?;
    let parsed = Arc::new(Mapfile::parse(path, &text));
    log::debug!(
        "read mapfile {}: {} entries",
        path.display(),
        parsed.entries.len()
    );
    let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
    if lcmaps_core::trust::settled(&meta) {
        c.insert(path.to_path_buf(), (Stamp::of(&meta), parsed.clone()));
    } else {
        c.remove(path);
    }
    Ok(parsed)
}

/// Upstream's `lcmaps_gridmapfile()` in full, including the default file.
///
/// `file`: the plugin's file option (`None`: the default, see
/// [`crate::files::default_mapfile`]). A missing file is an error when it
/// was named, when `require` is set (pool and ban plugins) or when the
/// process is privileged; otherwise (a personal gatekeeper) the calling
/// user's own account is the mapping.
pub fn gridmapfile(
    file: Option<&Path>,
    subject: &str,
    wildcards: bool,
    select: Select<'_>,
    require: bool,
) -> Result<Option<Hit>, MapfileError> {
    let default;
    let path = match file {
        Some(p) => p,
        None => {
            default = crate::files::default_mapfile();
            &default
        }
    };
    match load(path) {
        Ok(m) => Ok(m.lookup(subject, wildcards, select)?),
        Err(MapfileError::Missing(p))
            if file.is_none() && !require && !lcmaps_core::trust::privileged() =>
        {
            let me =
                crate::files::own_account().map_err(|e| MapfileError::Unreadable(p.clone(), e))?;
            log::info!(
                "no grid-mapfile {}: will use own account \"{me}\"",
                p.display()
            );
            Ok(Some(Hit {
                line: 0,
                mapping: Some(me),
            }))
        }
        Err(e) => {
            log::error!("{e}");
            Err(e)
        }
    }
}

/// The options of the ban plugins (`lcmaps_ban_dn.mod`, `lcmaps_ban_fqan.mod`):
/// `-banmapfile <file>` (aliases `-ban_mapfile`, `-gridmapfile`, `-gridmap`,
/// upper case too) and `-no_wildcard` (aliases `-disablewildcard(s)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanOptions {
    /// The ban file.
    pub file: PathBuf,
    /// Whether wildcards in the file match.
    pub wildcards: bool,
}

impl BanOptions {
    /// Parse `argv` (argv\[0\] is the module) and load the ban file once, so a
    /// missing or unreadable file fails `plugin_initialize` (fail closed)
    /// instead of banning everyone at run time. Errors are prefixed with
    /// `who`.
    pub fn parse(
        who: &str,
        argv: &[String],
    ) -> Result<BanOptions, lcmaps_core::plugin::PluginError> {
        let err = |m: String| lcmaps_core::plugin::PluginError(format!("{who}: {m}"));
        const SPEC: &[Opt<(Option<PathBuf>, bool)>] = &[
            Opt::file(BANMAPFILE_OPTION, |s, p| s.0 = Some(p)),
            Opt::flag(NO_WILDCARD_OPTION, |s, _| {
                s.1 = false;
                Ok(())
            }),
        ];
        let mut state = (None, true);
        options::parse(SPEC, options::options(argv), &mut state).map_err(|e| err(e.message()))?;
        let (file, wildcards) = state;
        let Some(file) = file else {
            return Err(err(
                "Error: No banmapfile was provided. Use the option -banmapfile <banmapfile> to set one."
                    .into(),
            ));
        };
        let parsed = load(&file).map_err(|e| err(format!("ban file unusable: {e}")))?;
        if let Some(e) = &parsed.error {
            log::warn!("{who}: {e}: lookups reaching this line will fail");
        }
        Ok(BanOptions { file, wildcards })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Mapfile {
        Mapfile::parse(Path::new("/x/grid-mapfile"), s.as_bytes())
    }

    fn line(s: &str) -> Option<(String, Vec<String>)> {
        parse_line(s.as_bytes())
            .unwrap()
            .map(|(k, m)| (String::from_utf8(k).unwrap(), m))
    }

    /// A site admin's mistake: a FIFO as the grid-mapfile or ban file is
    /// an error at once, where opening it would wait for a writer forever.
    #[test]
    fn a_fifo_as_the_mapfile_is_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("grid-mapfile");
        lcmaps_core::testing::mkfifo(&fifo);
        let r = lcmaps_core::testing::within(20, move || {
            load(&fifo).map(|_| ()).map_err(|e| e.to_string())
        });
        assert!(r.unwrap_err().contains("not a regular file"));
    }

    #[test]
    fn spec_example() {
        let m = parse(concat!(
            "\"/DC=org/DC=example/CN=Alice Smith\" alice\n",
            "\"/DC=org/DC=example/CN=Bob Jones\" .dteam\n",
            "\"/DC=org/DC=example/CN=Carol*\" carol1,carol2     # wildcard only where enabled\n",
            "\"/dteam/Role=production/Capability=NULL\" .dteamprd   # FQAN keys\n",
            "\"/dteam/*\" .dteam\n",
        ));
        assert_eq!(m.entries.len(), 5);
        assert_eq!(m.entries[2].mappings, ["carol1", "carol2"]);
        let hit = m
            .lookup(
                "/DC=org/DC=example/CN=Alice Smith",
                false,
                Select::Exclude("."),
            )
            .unwrap()
            .unwrap();
        assert_eq!((hit.line, hit.mapping.as_deref()), (1, Some("alice")));
        // Wildcards only when asked for.
        let carol = "/DC=org/DC=example/CN=Carol Ann";
        assert_eq!(m.lookup(carol, false, Select::Exclude(".")).unwrap(), None);
        let hit = m
            .lookup(carol, true, Select::Exact("carol2"))
            .unwrap()
            .unwrap();
        assert_eq!(hit.mapping.as_deref(), Some("carol2"));
        // Pool lookup (MATCH_INCLUDE ".") and local lookup skip each other.
        let bob = "/DC=org/DC=example/CN=Bob Jones";
        assert_eq!(
            m.lookup(bob, true, Select::Include("."))
                .unwrap()
                .unwrap()
                .mapping
                .as_deref(),
            Some(".dteam")
        );
        assert_eq!(m.lookup(bob, true, Select::Exclude(".")).unwrap(), None);
        let fqan = "/dteam/Role=NULL/Capability=NULL";
        assert_eq!(
            m.lookup(fqan, true, Select::OnlyKey).unwrap().unwrap().line,
            5
        );
    }

    #[test]
    fn lines_and_escapes() {
        assert_eq!(line("   "), None);
        assert_eq!(line("  # comment"), None);
        assert_eq!(line(""), None);
        assert_eq!(
            line("\t/CN=unquoted a,b\tc  d"),
            Some((
                "/CN=unquoted".into(),
                vec!["a".into(), "b".into(), "c".into(), "d".into()]
            ))
        );
        // Quoted keys keep their escapes (not unescaped).
        assert_eq!(
            line(r#""/CN=a \"b\"" x"#),
            Some((r#"/CN=a \"b\""#.into(), vec!["x".into()]))
        );
        // Mappings are unescaped; `\#` is no comment, `\,` no separator.
        assert_eq!(
            line(r#""k" a\,b c\#d # e"#),
            Some(("k".into(), vec!["a,b".into(), "c#d".into()]))
        );
        // No separator needed after a closing quote; leading commas skipped.
        assert_eq!(line("\"k\",,x"), Some(("k".into(), vec!["x".into()])));
        // Key only.
        assert_eq!(line("\"k\"   # c"), Some(("k".into(), vec![])));
        // Unquoted key with an escaped blank.
        assert_eq!(line(r"a\ b x"), Some((r"a\ b".into(), vec!["x".into()])));
        // Empty quoted key.
        assert_eq!(line("\"\" x"), Some(("".into(), vec!["x".into()])));
    }

    #[test]
    fn malformed_lines() {
        assert!(parse_line(b"\"/CN=open x").is_err());
        assert!(parse_line(b"\"/CN=a\\").is_err());
        assert!(parse_line(b"key\\").is_err());
        assert!(parse_line(b"\"k\" a\\").is_err());
        let m = parse("\"/CN=a\" a\n\n\"/CN=broken b\n\"/CN=c\" c\n");
        assert_eq!(m.entries.len(), 1);
        // A lookup that matches before the bad line succeeds ...
        assert!(m
            .lookup("/CN=a", false, Select::Exclude("."))
            .unwrap()
            .is_some());
        // ... one that reaches it fails, naming file and line.
        let e = m.lookup("/CN=c", false, Select::Exclude(".")).unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(
            e.to_string(),
            "/x/grid-mapfile:3: invalid line: quote-imbalance"
        );
    }

    #[test]
    fn index_keeps_file_order_across_literal_and_pattern_keys() {
        let m = parse("\"/CN=a*\" .pool\n\"/CN=ab\" first\n\"/CN=a?\" second\n\"/CN=ab\" third\n");
        let hit = |s: &str, w: bool| {
            m.lookup(s, w, Select::Exclude("."))
                .unwrap()
                .map(|h| (h.line, h.mapping.unwrap()))
        };
        assert_eq!(hit("/CN=ab", true), Some((2, "first".into())));
        assert_eq!(hit("/CN=ab", false), Some((2, "first".into())));
        assert_eq!(
            m.lookup("/CN=ab", true, Select::Include("."))
                .unwrap()
                .map(|h| h.line),
            Some(1)
        );
        assert_eq!(hit("/CN=ac", true), Some((3, "second".into())));
        assert_eq!(hit("/CN=ac", false), None);
        // A pattern is matched literally without wildcards.
        assert_eq!(
            m.lookup("/CN=a*", false, Select::Include("."))
                .unwrap()
                .map(|h| h.line),
            Some(1)
        );
    }

    #[test]
    fn key_without_mappings_is_skipped() {
        let m = parse("\"/CN=a\"\n\"/CN=a\" .pool, local\n");
        let hit = m
            .lookup("/CN=a", false, Select::Exclude("."))
            .unwrap()
            .unwrap();
        assert_eq!((hit.line, hit.mapping.as_deref()), (2, Some("local")));
        let hit = m.lookup("/CN=a", false, Select::OnlyKey).unwrap().unwrap();
        assert_eq!(hit.line, 1);
    }

    #[test]
    fn cache_rereads_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("grid-mapfile");
        std::fs::write(&p, "\"/CN=a\" one\n").unwrap();
        // Just written: not kept (a second write within the same
        // timestamp tick would leave the same stamp).
        let a = load(&p).unwrap();
        let b = load(&p).unwrap();
        assert!(!Arc::ptr_eq(&a, &b), "a fresh file is read on every use");
        std::thread::sleep(lcmaps_core::trust::SETTLE + std::time::Duration::from_millis(1100));
        let a = load(&p).unwrap();
        let b = load(&p).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "unchanged file is parsed once");
        std::fs::write(&p, "\"/CN=a\" two\n").unwrap();
        let c = load(&p).unwrap();
        assert_eq!(c.entries[0].mappings, ["two"]);
        // Replaced by rename (new inode).
        let q = dir.path().join("new");
        std::fs::write(&q, "\"/CN=a\" six\n").unwrap();
        std::fs::rename(&q, &p).unwrap();
        assert_eq!(load(&p).unwrap().entries[0].mappings, ["six"]);
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(load(&p), Err(MapfileError::Missing(_))));
    }

    #[test]
    fn named_missing_file_is_an_error() {
        let e = gridmapfile(
            Some(Path::new("/nonexistent/lcmaps-rs/grid-mapfile")),
            "/CN=a",
            false,
            Select::Exclude("."),
            false,
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .contains("/nonexistent/lcmaps-rs/grid-mapfile"));
    }

    proptest! {
        /// A line built from a key and mappings parses back to them.
        #[test]
        fn line_round_trip(
            key in "[!-~&&[^\"\\\\]]([ -~&&[^\"\\\\]]){0,40}",
            maps in proptest::collection::vec("[a-z0-9_.]{1,12}", 0..5),
            sep in prop_oneof![Just(","), Just(" "), Just("\t"), Just(", ")],
            comment in proptest::option::of("[ -~]{0,20}"),
        ) {
            let mut text = format!("  \"{key}\" {}", maps.join(sep));
            if let Some(c) = &comment {
                text.push_str(" #");
                text.push_str(c);
            }
            let (k, m) = parse_line(text.as_bytes()).unwrap().unwrap();
            prop_assert_eq!(k, key.into_bytes());
            prop_assert_eq!(m, maps);
        }

        /// Escaping a mapping with `\` before every byte gives it back.
        #[test]
        fn escaped_mapping(map in "[ -~]{1,20}") {
            let escaped: String = map.chars().flat_map(|c| ['\\', c]).collect();
            let (_, m) = parse_line(format!("\"k\" {escaped}").as_bytes()).unwrap().unwrap();
            prop_assert_eq!(m, vec![map]);
        }

        /// The index visits exactly the entries a top-to-bottom scan
        /// matches (exact keys, or fnmatch patterns with wildcards), in
        /// file order.
        #[test]
        fn index_finds_what_a_scan_finds(
            keys in proptest::collection::vec("[ab/*?\\[\\]\\\\!]{0,5}", 0..30),
            subject in "[ab/*?\\[\\]\\\\!]{0,5}",
            wildcards in any::<bool>(),
        ) {
            let entries: Vec<Entry> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| Entry { line: i + 1, key: k.clone().into_bytes(), mappings: vec!["x".into()] })
                .collect();
            let scan: Vec<usize> = entries
                .iter()
                .enumerate()
                .filter(|(_, e)| if wildcards { fnmatch(&e.key, subject.as_bytes()) } else { e.key == subject.as_bytes() })
                .map(|(i, _)| i)
                .collect();
            let ix = Index::new(&entries);
            prop_assert_eq!(ix.candidates(&entries, subject.as_bytes(), wildcards), scan);
        }

        /// Arbitrary bytes never panic; the result is a line or an error.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let m = Mapfile::parse(Path::new("f"), &bytes);
            let _ = m.lookup("/CN=x", true, Select::Include("."));
        }
    }
}
