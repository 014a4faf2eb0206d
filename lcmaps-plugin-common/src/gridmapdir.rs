//! The gridmapdir protocol of upstream's `lcmaps_gridmapdir()`.
//!
//! A gridmapdir holds one empty regular file per pool account (`dteam001`,
//! ...). A lease is a hard link to such a file named by the URL-encoded DN
//! (see [`crate::urlencode`]); an account with link count 1 is free. Leases
//! are created with `link(2)` and checked with `lstat(2)` afterwards, so the
//! protocol is atomic on NFS without locks: whoever ends up as the only
//! second name of the account file owns it.
//!
//! Differences from upstream (all fail-closed or strictly more successful):
//! * **Which free account is taken.** The candidates are read in `readdir`
//!   order in windows of [`WINDOW`]; within a window they are tried (taken
//!   ones skipped) starting at an offset derived from a hash (FNV-1a) of the
//!   lease name, wrapping around, and the next window is read only when
//!   none of them could be had. Upstream takes the first free entry in
//!   `readdir` order (effectively arbitrary on ext4/XFS/NFS), so any order is
//!   compatible; ours is deterministic for a given directory and spreads
//!   processes that race for first leases over up to [`WINDOW`] accounts,
//!   where "first free entry" sends every racer to the same file.
//! * **Losing a race.** When, after our `link`, the account file has more than
//!   two names (another lease grabbed it at the same time), we remove our
//!   lease and try the next free account, rescanning the directory up to
//!   [`MAX_ROUNDS`] times, after a short random pause when every free
//!   account of a round was lost; upstream backs off and fails. "No
//!   mapping" is only reported when a scan finds no free account.
//! * **An account removed meanwhile.** After our `link` the account name must
//!   still name the file we linked; if an administrator removed the account
//!   (and perhaps created it again) in between, our link is no lease and is
//!   removed like a lost race. Upstream only counts links, and two names
//!   are also what two leases of one removed account file have: both
//!   processes would win it.
//! * **Removing a stale lease** (solitary, or to an account of another pool
//!   with `-override_inconsistency`). Upstream unlinks the lease name; but
//!   between looking at the lease and unlinking it, another process working
//!   for the same DN may have replaced it by a fresh lease, which the unlink
//!   would destroy: that process then runs the DN as an account the
//!   gridmapdir calls free, and the next DN gets it too. Here the lease is
//!   first renamed aside to a private name (atomic), looked at again there,
//!   and unlinked only if it is still the file that was judged stale;
//!   otherwise it is put back and the lease is looked at again. Should yet
//!   another lease have been made in that instant, the one put aside stays
//!   under its private name ([`ASIDE_PREFIX`]), so that its account stays
//!   taken (an error is logged: remove it when no job of that DN runs).
//! * **A file with more than two names** (an account two racers linked at
//!   once, or a lease to it) is looked at again after a short pause: the
//!   racers remove their extra names at once. Upstream fails the mapping.
//!   Only a link count that stays above two for [`MAX_ROUNDS`] rounds
//!   (under a second) is an error. Likewise a requested account lost to a
//!   racer is looked at again (taken by the racer: no mapping; free again:
//!   tried again).
//! * **Refusals.** A world-writable gridmapdir (in a privileged process, one
//!   anyone but root can change: [`lcmaps_core::trust`]), and a lease name that does
//!   not start with `%` (a DN that does not start with `/`: its lease could
//!   be the name of a pool account) or contains `/`, are refused.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, Metadata, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use nix::fcntl::OFlag;
use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;

use crate::mapfile::{self, Select};
use crate::options::{Kind, Opt};
use crate::urlencode::{lease_name, urlencode};

/// Highest `-max_mappings_per_credential`.
pub const ABSOLUTE_MAPPING_MAX: i32 = 9999;

/// The spellings of the option naming the gridmapdir.
pub const GRIDMAPDIR_OPTION: &[&str] = &["-gridmapdir", "-GRIDMAPDIR"];

/// The spellings of the option naming the groupmapdir (VOMS pool groups).
pub const GROUPMAPDIR_OPTION: &[&str] = &["-groupmapdir", "-GROUPMAPDIR"];

/// The spellings of the flag [`Options::override_inconsistency`].
pub const OVERRIDE_INCONSISTENCY_OPTION: &[&str] =
    &["-override_inconsistency", "-OVERRIDE_INCONSISTENCY"];

/// The option (`yes` or `no`) setting [`Options::strict_prefix`].
pub const STRICT_POOLPREFIX_OPTION: &[&str] = &["-strict_poolprefix_match"];

