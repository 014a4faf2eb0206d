//! The plugins lcmaps-rs can run in-process (built-ins), and a
//! [`PluginLoader`] that uses them.
//!
//! Rule (docs/architecture.md): a declaration whose module is a plain file name
//! of a built-in (`lcmaps_poolaccount.mod`) runs the built-in when the
//! validator marked it `builtin`; a path always loads that file through the
//! fallback loader (the C `.mod` host).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::PathBuf;

use lcmaps_core::db::{PluginDecl, ValidateOptions};
use lcmaps_core::plugin::{self, Plugin};
use lcmaps_core::policy::{BuiltinLoader, PluginLoader};

pub use lcmaps_plugin_ban_dn::BanDn;
pub use lcmaps_plugin_glexec_tracking::GlexecTracking;
pub use lcmaps_plugin_localaccount::LocalAccount;
pub use lcmaps_plugin_poolaccount::PoolAccount;
pub use lcmaps_plugin_posix_enf::PosixEnf;
pub use lcmaps_plugin_voms::{
    BanFqan, Voms, VomsLocalAccount, VomsLocalGroup, VomsPoolAccount, VomsPoolGroup,
};
pub use lcmaps_scitokens::SciTokens;
pub use lcmaps_verify_proxy::VerifyProxy;
pub use lcmaps_xacml_client::{Flavour as XacmlFlavour, XacmlClient};

const OURS: &[&str] = &[
    "lcmaps_localaccount.mod",
    "lcmaps_poolaccount.mod",
    "lcmaps_posix_enf.mod",
    "lcmaps_ban_dn.mod",
    "lcmaps_verify_proxy.mod",
    "lcmaps_scitokens.mod",
    "lcmaps_voms.mod",
    "lcmaps_voms_localgroup.mod",
    "lcmaps_voms_poolgroup.mod",
    "lcmaps_voms_localaccount.mod",
    "lcmaps_voms_poolaccount.mod",
    "lcmaps_ban_fqan.mod",
    "lcmaps_gums_client.mod",
    "lcmaps_scas_client.mod",
    "lcmaps_glexec_tracking.mod",
];

/// Module file names of every built-in: these plugins and lcmaps-core's
/// dummy plugins.
pub fn names() -> Vec<&'static str> {
    OURS.iter()
        .copied()
        .chain(plugin::builtin_names().iter().copied())
        .collect()
}

/// A fresh built-in for module file name `module` (a path never selects one).
pub fn builtin(module: &str) -> Option<Box<dyn Plugin>> {
    Some(match module {
        "lcmaps_localaccount.mod" => Box::new(LocalAccount::default()),
        "lcmaps_poolaccount.mod" => Box::new(PoolAccount::default()),
        "lcmaps_posix_enf.mod" => Box::new(PosixEnf::default()),
        "lcmaps_ban_dn.mod" => Box::new(BanDn::default()),
        "lcmaps_verify_proxy.mod" => Box::new(VerifyProxy::default()),
        "lcmaps_scitokens.mod" => Box::new(SciTokens::default()),
        "lcmaps_voms.mod" => Box::new(Voms::default()),
        "lcmaps_voms_localgroup.mod" => Box::new(VomsLocalGroup::default()),
        "lcmaps_voms_poolgroup.mod" => Box::new(VomsPoolGroup::default()),
        "lcmaps_voms_localaccount.mod" => Box::new(VomsLocalAccount::default()),
        "lcmaps_voms_poolaccount.mod" => Box::new(VomsPoolAccount::default()),
        "lcmaps_ban_fqan.mod" => Box::new(BanFqan::default()),
        "lcmaps_gums_client.mod" => Box::new(XacmlClient::new(XacmlFlavour::Gums)),
        "lcmaps_scas_client.mod" => Box::new(XacmlClient::new(XacmlFlavour::Scas)),
        "lcmaps_glexec_tracking.mod" => Box::new(GlexecTracking::default()),
        other => return plugin::builtin(other),
    })
}

/// The environment variable that turns the built-ins off: with
/// `LCMAPS_RS_BUILTINS=off`, every module name is a file in the module
/// search path, exactly as LCMAPS resolves it (so a db with
/// `path = /usr/lib/lcmaps` runs the C plugins installed there).
pub const BUILTINS_ENV: &str = "LCMAPS_RS_BUILTINS";

/// Whether the environment turned the built-ins off ([`BUILTINS_ENV`] is
/// `off`, `no`, `false` or `0`, in any case).
pub fn builtins_disabled() -> bool {
    std::env::var(BUILTINS_ENV).is_ok_and(|v| {
        ["off", "no", "false", "0"]
            .iter()
            .any(|o| v.trim().eq_ignore_ascii_case(o))
    })
}

/// Validation options that accept every built-in without a module file
/// (none when [`builtins_disabled`]).
pub fn validate_options(modules_dir: Option<PathBuf>) -> ValidateOptions {
    let builtins = if builtins_disabled() {
        Vec::new()
    } else {
        names().into_iter().map(String::from).collect()
    };
    ValidateOptions {
        modules_dir,
        builtins,
        ..ValidateOptions::default()
    }
}

