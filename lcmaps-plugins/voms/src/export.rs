//! The C entry points of the `.mod`s, written by the plugin SDK.
//!
//! The crate holds six plugins but a module exports exactly one set of
//! `plugin_*` symbols, so scripts/build-mods builds the crate once per
//! module with `--cfg lcmaps_plugin_mod --cfg lcmaps_voms_mod="<name>"`;
//! without the cfg (the rlib linked into lcmaps-rs) nothing is exported.
#![allow(unexpected_cfgs)]

#[cfg(lcmaps_voms_mod = "voms")]
lcmaps_plugin_sdk::export_plugin!(crate::Voms);
#[cfg(lcmaps_voms_mod = "voms_localgroup")]
lcmaps_plugin_sdk::export_plugin!(crate::VomsLocalGroup);
#[cfg(lcmaps_voms_mod = "voms_poolgroup")]
lcmaps_plugin_sdk::export_plugin!(crate::VomsPoolGroup);
#[cfg(lcmaps_voms_mod = "voms_localaccount")]
lcmaps_plugin_sdk::export_plugin!(crate::VomsLocalAccount);
#[cfg(lcmaps_voms_mod = "voms_poolaccount")]
lcmaps_plugin_sdk::export_plugin!(crate::VomsPoolAccount);
#[cfg(lcmaps_voms_mod = "ban_fqan")]
lcmaps_plugin_sdk::export_plugin!(crate::BanFqan);