/// `-max_mappings_per_credential <n>`, 1 to [`ABSOLUTE_MAPPING_MAX`], with
/// upstream's message for another value; `set` stores it.
pub const fn mapping_max_option<T>(set: fn(&mut T, i32)) -> Opt<T> {
    Opt::new(
        &["-max_mappings_per_credential"],
        Kind::Int {
            what: "a valid number",
            min: 1,
            max: ABSOLUTE_MAPPING_MAX,
            bad: |_, v| {
                format!(
                    "Illegal value for \"-max_mappings_per_credential\" ({v}): Should be in the range: 1-{ABSOLUTE_MAPPING_MAX} (failure)"
                )
            },
            set,
        },
    )
}

/// The lease directory of a pool plugin: the `-gridmapdir`/`-groupmapdir`
/// option when given, else environment variable `env` (e.g. `GRIDMAPDIR`),
/// resolved as upstream resolves file options. `what` names it in the
/// error ("gridmapdir").
pub fn lease_dir(
    option: Option<&Path>,
    env: &str,
    what: &str,
) -> Result<std::path::PathBuf, String> {
    if let Some(d) = option {
        return Ok(d.to_path_buf());
    }
    match std::env::var(env).ok().filter(|v| !v.is_empty()) {
        None => Err(format!(
            "{what} is unset: specify via cmdline or {env} environment variable"
        )),
        Some(v) => crate::files::resolve_file_option(&v),
    }
}
/// Names a process gives a lease it moves aside to remove it (see the module
/// documentation); never a pool account nor a lease.
pub const ASIDE_PREFIX: &str = ".lcmaps-aside~";

/// How often the directory is rescanned after losing races.
pub const MAX_ROUNDS: usize = 16;
/// How many pool accounts (in directory order) one lease attempt spreads
/// over; see the module documentation.
pub const WINDOW: usize = 32;

/// Options of a lookup (upstream's option bits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// MATCH_WILD_CHARS for the grid-mapfile.
    pub wildcards: bool,
    /// MATCH_STRICT_PREFIX_NUM: pool accounts are pool name + digits.
    pub strict_prefix: bool,
    /// OVERRIDE_INCONSISTANCY: remove a lease to an account of another pool.
    pub override_inconsistency: bool,
    /// ONLY_USE_EXISTING_LEASE (verification): never create a lease.
    pub only_existing: bool,
}

/// One `lcmaps_gridmapdir()` call.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The grid-mapfile option (`None`: default file).
    pub mapfile: Option<&'a Path>,
    /// The DN (grid-mapfile key).
    pub dn: &'a str,
    /// The lease name before the mapcount (usually the DN).
    pub leasename: &'a [u8],
    /// The gridmapdir.
    pub dir: &'a Path,
    /// `-max_mappings_per_credential`.
    pub mapping_max: i32,
    /// The `mapcounter` run variable.
    pub mapcounter: i32,
    /// A requested account.
    pub requested: Option<&'a str>,
    /// Options.
    pub options: Options,
}

/// A lease found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The pool account.
    pub account: String,
    /// The encoded lease name (LCMAPS's POOL_INDEX).
    pub encoded: String,
}

/// `pool_match()`: `name` starts with `pool`; strictly, the rest is one or
/// more digits.
pub fn pool_match(name: &str, pool: &str, strict: bool) -> bool {
    match name.strip_prefix(pool) {
        None => false,
        Some(rest) => !strict || (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())),
    }
}

/// Whether a gridmapdir entry is a pool-account candidate for `pool`.
fn candidate(name: &[u8], pool: &str, strict: bool) -> bool {
    let Ok(name) = std::str::from_utf8(name) else {
        return false;
    };
    !name.starts_with('%')
        && !name.starts_with('.')
        && name != "root"
        && !name.contains('~')
        && pool_match(name, pool, strict)
}

