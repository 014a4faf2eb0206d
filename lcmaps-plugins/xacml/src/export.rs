//! The C entry points of `lcmaps_gums_client.mod` and
//! `lcmaps_scas_client.mod`, written by the plugin SDK.
//!
//! The crate holds two plugins (one client, two flavours) but a module
//! exports exactly one set of `plugin_*` symbols, so scripts/build-mods
//! builds the crate once per module with `--cfg lcmaps_plugin_mod --cfg
//! lcmaps_xacml_mod="<gums_client|scas_client>"`; without the cfg (the rlib
//! linked into lcmaps-rs) nothing is exported.
#![allow(unexpected_cfgs)]

/// The SDK makes a plugin with `Default`; [`XacmlClient`](crate::XacmlClient)
/// needs its flavour, so each module gets a wrapper that delegates every
/// method.
#[cfg(lcmaps_plugin_mod)]
#[allow(dead_code)] // one of the two is exported per build
mod flavoured {
    use crate::{Flavour, XacmlClient};
    use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};

    macro_rules! flavoured {
        ($name:ident, $flavour:expr) => {
            #[derive(Debug)]
            pub struct $name(XacmlClient);

            impl Default for $name {
                fn default() -> Self {
                    $name(XacmlClient::new($flavour))
                }
            }

            impl Plugin for $name {
                fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
                    self.0.initialize(argv)
                }
                fn introspect(&self) -> Vec<ArgSpec> {
                    self.0.introspect()
                }
                fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
                    self.0.run(ctx)
                }
                fn has_verify(&self) -> bool {
                    self.0.has_verify()
                }
                fn verify(&mut self, ctx: &mut RunContext<'_>) -> Status {
                    self.0.verify(ctx)
                }
                fn terminate(&mut self) -> Result<(), PluginError> {
                    self.0.terminate()
                }
                fn enforces_identity(&self) -> bool {
                    self.0.enforces_identity()
                }
            }
        };
    }

    flavoured!(Gums, Flavour::Gums);
    flavoured!(Scas, Flavour::Scas);
}

#[cfg(lcmaps_xacml_mod = "gums_client")]
lcmaps_plugin_sdk::export_plugin!(flavoured::Gums);
#[cfg(lcmaps_xacml_mod = "scas_client")]
lcmaps_plugin_sdk::export_plugin!(flavoured::Scas);
