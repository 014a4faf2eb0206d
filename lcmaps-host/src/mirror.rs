//! C copies of the credential store, handed out by `getCredentialData` and
//! the `lcmaps_run_with_fqans_*` calls.
//!
//! A pointer given to C stays valid until the store is reset (next policy,
//! next run, `lcmaps_term`): when the store changes, a new copy is made and
//! the old one is kept, never reallocated in place (LCMAPS `realloc`s, which
//! is less forgiving).

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::ptr;

use crate::{lcmaps_vo_data_t, lcmaps_vo_mapping_t};
use lcmaps_core::cred::{Store, VoData, VoMapping};

/// Old copies kept per kind before the oldest is released; only reached
/// when Rust plugins keep changing the store between C plugin calls.
const KEEP: usize = 64;

fn cs(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

fn opt_cs(s: &Option<String>) -> Option<CString> {
    s.as_deref().map(cs)
}

fn raw(c: &Option<CString>) -> *mut c_char {
    c.as_ref()
        .map_or(ptr::null_mut(), |c| c.as_ptr().cast_mut())
}

/// A single string with a stable `char *` slot (DN, POOL_INDEX).
#[derive(Debug)]
pub struct StrSlot {
    _s: CString,
    slot: Box<*mut c_char>,
}

impl StrSlot {
    fn new(s: &str) -> Self {
        let c = cs(s);
        let slot = Box::new(c.as_ptr().cast_mut());
        StrSlot { _s: c, slot }
    }
    /// The `char **`.
    pub fn ptr(&mut self) -> *mut *mut c_char {
        &mut *self.slot
    }
}

/// A NULL-free array of strings.
#[derive(Debug)]
pub struct StrList {
    _s: Vec<CString>,
    ptrs: Vec<*mut c_char>,
}

#[derive(Debug)]
pub struct VoDataList {
    _s: Vec<[Option<CString>; 5]>,
    items: Vec<lcmaps_vo_data_t>,
}

#[derive(Debug)]
pub struct VoMapList {
    _s: Vec<(CString, Option<CString>)>,
    items: Vec<lcmaps_vo_mapping_t>,
}

/// Copies made from source values of type `S`, newest last.
#[derive(Debug)]
struct Cache<S, C> {
    entries: Vec<(S, C)>,
}

impl<S, C> Default for Cache<S, C> {
    fn default() -> Self {
        Cache {
            entries: Vec::new(),
        }
    }
}

impl<S: PartialEq + Clone, C> Cache<S, C> {
    fn get(&mut self, src: &S, build: impl FnOnce(&S) -> C) -> &mut C {
        let fresh = self.entries.last().map_or(true, |(s, _)| s != src);
        if fresh {
            if self.entries.len() >= KEEP {
                self.entries.remove(0);
            }
            self.entries.push((src.clone(), build(src)));
        }
        let last = self.entries.len() - 1;
        &mut self.entries[last].1
    }
}

/// The C copies of one store.
#[derive(Debug, Default)]
pub struct Mirror {
    dn: Cache<String, StrSlot>,
    pool_index: Cache<String, StrSlot>,
    uids: Cache<Vec<u32>, Box<[libc::uid_t]>>,
    pri_gids: Cache<Vec<u32>, Box<[libc::gid_t]>>,
    sec_gids: Cache<Vec<u32>, Box<[libc::gid_t]>>,
    vo_strings: Cache<Vec<String>, StrList>,
    vo_data: Cache<Vec<VoData>, VoDataList>,
    vo_mappings: Cache<Vec<VoMapping>, VoMapList>,
    /// The `char *` slot handed out for an unset DN or pool index (LCMAPS
    /// returns the address of its NULL field there, never NULL).
    null: Box<*mut c_char>,
}

fn ids(v: &[u32]) -> Box<[u32]> {
    v.to_vec().into_boxed_slice()
}

impl Mirror {
    /// Release every copy (the store was reset).
    pub fn clear(&mut self) {
        *self = Mirror::default();
    }

    /// A `char **` whose `char *` is NULL.
    pub fn null_slot(&mut self) -> *mut *mut c_char {
        *self.null = ptr::null_mut();
        &mut *self.null
    }

    /// `char **` to the DN, or NULL.
    pub fn dn(&mut self, store: &Store) -> Option<*mut *mut c_char> {
        let dn = store.dn.as_ref()?;
        Some(self.dn.get(dn, |s| StrSlot::new(s)).ptr())
    }

    /// `char **` to the pool index, or NULL.
    pub fn pool_index(&mut self, store: &Store) -> Option<*mut *mut c_char> {
        let p = store.pool_index.as_ref()?;
        Some(self.pool_index.get(p, |s| StrSlot::new(s)).ptr())
    }

    /// The uid array (non-empty store list only).
    pub fn uids(&mut self, store: &Store) -> Option<*mut libc::uid_t> {
        (!store.uids.is_empty()).then(|| self.uids.get(&store.uids, |v| ids(v)).as_mut_ptr())
    }

    /// The primary gid array.
    pub fn pri_gids(&mut self, store: &Store) -> Option<*mut libc::gid_t> {
        (!store.pri_gids.is_empty())
            .then(|| self.pri_gids.get(&store.pri_gids, |v| ids(v)).as_mut_ptr())
    }

    /// The secondary gid array.
    pub fn sec_gids(&mut self, store: &Store) -> Option<*mut libc::gid_t> {
        (!store.sec_gids.is_empty())
            .then(|| self.sec_gids.get(&store.sec_gids, |v| ids(v)).as_mut_ptr())
    }

    /// The VO strings as `char **`.
    pub fn vo_strings(&mut self, store: &Store) -> Option<*mut *mut c_char> {
        if store.vo_strings.is_empty() {
            return None;
        }
        let l = self.vo_strings.get(&store.vo_strings, |v| {
            let s: Vec<CString> = v.iter().map(|x| cs(x)).collect();
            let ptrs = s.iter().map(|c| c.as_ptr().cast_mut()).collect();
            StrList { _s: s, ptrs }
        });
        Some(l.ptrs.as_mut_ptr())
    }

    /// The VO data array.
    pub fn vo_data(&mut self, store: &Store) -> Option<*mut lcmaps_vo_data_t> {
        if store.vo_data.is_empty() {
            return None;
        }
        let l = self.vo_data.get(&store.vo_data, |v| {
            let s: Vec<[Option<CString>; 5]> = v
                .iter()
                .map(|d| {
                    [
                        opt_cs(&d.vo),
                        opt_cs(&d.group),
                        opt_cs(&d.subgroup),
                        opt_cs(&d.role),
                        opt_cs(&d.capability),
                    ]
                })
                .collect();
            let items = s
                .iter()
                .map(|f| lcmaps_vo_data_t {
                    vo: raw(&f[0]),
                    group: raw(&f[1]),
                    subgroup: raw(&f[2]),
                    role: raw(&f[3]),
                    capability: raw(&f[4]),
                })
                .collect();
            VoDataList { _s: s, items }
        });
        Some(l.items.as_mut_ptr())
    }

    /// The VO mapping array.
    pub fn vo_mappings(&mut self, store: &Store) -> Option<*mut lcmaps_vo_mapping_t> {
        if store.vo_mappings.is_empty() {
            return None;
        }
        let l = self.vo_mappings.get(&store.vo_mappings, |v| {
            let s: Vec<(CString, Option<CString>)> = v
                .iter()
                .map(|m| (cs(&m.vostring), opt_cs(&m.groupname)))
                .collect();
            let items = s
                .iter()
                .zip(v)
                .map(|((f, g), m)| lcmaps_vo_mapping_t {
                    vostring: f.as_ptr().cast_mut(),
                    groupname: raw(g),
                    gid: m.gid,
                })
                .collect();
            VoMapList { _s: s, items }
        });
        Some(l.items.as_mut_ptr())
    }
}

thread_local! {
    static THREAD_MIRROR: RefCell<Mirror> = RefCell::new(Mirror::default());
}

/// The mirror of plugin calls on this thread.
pub fn with_thread_mirror<R>(f: impl FnOnce(&mut Mirror) -> R) -> R {
    THREAD_MIRROR.with(|m| f(&mut m.borrow_mut()))
}

/// Reset this thread's mirror (a new, empty store is in use).
pub fn reset_thread_mirror() {
    THREAD_MIRROR.with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            m.clear();
        }
    });
}
