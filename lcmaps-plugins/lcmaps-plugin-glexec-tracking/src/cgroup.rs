//! cgroup v2 tracking (our addition to the gid mode): a lingering glexec
//! puts the payload in a cgroup of its own, `<parent>/lcmaps-glexec-<pid>`
//! (`<pid>` is glexec's), kills whatever is left in it when the payload's
//! main process has ended, reads its accounting (`cpu.stat`, `memory.peak`
//! where the memory controller is enabled) and removes it.
//!
//! A process cannot leave a cgroup without write access to the common
//! ancestor's `cgroup.procs` (root's), so double forks, `setsid` and
//! re-parenting do not help a payload escape, unlike process groups or
//! sessions.
//!
//! The payload gets into the cgroup without a race: glexec moves itself in
//! just before it forks the payload and back out right after, so the payload
//! is in the cgroup from its first instruction.
//!
//! Where: the first cgroup2 mount in `/proc/self/mountinfo` (the unified
//! hierarchy at `/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on hybrid
//! systems); the parent is glexec's own cgroup (`0::<path>` of
//! `/proc/self/cgroup`) unless `-cgroup-parent` names one.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Prefix of the cgroups made for payloads.
pub const PREFIX: &str = "lcmaps-glexec-";

/// `-cgroup auto|off|required`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Use a cgroup where cgroup v2 is mounted and writable; otherwise
    /// track by gid only (logged).
    #[default]
    Auto,
    /// Never.
    Off,
    /// Fail closed (no payload runs) when the cgroup cannot be made.
    Required,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "auto" => Ok(Mode::Auto),
            "off" | "no" => Ok(Mode::Off),
            "required" => Ok(Mode::Required),
            _ => Err(format!("-cgroup {s:?}: want auto, off or required")),
        }
    }
}

/// The cgroup v2 mount point: the first `cgroup2` entry of `mountinfo`
/// (text of `/proc/self/mountinfo`), with its root within the hierarchy.
pub fn mount_point(mountinfo: &str) -> Option<(PathBuf, String)> {
    mountinfo.lines().find_map(|l| {
        // id parent maj:min root mountpoint opts [optional...] - fstype src super
        let (pre, post) = l.split_once(" - ")?;
        if post.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let f: Vec<&str> = pre.split_whitespace().collect();
        Some((PathBuf::from(unescape(f.get(4)?)), unescape(f.get(3)?)))
    })
}

/// mountinfo escapes blanks, tabs, newlines and backslashes as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The directory of this process's cgroup v2 cgroup.
pub fn own_dir() -> Result<PathBuf, String> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
    let (mnt, root) = mount_point(&mi).ok_or("cgroup v2 is not mounted")?;
    let cg = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("/proc/self/cgroup: {e}"))?;
    let rel = cg
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or("no cgroup v2 entry in /proc/self/cgroup")?;
    // A mount of a sub-tree (root != "/") shows paths below its root.
    let rel = rel
        .strip_prefix(root.trim_end_matches('/'))
        .unwrap_or(rel)
        .trim_start_matches('/');
    if rel.split('/').any(|c| c == "..") {
        return Err(format!("odd cgroup path {rel:?}"));
    }
    let dir = mnt.join(rel);
    if !dir.join("cgroup.procs").exists() {
        return Err(format!(
            "{} is not a cgroup v2 directory (cgroup namespace?)",
            dir.display()
        ));
    }
    Ok(dir)
}

/// The parent to use: `configured`, which must be a cgroup v2 directory,
/// or this process's own cgroup.
pub fn parent_dir(configured: Option<&Path>) -> Result<PathBuf, String> {
    match configured {
        Some(p) => {
            if p.join("cgroup.procs").is_file() && p.join("cgroup.controllers").is_file() {
                Ok(p.to_path_buf())
            } else {
                Err(format!("{} is not a cgroup v2 directory", p.display()))
            }
        }
        None => own_dir(),
    }
}

/// Accounting of a cgroup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// `cpu.stat` `usage_usec`.
    pub usage_usec: u64,
    /// `cpu.stat` `user_usec`.
    pub user_usec: u64,
    /// `cpu.stat` `system_usec`.
    pub system_usec: u64,
    /// `memory.peak` in bytes, where the memory controller is enabled.
    pub memory_peak: Option<u64>,
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cpu {:.3}s (user {:.3}s system {:.3}s) memory peak ",
            self.usage_usec as f64 / 1e6,
            self.user_usec as f64 / 1e6,
            self.system_usec as f64 / 1e6
        )?;
        match self.memory_peak {
            Some(b) => write!(f, "{} KiB", b / 1024),
            None => write!(f, "n/a"),
        }
    }
}

