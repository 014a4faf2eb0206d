//! `lcmaps_ban_dn.mod`: the ban_dn plugin (refuses banned DNs). `cargo build -p
//! lcmaps-ban-dn-mod` makes `liblcmaps_ban_dn_mod.so`; `cargo xtask mods`
//! installs it as `lcmaps_ban_dn.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_ban_dn::BanDn);
