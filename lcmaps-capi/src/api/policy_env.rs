//! `LCMAPS_POLICY_NAME`, the policies of the helper libraries' calls.

use std::ffi::c_char;

/// `LCMAPS_MAX_POLICIES` of the helper libraries.
const MAX_POLICIES: usize = 10;

/// `LCMAPS_POLICY_NAME` as C strings and the pointer array a C call takes;
/// keep the strings alive as long as the pointers are used.
pub(super) fn env_policy_args() -> (Vec<std::ffi::CString>, Vec<*mut c_char>) {
    let pols: Vec<std::ffi::CString> = env_policies()
        .into_iter()
        .filter_map(|p| std::ffi::CString::new(p).ok())
        .collect();
    let ptrs = pols.iter().map(|p| p.as_ptr().cast_mut()).collect();
    (pols, ptrs)
}

/// `LCMAPS_POLICY_NAME` as the helper libraries read it (at most 10).
pub(super) fn env_policies() -> Vec<String> {
    let mut v = std::env::var("LCMAPS_POLICY_NAME")
        .map(|s| lcmaps_core::env::split_policy_names(&s))
        .unwrap_or_default();
    v.truncate(MAX_POLICIES);
    v
}
