//! What a privileged process trusts (issue #14, item 7).
//!
//! A process running with privilege (effective uid 0, or an effective uid
//! other than its real uid: glexec, a root gatekeeper loading
//! `liblcmaps_rs.so`) must act only on files that only root can change:
//! plugin modules, `lcmaps.db`, `lcas.db` and every file a built-in plugin
//! reads (grid-mapfiles, ban files, the gridmapdir, the CA directory and its
//! CRLs, the vomsdir's LSC files, the SciTokens configuration, keys and key
//! cache). Otherwise whoever can change one of them, or rename a directory
//! above it, chooses the account a credential maps to, or runs code as root.
//!
//! [`check`] is that test. It walks the path from `/` to the file, following
//! symbolic links as the kernel does, and requires of every directory it
//! passes, every directory holding a symbolic link it follows, and the file
//! itself:
//!
//! * the owner is root (or the process's effective uid: the only other
//!   account that can change what the process itself writes; when the
//!   effective uid is 0 this is root alone);
//! * not writable by group, whatever the group (root's group too: sites
//!   give group 0 to people; the rule is OpenSSH's `safe_path()`), nor by
//!   others;
//! * except that a directory with the sticky bit (like `/tmp`, mode 1777)
//!   may be writable by group and others when the entry looked up in it is
//!   owned by root: in a sticky directory nobody but the entry's owner, the
//!   directory's owner and root can rename or remove an entry, so others
//!   cannot replace a root-owned one. The file itself gets no such
//!   exception: a sticky world-writable gridmapdir is still refused.
//!
//! POSIX ACLs are not looked at (mode bits only). When the process is not
//! privileged the check does nothing: an ordinary user running
//! `lcmaps check` or a personal gatekeeper on their own files is not
//! protected from themselves.
//!
//! [`check_stat`] is the same test for a file read on every mapping (a
//! grid-mapfile, a ban file): it remembers a successful walk for a short
//! while and repeats it only when the file is another or has changed (see
//! its documentation for why that is as safe as walking every time).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Symbolic links followed in one path before giving up (Linux's limit).
const MAX_LINKS: usize = 40;

static ON_BEHALF_OF_ROOT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// This process decides for a privileged one, which acts on its answer:
/// glexec's mapping helper, which runs as an unprivileged account for
/// glexec's root part. From now on [`privileged`] is true, so the helper
/// trusts only files that root or its own account can change, as glexec
/// did when it mapped as root (plus the mapping account's own files, such
/// as a gridmapdir it owns). There is no way back.
pub fn act_on_behalf_of_root() {
    ON_BEHALF_OF_ROOT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// True when the process is privileged as LCMAPS defines it, and then
/// trusts no file a non-root user can change: its effective uid is 0,
/// differs from its real uid (set-uid), or it could become root again
/// (real or saved uid 0; upstream probes that with `seteuid(0)`). The one
/// definition the engine, the C host, the plugins and glexec use.
pub fn privileged() -> bool {
    privileged_euid().is_some()
}

/// The effective uid when [`privileged`], `None` when not: one system call
/// for both.
fn privileged_euid() -> Option<u32> {
    if ON_BEHALF_OF_ROOT.load(std::sync::atomic::Ordering::Relaxed) {
        return Some(nix::unistd::geteuid().as_raw());
    }
    match nix::unistd::getresuid() {
        Ok(ids) => (ids.effective.is_root()
            || ids.effective != ids.real
            || ids.real.is_root()
            || ids.saved.is_root())
        .then_some(ids.effective.as_raw()),
        // Cannot tell: fail closed.
        Err(_) => Some(nix::unistd::geteuid().as_raw()),
    }
}

/// What is wrong with one element of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// It cannot be examined (missing, no permission, a loop, a file where
    /// a directory is needed).
    Unusable(String),
    /// Owned by an account other than root (and the effective uid).
    Owner,
    /// Writable by its group, by others, or both.
    Writable,
}

/// Why a path is not trusted: the element at fault, its owner and mode,
/// and the path that was checked. The message names the element, says what
/// is wrong with it and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustError {
    /// The path that was checked.
    pub checked: PathBuf,
    /// The file, directory or link at fault (`checked` itself, a directory
    /// above it, or one on the way to a link's target).
    pub path: PathBuf,
    /// What is wrong.
    pub problem: Problem,
    /// Owner of `path` (0 for [`Problem::Unusable`]).
    pub uid: u32,
    /// Mode of `path` with the file type bits (0 for [`Problem::Unusable`]).
    pub mode: u32,
}

