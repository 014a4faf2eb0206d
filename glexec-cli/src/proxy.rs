//! Reading the caller's proxy (with the caller's privileges, checks on the
//! open file, under a lock, once) and writing the target's copy (as the
//! target, exclusively, into a directory only it or root controls).

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::LockMechanism;
use crate::privs::{self, Ids};

/// Largest proxy file accepted. Proxies are a few KB; chains with VOMS
/// attributes stay well below this.
pub const MAX_PROXY_SIZE: u64 = 100 * 1024;

/// How long to wait for another process's lock on a proxy file.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Take a lock on `f` (shared for reading, exclusive for writing), waiting
/// at most [`LOCK_WAIT`]. The lock goes away when the file is closed.
fn lock(f: &File, how: LockMechanism, exclusive: bool) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let r = match how {
            LockMechanism::Disabled => return Ok(()),
            LockMechanism::Flock => {
                let arg = if exclusive {
                    nix::fcntl::FlockArg::LockExclusiveNonblock
                } else {
                    nix::fcntl::FlockArg::LockSharedNonblock
                };
                #[allow(deprecated)]
                nix::fcntl::flock(std::os::fd::AsRawFd::as_raw_fd(f), arg)
            }
            LockMechanism::Fcntl => {
                let fl = libc::flock {
                    l_type: if exclusive {
                        libc::F_WRLCK
                    } else {
                        libc::F_RDLCK
                    } as libc::c_short,
                    l_whence: libc::SEEK_SET as libc::c_short,
                    l_start: 0,
                    l_len: 0,
                    l_pid: 0,
                };
                nix::fcntl::fcntl(
                    std::os::fd::AsRawFd::as_raw_fd(f),
                    nix::fcntl::FcntlArg::F_SETLK(&fl),
                )
                .map(|_| ())
            }
        };
        match r {
            Ok(()) => return Ok(()),
            Err(nix::errno::Errno::EWOULDBLOCK) | Err(nix::errno::Errno::EACCES)
                if start.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("cannot lock: {e}")),
        }
    }
}

/// Read the proxy at `path` as the caller: open without following a final
/// symlink, then check the *open* file: regular, owned by the caller, mode
/// no wider than 0700, one link, not empty, not larger than
/// [`MAX_PROXY_SIZE`]; read it once under a shared lock.
pub fn read_input(path: &Path, caller: &Ids, how: LockMechanism) -> Result<Vec<u8>, String> {
    if !path.is_absolute() {
        return Err(format!("proxy path {} is not absolute", path.display()));
    }
    let shown = path.display();
    privs::as_user(caller, || -> Result<Vec<u8>, String> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => format!("proxy {shown} is a symbolic link"),
                _ => format!("cannot open proxy {shown}: {e}"),
            })?;
        let m = f
            .metadata()
            .map_err(|e| format!("cannot stat proxy {shown}: {e}"))?;
        if !m.is_file() {
            return Err(format!("proxy {shown} is not a regular file"));
        }
        if m.uid() != caller.uid {
            return Err(format!(
                "proxy {shown} is owned by uid {}, not by the caller (uid {})",
                m.uid(),
                caller.uid
            ));
        }
        if m.mode() & 0o7077 != 0 {
            return Err(format!(
                "proxy {shown} has mode {:04o}; it must be readable by its owner only (chmod 600)",
                m.mode() & 0o7777
            ));
        }
        if m.nlink() != 1 {
            return Err(format!(
                "proxy {shown} has {} hard links; it must have one",
                m.nlink()
            ));
        }
        if m.len() == 0 || m.len() > MAX_PROXY_SIZE {
            return Err(format!(
                "proxy {shown} is {} bytes; expected 1 to {MAX_PROXY_SIZE}",
                m.len()
            ));
        }
        lock(&f, how, false).map_err(|e| format!("proxy {shown}: {e}"))?;
        let mut buf = Vec::with_capacity(m.len() as usize);
        (&f).take(MAX_PROXY_SIZE + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read proxy {shown}: {e}"))?;
        if buf.len() as u64 > MAX_PROXY_SIZE {
            return Err(format!("proxy {shown} grew while it was read"));
        }
        Ok(buf)
    })?
}