/// One payload's cgroup.
#[derive(Debug)]
pub struct Cgroup {
    path: PathBuf,
}

fn pid_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

fn write(p: &Path, s: &str) -> Result<(), String> {
    std::fs::write(p, s).map_err(|e| format!("{}: {e}", p.display()))
}

impl Cgroup {
    /// Makes `<parent>/lcmaps-glexec-<owner>`, first removing empty
    /// `lcmaps-glexec-*` siblings whose glexec is gone (left by a crash or
    /// by `-dont-kill-leftovers`). An existing empty one of our name is
    /// reused; a populated one is an error.
    pub fn create(parent: &Path, owner: u32) -> Result<Cgroup, String> {
        sweep(parent);
        let path = parent.join(format!("{PREFIX}{owner}"));
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let cg = Cgroup { path: path.clone() };
                if cg.populated() {
                    return Err(format!("{} exists and has processes", path.display()));
                }
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        if !path.join("cgroup.procs").is_file() {
            let _ = std::fs::remove_dir(&path);
            return Err(format!("{} is not a cgroup v2 directory", parent.display()));
        }
        Ok(Cgroup { path })
    }

    /// Opens an existing cgroup directory (tests, tools).
    pub fn open(path: &Path) -> Cgroup {
        Cgroup {
            path: path.to_path_buf(),
        }
    }

    /// Its directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves process `pid` (0: the caller) into this cgroup.
    pub fn add(&self, pid: u32) -> Result<(), String> {
        write(&self.path.join("cgroup.procs"), &pid.to_string())
    }

    /// Moves process `pid` (0: the caller) into the cgroup directory `to`.
    pub fn move_to(to: &Path, pid: u32) -> Result<(), String> {
        write(&to.join("cgroup.procs"), &pid.to_string())
    }

