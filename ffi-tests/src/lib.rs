//! Helpers for the C-facing tests of lcmaps-rs: locating liblcmaps_rs.so,
//! compiling C programs and plugins with gcc, fixtures with fake accounts
//! (libnss-wrapper), and running programs on Debian's LCMAPS or ours.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (xtask's: one place knows where it is).
pub use xtask::workspace;

/// lcmaps-rs's headers.
pub fn include_dir() -> PathBuf {
    workspace().join("include")
}

/// The C sources of the tests.
pub fn c_source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("c").join(name)
}

/// Debian's LCMAPS headers directory (liblcmaps-dev).
pub const DEBIAN_INCLUDE: &str = "/usr/include/lcmaps";
/// Debian's LCMAPS library (liblcmaps0).
pub const DEBIAN_LIB: &str = "/usr/lib/x86_64-linux-gnu/liblcmaps.so.0";
/// Where Debian's LCMAPS plugins are installed.
pub const DEBIAN_PLUGINS: &str = "/usr/lib/lcmaps";
/// libnss-wrapper.
pub const NSS_WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so";

/// The lcmaps-capi shared library (liblcmaps_rs.so) cargo built next to this test binary.
pub fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir");
    for cand in [
        deps.join("liblcmaps_capi.so"),
        deps.parent()
            .map(|p| p.join("liblcmaps_capi.so"))
            .unwrap_or_default(),
    ] {
        if cand.is_file() {
            return cand;
        }
    }
    panic!("liblcmaps_capi.so not found next to {}", exe.display());
}

/// Lay out the drop-in names (`liblcmaps.so.0`, the helper libraries,
/// `liblcmaps.so` for linking) in `dir`, all pointing at our library.
pub fn clib_dir(dir: &Path) -> PathBuf {
    let d = dir.join("clib");
    std::fs::create_dir_all(&d).expect("mkdir clib");
    let lib = d.join("liblcmaps_rs.so");
    std::fs::copy(cdylib(), &lib).expect("copy cdylib");
    for n in [
        "liblcmaps.so.0",
        "liblcmaps.so",
        "liblcmaps_return_account_from_pem.so.0",
        "liblcmaps_verify_account_from_pem.so.0",
        "liblcmaps_return_poolindex.so.0",
        "liblcmaps_gss_assist_gridmap.so.0",
        "liblcas.so.0",
        "liblcas.so",
    ] {
        let _ = std::fs::remove_file(d.join(n));
        std::os::unix::fs::symlink("liblcmaps_rs.so", d.join(n)).expect("symlink");
    }
    d
}

/// Run gcc with `args`; panics with gcc's output on failure.
pub fn gcc(args: &[&str]) {
    let out = Command::new("gcc").args(args).output().expect("run gcc");
    assert!(
        out.status.success(),
        "gcc {:?} failed:\n{}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compile the C program `src` (e.g. [`c_source`]) into `dir/<name>` with `cflags` (include
/// paths, defines), linked with `-L<libdir>` when given and `libs`
/// (e.g. `-llcmaps`).
pub fn build_program(
    dir: &Path,
    src: &Path,
    name: &str,
    cflags: &[String],
    libdir: Option<&Path>,
    libs: &[&str],
) -> PathBuf {
    let exe = dir.join(name);
    let mut args: Vec<String> = vec!["-Wall".into()];
    args.extend(cflags.iter().cloned());
    args.push("-o".into());
    args.push(exe.display().to_string());
    args.push(src.display().to_string());
    if let Some(l) = libdir {
        args.push(format!("-L{}", l.display()));
    }
    args.extend(libs.iter().map(|l| l.to_string()));
    gcc(&args.iter().map(String::as_str).collect::<Vec<_>>());
    exe
}

/// Compile a test plugin (`c/<src>`) into `dir/<name>` against our headers.
pub fn build_plugin(dir: &Path, src: &str, name: &str, defines: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let inc = format!("-I{}", include_dir().display());
    let src = c_source(src);
    let mut args = vec![
        "-shared",
        "-fPIC",
        "-Wall",
        "-Wno-deprecated-declarations",
        &inc,
        "-o",
        out.to_str().expect("utf-8 path"),
        src.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(defines);
    gcc(&args);
    out
}

/// Is Debian's LCMAPS (library and headers) installed?
pub fn have_debian_lcmaps() -> bool {
    Path::new(DEBIAN_LIB).exists() && Path::new(DEBIAN_INCLUDE).join("lcmaps.h").exists()
}

/// A requirement of `test` is missing (`why`): under `CI=true` the test
/// fails, so a CI image without gcc or Debian's LCMAPS cannot pass it
/// unseen; elsewhere it is skipped with a note (`lcmaps_core::testing`).
pub fn skip(test: &str, why: &str) {
    lcmaps_core::testing::requirement(test, false, why);
}

/// Is gcc on the PATH?
pub fn have_gcc() -> bool {
    Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Output of a finished program: status code, stdout, stderr.
#[derive(Debug)]
pub struct Ran {
    /// Exit code (-1 for a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Run `cmd` to completion.
pub fn run(cmd: &mut Command) -> Ran {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run program");
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Fake accounts for libnss-wrapper.
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
alice:x:5001:5001:Alice:/home/alice:/bin/sh\n\
gk501:x:501:500:gk:/home/gk501:/bin/sh\n\
pool001:x:6001:6000:pool:/home/pool001:/bin/sh\n\
pool002:x:6002:6000:pool:/home/pool002:/bin/sh\n\
pool003:x:6003:6000:pool:/home/pool003:/bin/sh\n\
dtp001:x:7001:7000:pool:/home/dtp001:/bin/sh\n\
dtp002:x:7002:7000:pool:/home/dtp002:/bin/sh\n\
dtp003:x:7003:7000:pool:/home/dtp003:/bin/sh\n";

/// Fake groups for libnss-wrapper.
pub const GROUP: &str = "root:x:0:\n\
alice:x:5001:\n\
extra:x:5100:alice\n\
gk:x:500:\n\
pools:x:6000:\n\
dteamgrp:x:7000:\n\
atlasgrp:x:7100:\n\
cmsgrp001:x:8001:\n\
cmsgrp002:x:8002:\n";

/// Write the passwd/group files into `dir`; returns the environment that
/// makes a child process see them.
pub fn nss_env(dir: &Path) -> Vec<(String, String)> {
    std::fs::write(dir.join("passwd"), PASSWD).expect("write passwd");
    std::fs::write(dir.join("group"), GROUP).expect("write group");
    vec![
        ("LD_PRELOAD".into(), NSS_WRAPPER.into()),
        (
            "NSS_WRAPPER_PASSWD".into(),
            dir.join("passwd").display().to_string(),
        ),
        (
            "NSS_WRAPPER_GROUP".into(),
            dir.join("group").display().to_string(),
        ),
    ]
}

/// A listing of a gridmapdir: each name with its link count, and the names
/// sharing an inode grouped (the leases).
pub fn gridmapdir_state(dir: &Path) -> Vec<String> {
    use std::collections::BTreeMap;
    use std::os::unix::fs::MetadataExt;
    let mut by_inode: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read gridmapdir") {
        let e = e.expect("dir entry");
        let m = e.metadata().expect("stat");
        let name = e.file_name().to_string_lossy().into_owned();
        out.push(format!("{name} nlink={}", m.nlink()));
        by_inode.entry(m.ino()).or_default().push(name);
    }
    for mut names in by_inode.into_values() {
        if names.len() > 1 {
            names.sort();
            out.push(format!("linked: {}", names.join(" = ")));
        }
    }
    out.sort();
    out
}
