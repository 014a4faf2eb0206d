//! `lcmaps_voms_localaccount.mod`: the voms_localaccount plugin (FQANs to local
//! accounts). `cargo build -p lcmaps-voms-localaccount-mod` makes
//! `liblcmaps_voms_localaccount_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_voms_localaccount.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_voms::VomsLocalAccount);
