//! `lcmaps_voms.mod`: the voms plugin (stores the verified VOMS attributes).
//! `cargo build -p lcmaps-voms-mod` makes `liblcmaps_voms_mod.so`;
//! `cargo xtask mods` installs it as `lcmaps_voms.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_voms::Voms);
