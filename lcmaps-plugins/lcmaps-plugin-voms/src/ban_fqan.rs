//! `lcmaps_ban_fqan.mod`: fails when any FQAN is listed in the ban file.
//!
//! Options: `-banmapfile|-BANMAPFILE|-ban_mapfile|-BAN_MAPFILE|-gridmapfile|
//! -GRIDMAPFILE|-gridmap|-GRIDMAP <file>` (mandatory),
//! `-no_wildcard|-disablewildcard|--disablewildcard|-disablewildcards|--disablewildcards`.
//! No FQANs at all ⇒ success (upstream since 1.6.2). A missing, unreadable
//! or malformed ban file fails closed, naming the file (and line).

use std::path::PathBuf;

use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::mapfile::{self, Select};

use crate::fqan_source::{fqans, FQAN_LIST, NFQAN};
use crate::log_lines::{outcome, who};

const PREFIX: &str = "lcmaps_ban_fqan";

/// The plugin.
#[derive(Debug)]
pub struct BanFqan {
    banmapfile: Option<PathBuf>,
    wildcards: bool,
}

impl Default for BanFqan {
    fn default() -> Self {
        BanFqan {
            banmapfile: None,
            wildcards: true,
        }
    }
}

impl BanFqan {
    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = who(PREFIX, verify);
        let s = self.check(ctx, &who);
        outcome(&who, "ban_fqan", s);
        s
    }

    fn check(&mut self, ctx: &mut RunContext<'_>, who: &str) -> Status {
        let Some(list) = fqans(ctx, who) else {
            // No FQANs: nothing can be banned.
            return Status::Success;
        };
        let Some(file) = &self.banmapfile else {
            log::error!("{who}: Error: No (valid) banmapfile assigned.");
            return Status::Failure;
        };
        let map = match mapfile::load(file) {
            Ok(m) => m,
            Err(e) => {
                log::error!(
                    "{who}: error while looking up FQAN in banmapfile {}: {e}",
                    file.display()
                );
                return Status::Failure;
            }
        };
        for fqan in &list {
            match map.lookup(fqan, self.wildcards, Select::OnlyKey) {
                Err(e) => {
                    log::error!(
                        "{who}: error while looking up FQAN in banmapfile {}: {e}",
                        file.display()
                    );
                    return Status::Failure;
                }
                Ok(Some(hit)) => {
                    log::info!(
                        "{who}: FQAN \"{fqan}\" is found on the ban list ({}:{}).",
                        file.display(),
                        hit.line
                    );
                    return Status::Failure;
                }
                Ok(None) => {}
            }
        }
        log::debug!("{who}: No entry found in the ban list: NONE of the FQANs is banned.");
        Status::Success
    }
}

impl Plugin for BanFqan {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let o = mapfile::BanOptions::parse(&format!("{PREFIX}-plugin_initialize()"), argv)?;
        self.banmapfile = Some(o.file);
        self.wildcards = o.wildcards;
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![FQAN_LIST, NFQAN]
    }

    lcmaps_core::run_and_verify_with!(run_or_verify);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;

    fn plugin(ban: &str, extra: &[&str]) -> (tempfile::TempDir, BanFqan) {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("ban_fqan");
        std::fs::write(&f, ban).unwrap();
        let mut p = BanFqan::default();
        let mut a = vec!["-banmapfile".to_string(), f.display().to_string()];
        a.extend(extra.iter().map(|s| s.to_string()));
        p.initialize(&argv("lcmaps_ban_fqan.mod", &a)).unwrap();
        (d, p)
    }

    #[test]
    fn banned_and_not_banned() {
        let (_d, mut p) = plugin("\"/dteam/Role=NULL/Capability=NULL\"\n\"/evil/*\"\n", &[]);
        assert_eq!(
            run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"])).0,
            Status::Failure
        );
        assert_eq!(
            run(
                &mut p,
                &request(&[
                    "/atlas/Role=NULL/Capability=NULL",
                    "/evil/x/Role=NULL/Capability=NULL"
                ])
            )
            .0,
            Status::Failure
        );
        assert_eq!(
            run(
                &mut p,
                &request(&["/atlas/Role=NULL/Capability=NULL", "/evil"])
            )
            .0,
            Status::Success
        );
        assert_eq!(
            run(
                &mut p,
                &request(&["/dteam/Role=production/Capability=NULL"])
            )
            .0,
            Status::Success
        );
    }

    #[test]
    fn no_fqans_is_success() {
        let (_d, mut p) = plugin("\"/dteam/*\"\n", &[]);
        assert_eq!(run(&mut p, &request(&[])).0, Status::Success);
    }

    #[test]
    fn no_wildcard() {
        for o in [
            "-no_wildcard",
            "-disablewildcard",
            "--disablewildcard",
            "-disablewildcards",
            "--disablewildcards",
        ] {
            let (_d, mut p) = plugin("\"/evil/*\"\n", &[o]);
            assert_eq!(
                run(&mut p, &request(&["/evil/Role=NULL/Capability=NULL"])).0,
                Status::Success,
                "{o}"
            );
            assert_eq!(
                run(&mut p, &request(&["/evil/*"])).0,
                Status::Failure,
                "{o}"
            );
        }
    }

    #[test]
    fn missing_file_fails_closed_naming_it() {
        let mut p = BanFqan::default();
        let e = p
            .initialize(&argv(
                "m",
                &[
                    "-banmapfile".into(),
                    "/nonexistent/lcmaps-rs/ban_fqan".into(),
                ],
            ))
            .unwrap_err()
            .0;
        assert!(e.contains("/nonexistent/lcmaps-rs/ban_fqan"), "{e}");
        let e = BanFqan::default()
            .initialize(&argv("m", &[]))
            .unwrap_err()
            .0;
        assert!(e.contains("No banmapfile was provided"), "{e}");
        // Removed after initialize: the run fails.
        let (d, mut p) = plugin("\"/evil/*\"\n", &[]);
        std::fs::remove_file(d.path().join("ban_fqan")).unwrap();
        assert_eq!(
            run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"])).0,
            Status::Failure
        );
    }

    #[test]
    fn malformed_ban_file_fails_closed() {
        let (_d, mut p) = plugin("\"/ok/*\"\n\"/unterminated\n", &[]);
        assert_eq!(
            run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"])).0,
            Status::Failure
        );
        assert_eq!(
            run(&mut p, &request(&["/ok/Role=NULL/Capability=NULL"])).0,
            Status::Failure
        );
    }

    #[test]
    fn options() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("b");
        std::fs::write(&f, "").unwrap();
        let f = f.display().to_string();
        for o in [
            "-banmapfile",
            "-BANMAPFILE",
            "-ban_mapfile",
            "-BAN_MAPFILE",
            "-gridmapfile",
            "-GRIDMAPFILE",
            "-gridmap",
            "-GRIDMAP",
        ] {
            BanFqan::default()
                .initialize(&argv("m", &[o.into(), f.clone()]))
                .unwrap();
        }
        let e = BanFqan::default()
            .initialize(&argv("m", &["-banmapfile".into(), f, "-mapall".into()]))
            .unwrap_err()
            .0;
        assert!(e.contains("Unknown argument for plugin: -mapall"), "{e}");
        assert_eq!(BanFqan::default().introspect(), [FQAN_LIST, NFQAN]);
    }
}
