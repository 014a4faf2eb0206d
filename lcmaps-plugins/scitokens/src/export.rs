//! The C entry points of `lcmaps_scitokens.mod`, written by the plugin SDK;
//! only in the `.mod` build (scripts/build-mods passes
//! `--cfg lcmaps_plugin_mod`).
//!
//! In Nikhef's C LCMAPS the module loads and runs, but no token reaches it:
//! LCMAPS 1.6 has no run variable for one (docs/compatibility.md, "Bearer
//! tokens"), so every run fails with "no bearer token in the request".

lcmaps_plugin_sdk::export_plugin!(crate::SciTokens);
