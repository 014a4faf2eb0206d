//! The engine: loads the plugins of a validated configuration and evaluates
//! its policies as a state machine, exactly as LCMAPS 1.6 does.

use std::time::{Duration, Instant};

use crate::cred::Store;
use crate::db::{Config, PluginDecl};
use crate::plugin::{self, Plugin, PluginError, Request, RunContext, Status};

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A plugin could not be loaded.
    #[error("cannot load plugin `{name}` ({module}): {reason}")]
    Load {
        /// Rule name of the plugin.
        name: String,
        /// Its module file.
        module: String,
        /// Why.
        reason: String,
    },
    /// A plugin's `plugin_initialize` failed.
    #[error("plugin `{name}` ({module}) failed to initialize: {source}")]
    Initialize {
        /// Rule name of the plugin.
        name: String,
        /// Its module file.
        module: String,
        /// What the plugin said.
        source: PluginError,
    },
    /// A plugin asked for a run variable LCMAPS does not have.
    #[error("plugin `{name}` asks for unknown run variable `{arg}` of type `{ty}`")]
    UnknownArgument {
        /// Rule name of the plugin.
        name: String,
        /// Variable name.
        arg: String,
        /// Its type string.
        ty: String,
    },
}

/// Turns a plugin declaration into a running plugin. The default loader
/// knows the built-ins; the C ABI layer adds one that `dlopen`s `.mod` files.
pub trait PluginLoader {
    /// Load (but do not initialize) the plugin for `decl`.
    fn load(&self, decl: &PluginDecl) -> Result<Box<dyn Plugin>, String>;
}

/// Loads built-in plugins only.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuiltinLoader;

impl PluginLoader for BuiltinLoader {
    fn load(&self, decl: &PluginDecl) -> Result<Box<dyn Plugin>, String> {
        if decl.builtin {
            if let Some(p) = plugin::builtin(&decl.module) {
                return Ok(p);
            }
        }
        Err(match &decl.file {
            Some(f) => format!(
                "{} is not a built-in plugin, and this engine was built without the loader \
                 for C modules",
                f.display()
            ),
            None => "no such module file and no built-in plugin of that name".into(),
        })
    }
}

/// Normal mapping (`plugin_run`) or verification of a requested account
/// (`plugin_verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `plugin_run`.
    Run,
    /// `plugin_verify`.
    Verify,
}

/// Options of one evaluation.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only these policies (in file order); empty means all.
    pub policies: Vec<String>,
    /// Do not run plugins that change the process identity; record what
    /// they would have done instead.
    pub dry_run: bool,
    /// Time each plugin ([`Step::duration`]); off, the clock is not read
    /// (the C API and glexec never look at the times).
    pub time_steps: bool,
}

/// One plugin execution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// Policy it ran in.
    pub policy: String,
    /// Rule name of the plugin.
    pub plugin: String,
    /// Module file name.
    pub module: String,
    /// Outcome.
    pub status: Status,
    /// How long it took (zero unless [`RunOptions::time_steps`]).
    #[serde(serialize_with = "micros")]
    pub duration: Duration,
    /// Set when the plugin was not run because of a dry run.
    pub skipped: Option<String>,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// The status of the last plugin executed (LCMAPS's result).
    pub status: Status,
    /// The policy that produced the result, if any plugin ran.
    pub policy: Option<String>,
    /// The credential store at the end.
    pub store: Store,
    /// Every plugin execution in order.
    pub trace: Vec<Step>,
    /// Why the run failed before or outside plugins, if it did.
    pub error: Option<String>,
}

impl Outcome {
    /// LCMAPS success and a uid plus a primary gid came out.
    pub fn is_mapped(&self) -> bool {
        self.status.is_success() && self.store.is_mapped()
    }
}

