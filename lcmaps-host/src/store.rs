//! The credential store C callbacks act on: the running plugin's (set by
//! the host around each plugin call), else the C caller API's ambient store
//! (the result of the last `lcmaps_run*`).

use std::cell::Cell;
use std::ptr;
use std::sync::{LazyLock, Mutex, MutexGuard};

use crate::mirror::{self, Mirror};
use lcmaps_core::cred::Store;

thread_local! {
    /// The store of the plugin call running on this thread, if any.
    static CURRENT_STORE: Cell<*mut Store> = const { Cell::new(ptr::null_mut()) };
}

/// The store of the C caller API (the last run's result) and its C copies.
#[derive(Debug, Default)]
pub struct Ambient {
    pub store: Store,
    pub mirror: Mirror,
}

// SAFETY: the raw pointers inside the mirror point into memory the mirror
// owns; they are only handed out, never dereferenced, and the whole value is
// behind a Mutex.
unsafe impl Send for Ambient {}

static AMBIENT: LazyLock<Mutex<Ambient>> = LazyLock::new(|| Mutex::new(Ambient::default()));

/// The process-wide store used by callbacks outside a plugin call.
pub fn ambient() -> MutexGuard<'static, Ambient> {
    AMBIENT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets the thread's current store for the life of the guard.
#[derive(Debug)]
pub struct StoreGuard {
    previous: *mut Store,
}

impl StoreGuard {
    /// Make `store` the store C callbacks on this thread act on.
    pub fn enter(store: &mut Store) -> StoreGuard {
        let previous = CURRENT_STORE.with(|c| c.replace(store as *mut Store));
        StoreGuard { previous }
    }
}

impl Drop for StoreGuard {
    fn drop(&mut self) {
        CURRENT_STORE.with(|c| c.set(self.previous));
    }
}

/// Run `f` on the store callbacks act on: the running plugin's (on this
/// thread), else the process-wide store of the C caller API (the result of
/// the last `lcmaps_run*`). The mirror passed along holds the C copies.
pub fn with_store<R>(f: impl FnOnce(&mut Store, &mut mirror::Mirror) -> R) -> R {
    let cur = CURRENT_STORE.with(Cell::get);
    if !cur.is_null() {
        // SAFETY: CURRENT_STORE is only non-NULL while a StoreGuard created
        // from a live `&mut Store` exists on this thread, and that borrow is
        // not used by anyone else during the plugin call.
        let store = unsafe { &mut *cur };
        return mirror::with_thread_mirror(|m| f(store, m));
    }
    let mut amb = ambient();
    let amb = &mut *amb;
    f(&mut amb.store, &mut amb.mirror)
}
