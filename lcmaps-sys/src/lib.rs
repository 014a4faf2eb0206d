//! The C ABI of LCMAPS 1.6 and LCAS 1.3 as plain Rust definitions, each
//! defined once: the `#[repr(C)]` structs plugins and callers exchange, the
//! constants of the LCMAPS and LCAS headers, and ([`symbols`]) the list of
//! functions `liblcmaps_rs.so` exports.
//!
//! Used by `lcmaps-capi` (the library and the host of C `.mod`s), by
//! `lcmaps-plugin-sdk` (the `.mod` side) and, through the header cbindgen
//! generates from this crate (`lcmaps-sys/include/lcmaps_sys.h`, checked by
//! `ffi-tests/tests/cbindgen.rs`), by the C shim `lcmaps-capi/csrc/`. No
//! code, no `unsafe`: definitions only.

#![forbid(unsafe_code)]
#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{c_char, c_int, c_void};

pub mod symbols;

/// `lcmaps_argument_t` (lcmaps_arguments.h): one run variable a plugin
/// introspects and the host binds.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcmaps_argument_t {
    /// `argName`.
    pub argName: *const c_char,
    /// `argType`.
    pub argType: *const c_char,
    /// `argInOut` (0 input, 1 output; ignored).
    pub argInOut: c_int,
    /// `value`: a pointer to the framework's variable.
    pub value: *mut c_void,
}

/// `lcmaps_vo_data_t` (lcmaps_vo_data.h): one VOMS attribute in parts.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcmaps_vo_data_t {
    /// VO name.
    pub vo: *mut c_char,
    /// Group.
    pub group: *mut c_char,
    /// Subgroup.
    pub subgroup: *mut c_char,
    /// Role.
    pub role: *mut c_char,
    /// Capability.
    pub capability: *mut c_char,
}

/// `lcmaps_vo_mapping_t` (lcmaps_vo_data.h): an FQAN and the group it maps to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcmaps_vo_mapping_t {
    /// The FQAN.
    pub vostring: *mut c_char,
    /// Group name (may be NULL).
    pub groupname: *mut c_char,
    /// Group id.
    pub gid: libc::gid_t,
}

/// `lcmaps_account_info_t` (lcmaps_account.h): the account of the helper
/// libraries.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcmaps_account_info_t {
    /// Uid (`(uid_t)-1` when unset).
    pub uid: libc::uid_t,
    /// Primary gids (malloc'ed).
    pub pgid_list: *mut libc::gid_t,
    /// Their number.
    pub npgid: c_int,
    /// Secondary gids (malloc'ed).
    pub sgid_list: *mut libc::gid_t,
    /// Their number.
    pub nsgid: c_int,
    /// Pool index (malloc'ed).
    pub poolindex: *mut c_char,
}

/// `lcas_cred_id_t` as Debian's liblcas 1.3.19 is built (without
/// `LCAS_INTERFACE_EXTENDED`): passed to plugins by value.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lcas_cred_id_t {
    /// `gss_cred_id_t cred`: the caller's GSS credential (NULL for PEM requests).
    pub cred: *mut c_void,
    /// `char *dn`: the user's DN.
    pub dn: *mut c_char,
}

// Credential data types of `addCredentialData`/`getCredentialData`
// (lcmaps_cred_data.h).

/// `DN`: the user's DN (`char *`).
pub const DN: c_int = 5;
/// `UID` (`uid_t`).
pub const UID: c_int = 10;
/// `PRI_GID`: primary gid (`gid_t`).
pub const PRI_GID: c_int = 20;
/// `SEC_GID`: secondary gid (`gid_t`).
pub const SEC_GID: c_int = 30;
/// `LCMAPS_VO_CRED` (`lcmaps_vo_data_t`).
pub const LCMAPS_VO_CRED: c_int = 90;
/// `LCMAPS_VO_CRED_STRING`: an FQAN (`char *`).
pub const LCMAPS_VO_CRED_STRING: c_int = 100;
/// `LCMAPS_VO_CRED_MAPPING` (`lcmaps_vo_mapping_t`).
pub const LCMAPS_VO_CRED_MAPPING: c_int = 110;
/// `POOL_INDEX` (`char *`).
pub const POOL_INDEX: c_int = 200;

// Plugin return codes (lcmaps_defines.h, lcas_defines.h).

/// `LCMAPS_MOD_SUCCESS`.
pub const LCMAPS_MOD_SUCCESS: c_int = 0;
/// `LCMAPS_MOD_FAIL`.
pub const LCMAPS_MOD_FAIL: c_int = 1;
/// `LCAS_MOD_SUCCESS`.
pub const LCAS_MOD_SUCCESS: c_int = 0;
/// `LCAS_MOD_FAIL`.
pub const LCAS_MOD_FAIL: c_int = 1;
/// `LCAS_MOD_NOFILE`.
pub const LCAS_MOD_NOFILE: c_int = 2;
/// `LCAS_MOD_ENTRY`.
pub const LCAS_MOD_ENTRY: c_int = 3;
/// `LCAS_MOD_NOENTRY`.
pub const LCAS_MOD_NOENTRY: c_int = 4;

// Log destinations of `lcmaps_init_and_log` & co. (lcmaps_log.h).

/// `DO_USRLOG`: log to the given stream or file.
pub const DO_USRLOG: u16 = 0x0001;
/// `DO_SYSLOG`: log to syslog.
pub const DO_SYSLOG: u16 = 0x0002;