    /// The processes in it (and not in child cgroups).
    pub fn procs(&self) -> Vec<i32> {
        let mut out: Vec<i32> = Vec::new();
        let mut walk = vec![self.path.clone()];
        // The payload may not create child cgroups (the directory is
        // root's), but walk them anyway: bounded.
        while let Some(d) = walk.pop() {
            if let Ok(s) = std::fs::read_to_string(d.join("cgroup.procs")) {
                out.extend(s.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
            }
            if let Ok(rd) = std::fs::read_dir(&d) {
                walk.extend(
                    rd.flatten()
                        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                        .map(|e| e.path())
                        .take(1024),
                );
            }
            if out.len() > 1 << 20 {
                break;
            }
        }
        out
    }

    /// Whether any process is in it or below (`cgroup.events`); falls back
    /// to `cgroup.procs`.
    pub fn populated(&self) -> bool {
        match std::fs::read_to_string(self.path.join("cgroup.events")) {
            Ok(s) => s.lines().any(|l| l.trim() == "populated 1"),
            Err(_) => !self.procs().is_empty(),
        }
    }

    /// Sends `sig` to every process in it. Returns the pids signalled.
    fn signal_all(&self, sig: nix::sys::signal::Signal) -> Vec<i32> {
        self.procs()
            .into_iter()
            .filter(|&p| p > 1 && p != std::process::id() as i32)
            .filter(|&p| nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), sig).is_ok())
            .collect()
    }

    /// SIGTERM to everything in it.
    pub fn terminate(&self) -> Vec<i32> {
        self.signal_all(nix::sys::signal::Signal::SIGTERM)
    }

    /// Kills everything in it: `cgroup.kill` where the kernel has it (5.14),
    /// else SIGKILL to every pid of `cgroup.procs`, until it is empty or
    /// `limit` has passed (at least one round is made, even with a zero
    /// `limit`). Returns the pids seen (a lower bound with `cgroup.kill`)
    /// and whether it is empty.
    pub fn kill(&self, limit: Duration) -> (Vec<i32>, bool) {
        let start = Instant::now();
        let mut seen = std::collections::BTreeSet::new();
        let has_kill = self.path.join("cgroup.kill").exists();
        loop {
            let procs = self.procs();
            if procs.is_empty() && !self.populated() {
                return (seen.into_iter().collect(), true);
            }
            seen.extend(procs);
            if has_kill {
                if let Err(e) = write(&self.path.join("cgroup.kill"), "1") {
                    log::warn!("{e}; killing one by one");
                    self.signal_all(nix::sys::signal::Signal::SIGKILL);
                }
            } else {
                self.signal_all(nix::sys::signal::Signal::SIGKILL);
            }
            if start.elapsed() >= limit {
                let empty = self.procs().is_empty() && !self.populated();
                return (seen.into_iter().collect(), empty);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its accounting.
    pub fn usage(&self) -> Usage {
        let mut u = Usage::default();
        if let Ok(s) = std::fs::read_to_string(self.path.join("cpu.stat")) {
            for l in s.lines() {
                let mut it = l.split_whitespace();
                let (Some(k), Some(v)) = (it.next(), it.next().and_then(|v| v.parse().ok())) else {
                    continue;
                };
                match k {
                    "usage_usec" => u.usage_usec = v,
                    "user_usec" => u.user_usec = v,
                    "system_usec" => u.system_usec = v,
                    _ => {}
                }
            }
        }
        u.memory_peak = std::fs::read_to_string(self.path.join("memory.peak"))
            .ok()
            .and_then(|s| s.trim().parse().ok());
        u
    }

    /// Removes it (it must be empty); retried briefly while the kernel
    /// finishes the last exits.
    pub fn remove(self) -> Result<(), String> {
        let start = Instant::now();
        loop {
            match std::fs::remove_dir(&self.path) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) if start.elapsed() > Duration::from_secs(2) => {
                    return Err(format!("{}: {e}", self.path.display()))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

/// Removes empty `lcmaps-glexec-<pid>` cgroups under `parent` whose glexec
/// (`<pid>`) is gone.
pub fn sweep(parent: &Path) {
    let Ok(rd) = std::fs::read_dir(parent) else {
        return;
    };
    for e in rd.flatten().take(1 << 16) {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let cg = Cgroup { path: e.path() };
        if !pid_alive(pid) && !cg.populated() {
            let _ = std::fs::remove_dir(cg.path);
        }
    }
}

/// Whether cgroup v2 is usable here: a child of `parent_dir(configured)`
/// can be made and removed. Returns the parent; `Err` says why not.
pub fn probe(configured: Option<&Path>) -> Result<PathBuf, String> {
    let parent = parent_dir(configured)?;
    let probe = parent.join(format!("{PREFIX}probe-{}", std::process::id()));
    std::fs::create_dir(&probe).map_err(|e| format!("{}: {e}", probe.display()))?;
    Cgroup { path: probe }.remove()?;
    Ok(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_is_parsed() {
        let mi = "24 30 0:22 / /sys rw,nosuid - sysfs sysfs rw\n\
                  31 24 0:27 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro\n\
                  41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
        assert_eq!(
            mount_point(mi),
            Some(("/sys/fs/cgroup/unified".into(), "/".into()))
        );
        let mi = "41 31 0:38 /a\\040b /mnt/c\\134g rw - cgroup2 none rw\n";
        assert_eq!(mount_point(mi), Some(("/mnt/c\\g".into(), "/a b".into())));
        assert_eq!(mount_point("24 30 0:22 / /sys rw - sysfs sysfs rw\n"), None);
    }

    #[test]
    fn modes_and_usage_text() {
        assert_eq!("auto".parse(), Ok(Mode::Auto));
        assert_eq!("off".parse(), Ok(Mode::Off));
        assert_eq!("required".parse(), Ok(Mode::Required));
        assert!("yes".parse::<Mode>().is_err());
        let u = Usage {
            usage_usec: 1_500_000,
            user_usec: 1_000_000,
            system_usec: 500_000,
            memory_peak: Some(2048 * 1024),
        };
        assert_eq!(
            u.to_string(),
            "cpu 1.500s (user 1.000s system 0.500s) memory peak 2048 KiB"
        );
    }

    #[test]
    fn a_configured_parent_must_be_a_cgroup() {
        let d = tempfile::tempdir().unwrap();
        let e = parent_dir(Some(d.path())).unwrap_err();
        assert!(e.contains("is not a cgroup v2 directory"), "{e}");
        assert!(probe(Some(d.path())).is_err());
    }
}
