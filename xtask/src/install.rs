//! The installed tree, for packages and for sites without them:
//! `cargo xtask install --prefix /usr --destdir DIR`.
//!
//! | what | where (prefix /usr) | mode |
//! |---|---|---|
//! | `liblcmaps_rs.so` and its names ([`clib`]) | `<libdir>` | 0755 |
//! | every `.mod` | `<libdir>/lcmaps-rs/` (Debian's C plugins stay in `<libdir>/lcmaps/`) | 0755 |
//! | `lcmaps` | `<prefix>/bin` | 0755 |
//! | `glexec` | `<prefix>/sbin` | 4111 (set-uid root when installed by root, as OSG's package) |
//! | `glexec-mapper` (glexec's mapping helper) | `<prefix>/libexec/lcmaps-rs` | 0755 |
//! | `glexec-mapper.socket`, `glexec-mapper.service` (glexec's mapping service, [`UNITS`]) | `<prefix>/lib/systemd/system` | 0644 |
//! | LCMAPS headers / LCAS headers | `<prefix>/include/lcmaps`, `<prefix>/include/lcas` (as Debian's -dev packages) | 0644 |
//! | `lcmaps.pc`, the four helper `.pc`, `lcas.pc` | `<libdir>/pkgconfig` | 0644 |
//! | `glexec.conf` | `<sysconfdir>` | 0600 |
//! | `lcmaps.db`, `lcmaps-glexec.db` / `lcas-glexec.db` | `<sysconfdir>/lcmaps`, `<sysconfdir>/lcas` | 0644 |
//!
//! `<libdir>` is `<prefix>/lib/<multiarch>` where the C compiler names a
//! multiarch triplet (Debian), else `<prefix>/lib`; `<sysconfdir>` is
//! `/etc` for the prefix `/usr`, else `<prefix>/etc`. A configuration file
//! already in the destination is kept, as a package manager keeps a changed
//! conffile.
//!
//! Files are copied as they are, the systemd units too: their `ExecStart`
//! names `/usr/libexec/lcmaps-rs/glexec-mapper`, as glexec's default
//! `mapping_helper` does and the shipped `glexec.conf` keeps its `/etc`
//! paths. A site installing under another prefix edits both (a drop-in
//! `systemctl edit glexec-mapper.service` for the unit).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo_build, clib, install_file, mods, target_dir, workspace, Profile, Result};

/// The version of the C APIs the `.pc` files announce: what we are a
/// drop-in for (Debian's liblcmaps0 1.6.6, liblcas0 1.3.19), since
/// dependants check those numbers.
const LCMAPS_API_VERSION: &str = "1.6.6";
const LCAS_API_VERSION: &str = "1.3.19";

/// The helper libraries of LCMAPS: pkg-config name and `-l` name.
const HELPER_PCS: [(&str, &str); 4] = [
    (
        "lcmaps-return-account-from-pem",
        "lcmaps_return_account_from_pem",
    ),
    (
        "lcmaps-verify-account-from-pem",
        "lcmaps_verify_account_from_pem",
    ),
    ("lcmaps-return-poolindex", "lcmaps_return_poolindex"),
    ("lcmaps-gss-assist-gridmap", "lcmaps_gss_assist_gridmap"),
];

/// The systemd units of glexec's mapping service, in
/// `packaging/systemd/`, installed to [`Layout::unitdir`].
pub const UNITS: [&str; 2] = ["glexec-mapper.socket", "glexec-mapper.service"];

/// Where things go.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `/usr`.
    pub prefix: PathBuf,
    /// Prepended to every path (a package's staging tree); `/` for none.
    pub destdir: PathBuf,
    /// Libraries, absolute (default: see the module documentation).
    pub libdir: PathBuf,
    /// Configuration, absolute.
    pub sysconfdir: PathBuf,
}

impl Layout {
    /// The default layout for `prefix` in `destdir`.
    pub fn new(prefix: &Path, destdir: &Path) -> Layout {
        let libdir = match multiarch() {
            Some(triplet) => prefix.join("lib").join(triplet),
            None => prefix.join("lib"),
        };
        let sysconfdir = if prefix == Path::new("/usr") {
            PathBuf::from("/etc")
        } else {
            prefix.join("etc")
        };
        Layout {
            prefix: prefix.to_path_buf(),
            destdir: destdir.to_path_buf(),
            libdir,
            sysconfdir,
        }
    }

