//! `lcmaps_verify_proxy.mod`: the verify_proxy plugin (proxy chain
//! verification). `cargo build -p lcmaps-verify-proxy-mod` makes
//! `liblcmaps_verify_proxy_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_verify_proxy.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_verify_proxy::VerifyProxy);
