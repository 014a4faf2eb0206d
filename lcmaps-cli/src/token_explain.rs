//! `lcmaps map --token`: why the token maps or not. Each
//! `lcmaps_scitokens.mod` declaration of the lcmaps.db is initialised as the
//! engine initialises it and asked for its decision about the token
//! ([`lcmaps_scitokens::TokenMapper::explain_at`]): the same code and
//! files as the run, so the same verdict (a pool rule finds the lease the
//! run made, or makes it, as the run would).

use std::path::Path;

use lcmaps_core::db::Config;
use lcmaps_core::plugin::Plugin;
use lcmaps_scitokens::{Explanation, SciTokens};
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

/// The decision of every `lcmaps_scitokens.mod` of `config` about `token`.
pub fn explain(config: &Config, token: &str, requested: Option<&str>) -> Vec<TokenReport> {
    let now = lcmaps_scitokens::time::now();
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
                        .map(|m| m.explain_at(token, requested, now, false)),
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
