//! The lcmaps-rs plugin SDK: write an LCMAPS plugin in safe Rust and export
//! it as a `.mod` that any LCMAPS host loads — ours or Nikhef's C
//! liblcmaps.
//!
//! A plugin is a type implementing [`Plugin`] (and [`Default`]); one line
//! in the plugin crate writes the five C entry points:
//!
//! ```ignore
//! lcmaps_plugin_sdk::export_plugin!(MyPlugin);
//! ```
//!
//! The generated `plugin_initialize`, `plugin_introspect`, `plugin_run`,
//! `plugin_verify` and `plugin_terminate` behave like a C plugin's:
//!
//! * the LCMAPS callbacks (`getCredentialData`, `addCredentialData`,
//!   `lcmaps_getArgValue`, `lcmaps_log`) are resolved from the host
//!   process by the dynamic linker — the `.mod` does not contain the engine
//!   and has no `DT_NEEDED` on liblcmaps;
//! * [`Plugin::introspect`] becomes the `lcmaps_argument_t` array; the
//!   `requested_username` entry is only offered when the host says it is
//!   LCMAPS 1.5.8 or later (`lcmaps_get_major_version` & co., looked up with
//!   `dlsym(RTLD_DEFAULT)`), as upstream's plugins do;
//! * `plugin_run` builds a [`Request`] from the arguments the host bound,
//!   and a [`Store`] from `getCredentialData`; after the plugin returns,
//!   what it added to the store is handed to `addCredentialData` (the
//!   store is append-only: a plugin that changed or removed existing data
//!   fails);
//! * `log` records go to `lcmaps_log` (error → LOG_ERR, warn → LOG_WARNING,
//!   [`lcmaps_core::log::notice`] → LOG_NOTICE, info → LOG_INFO, debug and
//!   trace → LOG_DEBUG);
//! * a panic in the plugin is caught at the boundary, logged (message and
//!   location, one LOG_ERR line through the host; nothing on the host's
//!   stderr, no backtrace whatever `RUST_BACKTRACE` says), and returned as
//!   `LCMAPS_MOD_FAIL`.
//!
//! The plugin crate itself stays `#![forbid(unsafe_code)]`: all the unsafe
//! code is in this crate's [`ffi`] module.
//!
//! See `docs/plugin-guide.md` and `examples/lcmaps-example-plugin/`.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod boundary;
#[allow(unsafe_code)]
pub mod ffi;
#[allow(unsafe_code)]
pub mod lcas_ffi;

pub use lcmaps_core::cred::{CredData, Store, VoData, VoMapping};
pub use lcmaps_core::lcas::{AuthzPlugin, AuthzRequest, Decision};
pub use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, Request, RunContext, Status};
pub use log;

/// `LCMAPS_MOD_SUCCESS` and `LCMAPS_MOD_FAIL` (lcmaps_defines.h).
pub use lcmaps_sys::{LCMAPS_MOD_FAIL, LCMAPS_MOD_SUCCESS};

/// The oldest LCMAPS that knows the `requested_username` run variable.
pub const REQUESTED_USERNAME_SINCE: (i32, i32, i32) = (1, 5, 8);

/// Whether a plugin should ask for `requested_username` on a host that
/// reports version `v` (`None`: the host exports no version functions).
pub fn host_has_requested_username(v: Option<(i32, i32, i32)>) -> bool {
    v.is_some_and(|v| v >= REQUESTED_USERNAME_SINCE)
}

/// The introspection list the `.mod` offers the host: the plugin's own,
/// without `requested_username` when the host is older than 1.5.8.
pub fn filter_introspection(specs: Vec<ArgSpec>, host: Option<(i32, i32, i32)>) -> Vec<ArgSpec> {
    let keep_requested = host_has_requested_username(host);
    specs
        .into_iter()
        .filter(|a| keep_requested || a.name != "requested_username")
        .collect()
}

