//! `lcmaps_scas_client.mod`: the SCAS XACML callout client. `cargo build -p
//! lcmaps-scas-client-mod` makes `liblcmaps_scas_client_mod.so`;
//! `cargo xtask mods` installs it as `lcmaps_scas_client.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_xacml_client::Scas);