impl TrustError {
    fn new(checked: &Path, path: &Path, problem: Problem, m: Option<&std::fs::Metadata>) -> Self {
        TrustError {
            checked: checked.to_path_buf(),
            path: path.to_path_buf(),
            problem,
            uid: m.map_or(0, MetadataExt::uid),
            mode: m.map_or(0, MetadataExt::mode),
        }
    }

    fn kind(&self) -> &'static str {
        // S_IFMT, S_IFDIR, S_IFLNK
        match self.mode & 0o170000 {
            0o040000 => "directory",
            0o120000 => "symbolic link",
            _ => "file",
        }
    }
}

const WHY: &str = "a privileged process trusts only files that only root can change";

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        let on_the_way = if self.path != self.checked {
            format!(", on the way to {}", self.checked.display())
        } else {
            String::new()
        };
        let perms = self.mode & 0o7777;
        match &self.problem {
            Problem::Unusable(e) => write!(
                f,
                "cannot check {p}{on_the_way}: {e}; {WHY}, so it must exist and be readable"
            ),
            Problem::Owner => write!(
                f,
                "{} {p} is owned by uid {}, not root (mode {perms:04o}){on_the_way}: {WHY}; \
                 make it root-owned and not group/other-writable (chown root {p})",
                self.kind(),
                self.uid
            ),
            Problem::Writable => {
                let who = match (perms & 0o020 != 0, perms & 0o002 != 0) {
                    (true, true) => "group and others",
                    (true, false) => "group",
                    _ => "others",
                };
                write!(
                    f,
                    "{} {p} is writable by {who} (mode {perms:04o}, owner {}){on_the_way}: {WHY}; \
                     make it root-owned and not group/other-writable (chmod go-w {p})",
                    self.kind(),
                    self.uid
                )
            }
        }
    }
}

impl std::error::Error for TrustError {}

/// In a privileged process ([`privileged`]), check that only root can
/// change `path` (a file or a directory): see the [module
/// documentation](self) for the rules. Does nothing (`Ok`) otherwise.
///
/// A relative `path` is taken from the current directory, and the
/// directories above that are checked as well.
pub fn check(path: &Path) -> Result<(), TrustError> {
    if !privileged() {
        return Ok(());
    }
    check_always(path)
}

/// How long [`check_stat`] trusts a successful walk of an unchanged file
/// before walking again: the longest a weakening by root of a directory
/// above the file (`chmod o+w`, `chown` to a user) goes unnoticed while
/// nothing about the file itself changes.
pub const VERIFIED_TTL: Duration = Duration::from_secs(2);

/// At most this many paths are remembered by [`check_stat`]; when full,
/// all are forgotten (they are walked again on their next use).
const VERIFIED_MAX: usize = 1024;

/// What identifies one version of a file, from one `stat(2)`: device and
/// inode (which file), size, modification and status-change times (its
/// content, owner and mode: a write changes mtime and ctime, a chmod or
/// chown ctime), and owner and mode themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    uid: u32,
    mode: u32,
}

/// How long a file must have been left alone before a cache may keep
/// what was read from it under its [`Stamp`] ([`settled`]).
pub const SETTLE: Duration = Duration::from_secs(2);

/// Whether `m`'s mtime and ctime are both at least [`SETTLE`] in the past
/// (whole seconds, a time within the current second counting as now).
///
/// Why caches of parsed files ask: file system timestamps come from the
/// kernel's coarse clock (a few milliseconds), so two writes of the same
/// size within one tick leave the same stamp, and content read between
/// them would be kept under the stamp of the final version. A file that
/// changed that recently is read again on every use until it has been
/// quiet for [`SETTLE`] (git's "racily clean" rule).
pub fn settled(m: &std::fs::Metadata) -> bool {
    let latest = m.mtime().max(m.ctime()).saturating_add(1);
    latest.saturating_add(SETTLE.as_secs() as i64) <= crate::time::now()
}

impl Stamp {
    /// The stamp of `m`.
    pub fn of(m: &std::fs::Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            uid: m.uid(),
            mode: m.mode(),
        }
    }
}

/// A successful walk: of which version of the file, for which effective
/// uid ([`trusted_owner`] depends on it), when.
#[derive(Debug, Clone, Copy)]
struct Verified {
    stamp: Stamp,
    euid: u32,
    at: Instant,
}

