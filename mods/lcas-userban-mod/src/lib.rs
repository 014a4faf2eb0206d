//! `lcas_userban.mod`: LCAS's userban plugin (refuses listed DNs). `cargo build
//! -p lcas-userban-mod` makes `liblcas_userban_mod.so`; `cargo xtask mods`
//! installs it as `lcas_userban.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::new(lcmaps_core::lcas::UserList::ban()));
