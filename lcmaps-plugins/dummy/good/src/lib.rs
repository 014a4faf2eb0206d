//! `lcmaps_dummy_good.mod`: lcmaps-core's [`DummyGood`] exported as a
//! `.mod` with the plugin SDK (upstream lcmaps-plugins-basic's dummy_good).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use lcmaps_core::plugin::DummyGood;

lcmaps_plugin_sdk::export_plugin!(DummyGood);
