//! Debian binary packages: `cargo xtask deb [--debug] [--mods DIR] [--out DIR]`.
//!
//! The tree `cargo xtask install --prefix /usr` lays out ([`install`]) is
//! split into five packages by path ([`PACKAGES`]); every file goes to
//! exactly one. Man pages are made from `docs/*.md` by pandoc; ELF files
//! are stripped; each package's `Depends` comes from the `NEEDED` entries of
//! its ELF files, looked up with `dpkg -S` (what dpkg-shlibdeps would say,
//! without a source package); files under `/etc` are conffiles; the
//! maintainer scripts are in `packaging/debian/`. Then
//! `dpkg-deb --root-owner-group --build`.
//!
//! Why not debhelper or cargo-deb: the install tree is already `cargo
//! xtask install`'s (the same for every distribution); splitting it by
//! path rules here keeps one description of where files go, and needs no
//! tool beyond dpkg-deb and pandoc.
//!
//! | package | holds | replaces |
//! |---|---|---|
//! | `liblcmaps-rs0` | `liblcmaps_rs.so` and its runtime names (`liblcmaps.so.0`, the four helper libraries, `liblcas.so.0`) | `liblcmaps0`, `liblcas0` (provided, so their dependants stay) |
//! | `lcmaps-rs-plugins` | the `.mod` files, in `<libdir>/lcmaps-rs/` (beside Debian's C plugins) | |
//! | `lcmaps-rs` | `lcmaps`, its man pages | |
//! | `glexec-rs` | `glexec` (4111), `glexec-mapper`, `glexec.conf` (0600), the glexec policies (the OSG worker-node `lcmaps.db` among them), the mapping service's units `glexec-mapper.socket` and `.service`, man pages; the `glexec` account, the socket enabled and started (postinst) | `glexec` |
//! | `liblcmaps-rs-dev` | headers, link names, `.pc` files | `liblcmaps-dev`, `liblcas-dev` and the four `*-interface` header packages |

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::install::{self, Layout};
use crate::{target_dir, workspace, Profile, Result};

/// The version of our packages.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "-1");
const MAINTAINER: &str = "lcmaps-rs developers <maintainers@lcmaps-rs.org>";

/// One binary package.
#[derive(Debug)]
pub struct Package {
    /// Its name.
    pub name: &'static str,
    /// One line, then the long description.
    pub description: &'static str,
    /// Whether a staged path (relative, no leading `/`) belongs here.
    pub holds: fn(&str) -> bool,
    /// More control fields (`Provides: ...`), one a line.
    pub fields: &'static [&'static str],
    /// Dependencies beyond the shared libraries (`adduser`).
    pub depends: &'static [&'static str],
    /// `postinst`, if any.
    pub postinst: Option<&'static str>,
    /// `prerm`, if any.
    pub prerm: Option<&'static str>,
    /// `postrm`, if any.
    pub postrm: Option<&'static str>,
}

/// The `shlibs` of the library package: its one file's soname,
/// `liblcmaps.so.0` (the other names are links C programs load by name).
fn shlibs() -> String {
    format!("liblcmaps 0 liblcmaps-rs0 (>= {VERSION})\n")
}

/// The path inside the library directory (`usr/lib/<multiarch>/` or
/// `usr/lib/`) of a staged path, if it is in one.
fn in_libdir(p: &str) -> Option<&str> {
    let rest = p.strip_prefix("usr/lib/")?;
    match rest.split_once('/') {
        Some((triplet, inner)) if triplet.contains("-linux-") => Some(inner),
        _ => Some(rest),
    }
}

/// glexec-rs's maintainer scripts: the `glexec` account, and the mapping
/// service's socket enabled and started (stopped on removal, forgotten on
/// purge) as debhelper's `dh_installsystemd` snippets do it.
const GLEXEC_POSTINST: &str = include_str!("../../packaging/debian/glexec-rs.postinst");
const GLEXEC_PRERM: &str = include_str!("../../packaging/debian/glexec-rs.prerm");
const GLEXEC_POSTRM: &str = include_str!("../../packaging/debian/glexec-rs.postrm");

