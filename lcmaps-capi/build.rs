//! Builds the variadic half of the C ABI (csrc/) and sets the shared
//! library's SONAME and export list.

fn main() {
    println!("cargo:rerun-if-changed=csrc/lcmaps_varargs.c");
    println!("cargo:rerun-if-changed=csrc/liblcmaps.map");
    cc::Build::new()
        .file("csrc/lcmaps_varargs.c")
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-fvisibility=default")
        .cargo_metadata(false)
        .compile("lcmaps_varargs");
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    println!("cargo:rustc-link-search=native={out}");
    // Whole archive: the C entry points are only called from C, never from
    // Rust, and must end up in every binary and in the shared library.
    println!("cargo:rustc-link-lib=static:+whole-archive=lcmaps_varargs");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liblcmaps.so.0");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/csrc/liblcmaps.map");
}
