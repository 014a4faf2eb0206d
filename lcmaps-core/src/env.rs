//! Where LCMAPS looks for things: the db file, modules, the log file, and
//! the debug level, resolved from the environment exactly as LCMAPS 1.6 does.

use crate::trust::Stamp;
use std::path::{Path, PathBuf};

/// Compile-time default directory of lcmaps.db (`LCMAPS_ETC_HOME`).
pub const ETC_HOME: &str = "/etc/lcmaps";
/// Compile-time default module directory (`LCMAPS_MOD_HOME`, Debian's value).
pub const MOD_HOME: &str = "/usr/lib/x86_64-linux-gnu/lcmaps";
/// Compile-time library directory that relative `path` values are taken
/// relative to (`LCMAPS_LIB_HOME`, Debian's value).
pub const LIB_HOME: &str = "/usr/lib/x86_64-linux-gnu";
/// Default db file name.
pub const DB_FILE: &str = "lcmaps.db";
/// Default LCMAPS_DEBUG_LEVEL (4 = LOG_INFO).
pub const DEFAULT_DEBUG_LEVEL: u8 = 4;

/// Settings LCMAPS takes from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The lcmaps.db to read.
    pub db_file: PathBuf,
    /// `LCMAPS_MODULES_DIR`, used when the db has no `path`.
    pub modules_dir: Option<PathBuf>,
    /// `LCMAPS_LOG_FILE`.
    pub log_file: Option<PathBuf>,
    /// `LCMAPS_DEBUG_LEVEL`, 0-5.
    pub debug_level: u8,
    /// `LCMAPS_LOG_STRING`, put before every message.
    pub log_string: Option<String>,
    /// `LCMAPS_LOG_IDENT`, put before `lcmaps[pid]` in file lines.
    pub log_ident: Option<String>,
    /// `LCMAPS_POLICY_NAME` split at `:` (read by the helper libraries and
    /// by `lcmaps map`, never by the core run calls).
    pub policy_names: Vec<String>,
}

/// A bad environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value:?}: {reason}")]
pub struct EnvError {
    /// Variable name.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong and what would be right.
    pub reason: String,
}

impl Settings {
    /// Read settings from the process environment.
    pub fn from_env() -> Result<Settings, EnvError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Read settings through `get`, which returns a variable's value.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, EnvError> {
        let nonempty = |k: &str| get(k).filter(|v| !v.is_empty());
        let db_file = db_file_path(
            nonempty("LCMAPS_DIR")
                .or_else(|| nonempty("LCMAPS_ETC_DIR"))
                .as_deref(),
            nonempty("LCMAPS_DB_FILE").as_deref(),
        );
        let debug_level = match get("LCMAPS_DEBUG_LEVEL") {
            None => DEFAULT_DEBUG_LEVEL,
            Some(v) => parse_debug_level(&v).ok_or_else(|| EnvError {
                var: "LCMAPS_DEBUG_LEVEL",
                value: v.clone(),
                reason: "must be a number from 0 (errors only) to 5 (debug)".into(),
            })?,
        };
        Ok(Settings {
            db_file,
            modules_dir: nonempty("LCMAPS_MODULES_DIR").map(PathBuf::from),
            log_file: nonempty("LCMAPS_LOG_FILE").map(PathBuf::from),
            debug_level,
            log_string: nonempty("LCMAPS_LOG_STRING"),
            log_ident: nonempty("LCMAPS_LOG_IDENT"),
            policy_names: nonempty("LCMAPS_POLICY_NAME")
                .map(|v| split_policy_names(&v))
                .unwrap_or_default(),
        })
    }
}

/// `LCMAPS_POLICY_NAME` split at colons, empty names dropped.
pub fn split_policy_names(v: &str) -> Vec<String> {
    v.split(':')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// LCMAPS accepts only a string of digits whose value is 0-5.
fn parse_debug_level(v: &str) -> Option<u8> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u8>().ok().filter(|n| *n <= 5)
}

/// The db file: `file` if absolute, else `dir/file`, with LCMAPS's defaults.
pub fn db_file_path(dir: Option<&str>, file: Option<&str>) -> PathBuf {
    let file = file.unwrap_or(DB_FILE);
    genfilename(dir.unwrap_or(ETC_HOME), file)
}

/// `lcmaps_genfilename(prefix, path, NULL)`: an absolute `path` ignores the
/// prefix; otherwise one `/` joins them.
pub fn genfilename(prefix: &str, path: &str) -> PathBuf {
    if path.starts_with('/') || prefix.is_empty() {
        PathBuf::from(path)
    } else if prefix.ends_with('/') {
        PathBuf::from(format!("{prefix}{path}"))
    } else {
        PathBuf::from(format!("{prefix}/{path}"))
    }
}

/// Where module files are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleDirs {
    /// The db's `path`, already made absolute. When set it is the only place.
    pub db_path: Option<PathBuf>,
    /// `LCMAPS_MODULES_DIR`.
    pub modules_dir: Option<PathBuf>,
    /// The compiled-in default.
    pub mod_home: PathBuf,
}

impl ModuleDirs {
    /// Directories in the order they are tried.
    pub fn search_list(&self) -> Vec<&Path> {
        match &self.db_path {
            Some(p) => vec![p.as_path()],
            None => self
                .modules_dir
                .iter()
                .map(|p| p.as_path())
                .chain([self.mod_home.as_path()])
                .collect(),
        }
    }

