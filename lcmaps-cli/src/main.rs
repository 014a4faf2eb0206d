//! `lcmaps`: check lcmaps.db files and dry-run mappings.

#![forbid(unsafe_code)]

mod map;
mod mapping_account;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lcmaps_core::db::{self, ValidateOptions};
use lcmaps_core::diag;
use lcmaps_core::env::Settings;

/// Exit status: configuration error (for `map`).
pub const EXIT_CONFIG: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "lcmaps",
    version,
    about = "Check LCMAPS policy files and dry-run credential mappings",
    long_about = "Check LCMAPS policy files (lcmaps.db) and dry-run credential mappings with the \
                  lcmaps-rs engine. Nothing here changes the identity of this process.",
    after_help = "Examples:\n  \
        lcmaps check /etc/lcmaps/lcmaps.db\n  \
        lcmaps map --db examples/lcmaps.db --dn '/DC=org/DC=example/CN=Jane Doe'\n  \
        lcmaps map --dn '/DC=org/DC=example/CN=Jane Doe' --fqan /dteam/Role=NULL/Capability=NULL --policy glexec --json\n\n\
        Environment: LCMAPS_DB_FILE, LCMAPS_DIR, LCMAPS_ETC_DIR (which lcmaps.db), LCMAPS_MODULES_DIR,\n\
        LCMAPS_DEBUG_LEVEL (0-5), LCMAPS_LOG_FILE, LCMAPS_LOG_STRING, LCMAPS_POLICY_NAME (a:b:c)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check an lcmaps.db: report every error and warning with file:line:col.
    ///
    /// Exit status: 0 when there is no error (warnings allowed), 1 when there
    /// are errors, 2 when the environment itself is wrong.
    #[command(
        after_help = "Examples:\n  lcmaps check\n  lcmaps check /etc/lcmaps/lcmaps.db\n  \
                            LCMAPS_DB_FILE=/tmp/test.db lcmaps check\n  \
                            lcmaps check --lcas /etc/lcas/lcas.db"
    )]
    Check {
        /// The file to check (default: LCMAPS_DB_FILE etc., else /etc/lcmaps/lcmaps.db;
        /// with --lcas: LCAS_DB_FILE etc., else /etc/lcas/lcas.db).
        file: Option<PathBuf>,
        /// The file is an LCAS policy file (lcas.db), not an lcmaps.db.
        #[arg(long)]
        lcas: bool,
        /// Print nothing but errors and the summary.
        #[arg(short, long)]
        quiet: bool,
        /// Warn about files the plugins name that this account (glexec's
        /// mapping_account) cannot read, and lease directories it cannot
        /// write to. Default: glexec.conf's mapping_account when it says
        /// privilege_separation = yes and names this file.
        #[arg(long, value_name = "ACCOUNT")]
        mapping_account: Option<String>,
    },
    /// Map a DN (and FQANs) with an lcmaps.db, without switching identity.
    ///
    /// Prints each plugin that ran, its result and duration, and the final
    /// credentials. The mapping runs in a child process, so even a policy
    /// with an enforcement plugin never changes the identity of `lcmaps`;
    /// built-in enforcement plugins only report what they would do.
    ///
    /// Exit status: 0 mapped (a uid and a primary gid came out), 1 not
    /// mapped, 2 configuration error.
    #[command(after_help = "Examples:\n  \
        lcmaps map --db examples/lcmaps.db --dn '/DC=org/DC=example/CN=Jane Doe'\n  \
        lcmaps map --dn '/CN=Jane' --fqan /dteam/Role=NULL/Capability=NULL --policy voms --json\n  \
        LCMAPS_POLICY_NAME=glexec_voms:glexec_plain lcmaps map --dn '/CN=Jane'")]
    Map(map::MapArgs),
    #[command(hide = true, name = "__map-child")]
    MapChild(map::MapArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            file,
            quiet,
            lcas: false,
            mapping_account,
        } => check(file, quiet, mapping_account.as_deref()),
        Command::Check {
            file,
            quiet,
            lcas: true,
            ..
        } => check_lcas(file, quiet),
        Command::Map(args) => map::map(args),
        Command::MapChild(args) => map::child(args),
    }
}

