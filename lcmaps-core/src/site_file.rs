//! Opening the files a site gives (policy files, mapfiles, CA certificates
//! and CRLs, LSC files, token keys, host certificates): without blocking,
//! and only a regular file ([`open`]). A FIFO in a file's place is refused
//! at once, where a blocking open would wait for a writer forever (one
//! such file in a CA directory would hang every mapping); a directory is
//! refused by name. [`read`] is the policy files' whole read: that open,
//! then the trust check of the file that was opened (its `fstat`,
//! [`crate::trust::check_stat`]) and of the directories above it.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::diag::Diagnostic;
use crate::trust::{self, TrustError};

/// Why [`read`] gives no text.
#[derive(Debug)]
pub enum ReadError {
    /// Not a regular file (a FIFO, a device, a directory, ...).
    NotRegular,
    /// The file, or a directory above it, is not trusted.
    Untrusted(TrustError),
    /// It cannot be opened or read.
    Io(std::io::Error),
}

impl ReadError {
    /// The error as a checker reports it, for file `name`, with `hint`
    /// (what to point at the file) where the file is not usable.
    pub fn diagnostic(self, name: &str, hint: &str) -> Diagnostic {
        match self {
            ReadError::NotRegular => {
                Diagnostic::error(format!("{name} is not a regular file")).hint(hint)
            }
            ReadError::Untrusted(e) => Diagnostic::error(e.to_string()),
            ReadError::Io(e) => Diagnostic::error(format!("cannot read {name}: {e}")).hint(hint),
        }
    }
}

/// `path` opened for reading: without blocking, and only when it is a
/// regular file (else an `InvalidInput` error, "not a regular file").
pub fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let file = open_nonblocking(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

/// The whole of `path`, opened with [`open`].
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

fn not_regular() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")
}

/// The bytes of policy file `path`; see the module documentation.
pub fn read(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = open_nonblocking(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) => {
            // A dangling link or a file we may not open: the full walk
            // names what is wrong with it, else the open error does.
            if std::fs::symlink_metadata(path).is_ok() {
                trust::check(path).map_err(ReadError::Untrusted)?;
            }
            return Err(ReadError::Io(e));
        }
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    trust::check_stat(path, &meta).map_err(ReadError::Untrusted)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(ReadError::Io)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site admin's mistake: a FIFO where the policy file should be. It
    /// is refused at once; a blocking open would wait for a writer forever.
    #[test]
    fn a_fifo_is_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("lcmaps.db");
        crate::testing::mkfifo(&fifo);
        let r = crate::testing::within(20, move || read(&fifo));
        assert!(matches!(r, Err(ReadError::NotRegular)), "{r:?}");
        let fifo = dir.path().join("ca.r0");
        crate::testing::mkfifo(&fifo);
        let e = crate::testing::within(20, move || read_regular(&fifo)).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file");
    }

    #[test]
    fn a_directory_is_refused_and_a_file_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(dir.path()), Err(ReadError::NotRegular)));
        let f = dir.path().join("f");
        std::fs::write(&f, "x = \"y\"\n").unwrap();
        assert_eq!(read(&f).unwrap(), b"x = \"y\"\n");
        assert!(matches!(
            read(&dir.path().join("missing")),
            Err(ReadError::Io(_))
        ));
    }
}