    /// The first existing file for module `name`, like `lcmaps_findplugin`.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        self.find_file(name).map(|(p, _)| p)
    }

    /// [`ModuleDirs::find`], with the file's metadata from the one `stat`
    /// that found it.
    pub fn find_file(&self, name: &str) -> Option<(PathBuf, std::fs::Metadata)> {
        let found = |p: PathBuf| probe(&p).map(|m| (p, m));
        if name.starts_with('/') {
            return found(PathBuf::from(name));
        }
        self.search_list()
            .into_iter()
            .find_map(|d| found(genfilename(&d.to_string_lossy(), name)))
    }

    /// The path LCMAPS would hand a plugin as `argv[0]`: the file found, or
    /// where it would be in the first search directory.
    pub fn argv0(&self, name: &str) -> PathBuf {
        self.find(name).unwrap_or_else(|| {
            let first = self.search_list()[0].to_string_lossy().into_owned();
            genfilename(&first, name)
        })
    }
}

/// What `stat` said of one path [`ModuleDirs::find_file`] tried: the
/// file's [`Stamp`] (any change a check could see, a group or link count
/// too, moves its ctime), or nothing (no such file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    path: PathBuf,
    seen: Option<Stamp>,
}

impl Probe {
    fn of(path: &Path, m: Option<&std::fs::Metadata>) -> Probe {
        Probe {
            path: path.to_owned(),
            seen: m.map(Stamp::of),
        }
    }

    /// Whether `stat` says the same now.
    pub fn unchanged(&self) -> bool {
        Probe::of(&self.path, std::fs::metadata(&self.path).ok().as_ref()) == *self
    }
}

std::thread_local! {
    static PROBES: std::cell::RefCell<Option<Vec<Probe>>> = const { std::cell::RefCell::new(None) };
}

/// `stat` of a module candidate, noted when [`recording_probes`] asks.
fn probe(p: &Path) -> Option<std::fs::Metadata> {
    let m = std::fs::metadata(p).ok();
    PROBES.with(|r| {
        if let Some(v) = r.borrow_mut().as_mut() {
            v.push(Probe::of(p, m.as_ref()));
        }
    });
    m
}

/// Runs `f` and returns, beside its result, every module file lookup it
/// made on this thread with what `stat` said.
pub fn recording_probes<T>(f: impl FnOnce() -> T) -> (T, Vec<Probe>) {
    let outer = PROBES.with(|r| r.borrow_mut().replace(Vec::new()));
    let out = f();
    let probes = PROBES.with(|r| std::mem::replace(&mut *r.borrow_mut(), outer));
    (out, probes.unwrap_or_default())
}

/// A relative db `path` is taken relative to `LCMAPS_LIB_HOME`.
pub fn absolute_db_path(path: &str) -> PathBuf {
    genfilename(LIB_HOME, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, EnvError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn db_file_resolution() {
        assert_eq!(
            settings(&[]).unwrap().db_file,
            PathBuf::from("/etc/lcmaps/lcmaps.db")
        );
        assert_eq!(
            settings(&[("LCMAPS_DIR", "/a"), ("LCMAPS_ETC_DIR", "/b")])
                .unwrap()
                .db_file,
            PathBuf::from("/a/lcmaps.db")
        );
        assert_eq!(
            settings(&[("LCMAPS_ETC_DIR", "/b/"), ("LCMAPS_DB_FILE", "x.db")])
                .unwrap()
                .db_file,
            PathBuf::from("/b/x.db")
        );
        assert_eq!(
            settings(&[("LCMAPS_DIR", "/a"), ("LCMAPS_DB_FILE", "/abs/x.db")])
                .unwrap()
                .db_file,
            PathBuf::from("/abs/x.db")
        );
    }

    #[test]
    fn debug_level_must_be_digits_0_to_5() {
        assert_eq!(settings(&[]).unwrap().debug_level, 4);
        assert_eq!(
            settings(&[("LCMAPS_DEBUG_LEVEL", "5")])
                .unwrap()
                .debug_level,
            5
        );
        assert_eq!(
            settings(&[("LCMAPS_DEBUG_LEVEL", "0")])
                .unwrap()
                .debug_level,
            0
        );
        for bad in ["6", "-1", "x", "", " 3", "99999999999"] {
            let e = settings(&[("LCMAPS_DEBUG_LEVEL", bad)]).unwrap_err();
            assert_eq!(e.var, "LCMAPS_DEBUG_LEVEL");
        }
    }

    #[test]
    fn policy_names_split_at_colons() {
        let s = settings(&[("LCMAPS_POLICY_NAME", "a::b:")]).unwrap();
        assert_eq!(s.policy_names, ["a", "b"]);
    }

    #[test]
    fn module_search() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.mod"), "").unwrap();
        let d = ModuleDirs {
            db_path: None,
            modules_dir: Some(dir.path().into()),
            mod_home: "/nonexistent".into(),
        };
        assert_eq!(d.find("m.mod"), Some(dir.path().join("m.mod")));
        assert_eq!(d.find("n.mod"), None);
        let d2 = ModuleDirs {
            db_path: Some("/nonexistent".into()),
            ..d.clone()
        };
        assert_eq!(d2.find("m.mod"), None, "db path is exclusive");
        assert_eq!(d2.argv0("m.mod"), PathBuf::from("/nonexistent/m.mod"));
        assert_eq!(
            absolute_db_path("lcmaps"),
            PathBuf::from("/usr/lib/x86_64-linux-gnu/lcmaps")
        );
    }
}
