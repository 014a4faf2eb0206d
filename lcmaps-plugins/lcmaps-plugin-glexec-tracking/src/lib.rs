//! `lcmaps_glexec_tracking.mod` (OSG glexec tracking): gives each glexec
//! payload a tracking gid from a range, unique among live payloads on the
//! node, and adds it to the credential store as a secondary gid.
//!
//! Allocation, as HTCondor's `gidd_alloc` does it plus a lock: each gid of
//! the range has a lock file `<statedir>/gid.<N>`, and a gid is ours when
//! we hold an exclusive `flock` on its file and, checked *after* taking the
//! lock, no process carries the gid (`Groups:` of `/proc/*/status`). The
//! lock belongs to the process that ran the plugin (glexec) and is kept
//! until that process ends ([`leased_gid`] tells glexec which gid it is);
//! the kernel drops it when the process dies, however it dies, so a lock no
//! live process backs is always free, whatever the file holds (the pid
//! written into it is for people only; an empty file, e.g. written under
//! the caller's `ulimit -f 0`, changes nothing). Two processes can never
//! both take a gid: the flock is atomic, and a glexec that `exec`s the
//! payload (dropping the lock, which is close-on-exec) has given the
//! payload the gid before, so the `/proc` check of the next taker sees it.
//! Lock files are never removed (removing one while another process opens
//! it would let two processes lock two different files for one gid).
//!
//! Killing leftovers and the usage record are glexec's (it lingers): when
//! the payload's main process has ended it signals every process carrying
//! the gid, unless `-dont-kill-leftovers` (glexec-cli `tracking.rs`).
//!
//! Our addition, cgroup v2 ([`cgroup`]): where cgroup v2 is mounted and
//! writable, glexec also puts the payload in a cgroup of its own
//! (`<parent>/lcmaps-glexec-<glexec pid>`), kills what is left in it with
//! `cgroup.kill`, logs its `cpu.stat` / `memory.peak` in the usage record
//! and removes it. `-cgroup auto` (default) uses it where possible,
//! `-cgroup off` never, `-cgroup required` fails closed: this plugin fails
//! (so no payload runs) when cgroup v2 is not usable, and glexec refuses to
//! run the payload if it cannot make the cgroup. The gid is given in every
//! mode.
//!
//! Options: `-exec <path>`, `-procddir <dir>`, `-logdir <dir>`,
//! `-datetime-local`, `-min-gid N` / `-max-gid M` (default 65000-65049),
//! `-dont-kill-leftovers`, `-log-level N`, `-log-facility F` (upstream's;
//! the monitor-related ones are accepted and recorded only), and ours:
//! `-statedir <dir>` (default `/var/lib/lcmaps-rs/glexec-tracking`),
//! `-procdir <dir>` (default `/proc`; tests), `-cgroup auto|off|required`
//! (default `auto`), `-cgroup-parent <dir>` (a cgroup v2 directory; default
//! glexec's own cgroup).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cgroup;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use lcmaps_core::cred::CredData;
use lcmaps_core::plugin::{Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::options::{self, Opt, OptionError};

const PREFIX: &str = "lcmaps_glexec_tracking";
/// Most `/proc` entries looked at in one scan.
const MAX_PROCS: usize = 1 << 20;

/// The plugin.
#[derive(Debug, Clone)]
pub struct GlexecTracking {
    /// `-exec`.
    pub exec: Option<PathBuf>,
    /// `-procddir`.
    pub procddir: PathBuf,
    /// `-logdir`.
    pub logdir: Option<PathBuf>,
    /// `-datetime-local`.
    pub datetime_local: bool,
    /// `-min-gid`.
    pub min_gid: u32,
    /// `-max-gid`.
    pub max_gid: u32,
    /// `-dont-kill-leftovers`.
    pub dont_kill_leftovers: bool,
    /// `-log-level`.
    pub log_level: Option<u32>,
    /// `-log-facility`.
    pub log_facility: String,
    /// Lock directory.
    pub statedir: PathBuf,
    /// The proc file system.
    pub procdir: PathBuf,
    /// `-cgroup`.
    pub cgroup: cgroup::Mode,
    /// `-cgroup-parent`.
    pub cgroup_parent: Option<PathBuf>,
}

impl Default for GlexecTracking {
    fn default() -> Self {
        GlexecTracking {
            exec: None,
            procddir: "/usr".into(),
            logdir: None,
            datetime_local: false,
            min_gid: 65000,
            max_gid: 65049,
            dont_kill_leftovers: false,
            log_level: None,
            log_facility: "LOG_DAEMON".into(),
            statedir: "/var/lib/lcmaps-rs/glexec-tracking".into(),
            procdir: "/proc".into(),
            cgroup: cgroup::Mode::Auto,
            cgroup_parent: None,
        }
    }
}

/// Gids in `[min, max]` held by any process under `procdir`.
pub fn gids_in_use(procdir: &Path, min: u32, max: u32) -> Result<BTreeSet<u32>, String> {
    let mut used = BTreeSet::new();
    let rd = std::fs::read_dir(procdir).map_err(|e| format!("{}: {e}", procdir.display()))?;
    for ent in rd.take(MAX_PROCS).flatten() {
        let name = ent.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        used.extend(
            groups(&ent.path())
                .into_iter()
                .filter(|x| (min..=max).contains(x)),
        );
    }
    Ok(used)
}

/// The supplementary groups of the process whose `/proc` directory is
/// `proc_pid` (none when it is gone).
pub fn groups(proc_pid: &Path) -> Vec<u32> {
    let status = std::fs::read_to_string(proc_pid.join("status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|g| {
            g.split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A tracking gid this process holds: the lock is kept for as long as the
/// lease is in [`LEASES`].
#[derive(Debug)]
struct Lease {
    lock: PathBuf,
    gid: u32,
    _file: nix::fcntl::Flock<std::fs::File>,
}

/// The leases of this process, oldest first.
static LEASES: std::sync::Mutex<Vec<Lease>> = std::sync::Mutex::new(Vec::new());

fn leases() -> std::sync::MutexGuard<'static, Vec<Lease>> {
    LEASES.lock().unwrap_or_else(|p| p.into_inner())
}

/// What glexec's root part leased for this payload before it started its
/// mapping helper (this process): the gid, or why it could lease none; and
/// whether the plugin gave it.
struct Given {
    gid: Result<u32, String>,
    used: bool,
}

static GIVEN: std::sync::Mutex<Option<Given>> = std::sync::Mutex::new(None);

fn given() -> std::sync::MutexGuard<'static, Option<Given>> {
    GIVEN.lock().unwrap_or_else(|p| p.into_inner())
}

/// With privilege separation, glexec's root part leases the tracking gid
/// (and holds its lock for the payload's life) before it starts the
/// unprivileged mapping helper; in the helper the plugin then gives this
/// gid, if it lies in the plugin's range, instead of leasing one, or fails
/// with the root part's reason when it could lease none.
pub fn use_leased_by_parent(gid: Result<u32, String>) {
    *given() = Some(Given { gid, used: false });
}

/// The tracking gid the plugin most recently allocated in this process
/// (and still holds), or the parent's gid it gave ([`use_leased_by_parent`]),
/// if any. glexec tracks exactly this gid.
pub fn leased_gid() -> Option<u32> {
    if let Some(Given {
        gid: Ok(g),
        used: true,
    }) = *given()
    {
        return Some(g);
    }
    leases().last().map(|l| l.gid)
}

impl GlexecTracking {
    fn lock_path(&self, gid: u32) -> PathBuf {
        self.statedir.join(format!("gid.{gid}"))
    }

    /// Takes the lock of `gid` if no process holds it; `None` when another
    /// process does.
    fn try_lock(&self, gid: u32) -> Result<Option<nix::fcntl::Flock<std::fs::File>>, String> {
        use std::os::unix::fs::OpenOptionsExt;
        let lock = self.lock_path(gid);
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&lock)
            .map_err(|e| format!("{}: {e}", lock.display()))?;
        match nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(l) => Ok(Some(l)),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(format!("{}: flock: {e}", lock.display())),
        }
    }

    /// Allocates a tracking gid for process `pid` (the pid is written into
    /// the lock file for people to read) and keeps its lock until the
    /// process ends or [`release`](Self::release); in glexec's mapping
    /// helper, the gid its root part leased ([`use_leased_by_parent`]).
    pub fn allocate(&self, pid: u32) -> Result<u32, String> {
        if let Some(g) = &mut *given() {
            let gid = g.gid.clone()?;
            if !(self.min_gid..=self.max_gid).contains(&gid) {
                return Err(format!(
                    "the tracking gid {gid} glexec leased lies outside {}-{}",
                    self.min_gid, self.max_gid
                ));
            }
            g.used = true;
            return Ok(gid);
        }
        std::fs::create_dir_all(&self.statedir)
            .map_err(|e| format!("{}: {e}", self.statedir.display()))?;
        for gid in self.min_gid..=self.max_gid {
            let Some(mut file) = self.try_lock(gid)? else {
                continue;
            };
            // Only now, holding the lock, is the process table conclusive.
            if gids_in_use(&self.procdir, gid, gid)?.contains(&gid) {
                continue;
            }
            // Informational only: a failed write does not matter.
            let _ = file.set_len(0);
            let _ = file.write_all(format!("{pid}\n").as_bytes());
            leases().push(Lease {
                lock: self.lock_path(gid),
                gid,
                _file: file,
            });
            return Ok(gid);
        }
        Err(format!(
            "no free tracking gid in {}-{}",
            self.min_gid, self.max_gid
        ))
    }

    /// Gives up this process's lease of `gid`.
    pub fn release(&self, gid: u32) -> Result<(), String> {
        let lock = self.lock_path(gid);
        let mut held = leases();
        let before = held.len();
        held.retain(|l| l.lock != lock);
        if held.len() == before {
            return Err(format!("{}: not held by this process", lock.display()));
        }
        Ok(())
    }
}

