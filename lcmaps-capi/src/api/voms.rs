//! The VOMS settings of the caller API (`lcmaps_*_voms_*`): whether the
//! PEM calls verify VOMS attributes, and at what time.

use std::ffi::{c_int, c_uint};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, Ordering};

static VOMS_VERIFY: AtomicBool = AtomicBool::new(true);
static VOMS_FLAGS: AtomicU32 = AtomicU32::new(0);
static VOMS_TIME: AtomicI64 = AtomicI64::new(0);
static VOMS_TIME_FLAGS: AtomicI32 = AtomicI32::new(0);

/// Whether VOMS attributes are verified (and so used) by the PEM calls.
pub(super) fn verification_enabled() -> bool {
    VOMS_VERIFY.load(Ordering::Relaxed)
}

/// The time VOMS attributes are checked at, by the last
/// `lcmaps_set_voms_verification_time`: offset from the certificate's
/// not-before (flags 1) or not-after (flags 2), an absolute time, or now
/// (`None`).
pub(super) fn verification_time(not_before: i64, not_after: i64) -> Option<i64> {
    let t = VOMS_TIME.load(Ordering::Relaxed);
    match VOMS_TIME_FLAGS.load(Ordering::Relaxed) {
        1 => Some(not_before + t),
        2 => Some(not_after + t),
        _ if t != 0 => Some(t),
        _ => None,
    }
}

/// `void lcmaps_disable_voms_attributes_verification(void)`.
#[no_mangle]
pub extern "C" fn lcmaps_disable_voms_attributes_verification() {
    VOMS_VERIFY.store(false, Ordering::Relaxed);
}

/// `void lcmaps_enable_voms_attributes_verification(void)` (the default).
#[no_mangle]
pub extern "C" fn lcmaps_enable_voms_attributes_verification() {
    VOMS_VERIFY.store(true, Ordering::Relaxed);
}

/// `int lcmaps_is_set_to_verify_voms_attributes(void)`: 1 or 0.
#[no_mangle]
pub extern "C" fn lcmaps_is_set_to_verify_voms_attributes() -> c_int {
    c_int::from(VOMS_VERIFY.load(Ordering::Relaxed))
}

/// `void lcmaps_set_voms_attributes_verification(unsigned int flags)`.
#[no_mangle]
pub extern "C" fn lcmaps_set_voms_attributes_verification(flags: c_uint) {
    VOMS_FLAGS.store(flags, Ordering::Relaxed);
}

/// `unsigned int lcmaps_get_voms_attributes_verification(void)`.
#[no_mangle]
pub extern "C" fn lcmaps_get_voms_attributes_verification() -> c_uint {
    VOMS_FLAGS.load(Ordering::Relaxed)
}

/// `void lcmaps_set_voms_verification_time(time_t t, int flags)`.
#[no_mangle]
pub extern "C" fn lcmaps_set_voms_verification_time(t: libc::time_t, flags: c_int) {
    VOMS_TIME.store(t, Ordering::Relaxed);
    VOMS_TIME_FLAGS.store(flags, Ordering::Relaxed);
}

/// `int lcmaps_get_voms_verification_time(time_t *t, int *flags)`: 0 ok, -1
/// for NULL.
#[no_mangle]
pub unsafe extern "C" fn lcmaps_get_voms_verification_time(
    t: *mut libc::time_t,
    flags: *mut c_int,
) -> c_int {
    if t.is_null() || flags.is_null() {
        return -1;
    }
    // SAFETY: both non-NULL.
    unsafe {
        *t = VOMS_TIME.load(Ordering::Relaxed);
        *flags = VOMS_TIME_FLAGS.load(Ordering::Relaxed);
    }
    0
}
