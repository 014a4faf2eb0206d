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
//!   [`MAX_ROUNDS`] times; upstream backs off and fails. "No mapping" is only
//!   reported when a scan finds no free account.
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
use crate::urlencode::{lease_name, urlencode};

/// Highest `-max_mappings_per_credential`.
pub const ABSOLUTE_MAPPING_MAX: i32 = 9999;

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
    if let Some(r) = req.requested {
        if !pool_match(r, pool, req.options.strict_prefix) {
            return Err(format!(
                "requested mapping \"{r}\" is not in pool \"{pool}\""
            ));
        }
    }
    let encoded = urlencode(&lease_name(req.leasename, req.mapcounter));
    let encoded =
        String::from_utf8(encoded).map_err(|_| "lease name is not valid UTF-8".to_string())?;
    if !encoded.starts_with('%') || encoded.contains('/') || encoded.contains('\0') {
        return Err(format!(
            "refusing lease name \"{encoded}\": a lease must start with '%' and contain no '/'"
        ));
    }
    let dir = Gridmapdir::open(req.dir)?;
    let account = match req.requested {
        Some(r) => dir
            .requested(&encoded, r, req.options)?
            .then(|| r.to_string()),
        None => {
            if req.options.only_existing {
                return Err("verification without a requested account".into());
            }
            dir.pool(&encoded, pool, req.options)?
        }
    };
    Ok(account.map(|account| Lease { account, encoded }))
}

/// Outcome of one attempt to link a lease to an account file.
enum Link {
    /// The lease is ours: exactly two names, the account's inode.
    Won,
    /// Another lease grabbed the account at the same time; ours is removed.
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

/// Result of looking for the second name of a lease.
enum Other {
    /// The other name (link count 2).
    Name(String),
    /// Only the lease itself was found: solitary.
    Solitary,
    /// Neither found again, or the other now has one link: changed under us.
    Vanished,
}

fn touch(path: &Path) -> Result<(), String> {
    utimensat(
        None,
        path,
        &TimeSpec::UTIME_NOW,
        &TimeSpec::UTIME_NOW,
        UtimensatFlags::NoFollowSymlink,
    )
    .map_err(|e| format!("touching \"{}\" failed: {e}", path.display()))
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
                n => Err(format!(
                    "found other link {} but its link count is {n}",
                    name.to_string_lossy()
                )),
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
        OpenOptions::new()
            .append(true)
            .custom_flags(OFlag::O_NOFOLLOW.bits())
            .open(&apath)
            .map_err(|e| format!("no write-access to \"{}\": {e}", apath.display()))?;
        match fs::hard_link(&apath, &lpath) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(Link::Recheck),
            Err(e) => return Err(format!("cannot link {account} to \"{lease}\": {e}")),
        }
        let m = match lstat(&lpath) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Link::Recheck),
            Err(e) => return Err(format!("stat of \"{lease}\" failed: {e}")),
        };
        if m.ino() != ino {
            // Replaced by a process working for the same DN.
            return Ok(Link::Recheck);
        }
        match m.nlink() {
            2 => {
                touch(&lpath)?;
                // The next lookup of this lease finds its account at once.
                other_link_cache()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((m.dev(), ino), OsString::from(account));
                Ok(Link::Won)
            }
            n => {
                // 1: the account file went away; >2: two leases grabbed it.
                log::warn!(
                    "{} has {n} links after linking \"{lease}\": backing off to the next account",
                    account
                );
                match fs::remove_file(&lpath) {
                    Ok(()) => Ok(Link::Lost),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(Link::Lost),
                    Err(e) => Err(format!("cannot unlink \"{lease}\": {e}")),
                }
            }
        }
    }

    fn unlink_lease(&self, lease: &str) -> Result<(), String> {
        match fs::remove_file(self.path(lease)) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(format!("cannot unlink \"{lease}\": {e}"))
            }
            _ => Ok(()),
        }
    }

    /// `get_pool_mapping()`: reuse the lease of `lease` or take a free
    /// account of `pool`. `Ok(None)`: no mapping.
    pub fn pool(&self, lease: &str, pool: &str, opts: Options) -> Result<Option<String>, String> {
        let lpath = self.path(lease);
        'rounds: for _ in 0..MAX_ROUNDS {
            let mut remove_lease = false;
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
                            remove_lease = true;
                        }
                        2 => match self.other_link(lease, m.dev(), m.ino())? {
                            Other::Vanished => continue 'rounds,
                            Other::Solitary => {
                                log::info!(
                                    "no other link in {}, will remove solitary lease \"{lease}\"",
                                    self.dir.display()
                                );
                                remove_lease = true;
                            }
                            Other::Name(other) if pool_match(&other, pool, opts.strict_prefix) => {
                                log::debug!("reusing existing lease \"{lease}\" to {other}");
                                touch(&lpath)?;
                                return Ok(Some(other));
                            }
                            Other::Name(other) => {
                                if !opts.override_inconsistency {
                                    log::info!("wrong pool-entry {other} for pool {pool} and hard link named \"{lease}\"");
                                    return Ok(None);
                                }
                                log::info!("will remove inconsistent lease \"{lease}\" to {other}");
                                remove_lease = true;
                            }
                        },
                        n => return Err(format!("too many links (={n}) to \"{lease}\"")),
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
                    if remove_lease {
                        self.unlink_lease(lease)?;
                        remove_lease = false;
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
        }
        Err(format!(
            "giving up on lease \"{lease}\" in pool {pool} after {MAX_ROUNDS} rounds of lost races"
        ))
    }

    /// `get_req_pool_mapping()`: make or verify the lease of `lease` to the
    /// requested account. `Ok(false)`: no mapping.
    pub fn requested(&self, lease: &str, account: &str, opts: Options) -> Result<bool, String> {
        if account.contains('/') || account.starts_with('.') || account.is_empty() {
            return Err(format!("invalid requested account \"{account}\""));
        }
        let lpath = self.path(lease);
        let apath = self.path(account);
        for _ in 0..MAX_ROUNDS {
            let lease_st = match lstat(&lpath) {
                Ok(m) => {
                    if !m.file_type().is_file() {
                        return Err(format!("lease is not a regular file: \"{lease}\""));
                    }
                    if m.nlink() > 2 {
                        return Err(format!(
                            "too many ({}) hard-links for lease \"{lease}\"",
                            m.nlink()
                        ));
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
                return Err(format!(
                    "too many ({}) hard-links for pool-entry {account}",
                    acc.nlink()
                ));
            }
            let lease_links = lease_st.as_ref().map_or(0, |m| m.nlink());
            if acc.nlink() == 2 {
                if lease_links == 2 && lease_st.as_ref().is_some_and(|m| m.ino() == acc.ino()) {
                    log::debug!("reusing existing lease \"{lease}\" to {account}");
                    if !opts.only_existing {
                        touch(&apath)?;
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
            if remove {
                self.unlink_lease(lease)?;
            }
            match self.link(account, acc.ino(), lease)? {
                Link::Won => return Ok(true),
                Link::Lost => {
                    log::info!("requested pool-entry {account} was taken by another lease");
                    return Ok(false);
                }
                Link::Recheck => continue,
            }
        }
        Err(format!(
            "giving up on lease \"{lease}\" for {account}: it keeps changing"
        ))
    }
}