/// A loaded configuration, ready to map.
pub struct Engine {
    config: Config,
    plugins: Vec<Box<dyn Plugin>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Load and initialize every plugin of `config`, as `lcmaps_init` does.
    /// On failure the plugins already initialized are terminated.
    pub fn new(config: Config, loader: &dyn PluginLoader) -> Result<Engine, EngineError> {
        let mut plugins: Vec<Box<dyn Plugin>> = Vec::with_capacity(config.plugins.len());
        let fail = |plugins: &mut Vec<Box<dyn Plugin>>, e: EngineError| {
            for p in plugins.iter_mut() {
                let _ = p.terminate();
            }
            e
        };
        for decl in &config.plugins {
            let mut p = match loader.load(decl) {
                Ok(p) => p,
                Err(reason) => {
                    return Err(fail(
                        &mut plugins,
                        EngineError::Load {
                            name: decl.name.clone(),
                            module: decl.module.clone(),
                            reason,
                        },
                    ))
                }
            };
            // argv[0]: the module file validation found (it looked a moment
            // ago), else where it would be.
            let argv0 = match &decl.file {
                Some(f) => f.clone(),
                None => config.modules.argv0(&decl.module),
            };
            let mut argv = vec![argv0.display().to_string()];
            argv.extend(decl.args.iter().cloned());
            if let Err(source) = p.initialize(&argv) {
                return Err(fail(
                    &mut plugins,
                    EngineError::Initialize {
                        name: decl.name.clone(),
                        module: decl.module.clone(),
                        source,
                    },
                ));
            }
            if let Some(a) = p
                .introspect()
                .into_iter()
                .find(|a| !plugin::is_run_variable(a.name, a.ty))
            {
                let _ = p.terminate();
                return Err(fail(
                    &mut plugins,
                    EngineError::UnknownArgument {
                        name: decl.name.clone(),
                        arg: a.name.into(),
                        ty: a.ty.into(),
                    },
                ));
            }
            plugins.push(p);
        }
        Ok(Engine { config, plugins })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Evaluate the policies for `request` (LCMAPS's
    /// `lcmaps_runEvaluationManager`).
    pub fn run(&mut self, request: &Request, mode: Mode, opts: &RunOptions) -> Outcome {
        let mut out = Outcome {
            status: Status::Failure,
            policy: None,
            store: Store::new(),
            trace: Vec::new(),
            error: None,
        };
        if mode == Mode::Verify {
            // Every loaded plugin must be able to verify; checked up front.
            for (i, p) in self.plugins.iter().enumerate() {
                if !p.has_verify() {
                    out.error = Some(format!(
                        "plugin `{}` has no plugin_verify, so it cannot be used for verification",
                        self.config.plugins[i].name
                    ));
                    return out;
                }
            }
        }
        let allowed =
            |name: &str| opts.policies.is_empty() || opts.policies.iter().any(|p| p == name);
        // Without loops each policy runs at most one plugin per rule plus a
        // final state; anything longer means two names reduce to one plugin
        // in a way that loops, which LCMAPS would spin on forever.
        let budget: usize = self.config.policies.iter().map(|p| p.rules.len() + 1).sum();
        let mut steps = 0usize;
        let mut any_allowed = false;
        // The plugin that ended each failed policy, for the refusal line.
        let mut refused_by: Vec<String> = Vec::new();
        'policies: for policy in &self.config.policies {
            if !allowed(&policy.name) {
                continue;
            }
            any_allowed = true;
            log::info!("Starting policy: {}", policy.name);
            out.store.clear();
            out.policy = Some(policy.name.clone());
            let mut next = Some(policy.rules[0].state);
            while let Some(pi) = next {
                steps += 1;
                if steps > budget {
                    log::error!(
                        "policy {} does not terminate: two names stand for the same plugin; stopping",
                        policy.name
                    );
                    out.status = Status::Failure;
                    out.error = Some(format!("policy `{}` loops", policy.name));
                    break 'policies;
                }
                let decl = &self.config.plugins[pi];
                let plugin = &mut self.plugins[pi];
                let started = opts.time_steps.then(Instant::now);
                let mut ctx = RunContext {
                    request,
                    store: &mut out.store,
                };
                let (status, skipped) = if opts.dry_run && plugin.enforces_identity() {
                    (
                        Status::Success,
                        Some("dry run: identity not changed".to_string()),
                    )
                } else {
                    let s = match mode {
                        Mode::Run => plugin.run(&mut ctx),
                        Mode::Verify => plugin.verify(&mut ctx),
                    };
                    (s, None)
                };
                log::debug!(
                    "Execution of plugin \"{}\". Result: {}.",
                    decl.module,
                    if status.is_success() {
                        "Success"
                    } else {
                        "Failed"
                    }
                );
                out.trace.push(Step {
                    policy: policy.name.clone(),
                    plugin: decl.name.clone(),
                    module: decl.module.clone(),
                    status,
                    duration: started.map_or(Duration::ZERO, |t| t.elapsed()),
                    skipped,
                });
                out.status = status;
                let rule = policy.rule_for(pi);
                if !status.is_success() && rule.map_or(true, |r| r.on_failure.is_none()) {
                    refused_by.push(format!(
                        "policy \"{}\" failed at plugin \"{}\" ({})",
                        policy.name, decl.name, decl.module
                    ));
                }
                next = match (status, rule) {
                    (Status::Success, Some(r)) => r.on_success,
                    (Status::Failure, Some(r)) if r.on_failure.is_some() => r.on_failure,
                    (Status::Success, None) => None,
                    (Status::Failure, _) => continue 'policies,
                };
                if next.is_none() {
                    break 'policies;
                }
            }
        }
        if !any_allowed {
            out.error = Some(if self.config.policies.is_empty() {
                "there are no policies".into()
            } else {
                format!(
                    "none of the requested policies ({}) exists",
                    opts.policies.join(", ")
                )
            });
        }
        if !out.status.is_success() && out.error.is_none() && !refused_by.is_empty() {
            // At LOG_ERR, so that it is in every log: which plugin refused;
            // its own log lines above say why.
            log::error!(
                "{}: {} (the plugin's log lines above give its reason)",
                match mode {
                    Mode::Run => "no policy mapped the credential",
                    Mode::Verify => "no policy verified the requested account",
                },
                refused_by.join("; ")
            );
        }
        out.store.log_final();
        out
    }

    /// Terminate every plugin (`lcmaps_term`). Failures are logged only.
    pub fn terminate(&mut self) {
        for (p, d) in self.plugins.iter_mut().zip(&self.config.plugins) {
            if let Err(e) = p.terminate() {
                log::warn!("plugin {} failed to terminate: {e}", d.name);
            }
        }
        self.plugins.clear();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.terminate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{check_str, ValidateOptions};

    fn engine(text: &str) -> Engine {
        let c = check_str("t.db", text, &ValidateOptions::default());
        assert!(!c.has_errors(), "{:#?}", c.diagnostics);
        Engine::new(c.config.unwrap(), &BuiltinLoader).unwrap()
    }

    const DECLS: &str = "good = \"lcmaps_dummy_good.mod --dummy-uid 501 --dummy-gid 500\"\n\
                         bad = \"lcmaps_dummy_bad.mod\"\n";

    fn run(text: &str, policies: &[&str]) -> Outcome {
        let mut e = engine(text);
        let opts = RunOptions {
            policies: policies.iter().map(|s| s.to_string()).collect(),
            dry_run: false,
            ..RunOptions::default()
        };
        e.run(&Request::with_dn("/CN=x"), Mode::Run, &opts)
    }

    fn ran(o: &Outcome) -> Vec<String> {
        o.trace
            .iter()
            .map(|s| format!("{}:{}:{:?}", s.policy, s.plugin, s.status))
            .collect()
    }

    #[test]
    fn success_chain() {
        let o = run(&format!("{DECLS}p:\nbad -> good | good\n"), &[]);
        assert_eq!(ran(&o), ["p:bad:Failure", "p:good:Success"]);
        assert!(o.is_mapped());
        assert_eq!(o.store.uids, [501]);
    }

    #[test]
    fn plugins_are_timed_only_when_asked() {
        let text = format!("{DECLS}p:\nbad -> good | good\n");
        let untimed = run(&text, &[]);
        assert!(untimed.trace.iter().all(|s| s.duration.is_zero()));
        let mut e = engine(&text);
        let opts = RunOptions {
            time_steps: true,
            ..RunOptions::default()
        };
        let timed = e.run(&Request::with_dn("/CN=x"), Mode::Run, &opts);
        assert_eq!(timed.trace.len(), 2);
        assert!(timed.trace.iter().all(|s| !s.duration.is_zero()));
    }

    #[test]
    fn failure_without_branch_moves_to_next_policy_with_a_fresh_store() {
        let o = run(&format!("{DECLS}p1:\ngood -> bad\np2:\nbad -> good\n"), &[]);
        assert_eq!(
            ran(&o),
            ["p1:good:Success", "p1:bad:Failure", "p2:bad:Failure"]
        );
        assert_eq!(o.status, Status::Failure);
        assert!(o.store.uids.is_empty(), "store wiped when p2 started");
        assert_eq!(o.policy.as_deref(), Some("p2"));
    }

    #[test]
    fn tilde_rule_stops_on_success() {
        let o = run(&format!("{DECLS}p:\n~good -> bad\n"), &[]);
        assert_eq!(ran(&o), ["p:good:Success"]);
        assert_eq!(o.status, Status::Success);
        let o = run(&format!("{DECLS}p:\n~bad -> good\n"), &[]);
        assert_eq!(ran(&o), ["p:bad:Failure", "p:good:Success"]);
        assert!(o.is_mapped());
    }

    #[test]
    fn result_is_the_last_plugin() {
        // good succeeds, then the terminal state bad fails: overall failure
        // even though a uid was mapped.
        let o = run(&format!("{DECLS}p:\ngood -> bad\n"), &[]);
        assert_eq!(o.status, Status::Failure);
        assert!(!o.is_mapped());
        assert_eq!(o.store.uids, [501]);
    }

    #[test]
    fn policy_filter_keeps_file_order() {
        let text = format!("{DECLS}a:\nbad -> good\nb:\ngood -> bad\nc:\n~bad -> good\n");
        let o = run(&text, &["c", "b"]);
        assert_eq!(ran(&o)[0], "b:good:Success");
        let o = run(&text, &["nope"]);
        assert!(o.trace.is_empty());
        assert_eq!(o.status, Status::Failure);
        assert!(o.error.unwrap().contains("nope"));
    }

    #[test]
    fn verify_mode_uses_plugin_verify() {
        let mut e = engine(&format!("{DECLS}p:\ngood -> bad\n"));
        let o = e.run(&Request::default(), Mode::Verify, &RunOptions::default());
        assert_eq!(ran(&o), ["p:good:Success", "p:bad:Failure"]);
    }

    #[test]
    fn init_failure_is_reported() {
        let c = check_str(
            "t.db",
            "g = \"lcmaps_dummy_good.mod --dummy-uid x\"\np:\ng -> lcmaps_dummy_bad.mod\n",
            &ValidateOptions::default(),
        );
        let e = Engine::new(c.config.unwrap(), &BuiltinLoader).unwrap_err();
        assert_eq!(
            e.to_string(),
            "plugin `g` (lcmaps_dummy_good.mod) failed to initialize: --dummy-uid: `x` is not a number"
        );
    }

    #[test]
    fn aliasing_states_cannot_loop_forever() {
        // a and b are one plugin, so `a -> b` followed by `b -> c` loops
        // at run time in LCMAPS. We stop and fail.
        let text = "a = \"lcmaps_dummy_good.mod\"\nb = \"lcmaps_dummy_good.mod\"\np:\na -> b\nb -> lcmaps_dummy_bad.mod\n";
        let o = run(text, &[]);
        assert_eq!(o.status, Status::Failure);
        assert_eq!(o.error.as_deref(), Some("policy `p` loops"));
    }
}