/// Settings from the environment, or exit 2 with the reason.
pub fn settings() -> Result<Settings, ExitCode> {
    Settings::from_env().map_err(|e| {
        eprintln!("lcmaps: bad environment: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Validation options for this machine.
pub fn validate_options(settings: &Settings) -> ValidateOptions {
    lcmaps_builtins::validate_options(settings.modules_dir.clone())
}

fn check(file: Option<PathBuf>, quiet: bool, mapping_account: Option<&str>) -> ExitCode {
    let settings = match settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let file = file.unwrap_or_else(|| settings.db_file.clone());
    let mut checked = db::check_file(&file, &validate_options(&settings));
    if let Some(c) = &checked.config {
        let extra = plugin_warnings(&file, c);
        checked.diagnostics.extend(extra);
        if let Some(name) = mapping_account::for_file(&file, mapping_account) {
            match mapping_account::Account::lookup(&name) {
                Ok(account) => {
                    let found = mapping_account::warnings(&c.plugins, &account);
                    let hint = format!(
                        "glexec's mapping helper runs the plugins as {name}: make the file readable by it (and lease directories its own)"
                    );
                    checked
                        .diagnostics
                        .extend(at_declarations(&file, found, &hint));
                }
                Err(e) => checked.diagnostics.push(
                    diag::Diagnostic::warning(format!("mapping account: {e}")).hint(
                        "create it, or pass --mapping-account with the account glexec.conf names",
                    ),
                ),
            }
        }
    }
    let shown: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| !quiet || d.is_error())
        .cloned()
        .collect();
    eprint!("{}", diag::render_all(&shown));
    let summary = diag::summary(&checked.diagnostics);
    if checked.has_errors() {
        eprintln!("{}: {summary}", file.display());
        ExitCode::from(1)
    } else {
        let policies = checked
            .config
            .as_ref()
            .map(|c| c.policies.len())
            .unwrap_or(0);
        let plugins = checked
            .config
            .as_ref()
            .map(|c| c.plugins.len())
            .unwrap_or(0);
        println!(
            "{}: ok ({policies} polic{}, {plugins} plugin{}; {summary})",
            file.display(),
            if policies == 1 { "y" } else { "ies" },
            if plugins == 1 { "" } else { "s" },
        );
        ExitCode::SUCCESS
    }
}

/// Warnings about what the plugins' arguments point at (a CA directory
/// with CAs without a CRL), each at its plugin's declaration.
fn plugin_warnings(file: &std::path::Path, c: &db::Config) -> Vec<diag::Diagnostic> {
    at_declarations(
        file,
        lcmaps_builtins::check_warnings(&c.plugins),
        "run fetch-crl (or install the CA's CRL as <hash>.r0); docs/admin-guide.md, \"CRLs\"",
    )
}

/// Each warning at its plugin's declaration line in `file`, with `hint`.
fn at_declarations(
    file: &std::path::Path,
    found: Vec<(&db::PluginDecl, String)>,
    hint: &str,
) -> Vec<diag::Diagnostic> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    found
        .into_iter()
        .map(|(d, w)| {
            let line = text.lines().nth(d.line.saturating_sub(1)).unwrap_or("");
            diag::Diagnostic::warning(w)
                .at(diag::Location {
                    file: file.display().to_string(),
                    line: d.line,
                    col: 1,
                    len: line.chars().count(),
                    source_line: line.to_string(),
                })
                .hint(hint)
        })
        .collect()
}

fn check_lcas(file: Option<PathBuf>, quiet: bool) -> ExitCode {
    use lcmaps_core::lcas;
    let file = file.unwrap_or_else(lcas::db_file_from_env);
    let checked = lcas::check_file(&file, &lcas::Options::from_env());
    let shown: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| !quiet || d.is_error())
        .cloned()
        .collect();
    eprint!("{}", diag::render_all(&shown));
    let summary = diag::summary(&checked.diagnostics);
    match &checked.config {
        Some(c) => {
            println!(
                "{}: ok ({} plugin{}; {summary})",
                file.display(),
                c.plugins.len(),
                if c.plugins.len() == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("{}: {summary}", file.display());
            ExitCode::from(1)
        }
    }
}
