//! `lcmaps_glexec_tracking.mod`: the glexec_tracking plugin (a tracking group
//! per payload). `cargo build -p lcmaps-glexec-tracking-mod` makes
//! `liblcmaps_glexec_tracking_mod.so`; `cargo xtask mods` installs it as
//! `lcmaps_glexec_tracking.mod`.

#![forbid(unsafe_code)]

lcmaps_plugin_sdk::export_plugin!(lcmaps_plugin_glexec_tracking::GlexecTracking);
