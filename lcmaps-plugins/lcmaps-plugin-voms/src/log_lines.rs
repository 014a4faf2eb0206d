//! The log prefixes and closing lines the VOMS plugins share.

/// "succeeded" / "failed" line every plugin ends with.
pub(crate) fn outcome(who: &str, what: &str, s: lcmaps_core::plugin::Status) {
    log::info!(
        "{who}: {what} plugin {}",
        if s.is_success() {
            "succeeded"
        } else {
            "failed"
        }
    );
}

/// `plugin_run()` / `plugin_verify()` log prefix.
pub(crate) fn who(prefix: &str, verify: bool) -> String {
    format!(
        "{prefix}-plugin_{}()",
        if verify { "verify" } else { "run" }
    )
}
