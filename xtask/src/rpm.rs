//! RPM packages: `cargo xtask rpm [--debug] [--mods DIR] [--out DIR]`.
//!
//! The same tree as the Debian packages ([`crate::deb`]), laid out for EL
//! (`--libdir /usr/lib64`), with the same man pages and stripped ELF files,
//! packaged by `rpmbuild -bb packaging/rpm/lcmaps-rs.spec` (the split and
//! modes of OSG's `lcmaps` and `glexec` packages: `%config(noreplace)`,
//! `%attr(4111,root,root)` glexec, the `glexec` account in `%pre`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::deb::{is_elf, man_pages, run, staged_files, strip};
use crate::install::{self, Layout};
use crate::{target_dir, workspace, Profile, Result};

/// Build the RPMs into `out` (default `<target>/rpm`); returns them.
pub fn build(profile: Profile, mods: Option<&Path>, out: Option<&Path>) -> Result<Vec<PathBuf>> {
    let out = out.map_or_else(|| target_dir().join("rpm"), Path::to_path_buf);
    // rpmbuild and dpkg-deb run elsewhere: every path absolute.
    let out = std::path::absolute(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let _ = std::fs::remove_dir_all(&out);
    let staging = out.join("staging");
    let mut layout = Layout::new(Path::new("/usr"), &staging);
    layout.libdir = PathBuf::from("/usr/lib64");
    install::install(&layout, profile, mods)?;
    man_pages(&staging)?;
    for f in staged_files(&staging)? {
        let p = staging.join(f);
        if is_elf(&p) {
            strip(&p)?;
        }
    }
    let top = out.join("rpmbuild");
    let define = |k: &str, v: &Path| format!("{k} {}", v.display());
    run(Command::new("rpmbuild")
        .arg("-bb")
        .args(["--define", &define("_topdir", &top)])
        .args(["--define", &define("staging", &staging)])
        .args(["--define", "_build_id_links none"])
        .arg(workspace().join("packaging/rpm/lcmaps-rs.spec")))?;
    let mut rpms = Vec::new();
    let arch_dir = top.join("RPMS");
    for arch in std::fs::read_dir(&arch_dir).map_err(|e| format!("{}: {e}", arch_dir.display()))? {
        let arch = arch.map_err(|e| e.to_string())?.path();
        for r in std::fs::read_dir(&arch).map_err(|e| e.to_string())? {
            let r = r.map_err(|e| e.to_string())?.path();
            let to = out.join(r.file_name().expect("a file"));
            std::fs::rename(&r, &to).map_err(|e| e.to_string())?;
            rpms.push(to);
        }
    }
    rpms.sort();
    Ok(rpms)
}
