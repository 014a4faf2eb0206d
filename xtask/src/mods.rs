//! The `.mod` files: each `mods/<crate>/` is a `cdylib` crate whose only
//! code is the SDK's `export_plugin!` (or `export_lcas_plugin!`) for a plugin
//! type of an rlib, as a plugin author's out-of-tree crate is
//! (docs/plugin-guide.md); `mods/lcmaps-localaccount-mod` becomes
//! `lcmaps_localaccount.mod`. The SDK's example (`examples/lcmaps-example-plugin`)
//! becomes `lcmaps_dn_prefix.mod`.
//!
//! The build uses its own target directory (`<target>/mods-build` unless
//! told otherwise) so it never waits for a cargo holding `<target>`, e.g.
//! the `cargo test` whose tests ask for the modules.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo_build, install_file, target_dir, workspace, Profile, Result};

/// One module: its name (without `.mod`) and the cargo package building it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// `lcmaps_localaccount`.
    pub name: String,
    /// `lcmaps-localaccount-mod`.
    pub package: String,
}

impl Module {
    /// The library cargo writes for the package (`lib<crate>.so`).
    fn library(&self) -> String {
        format!("lib{}.so", self.package.replace('-', "_"))
    }
}

/// Every module of the workspace: one per `mods/*/` crate, plus the example.
pub fn all() -> Result<Vec<Module>> {
    let dir = workspace().join("mods");
    let mut packages: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    packages.sort();
    let mut all: Vec<Module> = packages
        .into_iter()
        .map(|package| Module {
            name: package.trim_end_matches("-mod").replace('-', "_"),
            package,
        })
        .collect();
    all.push(Module {
        name: "lcmaps_dn_prefix".into(),
        package: "lcmaps-example-plugin".into(),
    });
    Ok(all)
}

/// What [`build`] builds and where it puts it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Release (default) or debug.
    pub profile: Profile,
    /// Where the `.mod`s go (default `<target>/mods`).
    pub out: Option<PathBuf>,
    /// The cargo target dir of the build (default `<target>/mods-build`).
    pub build_dir: Option<PathBuf>,
    /// Module names (`lcmaps_localaccount`, with or without `.mod`); empty: all.
    pub names: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: Profile::Release,
            out: None,
            build_dir: None,
            names: Vec::new(),
        }
    }
}

/// Build the chosen modules and install them; returns their directory.
pub fn build(opts: &Options) -> Result<PathBuf> {
    let all = all()?;
    let chosen: Vec<&Module> = if opts.names.is_empty() {
        all.iter().collect()
    } else {
        opts.names
            .iter()
            .map(|n| {
                let n = n.trim_end_matches(".mod");
                all.iter().find(|m| m.name == n).ok_or_else(|| {
                    let names: Vec<&str> = all.iter().map(|m| m.name.as_str()).collect();
                    format!("no module {n} (there are: {})", names.join(" "))
                })
            })
            .collect::<Result<_>>()?
    };
    let build_dir = opts
        .build_dir
        .clone()
        .unwrap_or_else(|| target_dir().join("mods-build"));
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| target_dir().join("mods"));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let packages: Vec<&str> = chosen.iter().map(|m| m.package.as_str()).collect();
    // Installed modules carry no debug information.
    cargo_build(
        opts.profile,
        &build_dir,
        &packages,
        &[
            ("CARGO_PROFILE_RELEASE_DEBUG", "false"),
            ("CARGO_PROFILE_RELEASE_STRIP", "debuginfo"),
        ],
    )?;
    for m in chosen {
        let so = build_dir.join(opts.profile.dir()).join(m.library());
        refuse_engine(&so, &m.name)?;
        install_file(&so, &out.join(format!("{}.mod", m.name)), 0o755)?;
    }
    Ok(out)
}

/// A module must not carry the engine: it runs inside a host that has one
/// (Debian's LCMAPS or ours), and a second copy would be a second state.
fn refuse_engine(so: &Path, name: &str) -> Result<()> {
    let nm = Command::new("nm")
        .arg(so)
        .output()
        .map_err(|e| format!("cannot run nm on {}: {e}", so.display()))?;
    let symbols = String::from_utf8_lossy(&nm.stdout);
    let engine = symbols
        .lines()
        .any(|l| l.contains("lcmaps_core") && l.contains("policy") && l.contains("Engine"));
    if engine {
        return Err(format!("{name}.mod contains the engine"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mods_crate_is_a_module_named_after_it() {
        let all = all().unwrap();
        let local = all
            .iter()
            .find(|m| m.package == "lcmaps-localaccount-mod")
            .unwrap();
        assert_eq!(local.name, "lcmaps_localaccount");
        assert_eq!(local.library(), "liblcmaps_localaccount_mod.so");
        assert!(all.iter().any(|m| m.name == "lcas_userban"));
        assert_eq!(all.last().unwrap().name, "lcmaps_dn_prefix");
    }

    #[test]
    fn an_unknown_module_is_refused_with_the_list() {
        let err = build(&Options {
            names: vec!["lcmaps_nope.mod".into()],
            ..Options::default()
        })
        .unwrap_err();
        assert!(
            err.starts_with("no module lcmaps_nope (there are: "),
            "{err}"
        );
        assert!(err.contains("lcmaps_localaccount"), "{err}");
    }
}
