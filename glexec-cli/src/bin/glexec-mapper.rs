//! `glexec-mapper`: glexec's mapping helper (crate `glexec-mapper`), which
//! the set-uid `glexec` starts for every run. Built here so that glexec's
//! tests and `cargo xtask install` find it beside `glexec`.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    glexec_mapper::main()
}