/// The warnings `lcmaps check` adds about what the declared plugins'
/// arguments point at: for each `lcmaps_verify_proxy.mod` (built in or a
/// module file of that name), every CA of its CA directory without a CRL
/// ([`lcmaps_verify_proxy::check_warnings`]). Each is (declaration, text).
pub fn check_warnings(decls: &[PluginDecl]) -> Vec<(&PluginDecl, String)> {
    decls
        .iter()
        .filter(|d| {
            std::path::Path::new(&d.module)
                .file_name()
                .is_some_and(|f| f == "lcmaps_verify_proxy.mod")
        })
        .flat_map(|d| {
            lcmaps_verify_proxy::check_warnings(&d.args)
                .into_iter()
                .map(move |w| (d, format!("plugin {}: {w}", d.name)))
        })
        .collect()
}

/// Loads built-ins for declarations marked `builtin`, everything else
/// through the fallback (by default [`BuiltinLoader`], later the C `.mod`
/// host).
pub struct Loader {
    fallback: Box<dyn PluginLoader>,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader").finish_non_exhaustive()
    }
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new(Box::new(BuiltinLoader))
    }
}

impl Loader {
    /// With `fallback` for declarations that are not built-ins.
    pub fn new(fallback: Box<dyn PluginLoader>) -> Self {
        Loader { fallback }
    }
}

impl PluginLoader for Loader {
    fn load(&self, decl: &PluginDecl) -> Result<Box<dyn Plugin>, String> {
        if decl.builtin {
            if let Some(p) = builtin(&decl.module) {
                return Ok(p);
            }
        }
        self.fallback.load(decl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lcmaps_core::db;
    use lcmaps_core::plugin::Request;
    use lcmaps_core::policy::{Engine, Mode, RunOptions};

    #[test]
    fn registry() {
        let n = names();
        assert_eq!(n.len(), 17);
        for m in &n {
            assert!(builtin(m).is_some(), "{m}");
        }
        assert!(builtin("/usr/lib/lcmaps/lcmaps_poolaccount.mod").is_none());
        assert!(builtin("lcmaps_voms_poolaccount.mod").is_some());
        assert!(builtin("/usr/lib/lcmaps/lcmaps_voms_poolaccount.mod").is_none());
        assert!(builtin("lcmaps_voms_nonexistent.mod").is_none());
        assert!(builtin("lcmaps_gums_client.mod").is_some());
        assert!(builtin("lcmaps_scas_client.mod").is_some());
        assert!(builtin("lcmaps_glexec_tracking.mod").is_some());
        assert!(builtin("/usr/lib64/lcmaps/lcmaps_gums_client.mod").is_none());
        assert!(builtin("lcmaps_posix_enf.mod").unwrap().enforces_identity());
        let o = validate_options(Some("/nonexistent".into()));
        assert!(o.builtins.iter().any(|b| b == "lcmaps_ban_dn.mod"));
        assert_eq!(
            o.modules_dir.as_deref(),
            Some(std::path::Path::new("/nonexistent"))
        );
    }

    #[test]
    fn engine_runs_ban_dn_and_localaccount_in_process() {
        let d = tempfile::tempdir().unwrap();
        let ban = d.path().join("ban");
        std::fs::write(&ban, "\"/CN=Mallory\"\n").unwrap();
        let gm = d.path().join("grid-mapfile");
        std::fs::write(&gm, "\"/CN=Root Person\" root\n").unwrap();
        let text = format!(
            "ban = \"lcmaps_ban_dn.mod -banmapfile {}\"\n\
             local = \"lcmaps_localaccount.mod -gridmapfile {}\"\n\
             standard:\nban -> local\n",
            ban.display(),
            gm.display()
        );
        let checked = db::check_str("lcmaps.db", &text, &validate_options(None));
        let config = checked.config.expect("valid config");
        let mut engine = Engine::new(config, &Loader::default()).unwrap();
        let out = engine.run(
            &Request::with_dn("/CN=Root Person"),
            Mode::Run,
            &RunOptions::default(),
        );
        assert!(out.is_mapped(), "{out:?}");
        assert_eq!(out.store.uids, [0]);
        let out = engine.run(
            &Request::with_dn("/CN=Mallory"),
            Mode::Run,
            &RunOptions::default(),
        );
        assert!(!out.is_mapped());
    }

    #[test]
    fn missing_ban_file_stops_the_engine() {
        let text = "ban = \"lcmaps_ban_dn.mod -banmapfile /nonexistent/lcmaps-rs/ban\"\n\
                    good = \"lcmaps_dummy_good.mod\"\n\
                    standard:\nban -> good\n";
        let checked = db::check_str("lcmaps.db", text, &validate_options(None));
        let config = checked
            .config
            .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
        let e = Engine::new(config, &Loader::default()).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/lcmaps-rs/ban"), "{e}");
    }
}
