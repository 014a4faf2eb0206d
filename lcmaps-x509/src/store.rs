//! The trust store: the CA certificates (`<hash>.<N>`) and CRLs
//! (`<hash>.r<N>`) of hashed CA directories, parsed once per process and
//! read again only when a file changed.
//!
//! Every use of a file still looks at it: one `stat(2)` per file, as
//! OpenSSL's hashed directory lookup does (which opens and parses it on
//! every verification with a fresh store). If the file's
//! [`Stamp`] (device, inode, size, mtime, ctime, owner, mode) is the one of
//! the parsed version, that version is used; otherwise the file is read and
//! parsed again. A file that is gone is gone at once (a CA removed from the
//! directory is no longer trusted by the next verification); a new file is
//! found at once (the lookup probes `<hash>.0`, `.1`, ... up to the first
//! missing one, as OpenSSL does).
//!
//! Why a stamp is enough: another file under the same name (replaced,
//! renamed over, a symbolic link pointed elsewhere) has another device or
//! inode; writing to the same file sets its mtime and ctime, and `touch -d`
//! or `cp -p` setting the mtime back still sets the ctime, which no one can
//! set back. The one gap is the file system's timestamp granularity (the
//! kernel's coarse clock, a few milliseconds): two writes of the same size
//! within one tick leave equal stamps. So a file whose mtime or ctime is
//! less than [`SETTLE`] old when it is read is not kept: it is read again
//! on every use until it has been quiet for that long (as git treats
//! "racily clean" index entries).
//!
//! Only what was parsed is kept (and, for a CRL, the issuer key its
//! signature verified with: `crl::CrlInfo`); whether a privileged process
//! may trust a file ([`lcmaps_core::trust`]) is still decided at every use
//! by the callers, from the same `stat`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use lcmaps_core::trust::{settled, Stamp};
use openssl::x509::X509;

/// A file changed less than this long ago is read again on its next use
/// (see the [module documentation](self)).
pub const SETTLE: Duration = lcmaps_core::trust::SETTLE;

/// Most files kept per kind before the cache is emptied (a bound against a
/// directory that churns; a site's has a few hundred).
const MAX_FILES: usize = 4096;

/// One parsed version of a file.
struct Kept<T> {
    stamp: Stamp,
    value: Arc<T>,
}

/// Parsed files by path (the CA files here; the CRL files in
/// [`crate::crl`], which keeps its own of these).
pub(crate) struct FileCache<T> {
    files: Mutex<HashMap<PathBuf, Kept<T>>>,
}

impl<T> FileCache<T> {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        FileCache {
            files: Mutex::new(HashMap::new()),
        }
    }

    /// The parsed content of `path`, whose `stat` is `meta`: the kept one
    /// if the stamp is unchanged, else `parse` of the file read now.
    pub(crate) fn get(
        &self,
        path: &Path,
        meta: &std::fs::Metadata,
        parse: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<Arc<T>, String> {
        let stamp = Stamp::of(meta);
        {
            let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(k) = files.get(path).filter(|k| k.stamp == stamp) {
                return Ok(k.value.clone());
            }
        }
        // Read through one open file and take the stamp from it, so that
        // the stamp kept is the one of what was read (or an older one,
        // which only makes the next use read again).
        let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
        let mut f = lcmaps_core::site_file::open(path).map_err(cannot)?;
        let fmeta = f.metadata().map_err(cannot)?;
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).map_err(cannot)?;
        let value = Arc::new(parse(&data)?);
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if settled(&fmeta) {
            if files.len() >= MAX_FILES {
                files.clear();
            }
            files.insert(
                path.to_owned(),
                Kept {
                    stamp: Stamp::of(&fmeta),
                    value: value.clone(),
                },
            );
        } else {
            files.remove(path);
        }
        Ok(value)
    }
}

/// The process's trust store (of CA files; `crate::crl` keeps the CRL
/// files' in a [`FileCache`] of its own).
struct Store {
    cas: FileCache<Vec<X509>>,
}

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| Store {
        cas: FileCache::new(),
    })
}

/// The `stat` (following symbolic links) of `path`, `None` if it does not
/// exist. While [`record`] runs on this thread, the answer is recorded.
pub(crate) fn stat(path: &Path) -> Result<Option<std::fs::Metadata>, String> {
    let r = match std::fs::metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    };
    RECORDER.with(|r_| {
        if let Some(rec) = r_.borrow_mut().as_mut() {
            rec.deps.push(Dep {
                path: path.to_owned(),
                stamp: match &r {
                    Ok(m) => m.as_ref().map(Stamp::of).ok_or(Absent::Missing),
                    Err(_) => Err(Absent::Unreadable),
                },
                settled: matches!(&r, Ok(Some(m)) if settled(m)),
                trust_checked: false,
            });
        }
    });
    r
}

