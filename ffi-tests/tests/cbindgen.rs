//! include/lcmaps_rs_abi.h is what the pinned cbindgen generates from
//! lcmaps-capi, and the hand-written LCMAPS headers agree with it.

use std::path::Path;

use ffi_tests::*;

fn generate() -> String {
    let core = workspace().join("lcmaps-capi");
    let config = cbindgen::Config::from_file(core.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&core)
        .with_config(config)
        .generate()
        .expect("cbindgen generates")
        .write(&mut out);
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn generated_header_is_up_to_date() {
    let path = include_dir().join("lcmaps_rs_abi.h");
    let fresh = generate();
    if std::env::var_os("LCMAPS_RS_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/lcmaps_rs_abi.h is stale: regenerate with \
         `LCMAPS_RS_BLESS=1 cargo test -p ffi-tests --test cbindgen` and commit it"
    );
    assert!(fresh.contains("getCredentialData"));
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
