//! The caller API of `liblcmaps.so.0` (spec §3) and of the helper libraries
//! (§3.4), one module per family of C calls, with LCMAPS's process-wide
//! init/term in `engine`.
//!
//! Implemented: init/term, the DN and DN+FQAN run calls, account info,
//! version and VOMS knobs, `globus_gss_assist_gridmap` and the
//! `*_without_gsi` helpers. The GSS calls map on the caller's DN, or on the
//! DN of the credential/context with Globus' GSSAPI loaded at run time
//! (see [`crate::gss`]); they fail with a log line when it is missing. The
//! PEM and `STACK_OF(X509)` calls use `lcmaps-x509` for the DN and the
//! verified VOMS FQANs.
//!
//! Module graph (no cycles): `engine` (state, init, run) ← `outputs`
//! ← the run families ([`run_fqans`], [`run_pem`], [`run_token`],
//! [`run_gss`]) ← the helper libraries ([`account_from_pem`],
//! [`poolindex`], [`gridmap`]), which also use [`account_info`] and
//! `policy_env`; [`voms`] holds the VOMS settings the PEM calls read.

pub mod account_from_pem;
pub mod account_info;
mod engine;
pub mod gridmap;
pub mod init;
mod outputs;
mod policy_env;
pub mod poolindex;
pub mod run_fqans;
pub mod run_gss;
pub mod run_pem;
pub mod run_token;
pub mod voms;

pub(crate) use account_from_pem::install_verify_hook;
pub use account_from_pem::{
    lcmaps_return_account_from_pem, lcmaps_verify_account_from_pem,
    lcmaps_verify_account_from_pem_va,
};
pub use account_info::{
    lcmaps_account_info_clean, lcmaps_account_info_fill, lcmaps_account_info_init,
};
pub use gridmap::globus_gss_assist_gridmap;
pub use init::{lcmaps_init, lcmaps_init_and_log, lcmaps_init_and_logfile, lcmaps_term};
pub use poolindex::{
    lcmaps_return_account_without_gsi, lcmaps_return_poolindex,
    lcmaps_return_poolindex_from_gss_cred, lcmaps_return_poolindex_with_mapcounter,
    lcmaps_return_poolindex_without_gsi,
};
pub use run_fqans::{
    lcmaps_run_with_fqans_and_return_account, lcmaps_run_with_fqans_mapcounter_and_return_account,
    lcmaps_run_without_credentials_and_return_username,
};
pub use run_gss::{lcmaps_run, lcmaps_run_and_return_poolindex, lcmaps_run_and_return_username};
pub use run_pem::{
    lcmaps_run_and_verify_account_from_pem, lcmaps_run_with_pem_and_return_account,
    lcmaps_run_with_stack_of_x509_and_return_account,
};
pub use run_token::lcmaps_rs_run_with_token_and_return_account;
pub use voms::{
    lcmaps_disable_voms_attributes_verification, lcmaps_enable_voms_attributes_verification,
    lcmaps_get_voms_attributes_verification, lcmaps_get_voms_verification_time,
    lcmaps_is_set_to_verify_voms_attributes, lcmaps_set_voms_attributes_verification,
    lcmaps_set_voms_verification_time,
};