/// The number after option `o`.
fn number(o: &str, v: &str) -> Result<u32, String> {
    v.parse()
        .map_err(|_| format!("option {o}: {v:?} is not a number"))
}

/// The options; every one but the two flags takes a value.
const OPTIONS: &[Opt<GlexecTracking>] = &[
    Opt::path(&["-exec"], "a value", |p, d| p.exec = Some(d)),
    Opt::path(&["-procddir"], "a value", |p, d| p.procddir = d),
    Opt::path(&["-logdir"], "a value", |p, d| p.logdir = Some(d)),
    Opt::path(&["-statedir"], "a value", |p, d| p.statedir = d),
    Opt::path(&["-procdir"], "a value", |p, d| p.procdir = d),
    Opt::text(&["-cgroup"], "a value", |p: &mut GlexecTracking, _, v| {
        p.cgroup = v.parse()?;
        Ok(())
    }),
    Opt::path(&["-cgroup-parent"], "a value", |p, d| {
        p.cgroup_parent = Some(d)
    }),
    Opt::text(&["-log-facility"], "a value", |p, _, v| {
        p.log_facility = v.to_owned();
        Ok(())
    }),
    Opt::text(&["-min-gid"], "a number", |p: &mut GlexecTracking, o, v| {
        p.min_gid = number(o, v)?;
        Ok(())
    }),
    Opt::text(&["-max-gid"], "a number", |p: &mut GlexecTracking, o, v| {
        p.max_gid = number(o, v)?;
        Ok(())
    }),
    Opt::text(
        &["-log-level"],
        "a number",
        |p: &mut GlexecTracking, o, v| {
            p.log_level = Some(number(o, v)?);
            Ok(())
        },
    ),
    Opt::flag(&["-datetime-local"], |p, _| {
        p.datetime_local = true;
        Ok(())
    }),
    Opt::flag(&["-dont-kill-leftovers"], |p, _| {
        p.dont_kill_leftovers = true;
        Ok(())
    }),
];

