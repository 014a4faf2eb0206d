//! `lcas_check_executable.mod`: LCAS's check_executable plugin (checks the
//! requested executable). `cargo build -p lcas-check-executable-mod` makes
//! `liblcas_check_executable_mod.so`; `cargo xtask mods` installs it as
//! `lcas_check_executable.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::<lcmaps_core::lcas::CheckExecutable>::default());