    /// `path` (absolute) inside the destination.
    fn dest(&self, path: &Path) -> PathBuf {
        self.destdir.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// Where the `.mod`s are installed (absolute, without destdir).
    pub fn moddir(&self) -> PathBuf {
        self.libdir.join("lcmaps-rs")
    }

    /// Where the systemd units are installed: `<prefix>/lib/systemd/system`
    /// (`/usr/lib/systemd/system`, Debian's and EL's `%{_unitdir}`, even
    /// when the libraries go to `/usr/lib64`).
    pub fn unitdir(&self) -> PathBuf {
        self.prefix.join("lib/systemd/system")
    }
}

/// The built files [`lay_out`] installs.
#[derive(Debug, Clone)]
pub struct Built {
    /// `liblcmaps_capi.so`.
    pub library: PathBuf,
    /// The `lcmaps` program.
    pub lcmaps: PathBuf,
    /// The `glexec` program.
    pub glexec: PathBuf,
    /// glexec's mapping helper.
    pub glexec_mapper: PathBuf,
    /// A directory of `.mod` files.
    pub mods: PathBuf,
}

/// Build everything (`profile`) and install it; `prebuilt_mods` takes the
/// `.mod` files from that directory instead of building them.
pub fn install(layout: &Layout, profile: Profile, prebuilt_mods: Option<&Path>) -> Result<()> {
    let target = target_dir();
    cargo_build(
        profile,
        &target,
        &["lcmaps-capi", "lcmaps-cli", "glexec-cli"],
        &[],
    )?;
    let mods = match prebuilt_mods {
        Some(dir) => dir.to_path_buf(),
        None => mods::build(&mods::Options {
            profile,
            ..mods::Options::default()
        })?,
    };
    let bin = target.join(profile.dir());
    lay_out(
        layout,
        &Built {
            library: bin.join("liblcmaps_capi.so"),
            lcmaps: bin.join("lcmaps"),
            glexec: bin.join("glexec"),
            glexec_mapper: bin.join("glexec-mapper"),
            mods,
        },
    )
}

/// Install `built` in `layout` (no build).
pub fn lay_out(layout: &Layout, built: &Built) -> Result<()> {
    let ws = workspace();
    let libdir = layout.dest(&layout.libdir);
    clib::lay_out(&built.library, &libdir)?;
    let moddir = layout.dest(&layout.moddir());
    for e in read_dir(&built.mods)? {
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".mod") {
            install_file(&e.path(), &moddir.join(&name), 0o755)?;
        }
    }
    install_file(
        &built.lcmaps,
        &layout.dest(&layout.prefix.join("bin/lcmaps")),
        0o755,
    )?;
    install_file(
        &built.glexec,
        &layout.dest(&layout.prefix.join("sbin/glexec")),
        0o4111,
    )?;
    install_file(
        &built.glexec_mapper,
        &layout.dest(&layout.prefix.join("libexec/lcmaps-rs/glexec-mapper")),
        0o755,
    )?;
    for unit in UNITS {
        install_file(
            &ws.join("packaging/systemd").join(unit),
            &layout.dest(&layout.unitdir().join(unit)),
            0o644,
        )?;
    }
    for e in read_dir(&ws.join("include"))? {
        let name = e.file_name();
        let n = name.to_string_lossy();
        if !n.ends_with(".h") {
            continue;
        }
        let sub = if n.starts_with("lcas") {
            "lcas"
        } else {
            "lcmaps"
        };
        let to = layout.prefix.join("include").join(sub).join(&name);
        install_file(&e.path(), &layout.dest(&to), 0o644)?;
    }
    let pcdir = libdir.join("pkgconfig");
    std::fs::create_dir_all(&pcdir).map_err(|e| format!("{}: {e}", pcdir.display()))?;
    for (file, text) in pkg_config_files(layout) {
        write(&pcdir.join(file), &text)?;
    }
    let etc = layout.dest(&layout.sysconfdir);
    for (from, to, mode) in [
        ("examples/glexec/glexec.conf", "glexec.conf", 0o600),
        (
            "examples/glexec/lcmaps-glexec.db",
            "lcmaps/lcmaps-glexec.db",
            0o644,
        ),
        (
            "examples/glexec/lcas-glexec.db",
            "lcas/lcas-glexec.db",
            0o644,
        ),
        (
            "examples/osg-worker-node/lcmaps.db",
            "lcmaps/lcmaps.db",
            0o644,
        ),
    ] {
        let to = etc.join(to);
        if !to.exists() {
            install_file(&ws.join(from), &to, mode)?;
        }
    }
    Ok(())
}

