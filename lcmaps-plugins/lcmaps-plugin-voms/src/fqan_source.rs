//! Where the VOMS plugins take the FQANs from, and the run variables that
//! name them.

use lcmaps_core::plugin::{ArgSpec, RunContext};

/// `fqan_list` / `char **`.
pub const FQAN_LIST: ArgSpec = ArgSpec {
    name: "fqan_list",
    ty: "char **",
};
/// `nfqan` / `int`.
pub const NFQAN: ArgSpec = ArgSpec {
    name: "nfqan",
    ty: "int",
};

/// The FQANs as upstream takes them: the store's `LCMAPS_VO_CRED_STRING`s if
/// there are any, else the `fqan_list` run variable. `None`: no FQANs
/// ("no (valid) VOMS groups found").
pub(crate) fn fqans(ctx: &RunContext<'_>, who: &str) -> Option<Vec<String>> {
    let list = if !ctx.store.vo_strings.is_empty() {
        log::debug!(
            "{who}: found {} FQAN(s) in credential data",
            ctx.store.vo_strings.len()
        );
        ctx.store.vo_strings.clone()
    } else {
        log::debug!("{who}: no FQANs registered by other plugins, trying run/introspect args");
        if ctx.request.fqans.is_empty() {
            log::info!("{who}: no (valid) VOMS groups found --> no mapping");
            return None;
        }
        ctx.request.fqans.clone()
    };
    for (i, f) in list.iter().enumerate() {
        log::debug!("{who}: FQAN {}: {f}", i + 1);
    }
    Some(list)
}