/// Successful walks by absolute path, as [`check_stat`] remembers them.
#[derive(Debug, Default)]
struct VerifiedCache {
    paths: Mutex<HashMap<PathBuf, Verified>>,
}

fn verified_cache() -> &'static VerifiedCache {
    static CACHE: OnceLock<VerifiedCache> = OnceLock::new();
    CACHE.get_or_init(VerifiedCache::default)
}

/// [`check`] for a file (or directory) used on every mapping, given `meta`,
/// the caller's one `stat(2)` of `path` (following symbolic links, as
/// `std::fs::metadata`) taken for this use. Does nothing when not
/// [`privileged`].
///
/// The full walk of [`check`] is done the first time, whenever the file's
/// [`Stamp`] (device, inode, size, mtime, ctime, owner, mode) differs from
/// the one of the last successful walk of `path`, whenever the effective
/// uid differs, when `path` is relative, when `meta` alone breaks the rules
/// for the file itself (owner, mode), and when the last successful walk is
/// [`VERIFIED_TTL`] old or older. Otherwise the result is that walk's:
/// success. A failed walk is not remembered, so failures are reported
/// exactly as [`check`] reports them, every time.
///
/// Why this is as safe as walking every time: a successful walk showed
/// that only root can change every directory that `path` passes through
/// (and every symbolic link on the way), so only root can make `path`
/// resolve to another file, or change the modes that made it so. Another
/// file has another device or inode (an inode number is only reused after
/// the old file is gone, and the new file is then owned by whoever created
/// it, which is in the stamp); a write to the same file changes its mtime
/// and ctime, a `chmod` or `chown` its ctime, mode and owner, which no one
/// but root can set back. So an unchanged stamp means the very file that
/// was verified, unchanged, and any change makes the next call walk again.
/// What a cache cannot see is root weakening a directory above an
/// unchanged file (`chmod o+w /etc/grid-security`): the file that is read
/// is still the verified one, and the weakening is refused on the first
/// call after [`VERIFIED_TTL`], or at once when anyone then replaces or
/// touches the file.
pub fn check_stat(path: &Path, meta: &std::fs::Metadata) -> Result<(), TrustError> {
    let Some(euid) = privileged_euid() else {
        return Ok(());
    };
    verified_cache().check(path, meta, euid, Instant::now(), VERIFIED_TTL)
}

impl VerifiedCache {
    /// [`check_stat`] without the privilege test, for effective uid
    /// `euid` (the process's), at `now`.
    fn check(
        &self,
        path: &Path,
        meta: &std::fs::Metadata,
        euid: u32,
        now: Instant,
        ttl: Duration,
    ) -> Result<(), TrustError> {
        let stamp = Stamp::of(meta);
        let cacheable = path.is_absolute();
        // The rules for the file itself, from `meta`: a file that breaks
        // them is walked (so that the error is the walk's, which names the
        // first element at fault).
        // (`trusted_owner` for `euid`, without asking the kernel again.)
        if cacheable && (meta.uid() == 0 || meta.uid() == euid) && !writable(meta) {
            let paths = self.paths.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(v) = paths.get(path) {
                if v.stamp == stamp && v.euid == euid && now.saturating_duration_since(v.at) < ttl {
                    return Ok(());
                }
            }
        }
        let walked = walk(path);
        let mut paths = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        match &walked {
            // Remembered only when the walk ended at the file `meta`
            // describes, unchanged.
            Ok(leaf) if cacheable && Stamp::of(leaf) == stamp => {
                if paths.len() >= VERIFIED_MAX && !paths.contains_key(path) {
                    paths.clear();
                }
                paths.insert(
                    path.to_path_buf(),
                    Verified {
                        stamp,
                        euid,
                        at: now,
                    },
                );
            }
            _ => {
                paths.remove(path);
            }
        }
        walked.map(drop)
    }
}

/// [`check`] on `dir` and on every entry directly in it (following
/// symbolic links, whose targets are checked in full): for a directory
/// whose files a library reads by name, such as a hashed CA directory.
/// Does nothing when not [`privileged`].
pub fn check_dir_entries(dir: &Path) -> Result<(), TrustError> {
    if !privileged() {
        return Ok(());
    }
    check_always(dir)?;
    let unusable = |p: &Path, e: std::io::Error| {
        TrustError::new(dir, p, Problem::Unusable(e.to_string()), None)
    };
    let mut names: Vec<OsString> = std::fs::read_dir(dir)
        .and_then(|rd| rd.map(|e| e.map(|e| e.file_name())).collect())
        .map_err(|e| unusable(dir, e))?;
    names.sort();
    for name in names {
        let p = dir.join(&name);
        let m = std::fs::symlink_metadata(&p).map_err(|e| unusable(&p, e))?;
        if m.file_type().is_symlink() {
            check_always(&p)?;
        } else {
            leaf(&p, &p, &m)?;
        }
    }
    Ok(())
}

