//! Every symbol `liblcmaps_rs.so` exports: the plugin helpers
//! ([`crate::module_file::plugin_symbols`]) and the caller APIs of LCMAPS,
//! its helper libraries and LCAS.

use crate::{api as a, lcas as l, module_file};

/// Every symbol the ABI exports, by name. Referencing them here also keeps
/// them in any binary that calls [`keep_exports`].
pub fn exported_symbols() -> Vec<(&'static str, *const ())> {
    macro_rules! syms {
        ($($m:ident :: $f:ident),* $(,)?) => {
            vec![$((stringify!($f), $m::$f as *const ())),*]
        };
    }
    let mut all = module_file::plugin_symbols();
    all.extend(syms![
        a::lcmaps_verify_account_from_pem_va,
        a::lcmaps_init,
        a::lcmaps_init_and_log,
        a::lcmaps_init_and_logfile,
        a::lcmaps_term,
        a::lcmaps_run,
        a::lcmaps_run_and_return_username,
        a::lcmaps_run_and_return_poolindex,
        a::lcmaps_run_without_credentials_and_return_username,
        a::lcmaps_run_with_fqans_and_return_account,
        a::lcmaps_run_with_fqans_mapcounter_and_return_account,
        a::lcmaps_run_with_pem_and_return_account,
        a::lcmaps_run_with_stack_of_x509_and_return_account,
        a::lcmaps_run_and_verify_account_from_pem,
        a::lcmaps_account_info_init,
        a::lcmaps_account_info_fill,
        a::lcmaps_account_info_clean,
        a::lcmaps_disable_voms_attributes_verification,
        a::lcmaps_enable_voms_attributes_verification,
        a::lcmaps_is_set_to_verify_voms_attributes,
        a::lcmaps_set_voms_attributes_verification,
        a::lcmaps_get_voms_attributes_verification,
        a::lcmaps_set_voms_verification_time,
        a::lcmaps_get_voms_verification_time,
        a::lcmaps_return_account_from_pem,
        a::lcmaps_verify_account_from_pem,
        a::lcmaps_return_poolindex,
        a::lcmaps_return_poolindex_from_gss_cred,
        a::lcmaps_return_poolindex_without_gsi,
        a::lcmaps_return_poolindex_with_mapcounter,
        a::lcmaps_return_account_without_gsi,
        a::globus_gss_assist_gridmap,
        a::lcmaps_rs_run_with_token_and_return_account,
        l::lcas_init,
        l::lcas_init_and_log,
        l::lcas_init_and_logfile,
        l::lcas_term,
        l::lcas_pem,
        l::lcas_get_fabric_authorization,
        l::getMajorVersionNumber,
        l::getMinorVersionNumber,
        l::getPatchVersionNumber,
    ]);
    all
}

/// Point the C shim at its Rust halves. Runs at load time (`.init_array`)
/// and again from [`keep_exports`], in case a host binary's linker dropped
/// the constructor.
extern "C" fn install_hooks() {
    lcmaps_host::install_hooks();
    a::install_verify_hook();
}

#[used]
#[link_section = ".init_array"]
static INSTALL_HOOKS: extern "C" fn() = install_hooks;

/// Keep every exported symbol linked into the calling binary, and the C
/// shim's hooks set.
pub fn keep_exports() {
    install_hooks();
    std::hint::black_box(exported_symbols());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: Vec<(&'static str, *const ())>) -> Vec<&'static str> {
        v.into_iter().map(|(n, _)| n).collect()
    }

    /// The table that keeps the symbols linked is lcmaps-sys's list (which
    /// the linker version script is generated from), in the same order.
    #[test]
    fn the_export_table_is_lcmaps_sys_list() {
        assert_eq!(
            names(module_file::plugin_symbols()),
            lcmaps_sys::symbols::PLUGIN_HELPERS
        );
        assert_eq!(
            names(exported_symbols()),
            lcmaps_sys::symbols::all().collect::<Vec<_>>()
        );
    }
}
