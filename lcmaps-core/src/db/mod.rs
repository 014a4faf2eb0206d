//! lcmaps.db: reading, parsing (pest grammar in `lcmaps.pest`) and validation.
//!
//! ```
//! use lcmaps_core::db;
//! let text = "good = \"lcmaps_dummy_good.mod\"\nstandard:\ngood -> lcmaps_dummy_bad.mod\n";
//! let checked = db::check_str("lcmaps.db", text, &db::ValidateOptions::default());
//! assert!(checked.diagnostics.is_empty());
//! assert_eq!(checked.config.unwrap().policies[0].name, "standard");
//! ```

pub mod ast;
pub mod parse;
pub mod validate;
pub mod values;

use std::path::Path;

pub use validate::{Config, PluginDecl, Policy, Rule, ValidateOptions};

use crate::diag::{Diagnostic, Source};

/// The result of checking a file: the configuration if it has no error, and
/// every diagnostic (errors first in file order, then warnings).
#[derive(Debug, Clone)]
pub struct Checked {
    /// The usable configuration, `None` when any error was found.
    pub config: Option<Config>,
    /// Everything found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// True when there is at least one error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parse and validate lcmaps.db text called `name`.
pub fn check_str(name: &str, text: &str, opts: &ValidateOptions) -> Checked {
    check_bytes(name, text.as_bytes(), opts)
}

/// Parse and validate raw file contents called `name`.
pub fn check_bytes(name: &str, bytes: &[u8], opts: &ValidateOptions) -> Checked {
    let text = match parse::check_encoding(name, bytes) {
        Ok(t) => t,
        Err(d) => {
            return Checked {
                config: None,
                diagnostics: vec![*d],
            }
        }
    };
    check_remembered(name, text, opts)
}

fn check_text(name: &str, text: &str, opts: &ValidateOptions) -> Checked {
    let src = Source::new(name, text);
    let (ast, mut diagnostics) = parse::parse(&src);
    let (config, more) = validate::validate(&src, &ast, opts);
    diagnostics.extend(more);
    sort(&mut diagnostics);
    let config = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        config
    };
    Checked {
        config,
        diagnostics,
    }
}

/// [`check_text`], remembering the last result: a process that
/// initializes and terminates LCMAPS again and again (one cycle per
/// request) checks the same policy file each time. The check is a function
/// of the name, the text, the options and what `stat` says of the module
/// files it looked for ([`crate::env::Probe`]); the first three are
/// compared in full and every file is looked up again, so the remembered
/// result is what checking again would give.
fn check_remembered(name: &str, text: &str, opts: &ValidateOptions) -> Checked {
    type Last = Option<(
        String,
        String,
        ValidateOptions,
        Vec<crate::env::Probe>,
        Checked,
    )>;
    static LAST: std::sync::Mutex<Last> = std::sync::Mutex::new(None);
    /// Larger files are checked every time (nothing kept).
    const MAX_KEPT: usize = 1 << 20;
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, _, _, checked)) = last.as_ref().filter(|(n, t, o, probes, _)| {
        n == name && t == text && o == opts && probes.iter().all(|p| p.unchanged())
    }) {
        return checked.clone();
    }
    let (checked, probes) = crate::env::recording_probes(|| check_text(name, text, opts));
    *last = (text.len() <= MAX_KEPT).then(|| {
        (
            name.to_owned(),
            text.to_owned(),
            opts.clone(),
            probes,
            checked.clone(),
        )
    });
    checked
}

/// Read, parse and validate the file at `path`. In a privileged process
/// the file must be one only root can change, and it must be a regular
/// file ([`crate::site_file::read`]: one open, the trust check of the
/// opened file, as the file is read at every initialization).
pub fn check_file(path: &Path, opts: &ValidateOptions) -> Checked {
    use crate::site_file;
    let name = path.display().to_string();
    let hint = "set LCMAPS_DB_FILE (or LCMAPS_DIR) to the policy file, or pass its path";
    let error = match site_file::read(path) {
        Ok(bytes) => return check_bytes(&name, &bytes, opts),
        Err(e) => e.diagnostic(&name, hint),
    };
    Checked {
        config: None,
        diagnostics: vec![error],
    }
}

/// Errors first, each group in file order.
fn sort(d: &mut [Diagnostic]) {
    d.sort_by_key(|d| {
        (
            d.severity,
            d.location
                .as_ref()
                .map(|l| (l.line, l.col))
                .unwrap_or((0, 0)),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_file_changed_between_checks_is_parsed_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("lcmaps.db");
        let opts = ValidateOptions {
            builtins: vec!["lcmaps_dummy_good.mod".into()],
            ..ValidateOptions::default()
        };
        let decl = "a = \"lcmaps_dummy_good.mod\"\nb = \"lcmaps_dummy_good.mod\"\nstandard:\n";
        std::fs::write(&db, format!("{decl}a -> b\n")).unwrap();
        let first = check_file(&db, &opts);
        assert!(first.config.is_some(), "{:?}", first.diagnostics);
        // The same text again: the same answer.
        assert!(check_file(&db, &opts).config.is_some());
        // A syntax error: refused, not the remembered parse.
        std::fs::write(&db, format!("{decl}a ->\n")).unwrap();
        let changed = check_file(&db, &opts);
        assert!(changed.config.is_none());
        assert!(changed.diagnostics.iter().any(Diagnostic::is_error));
    }

    /// The same text with other module files: checked again, never the
    /// remembered answer.
    #[test]
    fn module_files_that_change_between_checks_are_looked_up_again() {
        let dir = tempfile::tempdir().unwrap();
        let modules = dir.path().join("mods");
        std::fs::create_dir(&modules).unwrap();
        let text = format!(
            "path = \"{}\"\nx = \"lcmaps_x.mod\"\nstandard:\nx -> lcmaps_dummy_good.mod\n",
            modules.display()
        );
        let opts = ValidateOptions {
            builtins: vec!["lcmaps_dummy_good.mod".into()],
            ..ValidateOptions::default()
        };
        let missing = |c: &Checked| {
            c.diagnostics
                .iter()
                .any(|d| d.is_error() && d.message.contains("lcmaps_x.mod"))
        };
        assert!(missing(&check_str("p.db", &text, &opts)));
        // The module file appears.
        let module = modules.join("lcmaps_x.mod");
        std::fs::write(&module, "").unwrap();
        let c = check_str("p.db", &text, &opts);
        assert!(!missing(&c) && c.config.is_some(), "{:?}", c.diagnostics);
        // Gone again.
        std::fs::remove_file(&module).unwrap();
        assert!(missing(&check_str("p.db", &text, &opts)));
    }
}
