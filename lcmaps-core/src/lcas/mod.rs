//! LCAS, the Local Centre Authorization Service: `lcas.db`, its evaluation
//! (every plugin must authorize; the first refusal refuses), and the
//! standard authorization plugins as built-ins.
//!
//! ```
//! use lcmaps_core::lcas::{self, AuthzRequest, Lcas};
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("ban_users.db"), "\"/CN=Mallory\"\n").unwrap();
//! let db = dir.path().join("lcas.db");
//! std::fs::write(&db, "pluginname=\"lcas_userban.mod\",pluginargs=\"ban_users.db\"\n").unwrap();
//! let checked = lcas::check_file(&db, &lcas::Options::default());
//! let mut lcas = Lcas::new(checked.config.unwrap(), &lcas::BuiltinLoader).unwrap();
//! assert!(lcas.authorize(&AuthzRequest::with_dn("/CN=Alice")).is_ok());
//! let refusal = lcas.authorize(&AuthzRequest::with_dn("/CN=Mallory")).unwrap_err();
//! assert_eq!(refusal.plugin, "lcas_userban.mod");
//! ```

mod plugins;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pest::Parser;

use crate::db::values::{self, TokenizeError};
use crate::diag::{Diagnostic, Source};
use crate::env::genfilename;
use crate::plugin::PluginError;

pub use plugins::{CheckExecutable, TimeSlot, Timeslots, UserList};

mod grammar {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "lcas/lcas.pest"]
    pub struct LcasParser;
}
use grammar::{LcasParser, Rule};

/// `LCAS_MOD_SUCCESS`.
pub const LCAS_MOD_SUCCESS: i32 = 0;
/// `LCAS_MOD_FAIL`.
pub const LCAS_MOD_FAIL: i32 = 1;
/// `LCAS_MOD_NOFILE`.
pub const LCAS_MOD_NOFILE: i32 = 2;
/// `LCAS_MOD_ENTRY`.
pub const LCAS_MOD_ENTRY: i32 = 3;
/// `LCAS_MOD_NOENTRY`.
pub const LCAS_MOD_NOENTRY: i32 = 4;

/// Default directory of lcas.db.
pub const ETC_HOME: &str = "/etc/lcas";
/// Default module directory.
pub const MOD_HOME: &str = "/usr/lib/lcas";

/// One plugin line of lcas.db.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcasPluginDecl {
    /// `pluginname`: the module file.
    pub module: String,
    /// `pluginargs` split into tokens.
    pub args: Vec<String>,
    /// Source line.
    pub line: usize,
    /// The module file found, if any.
    pub file: Option<PathBuf>,
    /// The engine has it built in.
    pub builtin: bool,
}

/// A validated lcas.db.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcasConfig {
    /// File name as given.
    pub file: String,
    /// Directory relative plugin files are taken from (that of lcas.db).
    pub etc_dir: PathBuf,
    /// Plugins in file order.
    pub plugins: Vec<LcasPluginDecl>,
}

/// Where lcas.db and modules are; resolved from `LCAS_*` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `LCAS_MODULES_DIR`, else `/usr/lib/lcas`.
    pub modules_dir: PathBuf,
    /// Module names built in.
    pub builtins: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            modules_dir: MOD_HOME.into(),
            builtins: plugins::BUILTINS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Options {
    /// Options from the environment (`LCAS_MODULES_DIR`).
    pub fn from_env() -> Self {
        let mut o = Options::default();
        if let Some(d) = std::env::var_os("LCAS_MODULES_DIR").filter(|d| !d.is_empty()) {
            o.modules_dir = d.into();
        }
        o
    }
}

/// The lcas.db LCAS reads: `$LCAS_DB_FILE` in `$LCAS_DIR` / `$LCAS_ETC_DIR` /
/// `/etc/lcas` (an absolute `LCAS_DB_FILE` ignores the directory).
pub fn db_file_from_env() -> PathBuf {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let dir = get("LCAS_DIR")
        .or_else(|| get("LCAS_ETC_DIR"))
        .unwrap_or_else(|| ETC_HOME.into());
    genfilename(
        &dir,
        &get("LCAS_DB_FILE").unwrap_or_else(|| "lcas.db".into()),
    )
}

