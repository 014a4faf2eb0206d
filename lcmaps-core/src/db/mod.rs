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

/// Read, parse and validate the file at `path`. In a privileged process
/// the file must be one only root can change ([`crate::trust::check`]).
pub fn check_file(path: &Path, opts: &ValidateOptions) -> Checked {
    let name = path.display().to_string();
    // A missing file is reported by the read below.
    if std::fs::symlink_metadata(path).is_ok() {
        if let Err(e) = crate::trust::check(path) {
            return Checked {
                config: None,
                diagnostics: vec![Diagnostic::error(e.to_string())],
            };
        }
    }
    match std::fs::read(path) {
        Ok(bytes) => check_bytes(&name, &bytes, opts),
        Err(e) => Checked {
            config: None,
            diagnostics: vec![Diagnostic::error(format!("cannot read {name}: {e}"))
                .hint("set LCMAPS_DB_FILE (or LCMAPS_DIR) to the policy file, or pass its path")],
        },
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