impl Plugin for GlexecTracking {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        let err = |m: String| PluginError(format!("{who}: {m}"));
        options::parse(OPTIONS, options::options(argv), self).map_err(|e| {
            err(match e {
                OptionError::Unknown(o) => format!("unknown option {o}"),
                e => e.message(),
            })
        })?;
        if self.min_gid == 0 || self.min_gid > self.max_gid {
            return Err(err(format!(
                "bad gid range {}-{}",
                self.min_gid, self.max_gid
            )));
        }
        Ok(())
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        let who = format!("{PREFIX}-plugin_run()");
        if ctx.store.uids.is_empty() {
            log::error!("{who}: must map to a UID before running the glexec_tracking module");
            return Status::Failure;
        }
        // In glexec's mapping helper the root part leased the gid and
        // probed already (the helper has no rights to probe with).
        let parent_leased = given().is_some();
        if self.cgroup == cgroup::Mode::Required && !parent_leased {
            // glexec makes the cgroup (it lingers and forks the payload);
            // fail here already, before any account is used, when it cannot.
            if let Err(e) = cgroup::probe(self.cgroup_parent.as_deref()) {
                log::error!("{who}: -cgroup required, but cgroup v2 is not usable: {e}");
                return Status::Failure;
            }
        }
        match self.allocate(std::process::id()) {
            Ok(gid) => {
                log::info!("{who}: tracking gid {gid}");
                ctx.add(CredData::SecGid(gid));
                Status::Success
            }
            Err(e) => {
                log::error!("{who}: {e}");
                Status::Failure
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lcmaps_core::cred::Store;
    use lcmaps_core::plugin::Request;

    fn plugin(dir: &Path, extra: &[&str]) -> GlexecTracking {
        let mut p = GlexecTracking::default();
        let mut argv = vec!["lcmaps_glexec_tracking.mod".to_string()];
        for a in [
            "-statedir",
            dir.join("state").to_str().unwrap(),
            "-procdir",
            dir.join("proc").to_str().unwrap(),
        ] {
            argv.push(a.into());
        }
        argv.extend(extra.iter().map(|s| s.to_string()));
        std::fs::create_dir_all(dir.join("proc")).unwrap();
        p.initialize(&argv).unwrap();
        p
    }

    fn fake_proc(dir: &Path, pid: u32, groups: &str) {
        let d = dir.join("proc").join(pid.to_string());
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("status"), format!("Name:\tx\nGroups:\t{groups}\n")).unwrap();
    }

    #[test]
    fn options() {
        let d = tempfile::tempdir().unwrap();
        let p = plugin(
            d.path(),
            &[
                "-exec",
                "/usr/sbin/glexec_monitor",
                "-min-gid",
                "70000",
                "-max-gid",
                "70003",
                "-dont-kill-leftovers",
                "-datetime-local",
                "-log-level",
                "3",
                "-log-facility",
                "LOG_LOCAL0",
            ],
        );
        assert_eq!((p.min_gid, p.max_gid), (70000, 70003));
        assert!(p.dont_kill_leftovers && p.datetime_local);
        let mut q = GlexecTracking::default();
        let e = q.initialize(&["m".into(), "-bogus".into()]).unwrap_err();
        assert!(e.0.contains("unknown option -bogus"), "{e}");
        let e = q
            .initialize(&[
                "m".into(),
                "-min-gid".into(),
                "5".into(),
                "-max-gid".into(),
                "4".into(),
            ])
            .unwrap_err();
        assert!(e.0.contains("bad gid range"), "{e}");
    }

    #[test]
    fn fifty_concurrent_payloads_get_fifty_distinct_gids_then_exhaustion() {
        let d = tempfile::tempdir().unwrap();
        let p = plugin(d.path(), &["-max-gid", "65050"]);
        // A live process holds 65003: skipped.
        fake_proc(d.path(), 1, "10 65003");
        let mut hs = Vec::new();
        for _ in 0..50 {
            let p = p.clone();
            hs.push(std::thread::spawn(move || p.allocate(1)));
        }
        let mut got: Vec<u32> = hs.into_iter().map(|h| h.join().unwrap().unwrap()).collect();
        got.sort_unstable();
        got.dedup();
        assert_eq!(got.len(), 50);
        assert!(!got.contains(&65003));
        assert!(got.iter().all(|g| (65000..=65050).contains(g)));
        let e = p.allocate(1).unwrap_err();
        assert!(e.contains("no free tracking gid in 65000-65050"), "{e}");
        // Releasing one makes it available again.
        p.release(65010).unwrap();
        assert_eq!(p.allocate(1).unwrap(), 65010);
    }

    #[test]
    fn a_lock_no_live_process_holds_is_reclaimed_whatever_it_contains() {
        let d = tempfile::tempdir().unwrap();
        let p = plugin(d.path(), &["-min-gid", "65100", "-max-gid", "65102"]);
        std::fs::create_dir_all(d.path().join("state")).unwrap();
        // Empty (a write refused by the caller's `ulimit -f 0`), and naming
        // a live pid: neither is locked, both are free.
        fake_proc(d.path(), 42, "100");
        std::fs::write(d.path().join("state/gid.65100"), "").unwrap();
        std::fs::write(d.path().join("state/gid.65101"), "42\n").unwrap();
        assert_eq!(p.allocate(42).unwrap(), 65100);
        assert_eq!(p.allocate(42).unwrap(), 65101);
        // Held by another open file description (another process): skipped.
        let other = p.try_lock(65102).unwrap().unwrap();
        assert!(p.allocate(42).is_err());
        drop(other);
        assert_eq!(p.allocate(42).unwrap(), 65102);
    }

    #[test]
    fn racing_processes_never_share_a_gid_when_reclaiming() {
        // Stale lock files for the whole range, and 16 takers at once, each
        // with its own open file (as separate processes have): every gid
        // is taken at most once.
        let d = tempfile::tempdir().unwrap();
        let p = plugin(d.path(), &["-min-gid", "65200", "-max-gid", "65203"]);
        std::fs::create_dir_all(d.path().join("state")).unwrap();
        for g in 65200..=65203 {
            std::fs::write(d.path().join(format!("state/gid.{g}")), "999999\n").unwrap();
        }
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
        let hs: Vec<_> = (0..16)
            .map(|_| {
                let (p, b) = (p.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    p.allocate(1).ok()
                })
            })
            .collect();
        let got: Vec<u32> = hs.into_iter().filter_map(|h| h.join().unwrap()).collect();
        let mut distinct = got.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(distinct.len(), 4, "{got:?}");
    }

    #[test]
    fn run_adds_a_secondary_gid_after_a_uid() {
        let d = tempfile::tempdir().unwrap();
        let mut p = plugin(d.path(), &[]);
        let req = Request::with_dn("/CN=x");
        let mut store = Store::new();
        let s = p.run(&mut RunContext {
            request: &req,
            store: &mut store,
        });
        assert_eq!(s, Status::Failure, "no uid yet");
        store.add(CredData::Uid(501));
        store.add(CredData::PriGid(501));
        let s = p.run(&mut RunContext {
            request: &req,
            store: &mut store,
        });
        assert_eq!(s, Status::Success);
        assert_eq!(store.sec_gids, [65000]);
    }
}
