//! Reading a policy file (lcmaps.db, lcas.db) as a privileged process acts
//! on it: one non-blocking open, the trust check of the file that was
//! opened (its `fstat`, [`crate::trust::check_stat`]) and of the
//! directories above it, and only a regular file is read. A FIFO in the
//! file's place is refused at once, where a blocking open would wait for a
//! writer forever; a directory is refused by name.

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

/// The bytes of `path`; see the module documentation.
pub fn read(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
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
