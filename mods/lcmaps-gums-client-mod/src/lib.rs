//! `lcmaps_gums_client.mod`: the GUMS XACML callout client. `cargo build -p
//! lcmaps-gums-client-mod` makes `liblcmaps_gums_client_mod.so`;
//! `cargo xtask mods` installs it as `lcmaps_gums_client.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_xacml_client::Gums);
