//! `lcmaps_voms_poolaccount.mod`: the voms_poolaccount plugin (FQANs to pool
//! accounts). `cargo build -p lcmaps-voms-poolaccount-mod` makes
//! `liblcmaps_voms_poolaccount_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_voms_poolaccount.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_voms::VomsPoolAccount);
