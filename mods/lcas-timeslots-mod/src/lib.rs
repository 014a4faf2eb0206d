//! `lcas_timeslots.mod`: LCAS's timeslots plugin (admits in configured time
//! slots). `cargo build -p lcas-timeslots-mod` makes
//! `liblcas_timeslots_mod.so`; `cargo xtask mods` installs it as
//! `lcas_timeslots.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::<lcmaps_core::lcas::Timeslots>::default());
