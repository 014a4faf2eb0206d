//! `lcmaps_dummy_good.mod`: lcmaps-core's dummy_good plugin (always succeeds).
//! `cargo build -p lcmaps-dummy-good-mod` makes `liblcmaps_dummy_good_mod.so`;
//! `cargo xtask mods` installs it as `lcmaps_dummy_good.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_core::plugin::DummyGood);
