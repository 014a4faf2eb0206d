//! Builds the variadic half of the plugin helper APIs (csrc/, with the
//! struct definitions of lcmaps-sys's generated header).

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let sys_include = dir.join("../lcmaps-sys/include");
    println!("cargo:rerun-if-changed=csrc/lcmaps_varargs.c");
    println!(
        "cargo:rerun-if-changed={}",
        sys_include.join("lcmaps_sys.h").display()
    );
    cc::Build::new()
        .file("csrc/lcmaps_varargs.c")
        .include(&sys_include)
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-fvisibility=default")
        .cargo_metadata(false)
        .compile("lcmaps_host_varargs");
    println!("cargo:rustc-link-search=native={}", out.display());
    // Whole archive: the C entry points are only called from C plugins,
    // never from Rust, and must end up in every binary and in the shared
    // library that links this crate.
    println!("cargo:rustc-link-lib=static:+whole-archive=lcmaps_host_varargs");
}
