//! Why a token maps or not, after an engine run: each
//! `lcmaps_scitokens.mod` declaration of the lcmaps.db is initialised as the
//! engine initialises it and asked for its decision about the token
//! ([`crate::TokenMapper::explain_at`]): the same code and files as the
//! run, so the same verdict. Both callers ask as a verification decides
//! (`verify`: a pool rule finds the lease the run made and never makes
//! one): `lcmaps map --token` (every check and rule) and glexec (the
//! refusal, naming the failed check, in its log line).

use std::path::Path;

use crate::{Explanation, Refusal, SciTokens};
use lcmaps_core::db::Config;
use lcmaps_core::plugin::Plugin;
use serde::{Deserialize, Serialize};

/// The module whose decisions are explained.
pub const MODULE: &str = "lcmaps_scitokens.mod";

/// One token plugin's decision.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenReport {
    /// The plugin's name in lcmaps.db.
    pub plugin: String,
    /// Its decision, or why it could not be asked.
    pub explanation: Option<Explanation>,
    /// Why the plugin could not be initialised.
    pub error: Option<String>,
}

/// The decision of every `lcmaps_scitokens.mod` of `config` about `token`,
/// as a run (`verify` false) or a verification (true: only an existing
/// pool lease counts, none is made) decides.
pub fn explain(
    config: &Config,
    token: &str,
    requested: Option<&str>,
    verify: bool,
) -> Vec<TokenReport> {
    let now = crate::time::now();
    config
        .plugins
        .iter()
        .filter(|d| Path::new(&d.module).file_name() == Some(MODULE.as_ref()))
        .map(|d| {
            let mut p = SciTokens::default();
            let mut argv = vec![d.module.clone()];
            argv.extend(d.args.iter().cloned());
            match p.initialize(&argv) {
                Err(e) => TokenReport {
                    plugin: d.name.clone(),
                    explanation: None,
                    error: Some(e.0),
                },
                Ok(()) => TokenReport {
                    plugin: d.name.clone(),
                    explanation: p
                        .mapper()
                        .map(|m| m.explain_at(token, requested, now, verify)),
                    error: None,
                },
            }
        })
        .collect()
}

/// The reports as text.
pub fn render(reports: &[TokenReport]) -> String {
    let mut s = String::new();
    for r in reports {
        s.push_str(&format!("Token decision of {} ({MODULE}):\n", r.plugin));
        if let Some(e) = &r.error {
            s.push_str(&format!("  cannot initialise: {e}\n"));
        }
        if let Some(x) = &r.explanation {
            s.push_str(&x.render());
        }
    }
    s
}

/// The refusals of [`explain`], one line: `PLUGIN: token refused at check
/// `CHECK`: REASON`, joined with `; ` (empty when none refused).
pub fn refusals(reports: &[TokenReport]) -> String {
    let one = |r: &TokenReport| -> Option<String> {
        if let Some(e) = &r.error {
            return Some(format!("{}: {e}", r.plugin));
        }
        let x: &Refusal = r.explanation.as_ref()?.refusal.as_ref()?;
        Some(format!("{}: {x}", r.plugin))
    };
    reports
        .iter()
        .filter_map(one)
        .collect::<Vec<_>>()
        .join("; ")
}
