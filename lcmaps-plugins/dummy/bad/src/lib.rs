//! `lcmaps_dummy_bad.mod`: lcmaps-core's [`DummyBad`] exported as a
//! `.mod` with the plugin SDK (upstream lcmaps-plugins-basic's dummy_bad).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use lcmaps_core::plugin::DummyBad;

lcmaps_plugin_sdk::export_plugin!(DummyBad);
