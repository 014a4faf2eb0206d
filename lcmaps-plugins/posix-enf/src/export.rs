//! The C entry points of the `.mod` (cdylib), written by the plugin SDK.

lcmaps_plugin_sdk::export_plugin!(crate::PosixEnf);
