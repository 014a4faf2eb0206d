//! `lcmaps_voms_localgroup.mod`: the voms_localgroup plugin (FQANs to local
//! groups). `cargo build -p lcmaps-voms-localgroup-mod` makes
//! `liblcmaps_voms_localgroup_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_voms_localgroup.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_voms::VomsLocalGroup);