/// Why a recorded file has no stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Absent {
    /// It did not exist.
    Missing,
    /// It could not be examined.
    Unreadable,
}

/// One file a verification looked at: its stamp then, or why it had none,
/// whether it had been quiet for [`SETTLE`], and whether its use was
/// checked with [`lcmaps_core::trust::check_stat`].
#[derive(Debug, Clone)]
pub(crate) struct Dep {
    pub path: PathBuf,
    pub stamp: Result<Stamp, Absent>,
    pub settled: bool,
    pub trust_checked: bool,
}

/// What a verification depended on ([`record`]): every file it looked at,
/// and the earliest time at which something it used stops being valid (a
/// CA certificate's notAfter, a CRL's nextUpdate).
#[derive(Debug, Clone, Default)]
pub(crate) struct Recorded {
    pub deps: Vec<Dep>,
    pub expires: Option<i64>,
}

thread_local! {
    static RECORDER: std::cell::RefCell<Option<Recorded>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` and returns what it looked at (nested calls are recorded in
/// the outer recording too).
pub(crate) fn record<R>(f: impl FnOnce() -> R) -> (R, Recorded) {
    let outer = RECORDER.with(|r| r.borrow_mut().replace(Recorded::default()));
    let out = f();
    let mine = RECORDER
        .with(|r| std::mem::replace(&mut *r.borrow_mut(), outer))
        .unwrap_or_default();
    RECORDER.with(|r| {
        if let Some(o) = r.borrow_mut().as_mut() {
            o.deps.extend(mine.deps.iter().cloned());
            o.expires = min_time(o.expires, mine.expires);
        }
    });
    (out, mine)
}

fn min_time(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Tells the recording that something used stops being valid at `t`.
pub(crate) fn note_expiry(t: i64) {
    RECORDER.with(|r| {
        if let Some(rec) = r.borrow_mut().as_mut() {
            rec.expires = min_time(rec.expires, Some(t));
        }
    });
}

/// Tells the recording that the last file recorded as `path` was checked
/// with [`lcmaps_core::trust::check_stat`].
pub(crate) fn note_trust_checked(path: &Path) {
    RECORDER.with(|r| {
        if let Some(rec) = r.borrow_mut().as_mut() {
            if let Some(d) = rec.deps.iter_mut().rev().find(|d| d.path == path) {
                d.trust_checked = true;
            }
        }
    });
}

/// Most certificate files read for one hash (`<hash>.0` .. `<hash>.99`).
const MAX_CA_FILES: u32 = 100;

/// The CA certificates of `<hash>.0`, `<hash>.1`, ... in `dir`, up to the
/// first missing number, as OpenSSL's hashed directory lookup reads them
/// (every PEM certificate of each file). As there, the first file that
/// cannot be examined, read or parsed, or holds no certificate, ends the
/// lookup.
pub(crate) fn cas(dir: &Path, hash: u32) -> Vec<X509> {
    let mut out = Vec::new();
    for n in 0..MAX_CA_FILES {
        let path = dir.join(format!("{hash:08x}.{n}"));
        let Ok(Some(meta)) = stat(&path) else { break };
        let parsed = store().cas.get(&path, &meta, |data| {
            X509::stack_from_pem(data)
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| "malformed".to_owned())
        });
        match parsed {
            Ok(certs) => out.extend(certs.iter().cloned()),
            Err(_) => break,
        }
    }
    out
}

/// The CA certificates of `dir` that a chain whose certificates have the
/// issuer name hashes `seeds` can reach: those of each hash, and of the
/// issuer hashes of those that are not self-issued, transitively (at most
/// 32 hashes). This is every certificate OpenSSL's hashed directory lookup
/// could hand the chain builder for such a chain.
pub(crate) fn reachable_cas(dir: &Path, seeds: impl IntoIterator<Item = u32>) -> Vec<X509> {
    let mut todo: Vec<u32> = seeds.into_iter().collect();
    let mut seen: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    while let Some(h) = todo.pop() {
        if seen.contains(&h) || seen.len() >= 32 {
            continue;
        }
        seen.push(h);
        for ca in cas(dir, h) {
            let self_issued =
                ca.issuer_name().try_cmp(ca.subject_name()).ok() == Some(std::cmp::Ordering::Equal);
            if !self_issued {
                todo.push(ca.issuer_name_hash());
            }
            out.push(ca);
        }
    }
    out
}
