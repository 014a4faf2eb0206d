//! lcmaps-rs's LCAS plugins as `.mod` files any LCAS host loads (Nikhef's
//! liblcas.so.0 or lcmaps-rs): `scripts/build-mods` builds
//! `lcas_userban.mod`, `lcas_userallow.mod`, `lcas_timeslots.mod` and
//! `lcas_check_executable.mod` from this crate, once per module with
//! `--cfg lcmaps_plugin_mod --cfg lcas_mod="<name>"`; without the cfg
//! nothing is exported. The plugins themselves are lcmaps-core's built-ins
//! ([`lcmaps_core::lcas::UserList`] & co.); this crate only exports one of
//! them through [`lcmaps_plugin_sdk::export_lcas_plugin!`].
//!
//! File arguments are used as given: under Nikhef's liblcas give absolute
//! paths (lcmaps-rs's own host resolves relative ones against the lcas.db
//! directory before calling the plugin).

#![forbid(unsafe_code)]
#![allow(unexpected_cfgs)]

#[cfg(lcas_mod = "lcas_userban")]
lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::new(lcmaps_core::lcas::UserList::ban()));

#[cfg(lcas_mod = "lcas_userallow")]
lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::new(lcmaps_core::lcas::UserList::allow()));

#[cfg(lcas_mod = "lcas_timeslots")]
lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::<lcmaps_core::lcas::Timeslots>::default());

#[cfg(lcas_mod = "lcas_check_executable")]
lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::<lcmaps_core::lcas::CheckExecutable>::default());
