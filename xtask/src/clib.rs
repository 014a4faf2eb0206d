//! `liblcmaps_rs.so` (the LCMAPS 1.6 and LCAS 1.3 C APIs of lcmaps-rs,
//! SONAME `liblcmaps.so.0`) and the names C programs load it by. A program
//! built against Debian's `liblcmaps-dev` runs on ours with
//! `LD_LIBRARY_PATH=<dir>`.

use std::path::{Path, PathBuf};

use crate::{cargo_build, install_file, symlink, target_dir, Profile, Result};

/// The file the names below point at.
pub const LIBRARY: &str = "liblcmaps_rs.so";

/// The names the dynamic linker resolves for unchanged C programs: Debian's
/// `liblcmaps0` sonames (the library and its four helper libraries) and
/// `liblcas0`'s.
pub const RUNTIME_NAMES: [&str; 6] = [
    "liblcmaps.so.0",
    "liblcmaps_return_account_from_pem.so.0",
    "liblcmaps_verify_account_from_pem.so.0",
    "liblcmaps_return_poolindex.so.0",
    "liblcmaps_gss_assist_gridmap.so.0",
    "liblcas.so.0",
];

/// The names a C build links with (`-llcmaps`, `-llcas`, ...), as Debian's
/// `liblcmaps-dev` and `liblcas-dev` install them.
pub const LINK_NAMES: [&str; 6] = [
    "liblcmaps.so",
    "liblcmaps_return_account_from_pem.so",
    "liblcmaps_verify_account_from_pem.so",
    "liblcmaps_return_poolindex.so",
    "liblcmaps_gss_assist_gridmap.so",
    "liblcas.so",
];

/// Build `lcmaps-capi` in `build_dir` (default: the workspace target dir)
/// and lay it out in `out` (default `<target>/clib`) under [`LIBRARY`], the
/// [`RUNTIME_NAMES`] and the [`LINK_NAMES`]; returns `out`.
pub fn build(profile: Profile, build_dir: Option<&Path>, out: Option<&Path>) -> Result<PathBuf> {
    let build_dir = build_dir.map(Path::to_path_buf).unwrap_or_else(target_dir);
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| target_dir().join("clib"));
    cargo_build(profile, &build_dir, &["lcmaps-capi"], &[])?;
    lay_out(
        &build_dir.join(profile.dir()).join("liblcmaps_capi.so"),
        &out,
    )?;
    Ok(out)
}

/// Install the built library `so` in `dir` under all its names.
pub fn lay_out(so: &Path, dir: &Path) -> Result<()> {
    install_file(so, &dir.join(LIBRARY), 0o755)?;
    for name in RUNTIME_NAMES.iter().chain(&LINK_NAMES) {
        symlink(LIBRARY, &dir.join(name))?;
    }
    Ok(())
}