/// The packages, in the order their files are claimed.
pub const PACKAGES: &[Package] = &[
    Package {
        name: "liblcmaps-rs0",
        description: "LCMAPS and LCAS C libraries from lcmaps-rs\n \
            liblcmaps_rs.so under the names C programs load: liblcmaps.so.0, the four\n \
            LCMAPS helper libraries and liblcas.so.0, for unchanged gatekeepers and\n \
            servers. It replaces Debian's liblcmaps0 and liblcas0; reinstalling those\n \
            brings the C stack back.",
        holds: |p| {
            in_libdir(p).is_some_and(|f| {
                !f.contains('/') && (f == "liblcmaps_rs.so" || f.ends_with(".so.0"))
            })
        },
        // The versions of Debian's packages ours stand in for (what
        // dependants ask for).
        fields: &[
            "Provides: liblcmaps0 (= 1.6.6-99), liblcas0 (= 1.3.19-99)",
            "Conflicts: liblcmaps0, liblcas0",
            "Replaces: liblcmaps0, liblcas0",
            "Section: libs",
        ],
        depends: &[],
        postinst: None,
        prerm: None,
        postrm: None,
    },
    Package {
        name: "lcmaps-rs-plugins",
        description: "LCMAPS and LCAS plugins of lcmaps-rs as .mod files\n \
            The lcmaps-rs plugins (localaccount, poolaccount, verify-proxy, the VOMS\n \
            plugins, scitokens, the GUMS/SCAS callout, glexec tracking, ...) as .mod\n \
            files for LCMAPS hosts, in a directory of their own beside Debian's C\n \
            plugins.",
        holds: |p| in_libdir(p).is_some_and(|f| f.starts_with("lcmaps-rs/")),
        fields: &["Section: admin"],
        depends: &[],
        postinst: None,
        prerm: None,
        postrm: None,
    },
    Package {
        name: "lcmaps-rs",
        description: "check LCMAPS policy files and dry-run mappings\n \
            lcmaps check reports every problem of an lcmaps.db with file, line and\n \
            column; lcmaps map shows what a credential maps to, plugin by plugin.",
        holds: |p| {
            p == "usr/bin/lcmaps"
                || p.starts_with("usr/share/man/man1/lcmaps.")
                || p.starts_with("usr/share/man/man5/lcmaps.db.")
        },
        fields: &["Section: admin"],
        depends: &[],
        postinst: None,
        prerm: None,
        postrm: None,
    },
    Package {
        name: "glexec-rs",
        description: "run a grid payload as the account its credential maps to\n \
            glexec for worker nodes, from lcmaps-rs: a pilot job runs its payload\n \
            under the Unix account the site's LCAS/LCMAPS policy maps the payload's\n \
            proxy or token to. The set-uid part only checks, switches and runs; the\n \
            mapping runs in a helper as the unprivileged account glexec.",
        holds: |p| {
            p == "usr/sbin/glexec"
                || p.starts_with("usr/libexec/lcmaps-rs/")
                || p == "etc/glexec.conf"
                || p == "etc/lcmaps/lcmaps-glexec.db"
                || p == "etc/lcmaps/lcmaps.db"
                || p == "etc/lcas/lcas-glexec.db"
                || p.starts_with("var/lib/lcmaps-rs/")
                || p.starts_with("usr/lib/systemd/system/glexec-mapper.")
                || p.starts_with("usr/share/man/man1/glexec.")
                || p.starts_with("usr/share/man/man5/glexec.conf.")
        },
        fields: &[
            "Provides: glexec",
            "Conflicts: glexec",
            "Replaces: glexec",
            "Section: admin",
        ],
        depends: &["adduser"],
        postinst: Some(GLEXEC_POSTINST),
        prerm: Some(GLEXEC_PRERM),
        postrm: Some(GLEXEC_POSTRM),
    },
    Package {
        name: "liblcmaps-rs-dev",
        description: "LCMAPS and LCAS development files from lcmaps-rs\n \
            Headers, link names and pkg-config files (lcmaps.pc, lcas.pc and the\n \
            helper libraries'), with the names of Debian's liblcmaps-dev and\n \
            liblcas-dev, for building C programs against liblcmaps-rs0.",
        holds: |p| {
            p.starts_with("usr/include/")
                || in_libdir(p).is_some_and(|f| {
                    f.starts_with("pkgconfig/") || (f.ends_with(".so") && f != "liblcmaps_rs.so")
                })
        },
        // Debian splits these headers over the -dev packages and four
        // header-only ones.
        fields: &[
            "Provides: liblcmaps-dev (= 1.6.6-99), liblcas-dev (= 1.3.19-99), \
             lcas-interface (= 1.3.19-99), lcmaps-basic-interface (= 1.6.6-99), \
             lcmaps-globus-interface (= 1.6.6-99), lcmaps-openssl-interface (= 1.6.6-99)",
            "Conflicts: liblcmaps-dev, liblcas-dev, lcas-interface, lcmaps-basic-interface, \
             lcmaps-globus-interface, lcmaps-openssl-interface",
            // Debian's liblcmaps0 has the link names too.
            "Replaces: liblcmaps-dev, liblcas-dev, lcas-interface, lcmaps-basic-interface, \
             lcmaps-globus-interface, lcmaps-openssl-interface, liblcmaps0",
            "Section: libdevel",
        ],
        depends: &["liblcmaps-rs0 (= ${version})"],
        postinst: None,
        prerm: None,
        postrm: None,
    },
];