/// The `.pc` files, named as Debian's `liblcmaps-dev` and `liblcas-dev`
/// name theirs, for the link names of [`clib::LINK_NAMES`].
fn pkg_config_files(layout: &Layout) -> Vec<(String, String)> {
    let head = format!(
        "prefix={}\nexec_prefix=${{prefix}}\nlibdir={}\nincludedir=${{prefix}}/include\n\n",
        layout.prefix.display(),
        layout.libdir.display()
    );
    let mut files = vec![
        (
            "lcmaps.pc".to_string(),
            format!(
                "{head}Name: lcmaps\nDescription: LCMAPS (lcmaps-rs)\nVersion: {LCMAPS_API_VERSION}\n\
                 Libs: -L${{libdir}} -llcmaps\nCflags: -I${{includedir}}\n"
            ),
        ),
        (
            "lcas.pc".to_string(),
            format!(
                "{head}Name: lcas\nDescription: LCAS (lcmaps-rs)\nVersion: {LCAS_API_VERSION}\n\
                 Libs: -L${{libdir}} -llcas\nCflags: -I${{includedir}}\n"
            ),
        ),
    ];
    for (pc, lib) in HELPER_PCS {
        files.push((
            format!("{pc}.pc"),
            format!(
                "{head}Name: {pc}\nDescription: LCMAPS {pc} (lcmaps-rs)\nRequires: lcmaps\n\
                 Version: {LCMAPS_API_VERSION}\nLibs: -L${{libdir}} -l{lib}\nCflags: -I${{includedir}}\n"
            ),
        ));
    }
    files
}

