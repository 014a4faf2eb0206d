//! Helpers for running our `.mod`s and Debian's C plugins side by side
//! inside Debian's liblcmaps (a C gatekeeper linked with `-llcmaps`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub use ffi_tests::{gridmapdir_state, have_debian_lcmaps, nss_env, run, skip, Ran};

/// Where Debian installs its C plugins.
pub const DEBIAN_MODS: &str = "/usr/lib/lcmaps";

/// Build our `.mod`s once per test process with `cargo xtask mods`'s
/// library (release, its own target dir so it never waits for the cargo
/// running the tests); returns their directory.
pub fn our_mods() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let ws = ffi_tests::workspace();
        let out = xtask::target_dir().join("mods");
        // Every test binary of this crate asks; build once per source change.
        let stamp = out.join(".built");
        let fresh = std::fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .is_ok_and(|built| newest_source(&ws) < built);
        if fresh {
            return out;
        }
        let out = xtask::mods::build(&xtask::mods::Options::default())
            .unwrap_or_else(|e| panic!("building the .mods: {e}"));
        std::fs::write(out.join(".built"), "").expect("write the build stamp");
        out
    })
}

/// The newest modification time of the sources the modules are built from.
fn newest_source(ws: &Path) -> std::time::SystemTime {
    fn walk(p: &Path, newest: &mut std::time::SystemTime) {
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            return;
        };
        if let Ok(m) = meta.modified() {
            *newest = (*newest).max(m);
        }
        if meta.is_dir() && !matches!(p.file_name(), Some(n) if n == "target") {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                walk(&e.path(), newest);
            }
        }
    }
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for p in [
        "Cargo.toml",
        "Cargo.lock",
        "xtask",
        "lcmaps-core",
        "lcmaps-sys",
        "lcmaps-x509",
        "lcmaps-plugin-common",
        "lcmaps-plugin-sdk",
        "lcmaps-plugins",
        "examples/lcmaps-example-plugin",
        "mods",
    ] {
        walk(&ws.join(p), &mut newest);
    }
    newest
}

/// Our `.mod`s ([`our_mods`]) copied to a plain-named directory: Debian's
/// lcmaps.db lexer takes no '-' or leading '.' in an unquoted `path`.
pub fn plain_mods_dir() -> tempfile::TempDir {
    let mods = tempfile::Builder::new()
        .prefix("lcmapsmods")
        .tempdir()
        .expect("tempdir");
    for e in std::fs::read_dir(our_mods()).expect("read mods") {
        let e = e.expect("entry");
        if e.file_name().to_string_lossy().ends_with(".mod") {
            std::fs::copy(e.path(), mods.path().join(e.file_name())).expect("copy mod");
        }
    }
    mods
}

/// Debian's LCMAPS (library, headers) and its C localaccount plugin are
/// installed; when not, `test` fails under CI=true and skips elsewhere.
pub fn debian_lcmaps_ready(test: &str) -> bool {
    let ok = have_debian_lcmaps()
        && Path::new(DEBIAN_MODS)
            .join("lcmaps_localaccount.mod")
            .exists();
    if !ok {
        skip(
            test,
            "Debian's liblcmaps-dev / lcmaps-plugins-basic-* are not installed",
        );
    }
    ok
}

/// ffi-tests' LCAS caller (`c/lcas_client.c`) built in `dir` against
/// Debian's headers and `-llcas`; `None` when liblcas-dev or the Globus
/// headers are missing (`test` then fails under CI=true, skips elsewhere).
pub fn debian_lcas_client(test: &str, dir: &Path) -> Option<PathBuf> {
    let cflags = Command::new("pkg-config")
        .args(["--cflags", "globus-gssapi-gsi"])
        .output()
        .ok()
        .filter(|o| o.status.success() && Path::new("/usr/include/lcas/lcas.h").exists());
    let Some(out) = cflags else {
        skip(
            test,
            "liblcas-dev or libglobus-gssapi-gsi-dev is not installed",
        );
        return None;
    };
    let mut cflags = vec!["-I/usr/include/lcas".to_string()];
    cflags.extend(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from),
    );
    Some(ffi_tests::build_program(
        dir,
        &ffi_tests::c_source("lcas_client.c"),
        "lcas_client",
        &cflags,
        None,
        &["-llcas"],
    ))
}

/// The C gatekeeper (ffi-tests/c/gatekeeper.c) built against Debian's
/// headers and linked with Debian's `-llcmaps`, in `dir`.
pub fn debian_gatekeeper(dir: &Path) -> PathBuf {
    ffi_tests::build_program(
        dir,
        &ffi_tests::c_source("gatekeeper.c"),
        "gatekeeper-debian",
        &["-O2".into(), format!("-I{}", ffi_tests::DEBIAN_INCLUDE)],
        None,
        &["-llcmaps"],
    )
}

/// One LCMAPS setup: an lcmaps.db whose `path` is `mods`, fake accounts.
#[derive(Debug)]
pub struct Setup {
    /// Scratch directory (db, passwd, group, files).
    pub dir: PathBuf,
    /// The db file.
    pub db: PathBuf,
    /// Environment for the gatekeeper.
    pub env: Vec<(String, String)>,
}

impl Setup {
    /// Write `body` (the db without its `path` line) under `dir`, with
    /// `path = mods`.
    pub fn new(dir: &Path, mods: &Path, body: &str) -> Setup {
        std::fs::create_dir_all(dir).expect("mkdir");
        let db = dir.join("lcmaps.db");
        std::fs::write(&db, format!("path = {}\n{body}", mods.display())).expect("write db");
        let mut env = nss_env(dir);
        env.push(("LCMAPS_DB_FILE".into(), db.display().to_string()));
        env.push(("LCMAPS_DEBUG_LEVEL".into(), "5".into()));
        Setup {
            dir: dir.to_path_buf(),
            db,
            env,
        }
    }

    /// Run the gatekeeper: `mode` is `account` or `username`.
    pub fn map(&self, gk: &Path, mode: &str, dn: &str, extra_env: &[(&str, &str)]) -> Ran {
        let mut c = Command::new(gk);
        c.arg(mode).arg(dn).env_clear().env("PATH", "/usr/bin:/bin");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        for (k, v) in extra_env {
            c.env(k, v);
        }
        run(&mut c)
    }
}

/// The result line of a gatekeeper run (`rc=... uid=...`).
pub fn result_line(r: &Ran) -> String {
    r.stdout
        .lines()
        .find(|l| l.starts_with("rc=") || l.starts_with("init="))
        .unwrap_or("(no result)")
        .to_string()
}

/// `c/batch.c` (many DNs mapped in one process, see its header) built
/// against Debian's headers and linked with Debian's `-llcmaps`, in `dir`.
pub fn debian_batch(dir: &Path) -> PathBuf {
    ffi_tests::build_program(
        dir,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("c/batch.c"),
        "batch-debian",
        &["-O2".into(), format!("-I{}", ffi_tests::DEBIAN_INCLUDE)],
        None,
        &["-llcmaps"],
    )
}
