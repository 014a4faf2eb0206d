//! C plugins (`.mod` files) resolve LCMAPS's callback symbols from the
//! process that loads them, the mapping helper: export them from the
//! `glexec-mapper` program (not from the set-uid `glexec`, which loads no
//! plugin).
fn main() {
    println!("cargo:rustc-link-arg-bin=glexec-mapper=-rdynamic");
}