/// The result of checking an lcas.db.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The configuration, when there is no error.
    pub config: Option<LcasConfig>,
    /// Every diagnostic.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// True when there is at least one error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Read and check the lcas.db at `path`. In a privileged process the file
/// must be one only root can change, and it must be a regular file
/// ([`crate::site_file::read`]).
pub fn check_file(path: &Path, opts: &Options) -> Checked {
    use crate::site_file;
    let name = path.display().to_string();
    let etc_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ETC_HOME.into());
    let hint = "set LCAS_DB_FILE (or LCAS_DIR) to the LCAS policy file, or pass its path";
    let error = match site_file::read(path) {
        Ok(bytes) => return check_bytes(&name, &bytes, &etc_dir, opts),
        Err(e) => e.diagnostic(&name, hint),
    };
    Checked {
        config: None,
        diagnostics: vec![error],
    }
}

/// Check lcas.db contents called `name`; relative plugin files are taken
/// from `etc_dir`.
pub fn check_bytes(name: &str, bytes: &[u8], etc_dir: &Path, opts: &Options) -> Checked {
    let text = match crate::db::parse::check_encoding(name, bytes) {
        Ok(t) => t,
        Err(d) => {
            return Checked {
                config: None,
                diagnostics: vec![*d],
            }
        }
    };
    let src = Source::new(name, text);
    let mut diags = Vec::new();
    let mut plugins: Vec<LcasPluginDecl> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let file = match LcasParser::parse(Rule::file, text) {
        Ok(mut p) => p.next().expect("file rule yields one pair"),
        Err(e) => {
            diags.push(Diagnostic::error(format!("cannot parse the file: {e}")));
            return Checked {
                config: None,
                diagnostics: diags,
            };
        }
    };
    let hint = "each line is `pluginname=\"lcas_x.mod\",pluginargs=\"options\"`";
    for item in file.into_inner() {
        let span = item.as_span();
        match item.as_rule() {
            Rule::bad => {
                let msg = if span.as_str().matches('"').count() % 2 == 1 {
                    "unterminated string: a value must end on the line it starts"
                } else {
                    "this line is not a plugin entry"
                };
                diags.push(
                    Diagnostic::error(msg)
                        .at(src.location(span.start(), span.end()))
                        .hint(hint),
                );
            }
            Rule::entry => {
                let mut module: Option<(String, pest::Span<'_>)> = None;
                let mut args: Option<(String, pest::Span<'_>)> = None;
                for pair in item.into_inner() {
                    let mut kv = pair.into_inner();
                    let key = kv.next().expect("pair has a key");
                    let value = kv.next().expect("pair has a value");
                    let vspan = value.as_span();
                    let inner = value.into_inner().next().expect("value has content");
                    let v = inner.as_str().to_string();
                    let slot = match key.as_str() {
                        "pluginname" => &mut module,
                        "pluginargs" => &mut args,
                        other => {
                            diags.push(
                                Diagnostic::error(format!("unknown key `{other}`"))
                                    .at(src.location(key.as_span().start(), key.as_span().end()))
                                    .hint("the keys are `pluginname` and `pluginargs`"),
                            );
                            continue;
                        }
                    };
                    if slot.is_some() {
                        diags.push(
                            Diagnostic::error(format!(
                                "`{}` given twice on one line",
                                key.as_str()
                            ))
                            .at(src.location(key.as_span().start(), key.as_span().end()))
                            .hint("one plugin per line"),
                        );
                    }
                    *slot = Some((v, vspan));
                }
                let Some((module, mspan)) = module else {
                    diags.push(
                        Diagnostic::error("plugin entry without `pluginname`")
                            .at(src.location(span.start(), span.end()))
                            .hint(hint),
                    );
                    continue;
                };
                let line = src.line_of(span.start());
                if module.is_empty() {
                    diags.push(
                        Diagnostic::error("empty `pluginname`")
                            .at(src.location(mspan.start(), mspan.end()))
                            .hint(hint),
                    );
                    continue;
                }
                if let Some(prev) = seen.get(&module) {
                    diags.push(
                        Diagnostic::error(format!(
                            "module `{module}` is already listed on line {prev}; LCAS loads a module once"
                        ))
                        .at(src.location(mspan.start(), mspan.end()))
                        .hint("remove one of the two lines"),
                    );
                    continue;
                }
                seen.insert(module.clone(), line);
                let builtin = !module.starts_with('/') && opts.builtins.contains(&module);
                let path = genfilename(&opts.modules_dir.to_string_lossy(), &module);
                let file = path.exists().then_some(path);
                if file.is_none() && !builtin {
                    diags.push(
                        Diagnostic::error(format!(
                            "module file `{module}` not found in {}",
                            opts.modules_dir.display()
                        ))
                        .at(src.location(mspan.start(), mspan.end()))
                        .hint("install the plugin, fix the name, or set LCAS_MODULES_DIR"),
                    );
                    continue;
                }
                let tokens = match &args {
                    None => Vec::new(),
                    Some((a, aspan)) => {
                        match values::tokenize(a, values::ARG_SEPARATORS, values::MAX_OPTION_TOKENS)
                        {
                            Ok(t) => t,
                            Err(e) => {
                                let msg = match e {
                                    TokenizeError::UnmatchedQuote { .. } => {
                                        "the arguments have a `\"` that is never closed".to_string()
                                    }
                                    TokenizeError::TooMany { count, max } => {
                                        format!(
                                            "{count} argument tokens; LCAS passes at most {max}"
                                        )
                                    }
                                };
                                diags.push(
                                    Diagnostic::error(msg)
                                        .at(src.location(aspan.start(), aspan.end()))
                                        .hint("shorten or fix the plugin arguments"),
                                );
                                continue;
                            }
                        }
                    }
                };
                plugins.push(LcasPluginDecl {
                    module,
                    args: tokens,
                    line,
                    file,
                    builtin,
                });
            }
            _ => {}
        }
    }
    if plugins.is_empty() && !diags.iter().any(Diagnostic::is_error) {
        diags.push(
            Diagnostic::error(format!("{name} lists no plugin, so LCAS would refuse every request"))
                .hint("list at least one plugin, e.g. pluginname=\"lcas_userban.mod\",pluginargs=\"ban_users.db\""),
        );
    }
    let has_error = diags.iter().any(Diagnostic::is_error);
    Checked {
        config: (!has_error).then(|| LcasConfig {
            file: name.to_string(),
            etc_dir: etc_dir.to_path_buf(),
            plugins,
        }),
        diagnostics: diags,
    }
}

/// What an authorization request carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthzRequest {
    /// The user's DN.
    pub dn: Option<String>,
    /// The request (RSL or JDL), e.g. `&(executable="/bin/sh")`.
    pub request: Option<String>,
    /// The user's PEM chain, when known.
    pub pem: Option<String>,
}

impl AuthzRequest {
    /// A request for a DN only.
    pub fn with_dn(dn: impl Into<String>) -> Self {
        AuthzRequest {
            dn: Some(dn.into()),
            ..AuthzRequest::default()
        }
    }
}

/// A plugin's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `LCAS_MOD_SUCCESS`.
    Permit,
    /// Anything else, with the reason.
    Deny(String),
}