/// The man pages: markdown in `docs/`, section.
const MAN_PAGES: &[(&str, &str, u8)] = &[
    ("docs/glexec.1.md", "glexec", 1),
    ("docs/glexec.conf.5.md", "glexec.conf", 5),
    ("docs/lcmaps.1.md", "lcmaps", 1),
    ("docs/lcmaps.db.5.md", "lcmaps.db", 5),
];

/// Build the packages into `out` (default `<target>/debian`); returns the
/// `.deb` files.
pub fn build(profile: Profile, mods: Option<&Path>, out: Option<&Path>) -> Result<Vec<PathBuf>> {
    let out = out.map_or_else(|| target_dir().join("debian"), Path::to_path_buf);
    // rpmbuild and dpkg-deb run elsewhere: every path absolute.
    let out = std::path::absolute(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let staging = out.join("staging");
    let _ = std::fs::remove_dir_all(&out);
    let layout = Layout::new(Path::new("/usr"), &staging);
    install::install(&layout, profile, mods)?;
    man_pages(&staging)?;
    let arch = output("dpkg", &["--print-architecture"])?;
    let mut files = staged_files(&staging)?;
    let mut debs = Vec::new();
    for pkg in PACKAGES {
        let mine: Vec<String> = files.iter().filter(|f| (pkg.holds)(f)).cloned().collect();
        files.retain(|f| !(pkg.holds)(f));
        let root = out.join("trees").join(pkg.name);
        for f in &mine {
            move_into(&staging, &root, f)?;
        }
        if pkg.name == "glexec-rs" {
            let d = root.join("var/lib/lcmaps-rs/glexec-tracking");
            std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
            chmod(&d, 0o700)?;
        }
        debs.push(package(pkg, &root, &mine, &arch, &out)?);
    }
    if !files.is_empty() {
        return Err(format!("files no package holds: {files:?}"));
    }
    Ok(debs)
}

/// Every file and symbolic link under `root`, relative, sorted.
pub(crate) fn staged_files(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let e = e.map_err(|e| e.to_string())?;
            let p = e.path();
            let t = e.file_type().map_err(|e| e.to_string())?;
            if t.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(root).expect("under root");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn move_into(from_root: &Path, to_root: &Path, rel: &str) -> Result<()> {
    let to = to_root.join(rel);
    if let Some(d) = to.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::rename(from_root.join(rel), &to).map_err(|e| format!("{rel}: {e}"))
}

fn chmod(p: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", p.display()))
}

fn output(cmd: &str, args: &[&str]) -> Result<String> {
    let o = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {cmd}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let st = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({st})"))
    }
}

/// The man pages, as roff, gzipped, in `root/usr/share/man`.
pub(crate) fn man_pages(root: &Path) -> Result<()> {
    let ws = workspace();
    for (md, name, section) in MAN_PAGES {
        let dir = root.join(format!("usr/share/man/man{section}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let page = dir.join(format!("{name}.{section}"));
        run(Command::new("pandoc")
            .args(["--standalone", "--from", "markdown", "--to", "man"])
            .args(["--metadata", &format!("title={}", name.to_uppercase())])
            .args(["--metadata", &format!("section={section}")])
            .args(["--metadata", "header=lcmaps-rs"])
            .arg("--output")
            .arg(&page)
            .arg(ws.join(md)))?;
        run(Command::new("gzip").args(["-9n", "-f"]).arg(&page))?;
    }
    Ok(())
}

/// Whether `p` is an ELF file (not a link).
pub(crate) fn is_elf(p: &Path) -> bool {
    let Ok(m) = std::fs::symlink_metadata(p) else {
        return false;
    };
    if !m.is_file() {
        return false;
    }
    std::fs::read(p).is_ok_and(|b| b.starts_with(b"\x7fELF"))
}

/// Strip `elf` (keeping its mode: `strip` would drop a set-uid bit).
pub(crate) fn strip(elf: &Path) -> Result<()> {
    let mode = std::fs::metadata(elf).map_err(|e| e.to_string())?.mode() & 0o7777;
    run(Command::new("strip")
        .args([
            "--strip-unneeded",
            "--remove-section=.comment",
            "--remove-section=.note",
        ])
        .arg(elf))?;
    chmod(elf, mode)
}

/// The packages that provide the shared libraries `elfs` need, but for
/// what `own` (this package's files) provides.
fn shared_library_depends(elfs: &[PathBuf], own: &[String]) -> Result<Vec<String>> {
    let mut libs = std::collections::BTreeSet::new();
    for e in elfs {
        let dynamic = output("readelf", &["-d", &e.to_string_lossy()])?;
        for l in dynamic.lines().filter(|l| l.contains("(NEEDED)")) {
            if let Some(name) = l.split('[').nth(1).and_then(|r| r.split(']').next()) {
                libs.insert(name.to_string());
            }
        }
    }
    let mut pkgs = std::collections::BTreeSet::new();
    for lib in libs {
        if own.iter().any(|f| f.ends_with(&format!("/{lib}"))) {
            continue;
        }
        // The library of another of our packages.
        if lib.starts_with("liblcmaps") || lib.starts_with("liblcas") {
            pkgs.insert("liblcmaps-rs0 (= ${version})".to_string());
            continue;
        }
        let owner = output("dpkg", &["-S", &format!("*/{lib}")])?;
        let pkg = owner
            .lines()
            .next()
            .and_then(|l| l.split(':').next())
            .ok_or_else(|| format!("no package has {lib}"))?;
        pkgs.insert(pkg.to_string());
    }
    Ok(pkgs.into_iter().collect())
}

/// Write the control files of `pkg` in `root` and build its `.deb` in `out`.
fn package(
    pkg: &Package,
    root: &Path,
    files: &[String],
    arch: &str,
    out: &Path,
) -> Result<PathBuf> {
    let elfs: Vec<PathBuf> = files
        .iter()
        .map(|f| root.join(f))
        .filter(|p| is_elf(p))
        .collect();
    for e in &elfs {
        strip(e)?;
        // Shared libraries are not programs (Debian policy 8.1).
        if e.extension().is_some_and(|x| x == "so") {
            chmod(e, 0o644)?;
        }
    }
    let mut depends: Vec<String> = pkg.depends.iter().map(|d| d.to_string()).collect();
    depends.extend(shared_library_depends(&elfs, files)?);
    let depends: Vec<String> = depends
        .iter()
        .map(|d| d.replace("${version}", VERSION))
        .collect();
    // Documentation every package carries.
    let doc = root.join("usr/share/doc").join(pkg.name);
    std::fs::create_dir_all(&doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    std::fs::write(
        doc.join("copyright"),
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: lcmaps-rs\n\n\
         Files: *\nCopyright: 2026 the lcmaps-rs developers\nLicense: Apache-2.0\n \
         On Debian systems the full text of the Apache License 2.0 is in\n \
         /usr/share/common-licenses/Apache-2.0.\n",
    )
    .map_err(|e| e.to_string())?;
    let changelog = doc.join("changelog.Debian");
    std::fs::write(
        &changelog,
        format!(
            "{} ({VERSION}) unstable; urgency=medium\n\n  * Built by cargo xtask deb.\n\n -- {MAINTAINER}  Wed, 02 Dec 2026 00:00:00 +0000\n",
            pkg.name
        ),
    )
    .map_err(|e| e.to_string())?;
    run(Command::new("gzip").args(["-9n", "-f"]).arg(&changelog))?;
    let control_dir = root.join("DEBIAN");
    std::fs::create_dir_all(&control_dir).map_err(|e| e.to_string())?;
    let size_kb = output("du", &["-sk", "--exclude=DEBIAN", &root.to_string_lossy()])?
        .split_whitespace()
        .next()
        .unwrap_or("0")
        .to_string();
    let mut control = format!(
        "Package: {}\nVersion: {VERSION}\nArchitecture: {arch}\nMaintainer: {MAINTAINER}\n\
         Installed-Size: {size_kb}\nPriority: optional\nHomepage: https://github.com/lcmaps-rs\n",
        pkg.name
    );
    if !depends.is_empty() {
        control.push_str(&format!("Depends: {}\n", depends.join(", ")));
    }
    for f in pkg.fields {
        control.push_str(f);
        control.push('\n');
    }
    control.push_str(&format!("Description: {}\n", pkg.description));
    std::fs::write(control_dir.join("control"), control).map_err(|e| e.to_string())?;
    let conffiles: Vec<String> = files
        .iter()
        .filter(|f| f.starts_with("etc/"))
        .map(|f| format!("/{f}\n"))
        .collect();
    if !conffiles.is_empty() {
        std::fs::write(control_dir.join("conffiles"), conffiles.concat())
            .map_err(|e| e.to_string())?;
    }
    if pkg.name == "liblcmaps-rs0" {
        std::fs::write(control_dir.join("shlibs"), shlibs()).map_err(|e| e.to_string())?;
        std::fs::write(control_dir.join("triggers"), "activate-noawait ldconfig\n")
            .map_err(|e| e.to_string())?;
    }
    for (name, script) in [
        ("postinst", pkg.postinst),
        ("prerm", pkg.prerm),
        ("postrm", pkg.postrm),
    ] {
        if let Some(s) = script {
            let p = control_dir.join(name);
            std::fs::write(&p, s).map_err(|e| e.to_string())?;
            chmod(&p, 0o755)?;
        }
    }
    let deb = out.join(format!("{}_{VERSION}_{arch}.deb", pkg.name));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "--build"])
        .arg(root)
        .arg(&deb))?;
    Ok(deb)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file the install tree has goes to exactly one package.
    #[test]
    fn every_installed_path_has_one_package() {
        let paths = [
            "usr/lib/x86_64-linux-gnu/liblcmaps_rs.so",
            "usr/lib/x86_64-linux-gnu/liblcmaps.so.0",
            "usr/lib/x86_64-linux-gnu/liblcas.so.0",
            "usr/lib/x86_64-linux-gnu/liblcmaps_return_poolindex.so.0",
            "usr/lib/x86_64-linux-gnu/liblcmaps.so",
            "usr/lib/x86_64-linux-gnu/pkgconfig/lcmaps.pc",
            "usr/lib/x86_64-linux-gnu/lcmaps-rs/lcmaps_localaccount.mod",
            "usr/include/lcmaps/lcmaps.h",
            "usr/include/lcas/lcas.h",
            "usr/bin/lcmaps",
            "usr/sbin/glexec",
            "usr/libexec/lcmaps-rs/glexec-mapper",
            "usr/lib/systemd/system/glexec-mapper.socket",
            "usr/lib/systemd/system/glexec-mapper.service",
            "etc/glexec.conf",
            "etc/lcmaps/lcmaps-glexec.db",
            "etc/lcmaps/lcmaps.db",
            "etc/lcas/lcas-glexec.db",
            "usr/share/man/man1/glexec.1.gz",
            "usr/share/man/man5/glexec.conf.5.gz",
            "usr/share/man/man1/lcmaps.1.gz",
            "usr/share/man/man5/lcmaps.db.5.gz",
        ];
        for p in paths {
            let holders: Vec<_> = PACKAGES
                .iter()
                .filter(|k| (k.holds)(p))
                .map(|k| k.name)
                .collect();
            assert_eq!(holders.len(), 1, "{p}: {holders:?}");
        }
        let of = |p: &str| PACKAGES.iter().find(|k| (k.holds)(p)).unwrap().name;
        assert_eq!(
            of("usr/lib/x86_64-linux-gnu/liblcmaps.so.0"),
            "liblcmaps-rs0"
        );
        assert_eq!(
            of("usr/lib/x86_64-linux-gnu/liblcmaps.so"),
            "liblcmaps-rs-dev"
        );
        assert_eq!(of("usr/libexec/lcmaps-rs/glexec-mapper"), "glexec-rs");
        assert_eq!(of("etc/lcmaps/lcmaps.db"), "glexec-rs");
        for unit in install::UNITS {
            assert_eq!(of(&format!("usr/lib/systemd/system/{unit}")), "glexec-rs");
        }
    }

    /// The maintainer scripts parse, and glexec-rs's look after the
    /// mapping service's units as debhelper's snippets would.
    #[test]
    fn maintainer_scripts_parse_and_name_the_units() {
        for pkg in PACKAGES {
            for script in [pkg.postinst, pkg.prerm, pkg.postrm].into_iter().flatten() {
                assert!(script.starts_with("#!/bin/sh\n"), "{}", pkg.name);
                let st = Command::new("sh")
                    .args(["-n", "-c", script])
                    .status()
                    .unwrap();
                assert!(st.success(), "{}: sh -n failed", pkg.name);
            }
        }
        let glexec = PACKAGES.iter().find(|p| p.name == "glexec-rs").unwrap();
        let postinst = glexec.postinst.unwrap();
        let account = postinst.find("adduser --system").unwrap();
        let enable = postinst
            .find("deb-systemd-helper enable glexec-mapper.socket")
            .unwrap();
        assert!(account < enable, "the account comes first");
        assert!(postinst.contains("[ -d /run/systemd/system ]"));
        assert!(postinst.contains("deb-systemd-invoke \"$action\" glexec-mapper.socket"));
        assert!(postinst.contains("systemctl enable --now glexec-mapper.socket"));
        assert!(glexec
            .prerm
            .unwrap()
            .contains("stop glexec-mapper.socket glexec-mapper.service"));
        assert!(glexec
            .postrm
            .unwrap()
            .contains("deb-systemd-helper purge glexec-mapper.socket"));
    }
}
