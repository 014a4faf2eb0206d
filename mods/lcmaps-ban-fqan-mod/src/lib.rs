//! `lcmaps_ban_fqan.mod`: the ban_fqan plugin (refuses banned FQANs). `cargo
//! build -p lcmaps-ban-fqan-mod` makes `liblcmaps_ban_fqan_mod.so`;
//! `cargo xtask mods` installs it as `lcmaps_ban_fqan.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_voms::BanFqan);