/// The multiarch triplet the C compiler names (`x86_64-linux-gnu`), if any.
fn multiarch() -> Option<String> {
    let out = Command::new("cc").arg("-print-multiarch").output().ok()?;
    let triplet = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !triplet.is_empty()).then_some(triplet)
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    /// The layout with stand-in built files: names, links, modes, `.pc`
    /// contents, and a configuration file already there kept.
    #[test]
    fn lays_out_the_tree_a_package_installs() {
        let tmp = tempfile::tempdir().unwrap();
        let built_dir = tmp.path().join("built");
        let mods_dir = built_dir.join("mods");
        std::fs::create_dir_all(&mods_dir).unwrap();
        for f in ["liblcmaps_capi.so", "lcmaps", "glexec", "glexec-mapper"] {
            std::fs::write(built_dir.join(f), f).unwrap();
        }
        std::fs::write(mods_dir.join("lcmaps_localaccount.mod"), "mod").unwrap();
        std::fs::write(mods_dir.join("README"), "not a module").unwrap();
        let dest = tmp.path().join("dest");
        let mut layout = Layout::new(Path::new("/usr"), &dest);
        layout.libdir = PathBuf::from("/usr/lib/x86_64-linux-gnu");
        let kept = dest.join("etc/glexec.conf");
        std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
        std::fs::write(&kept, "site's own\n").unwrap();
        let built = Built {
            library: built_dir.join("liblcmaps_capi.so"),
            lcmaps: built_dir.join("lcmaps"),
            glexec: built_dir.join("glexec"),
            glexec_mapper: built_dir.join("glexec-mapper"),
            mods: mods_dir,
        };
        lay_out(&layout, &built).unwrap();

        let lib = dest.join("usr/lib/x86_64-linux-gnu");
        assert_eq!(
            std::fs::read_to_string(lib.join("liblcmaps_rs.so")).unwrap(),
            "liblcmaps_capi.so"
        );
        for name in clib::RUNTIME_NAMES.iter().chain(&clib::LINK_NAMES) {
            assert_eq!(
                std::fs::read_link(lib.join(name)).unwrap(),
                Path::new("liblcmaps_rs.so"),
                "{name}"
            );
        }
        assert_eq!(mode(&lib.join("lcmaps-rs/lcmaps_localaccount.mod")), 0o755);
        assert!(!lib.join("lcmaps-rs/README").exists());
        assert_eq!(mode(&dest.join("usr/sbin/glexec")), 0o4111);
        assert_eq!(
            mode(&dest.join("usr/libexec/lcmaps-rs/glexec-mapper")),
            0o755
        );
        assert_eq!(mode(&dest.join("usr/bin/lcmaps")), 0o755);
        for unit in UNITS {
            let p = dest.join("usr/lib/systemd/system").join(unit);
            assert_eq!(mode(&p), 0o644, "{unit}");
            assert_eq!(
                std::fs::read(&p).unwrap(),
                std::fs::read(workspace().join("packaging/systemd").join(unit)).unwrap(),
                "{unit}"
            );
        }
        assert!(dest.join("usr/include/lcmaps/lcmaps.h").is_file());
        assert!(dest.join("usr/include/lcmaps/lcmaps_rs_abi.h").is_file());
        assert!(dest.join("usr/include/lcas/lcas.h").is_file());
        assert!(!dest.join("usr/include/lcmaps/lcas.h").exists());
        let pc = std::fs::read_to_string(lib.join("pkgconfig/lcmaps.pc")).unwrap();
        assert!(pc.contains("libdir=/usr/lib/x86_64-linux-gnu\n"), "{pc}");
        assert!(pc.contains("Libs: -L${libdir} -llcmaps\n"), "{pc}");
        let pc = std::fs::read_to_string(lib.join("pkgconfig/lcmaps-return-poolindex.pc")).unwrap();
        assert!(
            pc.contains("Requires: lcmaps\n") && pc.contains("-llcmaps_return_poolindex\n"),
            "{pc}"
        );
        assert!(lib.join("pkgconfig/lcas.pc").is_file());
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "site's own\n");
        assert_eq!(mode(&dest.join("etc/lcmaps/lcmaps-glexec.db")), 0o644);
        assert!(dest.join("etc/lcmaps/lcmaps.db").is_file());
        assert!(dest.join("etc/lcas/lcas-glexec.db").is_file());
    }

    #[test]
    fn sysconfdir_follows_the_prefix() {
        assert_eq!(
            Layout::new(Path::new("/usr"), Path::new("/")).sysconfdir,
            Path::new("/etc")
        );
        let l = Layout::new(Path::new("/opt/lcmaps-rs"), Path::new("/"));
        assert_eq!(l.sysconfdir, Path::new("/opt/lcmaps-rs/etc"));
        assert!(l.libdir.starts_with("/opt/lcmaps-rs/lib"));
        assert_eq!(l.unitdir(), Path::new("/opt/lcmaps-rs/lib/systemd/system"));
        assert_eq!(l.dest(Path::new("/etc/x")), Path::new("/etc/x"));
    }

    /// The values of `key` in a unit file's `text` (comments left out).
    fn unit_values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim())
            .collect()
    }

    /// The units agree with the rest of the install: the service starts
    /// the installed glexec-mapper as the account the packages make, and
    /// the socket is where the shipped glexec.conf looks for it, only
    /// root's.
    #[test]
    fn the_units_match_the_installed_tree() {
        let read = |f: &str| std::fs::read_to_string(workspace().join(f)).unwrap();
        let socket = read("packaging/systemd/glexec-mapper.socket");
        let service = read("packaging/systemd/glexec-mapper.service");
        let conf = read("examples/glexec/glexec.conf");
        let listen = unit_values(&socket, "ListenStream");
        assert_eq!(listen, ["/run/lcmaps-rs/glexec-mapper.sock"]);
        assert!(
            conf.lines()
                .any(|l| l == format!("mapping_service = {}", listen[0])),
            "glexec.conf does not name the socket"
        );
        for (key, value) in [
            ("SocketUser", "root"),
            ("SocketGroup", "root"),
            ("SocketMode", "0600"),
            ("DirectoryMode", "0755"),
            ("Accept", "no"),
            ("WantedBy", "sockets.target"),
        ] {
            assert_eq!(unit_values(&socket, key), [value], "{key}");
        }
        let installed = Layout::new(Path::new("/usr"), Path::new("/"))
            .prefix
            .join("libexec/lcmaps-rs/glexec-mapper");
        assert_eq!(
            unit_values(&service, "ExecStart"),
            [format!("{} --serve", installed.display())]
        );
        for (key, value) in [
            ("Requires", "glexec-mapper.socket"),
            ("User", "glexec"),
            ("Group", "glexec"),
            ("NoNewPrivileges", "yes"),
            ("CapabilityBoundingSet", ""),
            ("Restart", "on-failure"),
            ("Documentation", "man:glexec.conf(5)"),
        ] {
            assert_eq!(unit_values(&service, key), [value], "{key}");
        }
        // C plugins write the gridmapdir and reach their PDP.
        for key in [
            "ProtectSystem",
            "PrivateNetwork",
            "ReadOnlyPaths",
            "IPAddressDeny",
        ] {
            assert!(unit_values(&service, key).is_empty(), "{key}");
        }
    }
}
