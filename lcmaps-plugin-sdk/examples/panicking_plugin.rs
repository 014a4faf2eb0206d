//! A plugin whose `plugin_run` panics: the fixture of ffi-tests'
//! `a_panic_in_a_rust_plugin_writes_nothing_to_the_hosts_stderr`, which
//! builds it as a `.mod` with
//!
//! ```text
//! cargo build -p lcmaps-plugin-sdk --example panicking_plugin
//! ```
//!
//! and checks that the SDK's boundary turns the panic into `LCMAPS_MOD_FAIL`
//! and one line in the host's log, with nothing on the host's stderr. Not a
//! plugin to install.

#![forbid(unsafe_code)]

use lcmaps_plugin_sdk::{ArgSpec, Plugin, PluginError, RunContext, Status};

/// Initializes, then panics on every run.
#[derive(Debug, Default)]
pub struct Panicking;

impl Plugin for Panicking {
    fn initialize(&mut self, _argv: &[String]) -> Result<(), PluginError> {
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![ArgSpec {
            name: "user_dn",
            ty: "char *",
        }]
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        let dn = ctx.dn().unwrap_or("(no DN)").to_string();
        panic!("the panicking plugin panics for {dn}\nand its message has a second line");
    }
}

lcmaps_plugin_sdk::export_plugin!(Panicking);