/// An LCAS authorization plugin.
pub trait AuthzPlugin: Send {
    /// `plugin_initialize(argc, argv)`; `argv[0]` is the module path.
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError>;
    /// `plugin_confirm_authorization`.
    fn confirm(&mut self, req: &AuthzRequest) -> Decision;
    /// `plugin_terminate`.
    fn terminate(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
}

/// Makes authorization plugins from declarations.
pub trait LcasLoader {
    /// Load (not initialize) the plugin.
    fn load(&self, decl: &LcasPluginDecl) -> Result<Box<dyn AuthzPlugin>, String>;
}

/// Loads the built-in plugins only.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuiltinLoader;

impl LcasLoader for BuiltinLoader {
    fn load(&self, decl: &LcasPluginDecl) -> Result<Box<dyn AuthzPlugin>, String> {
        if decl.builtin {
            if let Some(p) = plugins::builtin(&decl.module) {
                return Ok(p);
            }
        }
        Err(format!("{} is not a built-in LCAS plugin", decl.module))
    }
}

/// Why LCAS could not start.
#[derive(Debug, thiserror::Error)]
pub enum LcasError {
    /// A plugin could not be loaded.
    #[error("cannot load LCAS plugin {module}: {reason}")]
    Load {
        /// Module.
        module: String,
        /// Why.
        reason: String,
    },
    /// A plugin refused to initialize.
    #[error("LCAS plugin {module} failed to initialize: {source}")]
    Initialize {
        /// Module.
        module: String,
        /// What it said.
        source: PluginError,
    },
}

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("authorization failed for plugin {plugin}: {reason}")]
pub struct Refusal {
    /// The module that refused.
    pub plugin: String,
    /// Its reason.
    pub reason: String,
}

