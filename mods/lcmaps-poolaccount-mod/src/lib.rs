//! `lcmaps_poolaccount.mod`: the poolaccount plugin (pool accounts leased in a
//! gridmapdir). `cargo build -p lcmaps-poolaccount-mod` makes
//! `liblcmaps_poolaccount_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_poolaccount.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_poolaccount::PoolAccount);
