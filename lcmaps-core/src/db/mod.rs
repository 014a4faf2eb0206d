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
    let src = Source::new(name, text);
    let (ast, mut diagnostics) = parse_remembered(&src);
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

/// [`parse::parse`], remembering the last result: a process that
/// initializes and terminates LCMAPS again and again (one cycle per
/// request) parses the same policy file each time. The parse is a
/// function of the name and the text alone (both compared in full), so the
/// remembered result is what parsing again would give; validation, which
/// looks at the file system, is done every time.
fn parse_remembered(src: &Source<'_>) -> (ast::Ast, Vec<Diagnostic>) {
    type Last = Option<(String, String, ast::Ast, Vec<Diagnostic>)>;
    static LAST: std::sync::Mutex<Last> = std::sync::Mutex::new(None);
    /// Larger files are parsed every time (nothing kept).
    const MAX_KEPT: usize = 1 << 20;
    if let Some((_, _, ast, d)) = LAST
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .filter(|(n, t, _, _)| n == src.name() && t == src.text())
    {
        return (ast.clone(), d.clone());
    }
    let (ast, d) = parse::parse(src);
    if src.text().len() <= MAX_KEPT {
        *LAST.lock().unwrap_or_else(|e| e.into_inner()) = Some((
            src.name().to_owned(),
            src.text().to_owned(),
            ast.clone(),
            d.clone(),
        ));
    }
    (ast, d)
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
}
