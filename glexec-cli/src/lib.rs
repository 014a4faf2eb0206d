//! The parts of glexec that need no privileges and no process state, as a
//! library so that they can be tested and fuzzed on their own
//! (`fuzz/fuzz_targets/parse_glexec_conf.rs`): the `glexec.conf` parser
//! ([`config::parse`]) and the log helpers it uses. The `glexec` binary
//! (`src/main.rs`) uses these modules from here.

#![forbid(unsafe_code)]

pub mod config;
pub mod log;
