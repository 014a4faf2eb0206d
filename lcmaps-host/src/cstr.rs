//! Reading C strings, and copies into `malloc`ed memory the C side frees.

use std::ffi::{c_char, CStr};
use std::ptr;

/// Borrow a C string; NULL and invalid UTF-8 give `None`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string living for `'a`.
pub unsafe fn cstr<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// Borrow a C string lossily (for strings that need not be UTF-8).
///
/// # Safety
/// As [`cstr`].
pub unsafe fn cstring_lossy(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// `strdup` into `malloc`ed memory the C side frees with `free`.
pub fn malloc_str(s: &str) -> *mut c_char {
    let bytes = s.as_bytes();
    let n = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    // SAFETY: malloc of n+1 bytes; NULL is checked before the write.
    let p = unsafe { libc::malloc(n + 1) }.cast::<c_char>();
    if !p.is_null() {
        // SAFETY: p has room for n+1 bytes; the source has n readable bytes.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), p, n);
            *p.add(n) = 0;
        }
    }
    p
}

/// Copy a slice into `malloc`ed memory (NULL for an empty slice or on
/// allocation failure).
pub fn malloc_slice<T: Copy>(v: &[T]) -> *mut T {
    if v.is_empty() {
        return ptr::null_mut();
    }
    let size = std::mem::size_of_val(v);
    // SAFETY: malloc of the slice's size; NULL is checked before the copy.
    let p = unsafe { libc::malloc(size) }.cast::<T>();
    if !p.is_null() {
        // SAFETY: p has room for v.len() elements of T (malloc aligns for any type).
        unsafe { ptr::copy_nonoverlapping(v.as_ptr(), p, v.len()) };
    }
    p
}