/// Whether `uid` may own what a privileged process trusts.
fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == nix::unistd::geteuid().as_raw()
}

fn writable(m: &std::fs::Metadata) -> bool {
    m.mode() & 0o022 != 0
}

fn sticky(m: &std::fs::Metadata) -> bool {
    m.mode() & 0o1000 != 0
}

/// The owner and mode rules for the last element of the path.
fn leaf(checked: &Path, p: &Path, m: &std::fs::Metadata) -> Result<(), TrustError> {
    if !trusted_owner(m.uid()) {
        return Err(TrustError::new(checked, p, Problem::Owner, Some(m)));
    }
    if writable(m) {
        return Err(TrustError::new(checked, p, Problem::Writable, Some(m)));
    }
    Ok(())
}

/// [`check`] without the privilege test.
fn check_always(path: &Path) -> Result<(), TrustError> {
    walk(path).map(drop)
}

/// [`check_always`], returning the `lstat(2)` of the file the path
/// resolves to.
fn walk(path: &Path) -> Result<std::fs::Metadata, TrustError> {
    let unusable = |p: &Path, e: String| TrustError::new(path, p, Problem::Unusable(e), None);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| unusable(path, format!("no current directory: {e}")))?
            .join(path)
    };
    // The components still to walk, last first.
    let mut todo: Vec<OsString> = Vec::new();
    push_components(&mut todo, &abs);
    let mut dir = PathBuf::from("/");
    let mut dir_meta = stat_root(path)?;
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            dir.pop();
            dir_meta =
                std::fs::symlink_metadata(&dir).map_err(|e| unusable(&dir, e.to_string()))?;
            continue;
        }
        let next = dir.join(&name);
        let m = std::fs::symlink_metadata(&next).map_err(|e| unusable(&next, e.to_string()))?;
        // `dir` holds `name`: nobody but root may be able to replace it. In
        // a sticky directory only the entry's owner (besides the
        // directory's, checked already, and root) can.
        if writable(&dir_meta) {
            if !sticky(&dir_meta) {
                return Err(TrustError::new(
                    path,
                    &dir,
                    Problem::Writable,
                    Some(&dir_meta),
                ));
            }
            if !trusted_owner(m.uid()) {
                return Err(TrustError::new(path, &next, Problem::Owner, Some(&m)));
            }
        }
        if m.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                return Err(unusable(&next, "too many levels of symbolic links".into()));
            }
            let target = std::fs::read_link(&next).map_err(|e| unusable(&next, e.to_string()))?;
            if target.is_absolute() {
                dir = PathBuf::from("/");
                dir_meta = stat_root(path)?;
            }
            push_components(&mut todo, &target);
            continue;
        }
        if todo.is_empty() {
            return leaf(path, &next, &m).map(|()| m);
        }
        if !trusted_owner(m.uid()) {
            return Err(TrustError::new(path, &next, Problem::Owner, Some(&m)));
        }
        if !m.is_dir() {
            return Err(unusable(&next, "not a directory".into()));
        }
        dir = next;
        dir_meta = m;
    }
    // The path was `/` itself (or resolved to it).
    leaf(path, &dir, &dir_meta).map(|()| dir_meta)
}

/// `/`, checked as a directory above everything.
fn stat_root(checked: &Path) -> Result<std::fs::Metadata, TrustError> {
    let root = Path::new("/");
    let m = std::fs::symlink_metadata(root)
        .map_err(|e| TrustError::new(checked, root, Problem::Unusable(e.to_string()), None))?;
    if !trusted_owner(m.uid()) {
        return Err(TrustError::new(checked, root, Problem::Owner, Some(&m)));
    }
    Ok(m)
}

