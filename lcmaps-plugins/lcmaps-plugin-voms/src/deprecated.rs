//! `lcmaps_voms.mod`: the deprecated plugin. Since LCMAPS 1.4 the core
//! extracts the VOMS attributes; like upstream 1.6/1.7 it only logs that it
//! is deprecated and succeeds. Options: `-vomsdir <dir>`, `-certdir <dir>`.

use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::options::{self, Opt};

const PREFIX: &str = "lcmaps_voms";

/// The plugin.
#[derive(Debug, Default)]
pub struct Voms {
    vomsdir: Option<String>,
    certdir: Option<String>,
}

impl Voms {
    fn run_or_verify(&self, verify: bool) -> Status {
        log::warn!(
            "{}: plugin is deprecated, remove it from policy",
            crate::log_lines::who(PREFIX, verify)
        );
        Status::Success
    }
}

impl Plugin for Voms {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        let err = |m: String| PluginError(format!("{who}: {m}"));
        const OPTIONS: &[Opt<Voms>] = &[
            Opt::text(&["-vomsdir"], "a directory", |p, _, v| {
                p.vomsdir = Some(v.into());
                Ok(())
            }),
            Opt::text(&["-certdir"], "a directory", |p, _, v| {
                p.certdir = Some(v.into());
                Ok(())
            }),
        ];
        options::parse(OPTIONS, options::options(argv), self).map_err(|e| err(e.message()))?;
        log::warn!("{who}: plugin is deprecated, remove it from policy");
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        Vec::new()
    }

    fn run(&mut self, _ctx: &mut RunContext<'_>) -> Status {
        self.run_or_verify(false)
    }

    fn has_verify(&self) -> bool {
        true
    }

    fn verify(&mut self, _ctx: &mut RunContext<'_>) -> Status {
        self.run_or_verify(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    #[test]
    fn options_and_run() {
        let mut p = Voms::default();
        p.initialize(&argv(
            "lcmaps_voms.mod",
            &[
                "-vomsdir".into(),
                "/etc/grid-security/vomsdir".into(),
                "-certdir".into(),
                "/etc/grid-security/certificates".into(),
            ],
        ))
        .unwrap();
        assert_eq!(p.vomsdir.as_deref(), Some("/etc/grid-security/vomsdir"));
        assert_eq!(
            p.certdir.as_deref(),
            Some("/etc/grid-security/certificates")
        );
        let (s, st) = run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"]));
        assert_eq!(s, Status::Success);
        assert!(st.uids.is_empty() && st.vo_strings.is_empty() && st.vo_mappings.is_empty());
        assert!(p.introspect().is_empty());
        let e = Voms::default()
            .initialize(&argv("m", &["-vomsdir".into()]))
            .unwrap_err()
            .0;
        assert!(e.contains("-vomsdir"), "{e}");
        let e = Voms::default()
            .initialize(&argv("m", &["--allow-limited-proxy".into()]))
            .unwrap_err()
            .0;
        assert!(
            e.contains("Unknown argument for plugin: --allow-limited-proxy"),
            "{e}"
        );
    }
}