/// What a plugin added to the store during a run: the credential data to
/// hand to `addCredentialData`, in store order.
///
/// The LCMAPS store only grows; if `after` does not extend `before` the
/// plugin changed or removed data it did not own, and the result is an
/// error naming the field.
pub fn store_additions(before: &Store, after: &Store) -> Result<Vec<CredData>, String> {
    fn suffix<'a, T: PartialEq>(field: &str, b: &[T], a: &'a [T]) -> Result<&'a [T], String> {
        if a.len() >= b.len() && a[..b.len()] == *b {
            Ok(&a[b.len()..])
        } else {
            Err(format!(
                "the plugin changed or removed existing credential data ({field}); \
                 the LCMAPS credential store is append-only"
            ))
        }
    }
    let mut out = Vec::new();
    match (&before.dn, &after.dn) {
        (b, Some(a)) if b.as_ref() != Some(a) => out.push(CredData::Dn(a.clone())),
        (Some(_), None) => return Err(suffix::<u8>("DN", &[0], &[]).unwrap_err()),
        _ => {}
    }
    out.extend(
        suffix("UID", &before.uids, &after.uids)?
            .iter()
            .map(|&u| CredData::Uid(u)),
    );
    out.extend(
        suffix("PRI_GID", &before.pri_gids, &after.pri_gids)?
            .iter()
            .map(|&g| CredData::PriGid(g)),
    );
    if let Some(g) = before.sec_gids.iter().find(|g| !after.sec_gids.contains(g)) {
        return Err(format!(
            "the plugin removed secondary gid {g}; the LCMAPS credential store is append-only"
        ));
    }
    out.extend(
        after
            .sec_gids
            .iter()
            .filter(|g| !before.sec_gids.contains(g))
            .map(|&g| CredData::SecGid(g)),
    );
    out.extend(
        suffix("LCMAPS_VO_CRED", &before.vo_data, &after.vo_data)?
            .iter()
            .cloned()
            .map(CredData::VoCred),
    );
    out.extend(
        suffix(
            "LCMAPS_VO_CRED_STRING",
            &before.vo_strings,
            &after.vo_strings,
        )?
        .iter()
        .cloned()
        .map(CredData::VoCredString),
    );
    out.extend(
        suffix(
            "LCMAPS_VO_CRED_MAPPING",
            &before.vo_mappings,
            &after.vo_mappings,
        )?
        .iter()
        .cloned()
        .map(CredData::VoCredMapping),
    );
    match (&before.pool_index, &after.pool_index) {
        (b, Some(a)) if b.as_ref() != Some(a) => out.push(CredData::PoolIndex(a.clone())),
        (Some(_), None) => {
            return Err(
                "the plugin removed the POOL_INDEX; the LCMAPS credential store is \
                        append-only"
                    .into(),
            )
        }
        _ => {}
    }
    Ok(out)
}

/// Write the LCMAPS plugin entry points (`plugin_initialize`,
/// `plugin_introspect`, `plugin_run`, `plugin_verify`, `plugin_terminate`)
/// for `$plugin`, a type implementing [`Plugin`] and [`Default`].
///
/// Invoke it once, in a crate of `crate-type = ["cdylib"]` (the `.mod`);
/// keep the plugin type in an rlib when something else links it (lcmaps-rs
/// links its plugins into its binaries as built-ins and exports each from a
/// crate of its own under `mods/`), since two plugins' `plugin_*` symbols
/// cannot share a binary. `plugin_verify` is exported always; it fails when
/// [`Plugin::has_verify`] is false, as LCMAPS's "old style" plugins would.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            #[doc(hidden)]
            static __LCMAPS_PLUGIN_STATE: $crate::ffi::State = $crate::ffi::State::new();

            #[doc(hidden)]
            fn __lcmaps_plugin_new() -> ::std::boxed::Box<dyn $crate::Plugin> {
                ::std::boxed::Box::new(<$plugin as ::std::default::Default>::default())
            }

            /// `int plugin_initialize(int argc, char **argv)`.
            ///
            /// # Safety
            /// Called by an LCMAPS host with LCMAPS's argument vector.
            #[no_mangle]
            pub unsafe extern "C" fn plugin_initialize(
                argc: ::std::ffi::c_int,
                argv: *mut *mut ::std::ffi::c_char,
            ) -> ::std::ffi::c_int {
                // SAFETY: forwarded from the host, which passes LCMAPS's argv
                // (argc entries, NULL-terminated); the SDK checks the pointers.
                unsafe {
                    $crate::ffi::initialize(&__LCMAPS_PLUGIN_STATE, __lcmaps_plugin_new, argc, argv)
                }
            }

            /// `int plugin_introspect(int *argc, lcmaps_argument_t **argv)`.
            ///
            /// # Safety
            /// Called by an LCMAPS host with two writable out-pointers.
            #[no_mangle]
            pub unsafe extern "C" fn plugin_introspect(
                argc: *mut ::std::ffi::c_int,
                argv: *mut *mut $crate::ffi::lcmaps_argument_t,
            ) -> ::std::ffi::c_int {
                // SAFETY: forwarded from the host; the SDK checks the pointers.
                unsafe { $crate::ffi::introspect(&__LCMAPS_PLUGIN_STATE, argc, argv) }
            }

            /// `int plugin_run(int argc, lcmaps_argument_t *argv)`.
            ///
            /// # Safety
            /// Called by an LCMAPS host with the array from `plugin_introspect`.
            #[no_mangle]
            pub unsafe extern "C" fn plugin_run(
                argc: ::std::ffi::c_int,
                argv: *mut $crate::ffi::lcmaps_argument_t,
            ) -> ::std::ffi::c_int {
                // SAFETY: forwarded from the host; the SDK checks the pointers.
                unsafe { $crate::ffi::run(&__LCMAPS_PLUGIN_STATE, false, argc, argv) }
            }

            /// `int plugin_verify(int argc, lcmaps_argument_t *argv)`.
            ///
            /// # Safety
            /// Called by an LCMAPS host with the array from `plugin_introspect`.
            #[no_mangle]
            pub unsafe extern "C" fn plugin_verify(
                argc: ::std::ffi::c_int,
                argv: *mut $crate::ffi::lcmaps_argument_t,
            ) -> ::std::ffi::c_int {
                // SAFETY: forwarded from the host; the SDK checks the pointers.
                unsafe { $crate::ffi::run(&__LCMAPS_PLUGIN_STATE, true, argc, argv) }
            }

            /// `int plugin_terminate(void)`.
            #[no_mangle]
            pub extern "C" fn plugin_terminate() -> ::std::ffi::c_int {
                $crate::ffi::terminate(&__LCMAPS_PLUGIN_STATE)
            }
        };
    };
}

