//! `lcmaps_voms_poolgroup.mod`: the voms_poolgroup plugin (FQANs to pool
//! groups). `cargo build -p lcmaps-voms-poolgroup-mod` makes
//! `liblcmaps_voms_poolgroup_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_voms_poolgroup.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_voms::VomsPoolGroup);
