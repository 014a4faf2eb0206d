//! `lcmaps_posix_enf.mod`: the posix_enf plugin (switches the process to the
//! mapped account). `cargo build -p lcmaps-posix-enf-mod` makes
//! `liblcmaps_posix_enf_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_posix_enf.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_posix_enf::PosixEnf);