/// Write `bytes` to `path` as the target user. The directory must belong to
/// the target or root and not be writable by others (a sticky directory
/// such as /tmp is accepted when `allow_sticky`). An existing file must be
/// a regular file of the target's with one link; otherwise the file is
/// created with O_EXCL, mode 0600.
pub fn write_target(
    path: &Path,
    bytes: &[u8],
    target: &Ids,
    how: LockMechanism,
    allow_sticky: bool,
) -> Result<(), String> {
    let shown = path.display();
    if !path.is_absolute() {
        return Err(format!("target proxy path {shown} is not absolute"));
    }
    let dir = path
        .parent()
        .ok_or_else(|| format!("target proxy path {shown} has no directory"))?;
    let dm = std::fs::symlink_metadata(dir)
        .map_err(|e| format!("cannot stat {}: {e}", dir.display()))?;
    if !dm.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let sticky = dm.mode() & 0o1000 != 0;
    if dm.uid() != target.uid && dm.uid() != 0 {
        return Err(format!(
            "directory {} belongs to uid {}, not to the target or root",
            dir.display(),
            dm.uid()
        ));
    }
    if dm.mode() & 0o022 != 0 && !(sticky && allow_sticky) {
        return Err(format!(
            "directory {} is writable by group or others",
            dir.display()
        ));
    }
    privs::as_user(target, || -> Result<(), String> {
        // A run for the same target may create the file between our look
        // and our create: then it exists, and is taken as existing (once).
        let (f, mode) = match open_existing(path, target, how)? {
            Some(existing) => existing,
            None => match create(path, how)? {
                Some(new) => return fill(&new, bytes, true, &shown),
                None => open_existing(path, target, how)?
                    .ok_or_else(|| format!("{shown} keeps appearing and disappearing"))?,
            },
        };
        // The same proxy again (a pilot's next payload): nothing to write.
        if mode == 0o600 && holds(&f, bytes) {
            return Ok(());
        }
        f.set_len(0)
            .map_err(|e| format!("cannot truncate {shown}: {e}"))?;
        fill(&f, bytes, mode != 0o600, &shown)
    })?
}

/// Write `bytes` into the empty file `f` at offset 0 (whatever [`holds`]
/// read), after making it mode 0600 when `chmod` (a new file's mode is
/// what the caller's umask left of 0600).
fn fill(f: &File, bytes: &[u8], chmod: bool, shown: &impl std::fmt::Display) -> Result<(), String> {
    if chmod {
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(|e| format!("cannot chmod {shown}: {e}"))?;
    }
    std::os::unix::fs::FileExt::write_all_at(f, bytes, 0)
        .map_err(|e| format!("cannot write {shown}: {e}"))
}

/// Whether `f` holds exactly `bytes`.
fn holds(f: &File, bytes: &[u8]) -> bool {
    let mut now = Vec::with_capacity(bytes.len() + 1);
    f.take(bytes.len() as u64 + 1).read_to_end(&mut now).is_ok() && now == bytes
}

/// The existing target file `path`, opened for reading and writing and
/// locked, with its permission bits (`None`: there is none).
fn open_existing(
    path: &Path,
    target: &Ids,
    how: LockMechanism,
) -> Result<Option<(File, u32)>, String> {
    let shown = path.display();
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return Ok(None);
    };
    if !m.is_file() || m.uid() != target.uid || m.nlink() != 1 {
        return Err(format!(
            "{shown} exists and is not a regular single-link file of the target account"
        ));
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open {shown}: {e}"))?;
    let fm = f
        .metadata()
        .map_err(|e| format!("cannot stat {shown}: {e}"))?;
    if fm.ino() != m.ino() || fm.dev() != m.dev() || !fm.is_file() {
        return Err(format!("{shown} changed while it was opened"));
    }
    lock(&f, how, true).map_err(|e| format!("{shown}: {e}"))?;
    Ok(Some((f, fm.mode() & 0o7777)))
}

