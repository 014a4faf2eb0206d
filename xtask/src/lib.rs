//! `cargo xtask`: the build steps cargo alone does not do, as a library
//! (tests call it without a nested cargo waiting for their own lock) and a
//! command (`src/main.rs`).
//!
//! * [`mods`]: every `mods/*` crate (and the SDK's example) built with cargo
//!   and installed under its module name (`lcmaps_localaccount.mod`);
//! * [`clib`]: `liblcmaps_rs.so` and the names C programs load it by
//!   (`liblcmaps.so.0`, the helper libraries, `liblcas.so.0`);
//! * [`install`]: the whole tree a package or `make install` would lay out.

#![forbid(unsafe_code)]

pub mod clib;
pub mod deb;
pub mod install;
pub mod modgraph;
pub mod mods;
pub mod rpm;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What went wrong, said for the person at the terminal.
pub type Result<T> = std::result::Result<T, String>;

/// The workspace root (this crate's parent directory).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// The workspace's target directory: `$CARGO_TARGET_DIR` or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// Every `Cargo.toml` under the workspace root (the fuzz crate's too),
/// outside `target` directories and `.git`, in directory order.
pub fn manifests() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let (p, name) = (e.path(), e.file_name());
            if p.is_dir() && name != "target" && name != ".git" {
                walk(&p, out);
            } else if name == "Cargo.toml" {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&workspace(), &mut out);
    out
}

/// A cargo profile and where its artefacts land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `--release` (the default of every command).
    Release,
    /// The dev profile (`--debug`).
    Debug,
}

impl Profile {
    /// The directory under the target dir (`release`, `debug`).
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// Run `cargo build --quiet` for `packages` in `target`, with `env` added.
fn cargo_build(
    profile: Profile,
    target: &Path,
    packages: &[&str],
    env: &[(&str, &str)],
) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace())
        .args(["build", "--quiet", "--target-dir"])
        .arg(target);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    for p in packages {
        cmd.args(["-p", p]);
    }
    cmd.envs(env.iter().copied());
    let st = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo build of {} failed ({st})",
            packages.join(", ")
        ))
    }
}

/// Copy `from` to `to` with `mode`, replacing what is there.
fn install_file(from: &Path, to: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // A fresh inode: a running program keeps the file it mapped.
    let _ = std::fs::remove_file(to);
    std::fs::copy(from, to)
        .map_err(|e| format!("copy {} to {}: {e}", from.display(), to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", to.display()))
}

/// Make `link` a symlink to `target`, replacing what is there.
fn symlink(target: &str, link: &Path) -> Result<()> {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link)
        .map_err(|e| format!("symlink {} -> {target}: {e}", link.display()))
}