/// Push the components of `p` (not the root, not `.`) onto `todo` so that
/// the first is popped first.
fn push_components(todo: &mut Vec<OsString>, p: &Path) {
    let names: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    todo.extend(names.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    // These run as any user: files the test creates are owned by its
    // effective uid, which `trusted_owner` accepts. Ownership by another
    // account needs root and is tested in tests/trust.rs.

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn tree() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        chmod(t.path(), 0o755);
        let etc = t.path().join("etc");
        std::fs::create_dir(&etc).unwrap();
        let f = etc.join("lcmaps.db");
        std::fs::write(&f, "").unwrap();
        (t, f)
    }

    #[test]
    fn a_tree_of_our_own_under_sticky_tmp_is_accepted() {
        let (_t, f) = tree();
        check_always(&f).unwrap();
        check_always(f.parent().unwrap()).unwrap();
        check_always(Path::new("/")).unwrap();
    }

    #[test]
    fn the_message_names_the_directory_its_mode_owner_and_the_fix() {
        let (_t, f) = tree();
        let etc = f.parent().unwrap();
        chmod(etc, 0o775);
        let e = check_always(&f).unwrap_err();
        assert_eq!(e.path, etc);
        assert_eq!(e.problem, Problem::Writable);
        let uid = nix::unistd::geteuid().as_raw();
        assert_eq!(
            e.to_string(),
            format!(
                "directory {0} is writable by group (mode 0775, owner {uid}), on the way to {1}: \
                 a privileged process trusts only files that only root can change; make it \
                 root-owned and not group/other-writable (chmod go-w {0})",
                etc.display(),
                f.display()
            )
        );
        // The directory itself, checked as the last element.
        let e = check_always(etc).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("directory {} is writable by group", etc.display())),
            "{e}"
        );
    }

    #[test]
    fn a_sticky_world_writable_file_is_still_refused() {
        let (_t, f) = tree();
        chmod(&f, 0o1666);
        let e = check_always(&f).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "file {} is writable by group and others (mode 1666",
                f.display()
            )),
            "{e}"
        );
    }

    #[test]
    fn a_world_writable_sticky_directory_holding_our_files_is_accepted() {
        let (t, f) = tree();
        chmod(t.path(), 0o1777);
        check_always(&f).unwrap();
        chmod(t.path(), 0o0777);
        let e = check_always(&f).unwrap_err();
        assert_eq!(e.path, t.path());
    }

    #[test]
    fn dot_dot_and_relative_links_are_resolved_and_their_directories_checked() {
        let (t, f) = tree();
        let etc = f.parent().unwrap();
        let other = t.path().join("other");
        std::fs::create_dir(&other).unwrap();
        check_always(&other.join("../etc/lcmaps.db")).unwrap();
        symlink("../etc/lcmaps.db", other.join("link")).unwrap();
        check_always(&other.join("link")).unwrap();
        // The directory holding the link is checked...
        chmod(&other, 0o777);
        let e = check_always(&other.join("link")).unwrap_err();
        assert_eq!(e.path, other);
        chmod(&other, 0o755);
        // ...and so is the target's.
        chmod(etc, 0o757);
        let e = check_always(&other.join("link")).unwrap_err();
        assert_eq!(
            (e.path.as_path(), e.checked.as_path()),
            (etc, other.join("link").as_path())
        );
        assert!(e.to_string().contains("writable by others"), "{e}");
    }

    #[test]
    fn a_link_loop_and_a_missing_file_are_refused() {
        let (t, _f) = tree();
        symlink("b", t.path().join("a")).unwrap();
        symlink("a", t.path().join("b")).unwrap();
        let e = check_always(&t.path().join("a")).unwrap_err();
        assert!(
            e.to_string().contains("too many levels of symbolic links"),
            "{e}"
        );
        let missing = t.path().join("missing");
        let e = check_always(&missing).unwrap_err();
        assert_eq!(e.path, missing);
        assert!(matches!(e.problem, Problem::Unusable(_)));
        let e = check_always(&t.path().join("etc/lcmaps.db/x")).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
    }

    /// `check` of a fresh cache at `now`, with `path`'s stat taken now.
    fn cached(c: &VerifiedCache, path: &Path, now: Instant) -> Result<(), TrustError> {
        let meta = std::fs::metadata(path).unwrap();
        let euid = nix::unistd::geteuid().as_raw();
        c.check(path, &meta, euid, now, VERIFIED_TTL)
    }

    #[test]
    fn a_remembered_walk_is_repeated_when_the_file_is_swapped() {
        let (t, f) = tree();
        let c = VerifiedCache::default();
        let now = Instant::now();
        cached(&c, &f, now).unwrap();
        // A directory above becomes world-writable and the file is
        // replaced (same content, same size: only the inode differs).
        chmod(t.path(), 0o777);
        let new = t.path().join("etc/new");
        std::fs::write(&new, "").unwrap();
        std::fs::rename(&new, &f).unwrap();
        let e = cached(&c, &f, now).unwrap_err();
        assert_eq!(e, check_always(&f).unwrap_err(), "the walk's own error");
        assert_eq!(
            (e.path.as_path(), &e.problem),
            (t.path(), &Problem::Writable)
        );
        // Still refused on every later call (a failure is not remembered).
        assert_eq!(cached(&c, &f, now).unwrap_err(), e);
        chmod(t.path(), 0o755);
        cached(&c, &f, now).unwrap();
    }

    #[test]
    fn a_remembered_walk_is_repeated_when_the_file_changes() {
        let (_t, f) = tree();
        let c = VerifiedCache::default();
        let now = Instant::now();
        cached(&c, &f, now).unwrap();
        chmod(&f, 0o664);
        let e = cached(&c, &f, now).unwrap_err();
        assert_eq!(e, check_always(&f).unwrap_err());
        assert_eq!(
            (e.path.as_path(), &e.problem),
            (f.as_path(), &Problem::Writable)
        );
        chmod(&f, 0o644);
        cached(&c, &f, now).unwrap();
        // Written in place: another size and mtime, walked again (and the
        // directory's new mode seen at once).
        chmod(f.parent().unwrap(), 0o775);
        std::fs::write(&f, "x").unwrap();
        let e = cached(&c, &f, now).unwrap_err();
        assert_eq!(e.path, f.parent().unwrap());
    }

    #[test]
    fn a_weakened_directory_above_an_unchanged_file_is_refused_after_the_ttl() {
        let (t, f) = tree();
        let c = VerifiedCache::default();
        let now = Instant::now();
        cached(&c, &f, now).unwrap();
        chmod(t.path(), 0o777);
        // The file is the verified one, unchanged: the remembered walk
        // holds until it is VERIFIED_TTL old...
        cached(&c, &f, now + VERIFIED_TTL / 2).unwrap();
        // ...then the walk is repeated and refuses the directory.
        let e = cached(&c, &f, now + VERIFIED_TTL).unwrap_err();
        assert_eq!(e, check_always(&f).unwrap_err());
        assert_eq!(e.path, t.path());
        // An unremembered path is walked at once.
        let e = cached(&VerifiedCache::default(), &f, now).unwrap_err();
        assert_eq!(e.path, t.path());
    }

    #[test]
    fn a_link_retargeted_to_another_file_is_walked_again() {
        let (t, f) = tree();
        let other = t.path().join("other");
        std::fs::create_dir(&other).unwrap();
        let moved = other.join("lcmaps.db");
        std::fs::write(&moved, "").unwrap();
        let link = t.path().join("link");
        symlink(&f, &link).unwrap();
        let c = VerifiedCache::default();
        let now = Instant::now();
        cached(&c, &link, now).unwrap();
        chmod(&other, 0o777);
        std::fs::remove_file(&link).unwrap();
        symlink(&moved, &link).unwrap();
        let e = cached(&c, &link, now).unwrap_err();
        assert_eq!(
            (e.path.as_path(), e.checked.as_path()),
            (other.as_path(), link.as_path())
        );
    }

    #[test]
    fn the_stamp_tells_files_and_versions_apart() {
        let (t, f) = tree();
        let m = std::fs::metadata(&f).unwrap();
        assert_eq!(Stamp::of(&m), Stamp::of(&std::fs::metadata(&f).unwrap()));
        assert_ne!(
            Stamp::of(&m),
            Stamp::of(&std::fs::metadata(t.path()).unwrap())
        );
        chmod(&f, 0o600);
        assert_ne!(Stamp::of(&m), Stamp::of(&std::fs::metadata(&f).unwrap()));
    }

    #[test]
    fn every_entry_of_a_directory_is_checked() {
        let (_t, f) = tree();
        let etc = f.parent().unwrap();
        std::fs::write(etc.join("b.0"), "").unwrap();
        symlink("b.0", etc.join("a.0")).unwrap();
        if privileged() {
            check_dir_entries(etc).unwrap();
        }
        chmod(&etc.join("b.0"), 0o664);
        if privileged() {
            let e = check_dir_entries(etc).unwrap_err();
            // Through the link first (sorted), which names the target.
            assert_eq!(e.path, etc.join("b.0"));
            assert_eq!(e.checked, etc.join("a.0"));
        }
    }
}