/// The full upstream algorithm: grid-mapfile lookup for a `.pool` mapping,
/// then find or make the lease. `Ok(None)`: no mapping (a notice, not an
/// error); `Err`: an error, logged by the caller.
pub fn lookup(req: &Request<'_>) -> Result<Option<Lease>, String> {
    if !(1..=ABSOLUTE_MAPPING_MAX).contains(&req.mapping_max) {
        return Err(format!(
            "illegal value for maximum mappings per credential ({}); should be 1-{ABSOLUTE_MAPPING_MAX}",
            req.mapping_max
        ));
    }
    if req.mapcounter != -1 && req.mapcounter != 0 && req.mapcounter < 1 {
        return Err(format!(
            "illegal value for mapcounter ({}), should at least be 1",
            req.mapcounter
        ));
    }
    if req.mapcounter > req.mapping_max {
        return Err(format!(
            "the request for mapping nr. {} exceeds the maximum of {}",
            req.mapcounter, req.mapping_max
        ));
    }
    let hit = mapfile::gridmapfile(
        req.mapfile,
        req.dn,
        req.options.wildcards,
        Select::Include("."),
        true,
    )
    .map_err(|e| e.to_string())?;
    let Some(mapping) = hit.and_then(|h| h.mapping) else {
        log::info!("no pool mapping for \"{}\" in the grid-mapfile", req.dn);
        return Ok(None);
    };
    let pool = &mapping[1..];
    if pool.is_empty() {
        return Err(format!(
            "empty pool name in grid-mapfile for \"{}\"",
            req.dn
        ));
    }
    log::debug!("found pool {pool} for \"{}\"", req.dn);
    let encoded = urlencode(&lease_name(req.leasename, req.mapcounter));
    let encoded =
        String::from_utf8(encoded).map_err(|_| "lease name is not valid UTF-8".to_string())?;
    if encoded.starts_with(TOKEN_LEASE_PREFIX) {
        return Err(format!(
            "refusing lease name \"{encoded}\": {TOKEN_LEASE_PREFIX} names bearer-token leases"
        ));
    }
    lease(req.dir, &encoded, pool, req.requested, req.options)
}

/// Lease names of bearer-token subjects start with this (see
/// `lcmaps_scitokens::pool`). No encoded DN or FQAN can: [`urlencode`]
/// writes `%` only before two hex digits, and `t` is none.
pub const TOKEN_LEASE_PREFIX: &str = "%token:";

/// Find or make the lease named `encoded` (an encoded lease name: starts
/// with `%`, no `/`) in the gridmapdir `dir`: to the `requested` account,
/// which must be of `pool`, else to the account it already leases in
/// `pool` or a free one. The second half of [`lookup`], shared by every
/// kind of lease (DNs, FQANs, token subjects). `Ok(None)`: no mapping.
pub fn lease(
    dir: &Path,
    encoded: &str,
    pool: &str,
    requested: Option<&str>,
    options: Options,
) -> Result<Option<Lease>, String> {
    if let Some(r) = requested {
        if !pool_match(r, pool, options.strict_prefix) {
            return Err(format!(
                "requested mapping \"{r}\" is not in pool \"{pool}\""
            ));
        }
    }
    if !encoded.starts_with('%') || encoded.contains('/') || encoded.contains('\0') {
        return Err(format!(
            "refusing lease name \"{encoded}\": a lease must start with '%' and contain no '/'"
        ));
    }
    let dir = Gridmapdir::open(dir)?;
    let account = match requested {
        Some(r) => dir.requested(encoded, r, options)?.then(|| r.to_string()),
        None => {
            if options.only_existing {
                return Err("verification without a requested account".into());
            }
            dir.pool(encoded, pool, options)?
        }
    };
    Ok(account.map(|account| Lease {
        account,
        encoded: encoded.to_string(),
    }))
}

/// Outcome of one attempt to link a lease to an account file.
enum Link {
    /// The lease is ours: exactly two names, the account's inode.
    Won,
    /// Another lease grabbed the account at the same time (ours is
    /// removed), or the account file is gone.
    Lost,
    /// The lease name changed under us (a process with the same DN): look
    /// at the existing lease again.
    Recheck,
}

/// An open gridmapdir.
#[derive(Debug)]
pub struct Gridmapdir {
    dir: PathBuf,
}

fn other_link_cache() -> &'static Mutex<HashMap<(u64, u64), OsString>> {
    static C: OnceLock<Mutex<HashMap<(u64, u64), OsString>>> = OnceLock::new();
    C.get_or_init(Default::default)
}

/// Result of removing a lease name only if it is the file judged removable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Removal {
    /// Removed, or already gone.
    Removed,
    /// The name held another file (now put back): look at the lease again.
    Changed,
}

/// What identifies the version of a lease that was judged stale: a fresh
/// lease is another inode, or has another link count, or was touched.
fn same_version(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev()
        && a.ino() == b.ino()
        && a.nlink() == b.nlink()
        && (a.mtime(), a.mtime_nsec()) == (b.mtime(), b.mtime_nsec())
}

fn aside_name() -> String {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{ASIDE_PREFIX}{}~{n}", std::process::id())
}

/// A pause before looking again at a file other processes are linking, or
/// before trying again after losing every race of a round: about 0.2 ms,
/// doubling up to 100 ms (a racer may be descheduled between its `link`
/// and its `unlink`), between half and all of that at random so that
/// racers fall out of step; [`MAX_ROUNDS`] of them add up to under a second.
fn pause(round: usize) {
    let micros = (200u64 << round.min(9)).min(100_000);
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let seed = clock ^ (u64::from(std::process::id()) << 32);
    let jitter = fnv1a(&seed.to_le_bytes()) % (micros / 2 + 1);
    std::thread::sleep(std::time::Duration::from_micros(micros / 2 + jitter));
}

