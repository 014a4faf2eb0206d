//! `lcmaps_dummy_bad.mod`: lcmaps-core's dummy_bad plugin (always fails).
//! `cargo build -p lcmaps-dummy-bad-mod` makes `liblcmaps_dummy_bad_mod.so`;
//! `cargo xtask mods` installs it as `lcmaps_dummy_bad.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_core::plugin::DummyBad);
