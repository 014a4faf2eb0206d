//! The C entry points of `lcmaps_glexec_tracking.mod`, written by the plugin
//! SDK; only in the `.mod` build (scripts/build-mods passes
//! `--cfg lcmaps_plugin_mod`).

lcmaps_plugin_sdk::export_plugin!(crate::GlexecTracking);
