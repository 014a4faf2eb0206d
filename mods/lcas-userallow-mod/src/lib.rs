//! `lcas_userallow.mod`: LCAS's userallow plugin (admits listed DNs only).
//! `cargo build -p lcas-userallow-mod` makes `liblcas_userallow_mod.so`;
//! `cargo xtask mods` installs it as `lcas_userallow.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::new(lcmaps_core::lcas::UserList::allow()));