/// Write the LCAS 1.3 plugin entry points (`plugin_initialize`,
/// `plugin_confirm_authorization`, `plugin_terminate`) for the
/// [`AuthzPlugin`] that `$new` (a `fn() -> Box<dyn AuthzPlugin>`) makes.
/// The module then loads in Nikhef's liblcas and in lcmaps-rs; it imports
/// `lcas_log` from the host. Invoke it once, in a `cdylib` crate, as
/// [`export_plugin!`].
#[macro_export]
macro_rules! export_lcas_plugin {
    ($new:expr) => {
        const _: () = {
            #[doc(hidden)]
            static __LCAS_PLUGIN_STATE: $crate::lcas_ffi::LcasState =
                $crate::lcas_ffi::LcasState::new();

            /// `int plugin_initialize(int argc, char **argv)`.
            ///
            /// # Safety
            /// Called by an LCAS host with LCAS's argument vector.
            #[no_mangle]
            pub unsafe extern "C" fn plugin_initialize(
                argc: ::std::ffi::c_int,
                argv: *mut *mut ::std::ffi::c_char,
            ) -> ::std::ffi::c_int {
                let new: fn() -> ::std::boxed::Box<dyn $crate::AuthzPlugin> = $new;
                // SAFETY: forwarded from the host; the SDK checks the pointers.
                unsafe { $crate::lcas_ffi::initialize(&__LCAS_PLUGIN_STATE, new, argc, argv) }
            }

            /// `int plugin_confirm_authorization(lcas_request_t, lcas_cred_id_t)`.
            ///
            /// # Safety
            /// Called by an LCAS host with a request string and a credential.
            #[no_mangle]
            pub unsafe extern "C" fn plugin_confirm_authorization(
                request: *mut ::std::ffi::c_char,
                cred: $crate::lcas_ffi::lcas_cred_id_t,
            ) -> ::std::ffi::c_int {
                // SAFETY: forwarded from the host; the SDK checks the pointers.
                unsafe { $crate::lcas_ffi::confirm(&__LCAS_PLUGIN_STATE, request, cred) }
            }

            /// `int plugin_terminate(void)`.
            #[no_mangle]
            pub extern "C" fn plugin_terminate() -> ::std::ffi::c_int {
                $crate::lcas_ffi::terminate(&__LCAS_PLUGIN_STATE)
            }
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_username_rule() {
        assert!(!host_has_requested_username(None));
        assert!(!host_has_requested_username(Some((1, 5, 7))));
        assert!(!host_has_requested_username(Some((1, 4, 99))));
        assert!(host_has_requested_username(Some((1, 5, 8))));
        assert!(host_has_requested_username(Some((1, 6, 6))));
        assert!(host_has_requested_username(Some((2, 0, 0))));
        let specs = vec![
            ArgSpec {
                name: "user_dn",
                ty: "char *",
            },
            ArgSpec {
                name: "requested_username",
                ty: "char *",
            },
        ];
        assert_eq!(
            filter_introspection(specs.clone(), Some((1, 6, 6))).len(),
            2
        );
        assert_eq!(
            filter_introspection(specs.clone(), Some((1, 5, 7))),
            specs[..1]
        );
        assert_eq!(filter_introspection(specs.clone(), None), specs[..1]);
    }

    #[test]
    fn additions() {
        let mut before = Store::new();
        before.add(CredData::Dn("/CN=a".into()));
        before.add(CredData::Uid(1));
        before.add(CredData::SecGid(5));
        let mut after = before.clone();
        assert_eq!(store_additions(&before, &after).unwrap(), []);
        after.add(CredData::Uid(2));
        after.add(CredData::PriGid(3));
        after.add(CredData::SecGid(4));
        after.add(CredData::SecGid(6));
        after.add(CredData::VoCredString("/vo".into()));
        after.add(CredData::PoolIndex("p".into()));
        assert_eq!(
            store_additions(&before, &after).unwrap(),
            [
                CredData::Uid(2),
                CredData::PriGid(3),
                CredData::SecGid(4),
                CredData::SecGid(6),
                CredData::VoCredString("/vo".into()),
                CredData::PoolIndex("p".into()),
            ]
        );
        let mut bad = before.clone();
        bad.uids.clear();
        assert!(store_additions(&before, &bad).unwrap_err().contains("UID"));
        let mut bad = before.clone();
        bad.sec_gids.clear();
        assert!(store_additions(&before, &bad).is_err());
        let mut bad = before.clone();
        bad.dn = None;
        assert!(store_additions(&before, &bad).unwrap_err().contains("DN"));
        let mut dn = before.clone();
        dn.add(CredData::Dn("/CN=b".into()));
        assert_eq!(
            store_additions(&before, &dn).unwrap(),
            [CredData::Dn("/CN=b".into())]
        );
    }
}
