//! Test binaries load C `.mod` plugins into the engine: export the
//! lcmaps-capi callbacks from them.

fn main() {
    println!("cargo:rustc-link-arg-tests=-rdynamic");
}
