//! Export the lcmaps-core C callbacks (`getCredentialData`, `lcmaps_log`,
//! ...) from the `lcmaps` binary, so C `.mod` plugins it loads resolve them.

fn main() {
    println!("cargo:rustc-link-arg-bins=-rdynamic");
}
