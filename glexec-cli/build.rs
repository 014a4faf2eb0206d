//! C plugins (`.mod` files) resolve LCMAPS's callback symbols from the
//! process: export them from the glexec binary.
fn main() {
    println!("cargo:rustc-link-arg-bins=-rdynamic");
}