/// A loaded lcas.db.
pub struct Lcas {
    config: LcasConfig,
    plugins: Vec<Box<dyn AuthzPlugin>>,
}

impl std::fmt::Debug for Lcas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lcas")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Lcas {
    /// Load and initialize every plugin (`lcas_init`). Relative file
    /// arguments of the built-in plugins are taken from the lcas.db directory.
    pub fn new(config: LcasConfig, loader: &dyn LcasLoader) -> Result<Lcas, LcasError> {
        let mut plugins: Vec<Box<dyn AuthzPlugin>> = Vec::new();
        for decl in &config.plugins {
            let loaded = loader.load(decl).map_err(|reason| LcasError::Load {
                module: decl.module.clone(),
                reason,
            });
            let mut p = match loaded {
                Ok(p) => p,
                Err(e) => {
                    terminate_all(&mut plugins);
                    return Err(e);
                }
            };
            let argv0 = decl
                .file
                .clone()
                .unwrap_or_else(|| genfilename(MOD_HOME, &decl.module));
            let mut argv = vec![argv0.display().to_string()];
            argv.extend(decl.args.iter().map(|a| {
                if decl.builtin && plugins::takes_file(&decl.module) && !a.starts_with('-') {
                    genfilename(&config.etc_dir.to_string_lossy(), a)
                        .display()
                        .to_string()
                } else {
                    a.clone()
                }
            }));
            if let Err(source) = p.initialize(&argv) {
                terminate_all(&mut plugins);
                return Err(LcasError::Initialize {
                    module: decl.module.clone(),
                    source,
                });
            }
            plugins.push(p);
        }
        Ok(Lcas { config, plugins })
    }

    /// The configuration.
    pub fn config(&self) -> &LcasConfig {
        &self.config
    }

    /// Ask every plugin in order; the first refusal refuses. With no plugin
    /// at all the request is refused, as LCAS does.
    pub fn authorize(&mut self, req: &AuthzRequest) -> Result<(), Refusal> {
        if self.plugins.is_empty() {
            log::error!("lcas: No authorization modules were called");
            return Err(Refusal {
                plugin: "(none)".into(),
                reason: "no authorization modules".into(),
            });
        }
        for (p, d) in self.plugins.iter_mut().zip(&self.config.plugins) {
            if let Decision::Deny(reason) = p.confirm(req) {
                log::warn!(
                    "lcas: authorization failed for plugin {}: {reason}",
                    d.module
                );
                return Err(Refusal {
                    plugin: d.module.clone(),
                    reason,
                });
            }
            log::debug!("lcas: plugin {} authorized", d.module);
        }
        log::info!("lcas: authorization succeeded");
        Ok(())
    }
}

fn terminate_all(plugins: &mut [Box<dyn AuthzPlugin>]) {
    for p in plugins.iter_mut() {
        let _ = p.terminate();
    }
}