/// Result of looking for the second name of a lease.
enum Other {
    /// The other name has more than two links: a race in progress.
    Busy(String),
    /// The other name (link count 2).
    Name(String),
    /// Only the lease itself was found: solitary.
    Solitary,
    /// Neither found again, or the other now has one link: changed under us.
    Vanished,
}

/// Set the times of `path` to now. `Ok(false)`: it is gone (for a moment,
/// perhaps: another process may have it aside; look again).
fn touch(path: &Path) -> Result<bool, String> {
    match utimensat(
        None,
        path,
        &TimeSpec::UTIME_NOW,
        &TimeSpec::UTIME_NOW,
        UtimensatFlags::NoFollowSymlink,
    ) {
        Ok(()) => Ok(true),
        Err(nix::errno::Errno::ENOENT) => Ok(false),
        Err(e) => Err(format!("touching \"{}\" failed: {e}", path.display())),
    }
}

fn lstat(path: &Path) -> std::io::Result<Metadata> {
    fs::symlink_metadata(path)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl Gridmapdir {
    /// Check the directory: it must be a directory and not world-writable,
    /// and in a privileged process one only root can change
    /// ([`lcmaps_core::trust::check`]: root-owned, not writable by group or
    /// others, nor any directory above it).
    pub fn open(dir: &Path) -> Result<Gridmapdir, String> {
        let m = fs::metadata(dir)
            .map_err(|e| format!("cannot use gridmapdir {}: {e}", dir.display()))?;
        if !m.is_dir() {
            return Err(format!("gridmapdir {} is not a directory", dir.display()));
        }
        lcmaps_core::trust::check(dir).map_err(|e| format!("refusing gridmapdir: {e}"))?;
        if m.permissions().mode() & 0o002 != 0 {
            return Err(format!(
                "gridmapdir {} is world-writable (mode {:o}): refusing it",
                dir.display(),
                m.permissions().mode() & 0o7777
            ));
        }
        Ok(Gridmapdir {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, name: impl AsRef<OsStr>) -> PathBuf {
        self.dir.join(name.as_ref())
    }

    fn names(&self) -> Result<Vec<OsString>, String> {
        fs::read_dir(&self.dir)
            .and_then(|rd| rd.map(|e| e.map(|e| e.file_name())).collect())
            .map_err(|e| format!("error reading directory {}: {e}", self.dir.display()))
    }

    /// `get_otherlink()`: the other name of `lease` (inode `ino`), from a
    /// per-process cache verified with lstat, else by scanning the directory.
    fn other_link(&self, lease: &str, dev: u64, ino: u64) -> Result<Other, String> {
        let cached = other_link_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(dev, ino))
            .cloned();
        if let Some(name) = cached {
            if name != OsStr::new(lease) {
                if let Ok(m) = lstat(&self.path(&name)) {
                    if m.ino() == ino && m.dev() == dev && m.nlink() == 2 {
                        if let Ok(n) = name.into_string() {
                            return Ok(Other::Name(n));
                        }
                    }
                }
            }
        }
        let mut found_first = false;
        for name in self.names()? {
            if name == OsStr::new(lease) {
                found_first = true;
                continue;
            }
            if name.as_bytes().starts_with(ASIDE_PREFIX.as_bytes()) {
                continue;
            }
            let Ok(m) = lstat(&self.path(&name)) else {
                continue;
            };
            if m.ino() != ino || m.dev() != dev {
                continue;
            }
            return match m.nlink() {
                2 => {
                    other_link_cache()
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert((dev, ino), name.clone());
                    Ok(Other::Name(
                        String::from_utf8_lossy(name.as_bytes()).into_owned(),
                    ))
                }
                1 => Ok(Other::Vanished),
                n => Ok(Other::Busy(format!(
                    "found other link {} but its link count is {n}",
                    name.to_string_lossy()
                ))),
            };
        }
        Ok(if found_first {
            Other::Solitary
        } else {
            Other::Vanished
        })
    }

    /// `create_link()`, after upstream's write-access check.
    fn link(&self, account: &str, ino: u64, lease: &str) -> Result<Link, String> {
        let apath = self.path(account);
        let lpath = self.path(lease);
        // An account removed meanwhile (by an administrator) is lost.
        match OpenOptions::new()
            .append(true)
            .custom_flags(OFlag::O_NOFOLLOW.bits())
            .open(&apath)
        {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Link::Lost),
            Err(e) => return Err(format!("no write-access to \"{}\": {e}", apath.display())),
        }
        match fs::hard_link(&apath, &lpath) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(Link::Recheck),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Link::Lost),
            Err(e) => return Err(format!("cannot link {account} to \"{lease}\": {e}")),
        }
        let m = match lstat(&lpath) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Link::Recheck),
            Err(e) => return Err(format!("stat of \"{lease}\" failed: {e}")),
        };
        // Whether `f` is (still) the file the account name names: an
        // administrator may have removed the account, or removed and created
        // it again, since it was looked at or even since it was linked. A
        // link to an account file that is gone is no lease, and its link
        // count says nothing about who else holds the account.
        let is_account =
            |f: &Metadata| lstat(&apath).is_ok_and(|a| a.ino() == f.ino() && a.dev() == f.dev());
        let current = is_account(&m);
        if !current && m.ino() != ino {
            // Replaced by a process working for the same DN.
            return Ok(Link::Recheck);
        }
        match m.nlink() {
            2 if current => {
                if !touch(&lpath)? {
                    return Ok(Link::Recheck);
                }
                // The next lookup of this lease finds its account at once.
                other_link_cache()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((m.dev(), m.ino()), OsString::from(account));
                Ok(Link::Won)
            }
            n => {
                // >2: two leases grabbed it; 1 or not `current`: the account
                // file went away.
                log::warn!(
                    "{account} has {n} links after linking \"{lease}\": backing off to the next account"
                );
                // Removed if it is still our link and not, now that the
                // racer has backed off, the account's only lease (then it
                // is put back and looked at again, as is a lease another
                // process made meanwhile).
                let ours = (m.dev(), m.ino());
                let sole_lease = |f: &Metadata| f.nlink() == 2 && is_account(f);
                match self
                    .remove_lease_if(lease, |f| (f.dev(), f.ino()) == ours && !sole_lease(f))?
                {
                    Removal::Removed => Ok(Link::Lost),
                    Removal::Changed => Ok(Link::Recheck),
                }
            }
        }
    }

    /// Remove the lease name `lease` if the file it names is one
    /// `removable` accepts: the file is renamed aside (atomically), looked
    /// at under its private name, and unlinked, or put back when it is not
    /// removable (see the module documentation).
    fn remove_lease_if(
        &self,
        lease: &str,
        removable: impl Fn(&Metadata) -> bool,
    ) -> Result<Removal, String> {
        let lpath = self.path(lease);
        // Most leases replaced meanwhile are seen here, without taking them
        // away for a moment.
        match lstat(&lpath) {
            Ok(m) if !removable(&m) => return Ok(Removal::Changed),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Removal::Removed),
            Err(e) => return Err(format!("cannot stat lease \"{}\": {e}", lpath.display())),
        }
        let aside = self.path(aside_name());
        match fs::rename(&lpath, &aside) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Removal::Removed),
            Err(e) => return Err(format!("cannot move lease \"{lease}\" aside: {e}")),
        }
        let unlink_aside = || {
            fs::remove_file(&aside)
                .map_err(|e| format!("cannot unlink \"{}\": {e}", aside.display()))
        };
        let m =
            lstat(&aside).map_err(|e| format!("stat of \"{}\" failed: {e}", aside.display()))?;
        if removable(&m) {
            unlink_aside()?;
            return Ok(Removal::Removed);
        }
        match fs::hard_link(&aside, &lpath) {
            Ok(()) => {
                log::info!("lease \"{lease}\" was renewed by another process; left in place");
                unlink_aside()?;
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => log::error!(
                "lease \"{lease}\" was renewed twice by other processes while being replaced; \
                 the earlier one is kept as \"{}\" so that its account is not given to \
                 anyone else: remove it when no job of that DN runs",
                aside.display()
            ),
            Err(e) => {
                return Err(format!(
                    "cannot put lease \"{lease}\" back from \"{}\": {e}",
                    aside.display()
                ))
            }
        }
        Ok(Removal::Changed)
    }

    /// `get_pool_mapping()`: reuse the lease of `lease` or take a free
    /// account of `pool`. `Ok(None)`: no mapping.
    pub fn pool(&self, lease: &str, pool: &str, opts: Options) -> Result<Option<String>, String> {
        let lpath = self.path(lease);
        // Why the last round ended without an answer, if a link count
        // above two was the reason.
        let mut busy: Option<String> = None;
        'rounds: for round in 0..MAX_ROUNDS {
            busy = None;
            // The lease as it was judged stale, to be removed before linking.
            let mut stale: Option<Metadata> = None;
            match lstat(&lpath) {
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot stat lease \"{}\": {e}", lpath.display())),
                Ok(m) => {
                    if !m.file_type().is_file() {
                        return Err(format!("lease is not a regular file: \"{lease}\""));
                    }
                    match m.nlink() {
                        1 => {
                            log::info!("will remove solitary lease \"{lease}\"");
                            stale = Some(m);
                        }
                        2 => match self.other_link(lease, m.dev(), m.ino())? {
                            Other::Vanished => continue 'rounds,
                            Other::Busy(why) => {
                                busy = Some(why);
                                pause(round);
                                continue 'rounds;
                            }
                            Other::Solitary => {
                                log::info!(
                                    "no other link in {}, will remove solitary lease \"{lease}\"",
                                    self.dir.display()
                                );
                                stale = Some(m);
                            }
                            Other::Name(other) if pool_match(&other, pool, opts.strict_prefix) => {
                                log::debug!("reusing existing lease \"{lease}\" to {other}");
                                if !touch(&lpath)? {
                                    continue 'rounds;
                                }
                                return Ok(Some(other));
                            }
                            Other::Name(other) => {
                                if !opts.override_inconsistency {
                                    log::info!("wrong pool-entry {other} for pool {pool} and hard link named \"{lease}\"");
                                    return Ok(None);
                                }
                                log::info!("will remove inconsistent lease \"{lease}\" to {other}");
                                stale = Some(m);
                            }
                        },
                        n => {
                            busy = Some(format!("too many links (={n}) to \"{lease}\""));
                            pause(round);
                            continue 'rounds;
                        }
                    }
                }
            }
            // Candidates in readdir order, in windows of WINDOW; within a
            // window they are tried from an offset given by a hash of the
            // lease name (so racers spread out), each lstat'ed only when its
            // turn comes. A lease in a mostly free pool costs part of one
            // readdir and a few lstats, like upstream's first-free scan.
            let mut saw_free = false;
            let mut window: Vec<String> = Vec::with_capacity(WINDOW);
            let mut entries = fs::read_dir(&self.dir)
                .map_err(|e| format!("error reading directory {}: {e}", self.dir.display()))?;
            loop {
                let next = entries
                    .next()
                    .transpose()
                    .map_err(|e| format!("error reading directory {}: {e}", self.dir.display()))?;
                let done = next.is_none();
                if let Some(e) = next {
                    let n = e.file_name();
                    if candidate(n.as_bytes(), pool, opts.strict_prefix) {
                        if let Ok(n) = n.into_string() {
                            window.push(n);
                        }
                    }
                    if window.len() < WINDOW {
                        continue;
                    }
                }
                let offset = match window.len() {
                    0 => 0,
                    n => (fnv1a(lease.as_bytes()) % n as u64) as usize,
                };
                for name in window.iter().cycle().skip(offset).take(window.len()) {
                    let Ok(m) = lstat(&self.path(name)) else {
                        continue;
                    };
                    if !m.file_type().is_file() || m.nlink() != 1 {
                        continue;
                    }
                    saw_free = true;
                    if let Some(old) = stale.take() {
                        if self.remove_lease_if(lease, |m| same_version(m, &old))?
                            == Removal::Changed
                        {
                            continue 'rounds;
                        }
                    }
                    match self.link(name, m.ino(), lease)? {
                        Link::Won => {
                            log::debug!(
                                "lease \"{lease}\" successfully mapped to pool entry {name}"
                            );
                            return Ok(Some(name.clone()));
                        }
                        Link::Lost => continue,
                        Link::Recheck => continue 'rounds,
                    }
                }
                window.clear();
                if done {
                    break;
                }
            }
            if !saw_free {
                log::info!("no pool-entry available for pool-name {pool} and lease \"{lease}\"");
                return Ok(None);
            }
            // Every free account tried was taken by a racer: scan again.
            pause(round);
        }
        Err(match busy {
            Some(why) => format!("{why}, still after {MAX_ROUNDS} rounds"),
            None => format!(
                "giving up on lease \"{lease}\" in pool {pool} after {MAX_ROUNDS} rounds of lost races"
            ),
        })
    }

    /// `get_req_pool_mapping()`: make or verify the lease of `lease` to the
    /// requested account. `Ok(false)`: no mapping.
    pub fn requested(&self, lease: &str, account: &str, opts: Options) -> Result<bool, String> {
        if account.contains('/') || account.starts_with('.') || account.is_empty() {
            return Err(format!("invalid requested account \"{account}\""));
        }
        let lpath = self.path(lease);
        let apath = self.path(account);
        let mut busy: Option<String> = None;
        for round in 0..MAX_ROUNDS {
            busy = None;
            let lease_st = match lstat(&lpath) {
                Ok(m) => {
                    if !m.file_type().is_file() {
                        return Err(format!("lease is not a regular file: \"{lease}\""));
                    }
                    if m.nlink() > 2 {
                        busy = Some(format!(
                            "too many ({}) hard-links for lease \"{lease}\"",
                            m.nlink()
                        ));
                        pause(round);
                        continue;
                    }
                    Some(m)
                }
                Err(e) if e.kind() == ErrorKind::NotFound && !opts.only_existing => None,
                // Upstream makes a missing lease in verification an error,
                // which stops the mapcount=1..max loop before the
                // mapcounter-less lease is tried; here it is "no mapping".
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    log::info!("no lease \"{lease}\" to verify");
                    return Ok(false);
                }
                Err(e) => return Err(format!("cannot stat lease \"{}\": {e}", lpath.display())),
            };
            let acc = lstat(&apath)
                .map_err(|e| format!("cannot stat requested mapping {}: {e}", apath.display()))?;
            if !acc.file_type().is_file() {
                return Err(format!("pool-entry {account} is not a regular file"));
            }
            if acc.nlink() > 2 {
                busy = Some(format!(
                    "too many ({}) hard-links for pool-entry {account}",
                    acc.nlink()
                ));
                pause(round);
                continue;
            }
            let lease_links = lease_st.as_ref().map_or(0, |m| m.nlink());
            if acc.nlink() == 2 {
                if lease_links == 2 && lease_st.as_ref().is_some_and(|m| m.ino() == acc.ino()) {
                    log::debug!("reusing existing lease \"{lease}\" to {account}");
                    if !opts.only_existing && !touch(&apath)? {
                        continue;
                    }
                    return Ok(true);
                }
                log::info!("pool-entry {account} is taken by another lease");
                return Ok(false);
            }
            let mut remove = false;
            if lease_links == 2 {
                if opts.only_existing || !opts.override_inconsistency {
                    log::info!("lease \"{lease}\" is already hard-linked to another pool-entry instead of requested {account}");
                    return Ok(false);
                }
                remove = true;
            } else {
                if opts.only_existing {
                    log::info!(
                        "neither requested mapping {account} nor lease \"{lease}\" are hard-linked"
                    );
                    return Ok(false);
                }
                if lease_links == 1 {
                    log::info!("removing solitary lease \"{lease}\"");
                    remove = true;
                }
            }
            if let Some(old) = lease_st.as_ref().filter(|_| remove) {
                if self.remove_lease_if(lease, |m| same_version(m, old))? == Removal::Changed {
                    continue;
                }
            }
            match self.link(account, acc.ino(), lease)? {
                Link::Won => return Ok(true),
                Link::Lost => {
                    // Taken by a racer, or both backed off: look again.
                    log::info!("requested pool-entry {account} was contended; looking again");
                    pause(round);
                    continue;
                }
                Link::Recheck => continue,
            }
        }
        Err(match busy {
            Some(why) => format!("{why}, still after {MAX_ROUNDS} rounds"),
            None => format!("giving up on lease \"{lease}\" for {account}: it keeps changing"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gridmapdir a privileged process accepts (root-owned 0755 under a
    /// 0755 directory), with pool accounts `pool1` and `pool2`.
    fn dir() -> (tempfile::TempDir, Gridmapdir) {
        let t = tempfile::tempdir().unwrap();
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let d = t.path().join("gridmapdir");
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        for a in ["pool1", "pool2"] {
            fs::write(d.join(a), "").unwrap();
        }
        let g = Gridmapdir::open(&d).unwrap();
        (t, g)
    }

    fn names(g: &Gridmapdir) -> Vec<String> {
        let mut n: Vec<String> = g
            .names()
            .unwrap()
            .into_iter()
            .map(|n| n.into_string().unwrap())
            .collect();
        n.sort();
        n
    }

    const LEASE: &str = "%2fcn%3dx";

    /// Found by the property test `leases_hold_under_threads`: a process
    /// judged a lease stale (solitary: its account was removed) and, once
    /// it had found a free account, unlinked the lease name; meanwhile a
    /// process for the same DN had replaced the stale lease by a fresh one,
    /// which the unlink destroyed. That process went on as an account the
    /// gridmapdir then called free. Now the fresh lease stays.
    #[test]
    fn a_stale_lease_replaced_meanwhile_is_not_removed() {
        let (_t, g) = dir();
        fs::hard_link(g.path("pool1"), g.path(LEASE)).unwrap();
        fs::remove_file(g.path("pool1")).unwrap();
        fs::write(g.path("pool1"), "").unwrap();
        let stale = lstat(&g.path(LEASE)).unwrap();
        assert_eq!(stale.nlink(), 1);
        // The other process: removes the stale lease, links pool2.
        fs::remove_file(g.path(LEASE)).unwrap();
        fs::hard_link(g.path("pool2"), g.path(LEASE)).unwrap();
        assert_eq!(
            g.remove_lease_if(LEASE, |m| same_version(m, &stale))
                .unwrap(),
            Removal::Changed
        );
        let now = lstat(&g.path(LEASE)).unwrap();
        assert_eq!(now.ino(), lstat(&g.path("pool2")).unwrap().ino());
        assert_eq!(now.nlink(), 2);
        assert_eq!(names(&g), [LEASE, "pool1", "pool2"], "nothing left aside");
        // And the lease, looked at again, is reused.
        assert_eq!(
            g.pool(LEASE, "pool", Options::default())
                .unwrap()
                .as_deref(),
            Some("pool2")
        );
    }

    /// The same, when the lease is replaced between the look and the
    /// removal: it is moved aside, found fresh there, and put back.
    #[test]
    fn a_stale_lease_replaced_at_the_last_moment_is_put_back() {
        let (_t, g) = dir();
        fs::write(g.path(LEASE), "").unwrap();
        let stale = lstat(&g.path(LEASE)).unwrap();
        let calls = std::cell::Cell::new(0);
        let r = g
            .remove_lease_if(LEASE, |m| {
                calls.set(calls.get() + 1);
                if calls.get() == 1 {
                    // The other process, just after the look.
                    fs::remove_file(g.path(LEASE)).unwrap();
                    fs::hard_link(g.path("pool2"), g.path(LEASE)).unwrap();
                }
                same_version(m, &stale)
            })
            .unwrap();
        assert_eq!((r, calls.get()), (Removal::Changed, 2));
        let now = lstat(&g.path(LEASE)).unwrap();
        assert_eq!(now.ino(), lstat(&g.path("pool2")).unwrap().ino());
        assert_eq!(now.nlink(), 2);
        assert_eq!(names(&g), [LEASE, "pool1", "pool2"], "nothing left aside");
    }

    #[test]
    fn a_stale_lease_still_stale_is_removed() {
        let (_t, g) = dir();
        fs::write(g.path(LEASE), "").unwrap();
        let stale = lstat(&g.path(LEASE)).unwrap();
        assert_eq!(
            g.remove_lease_if(LEASE, |m| same_version(m, &stale))
                .unwrap(),
            Removal::Removed
        );
        assert_eq!(names(&g), ["pool1", "pool2"]);
        assert_eq!(
            g.remove_lease_if(LEASE, |_| true).unwrap(),
            Removal::Removed,
            "already gone"
        );
    }

    /// When yet another lease was made while one was aside, the one aside
    /// keeps its account taken.
    #[test]
    fn a_lease_renewed_twice_stays_aside() {
        let (_t, g) = dir();
        fs::hard_link(g.path("pool1"), g.path(LEASE)).unwrap();
        let calls = std::cell::Cell::new(0);
        let r = g
            .remove_lease_if(LEASE, |_| {
                calls.set(calls.get() + 1);
                if calls.get() == 1 {
                    return true; // looks stale
                }
                // Aside, it is not; and a third process has made a lease to
                // pool2 meanwhile.
                fs::hard_link(g.path("pool2"), g.path(LEASE)).unwrap();
                false
            })
            .unwrap();
        assert_eq!(r, Removal::Changed);
        let n = names(&g);
        assert_eq!(n.len(), 4, "{n:?}");
        assert!(n.iter().any(|n| n.starts_with(ASIDE_PREFIX)), "{n:?}");
        assert_eq!(
            lstat(&g.path("pool1")).unwrap().nlink(),
            2,
            "pool1 stays taken"
        );
        assert_eq!(lstat(&g.path("pool2")).unwrap().nlink(), 2);
        // Neither is offered as free.
        assert_eq!(
            g.pool("%2fcn%3dy", "pool", Options::default()).unwrap(),
            None
        );
    }

    /// Found by the property tests: a lease whose account another process
    /// has just linked too (three names, for a moment) made a re-lease fail
    /// with "too many links". Now it is looked at again after a pause.
    #[test]
    fn a_moment_of_three_links_is_waited_out() {
        let (_t, g) = dir();
        fs::hard_link(g.path("pool1"), g.path(LEASE)).unwrap();
        let racer = g.path("%2fcn%3dracer");
        fs::hard_link(g.path("pool1"), &racer).unwrap();
        let backs_off = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            fs::remove_file(racer).unwrap();
        });
        assert_eq!(
            g.pool(LEASE, "pool", Options::default())
                .unwrap()
                .as_deref(),
            Some("pool1")
        );
        backs_off.join().unwrap();
        // A third name that stays is still an error, after the rounds.
        fs::hard_link(g.path("pool1"), g.path("%2fcn%3dstuck")).unwrap();
        let e = g.pool(LEASE, "pool", Options::default()).unwrap_err();
        assert!(e.contains("still after 16 rounds"), "{e}");
        let e = g.requested(LEASE, "pool1", Options::default()).unwrap_err();
        assert!(e.contains("still after 16 rounds"), "{e}");
    }
}
