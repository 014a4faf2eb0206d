//! `lcmaps_localaccount.mod`: the localaccount plugin (grid-mapfile to a local
//! account). `cargo build -p lcmaps-localaccount-mod` makes
//! `liblcmaps_localaccount_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_localaccount.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_localaccount::LocalAccount);
