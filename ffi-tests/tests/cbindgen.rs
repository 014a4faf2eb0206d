//! The generated headers are what the pinned cbindgen makes of the Rust
//! sources: include/lcmaps_rs_abi.h (lcmaps-capi's functions; the
//! hand-written LCMAPS headers agree with it) and
//! lcmaps-sys/include/lcmaps_sys.h (lcmaps-sys's structs and constants, for
//! the C shim).

use std::path::{Path, PathBuf};

use ffi_tests::*;

/// cbindgen's output for `krate` (a workspace folder) with its cbindgen.toml,
/// plus the sources of the crates in `with` (lcmaps-capi exports
/// lcmaps-host's plugin helper API too).
fn generate(krate: &str, with: &[&str]) -> String {
    let dir = workspace().join(krate);
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    let mut builder = cbindgen::Builder::new().with_crate(&dir);
    for other in with {
        builder = builder.with_src(workspace().join(other).join("src/lib.rs"));
    }
    builder
        .with_config(config)
        .generate()
        .expect("cbindgen generates")
        .write(&mut out);
    String::from_utf8(out).expect("utf-8")
}

/// The committed header at `path` is `fresh` (written first with
/// `LCMAPS_RS_BLESS` set).
fn assert_up_to_date(path: PathBuf, fresh: &str) {
    if std::env::var_os("LCMAPS_RS_BLESS").is_some() {
        std::fs::write(&path, fresh).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "{} is stale: regenerate with \
         `LCMAPS_RS_BLESS=1 cargo test -p ffi-tests --test cbindgen` and commit it",
        path.display()
    );
}

#[test]
fn generated_header_is_up_to_date() {
    let fresh = generate("lcmaps-capi", &["lcmaps-host"]);
    assert_up_to_date(include_dir().join("lcmaps_rs_abi.h"), &fresh);
    assert!(fresh.contains("getCredentialData"));
}

#[test]
fn lcmaps_sys_header_is_up_to_date() {
    let fresh = generate("lcmaps-sys", &[]);
    assert_up_to_date(workspace().join("lcmaps-sys/include/lcmaps_sys.h"), &fresh);
    for item in ["lcmaps_account_info_t", "lcas_cred_id_t", "POOL_INDEX"] {
        assert!(fresh.contains(item), "{item} missing:\n{fresh}");
    }
}

#[test]
fn hand_written_headers_agree_with_the_generated_prototypes() {
    let tmp = tempfile::tempdir().unwrap();
    let c = tmp.path().join("agree.c");
    let mut text = String::new();
    for h in [
        "lcmaps.h",
        "lcmaps_modules.h",
        "lcmaps_arguments.h",
        "lcmaps_cred_data.h",
        "lcmaps_vo_data.h",
        "lcmaps_account.h",
        "lcmaps_return_account_from_pem.h",
        "lcmaps_verify_account_from_pem.h",
        "lcmaps_return_poolindex_without_gsi.h",
        "lcmaps_gss_assist_gridmap.h",
        "lcas.h",
        "lcas_pem.h",
        "lcas_modules.h",
        "lcmaps_rs_abi.h",
    ] {
        assert!(Path::new(&include_dir().join(h)).exists(), "{h}");
        text.push_str(&format!("#include \"{h}\"\n"));
    }
    text.push_str("int main(void) { return 0; }\n");
    std::fs::write(&c, text).unwrap();
    let inc = format!("-I{}", include_dir().display());
    // Conflicting prototypes are hard errors in C.
    gcc(&[
        "-std=c11",
        "-Wall",
        "-Werror",
        "-fsyntax-only",
        &inc,
        c.to_str().unwrap(),
    ]);
}
