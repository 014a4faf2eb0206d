//! `lcmaps_dn_prefix.mod`: succeeds when the user's DN starts with one of
//! the prefixes given as options, and fails otherwise. A complete LCMAPS
//! plugin in safe Rust; see docs/plugin-guide.md.
//!
//! ```text
//! dnprefix = "lcmaps_dn_prefix.mod" "-prefix /DC=org/DC=example/" "-prefix /O=Grid/"
//! ```

#![forbid(unsafe_code)]

use lcmaps_plugin_sdk::{log, ArgSpec, CredData, Plugin, PluginError, RunContext, Status};

/// The plugin's state: the prefixes from lcmaps.db.
#[derive(Debug, Default)]
pub struct DnPrefix {
    prefixes: Vec<String>,
}

impl Plugin for DnPrefix {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let mut args = argv.iter().skip(1); // argv[0] is the module's path
        while let Some(opt) = args.next() {
            match (opt.as_str(), args.next()) {
                ("-prefix", Some(p)) => self.prefixes.push(p.clone()),
                _ => {
                    return Err(PluginError(format!(
                        "unknown option or missing value: {opt}"
                    )))
                }
            }
        }
        if self.prefixes.is_empty() {
            return Err(PluginError("give at least one -prefix".into()));
        }
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![ArgSpec {
            name: "user_dn",
            ty: "char *",
        }]
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        let Some(dn) = ctx.dn().map(str::to_string) else {
            log::error!("lcmaps_dn_prefix: no user DN");
            return Status::Failure;
        };
        if self.prefixes.iter().any(|p| dn.starts_with(p.as_str())) {
            ctx.add(CredData::Dn(dn));
            Status::Success
        } else {
            log::info!("lcmaps_dn_prefix: {dn} matches no allowed prefix");
            Status::Failure
        }
    }
}

lcmaps_plugin_sdk::export_plugin!(DnPrefix);

#[cfg(test)]
mod tests {
    use super::*;
    use lcmaps_plugin_sdk::{Request, Store};

    fn run(dn: &str) -> (Status, Store) {
        let mut p = DnPrefix::default();
        p.initialize(&[
            "lcmaps_dn_prefix.mod".into(),
            "-prefix".into(),
            "/DC=org/".into(),
        ])
        .unwrap();
        let req = Request::with_dn(dn);
        let mut store = Store::new();
        let s = p.run(&mut RunContext {
            request: &req,
            store: &mut store,
        });
        (s, store)
    }

    #[test]
    fn prefixes() {
        let (s, store) = run("/DC=org/CN=Jane");
        assert_eq!(s, Status::Success);
        assert_eq!(store.dn.as_deref(), Some("/DC=org/CN=Jane"));
        assert_eq!(run("/O=Other/CN=Jane").0, Status::Failure);
        assert!(DnPrefix::default().initialize(&["m".into()]).is_err());
        assert!(DnPrefix::default()
            .initialize(&["m".into(), "-bogus".into()])
            .is_err());
    }
}
