//! `lcmaps_scitokens.mod`: the scitokens plugin (bearer tokens). `cargo build
//! -p lcmaps-scitokens-mod` makes `liblcmaps_scitokens_mod.so`; `cargo xtask
//! mods` installs it as `lcmaps_scitokens.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_scitokens::SciTokens);