/// `path` created with O_EXCL, mode 0600, and locked (`None`: it exists).
fn create(path: &Path, how: LockMechanism) -> Result<Option<File>, String> {
    let shown = path.display();
    let f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(format!("cannot create {shown}: {e}")),
    };
    lock(&f, how, true).map_err(|e| format!("{shown}: {e}"))?;
    Ok(Some(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn me() -> Ids {
        privs::caller()
    }

    /// Runs for the same target write its proxy at the same moment (a
    /// pilot starting payloads together; seen as a 201 "File exists" in
    /// tests/setuid.rs's fifty concurrent payloads): the file another run
    /// created between our look and our create is taken as existing, not
    /// refused.
    #[test]
    fn a_target_file_created_meanwhile_is_taken_as_existing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x509up");
        assert!(create(&p, LockMechanism::Flock).unwrap().is_some());
        // Another run's create, after our look found nothing.
        assert!(create(&p, LockMechanism::Flock).unwrap().is_none());
        let f = open_existing(&p, &me(), LockMechanism::Flock).unwrap();
        assert!(f.is_some());
        drop(f);
        write_target(&p, b"PEM", &me(), LockMechanism::Flock, false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"PEM");
    }

    #[test]
    fn reads_a_good_proxy_and_refuses_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("proxy");
        std::fs::write(&p, "-----BEGIN CERTIFICATE-----\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let caller = me();
        assert_eq!(
            read_input(&p, &caller, LockMechanism::Flock).unwrap(),
            b"-----BEGIN CERTIFICATE-----\n"
        );
        assert_eq!(
            read_input(&p, &caller, LockMechanism::Fcntl).unwrap().len(),
            28
        );

        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(read_input(&p, &caller, LockMechanism::Flock)
            .unwrap_err()
            .contains("mode 0640"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o4600)).unwrap();
        assert!(read_input(&p, &caller, LockMechanism::Flock)
            .unwrap_err()
            .contains("mode 4600"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(read_input(&link, &caller, LockMechanism::Flock)
            .unwrap_err()
            .contains("symbolic link"));

        let hard = dir.path().join("hard");
        std::fs::hard_link(&p, &hard).unwrap();
        assert!(read_input(&p, &caller, LockMechanism::Flock)
            .unwrap_err()
            .contains("2 hard links"));
        std::fs::remove_file(&hard).unwrap();

        let other = Ids {
            uid: caller.uid + 1,
            ..caller.clone()
        };
        if !privs::running_as_root() {
            assert!(read_input(&p, &other, LockMechanism::Flock)
                .unwrap_err()
                .contains("not by the caller"));
        }
        std::fs::write(&p, vec![b'x'; (MAX_PROXY_SIZE + 1) as usize]).unwrap();
        assert!(read_input(&p, &caller, LockMechanism::Flock)
            .unwrap_err()
            .contains("bytes"));
        assert!(read_input(Path::new("relative"), &caller, LockMechanism::Flock).is_err());
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(read_input(&fifo, &caller, LockMechanism::Flock)
            .unwrap_err()
            .contains("not a regular file"));
    }

    #[test]
    fn writes_the_target_copy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let target = me();
        let p = dir.path().join("x509up");
        write_target(&p, b"pem", &target, LockMechanism::Flock, false).unwrap();
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"pem");
        // Overwrite in place, longer and then shorter.
        write_target(&p, b"longer pem", &target, LockMechanism::Fcntl, false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"longer pem");
        write_target(&p, b"new", &target, LockMechanism::Fcntl, false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        // The same bytes again: the file is left as it is (not even
        // truncated: its modification time stays).
        let before = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_target(&p, b"new", &target, LockMechanism::Flock, false).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), before);
        // The same bytes with a mode other than 0600: rewritten 0600; a
        // prefix of them is not "the same".
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_target(&p, b"new", &target, LockMechanism::Flock, false).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o7777, 0o600);
        write_target(&p, b"new pem", &target, LockMechanism::Flock, false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new pem");
        write_target(&p, b"new", &target, LockMechanism::Flock, false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        // A planted symlink is refused and left alone.
        let evil = dir.path().join("evil");
        std::os::unix::fs::symlink("/etc/passwd", &evil).unwrap();
        assert!(write_target(&evil, b"x", &target, LockMechanism::Flock, false).is_err());
        // A directory writable by others is refused unless sticky and allowed.
        let open = tempfile::tempdir().unwrap();
        std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(write_target(
            &open.path().join("p"),
            b"x",
            &target,
            LockMechanism::Flock,
            false
        )
        .unwrap_err()
        .contains("writable by group or others"));
        std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(write_target(
            &open.path().join("p"),
            b"x",
            &target,
            LockMechanism::Flock,
            true
        )
        .is_ok());
    }
}
