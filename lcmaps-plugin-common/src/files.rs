//! Where the plugins' files are: upstream's `lcmaps_get_prefixed_file()`,
//! `is_normal_user()` and the default grid-mapfile.

use std::path::{Path, PathBuf};

use lcmaps_core::trust::privileged;
use nix::unistd::{getuid, User};

/// The directory relative file options are taken from in a privileged process.
pub const SECURITY_DIR: &str = "/etc/grid-security/";

/// A file option as upstream resolves it: an absolute path as given; a
/// relative one prefixed with [`SECURITY_DIR`] in a privileged process (as
/// given otherwise), and it must exist.
pub fn resolve_file_option(arg: &str) -> Result<PathBuf, String> {
    if arg.starts_with('/') {
        return Ok(PathBuf::from(arg));
    }
    prefixed_file(arg)
}

/// `lcmaps_get_prefixed_file()`: see [`resolve_file_option`].
pub fn prefixed_file(file: &str) -> Result<PathBuf, String> {
    let path = if privileged() {
        PathBuf::from(format!("{SECURITY_DIR}{file}"))
    } else {
        log::info!("using relative path \"{file}\" for given path");
        PathBuf::from(file)
    };
    std::fs::metadata(&path).map_err(|e| format!("cannot stat \"{}\": {e}", path.display()))?;
    Ok(path)
}

/// The default grid-mapfile when no option names one: `$GRIDMAP`
/// (`GLOBUSMAP`, `globusmap`, `GlobusMap`) when set and non-empty, else
/// `/etc/grid-security/grid-mapfile` for a privileged process, else
/// `$HOME/.gridmap` of the calling user (from the passwd entry).
pub fn default_mapfile() -> PathBuf {
    for var in ["GRIDMAP", "GLOBUSMAP", "globusmap", "GlobusMap"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            log::debug!("using grid-mapfile {v:?} from env variable \"{var}\"");
            return PathBuf::from(v);
        }
    }
    if privileged() {
        return PathBuf::from(format!("{SECURITY_DIR}grid-mapfile"));
    }
    match User::from_uid(getuid()) {
        Ok(Some(u)) => u.dir.join(".gridmap"),
        _ => PathBuf::from(".gridmap"),
    }
}

/// The name of the calling user (`getpwuid(getuid())`).
pub fn own_account() -> Result<String, String> {
    match User::from_uid(getuid()) {
        Ok(Some(u)) => Ok(u.name),
        _ => Err("cannot determine calling user".into()),
    }
}

/// `path` for a log line.
pub fn show(path: &Path) -> std::path::Display<'_> {
    path.display()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_is_taken_as_is() {
        assert_eq!(
            resolve_file_option("/nonexistent/x").unwrap(),
            PathBuf::from("/nonexistent/x")
        );
    }

    #[test]
    fn relative_must_exist() {
        let e = resolve_file_option("no-such-file-lcmaps-rs").unwrap_err();
        assert!(e.contains("no-such-file-lcmaps-rs"), "{e}");
        if privileged() {
            assert!(
                e.contains("/etc/grid-security/no-such-file-lcmaps-rs"),
                "{e}"
            );
        }
    }
}