impl Drop for Lcas {
    fn drop(&mut self) {
        terminate_all(&mut self.plugins);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Checked {
        check_bytes(
            "lcas.db",
            text.as_bytes(),
            Path::new("/etc/lcas"),
            &Options {
                modules_dir: "/nonexistent".into(),
                ..Options::default()
            },
        )
    }

    fn msgs(c: &Checked) -> Vec<String> {
        c.diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{}:{}",
                    d.location.as_ref().map(|l| l.line).unwrap_or(0),
                    d.message
                )
            })
            .collect()
    }

    #[test]
    fn the_debian_example_format() {
        let c = check(
            "# LCAS database\n\
             pluginname=\"lcas_userallow.mod\",pluginargs=\"allowed_users.db\"\n\
             pluginname = \"lcas_userban.mod\" , pluginargs = \"ban_users.db\"  # trailing\n\
             \n\
             pluginname=lcas_timeslots.mod,pluginargs=\"timeslots.db\"\n\
             pluginname=\"lcas_check_executable.mod\",pluginargs=\"-exec /bin/sh:/usr/bin/env\"",
        );
        assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
        let cfg = c.config.unwrap();
        assert_eq!(cfg.plugins.len(), 4);
        assert_eq!(cfg.plugins[2].module, "lcas_timeslots.mod");
        assert_eq!(cfg.plugins[3].args, ["-exec", "/bin/sh:/usr/bin/env"]);
        assert_eq!(cfg.plugins[3].line, 6);
    }

    #[test]
    fn bad_lines_are_reported() {
        let c = check(
            "pluginname=\"lcas_userban.mod\",pluginargs=\"x\"\n\
             pluginname=\"lcas_userban.mod\"\n\
             plugin=\"lcas_userallow.mod\"\n\
             pluginargs=\"x\"\n\
             pluginname=\"lcas_other.mod\"\n\
             pluginname=\"lcas_timeslots.mod\n\
             garbage here\n",
        );
        assert_eq!(
            msgs(&c),
            [
                "2:module `lcas_userban.mod` is already listed on line 1; LCAS loads a module once",
                "3:unknown key `plugin`",
                "3:plugin entry without `pluginname`",
                "4:plugin entry without `pluginname`",
                "5:module file `lcas_other.mod` not found in /nonexistent",
                "6:unterminated string: a value must end on the line it starts",
                "7:this line is not a plugin entry",
            ]
        );
        assert!(c.config.is_none());
        assert_eq!(
            msgs(&check("# nothing\n")),
            ["0:lcas.db lists no plugin, so LCAS would refuse every request"]
        );
    }

    #[test]
    fn first_refusal_refuses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("allow.db"),
            "\"/CN=Alice\"\n\"/CN=Mallory\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("ban.db"), "# banned\n\"/CN=Mallory\"\n").unwrap();
        let c = check_bytes(
            "lcas.db",
            b"pluginname=\"lcas_userallow.mod\",pluginargs=\"allow.db\"\npluginname=\"lcas_userban.mod\",pluginargs=\"ban.db\"\n",
            dir.path(),
            &Options::default(),
        );
        let mut l = Lcas::new(c.config.unwrap(), &BuiltinLoader).unwrap();
        assert_eq!(l.authorize(&AuthzRequest::with_dn("/CN=Alice")), Ok(()));
        let r = l.authorize(&AuthzRequest::with_dn("/CN=Bob")).unwrap_err();
        assert_eq!(r.plugin, "lcas_userallow.mod");
        let r = l
            .authorize(&AuthzRequest::with_dn("/CN=Mallory"))
            .unwrap_err();
        assert_eq!(r.plugin, "lcas_userban.mod");
        assert!(r.reason.contains("is banned"), "{}", r.reason);
    }

    #[test]
    fn missing_files_fail_initialization() {
        let c = check_bytes(
            "lcas.db",
            b"pluginname=\"lcas_userban.mod\",pluginargs=\"missing.db\"\n",
            Path::new("/nonexistent"),
            &Options::default(),
        );
        let e = Lcas::new(c.config.unwrap(), &BuiltinLoader).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/missing.db"), "{e}");
    }
}
