//! `lcmaps_ban_dn.mod`: fails for a DN listed in the ban file (upstream
//! lcmaps-plugins-basic 1.7.1).
//!
//! Options: `-banmapfile|-BANMAPFILE|-ban_mapfile|-BAN_MAPFILE|-gridmapfile|
//! -GRIDMAPFILE|-gridmap|-GRIDMAP <file>` (mandatory),
//! `-no_wildcard|-disablewildcard|--disablewildcard|-disablewildcards|--disablewildcards`.
//!
//! The ban file is a mapfile whose keys are DNs (wildcards by default). A
//! missing, unreadable or malformed ban file fails closed, at initialize
//! and at run, with a log line naming the file (and line).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::PathBuf;

use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::context::{self, USER_DN};
use lcmaps_plugin_common::mapfile::{self, Select};

const PREFIX: &str = "lcmaps_ban_dn";

/// The plugin.
#[derive(Debug)]
pub struct BanDn {
    banmapfile: Option<PathBuf>,
    wildcards: bool,
}

impl Default for BanDn {
    fn default() -> Self {
        BanDn {
            banmapfile: None,
            wildcards: true,
        }
    }
}

impl BanDn {
    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = format!(
            "{PREFIX}-plugin_{}()",
            if verify { "verify" } else { "run" }
        );
        let s = self.check(ctx, &who);
        log::info!(
            "{who}: ban_dn plugin {}",
            if s.is_success() {
                "succeeded"
            } else {
                "failed"
            }
        );
        s
    }

    fn check(&mut self, ctx: &mut RunContext<'_>, who: &str) -> Status {
        let Some(dn) = context::take_dn(ctx, who) else {
            return Status::Failure;
        };
        let Some(file) = &self.banmapfile else {
            log::error!("{who}: Error: No (valid) banmapfile assigned.");
            return Status::Failure;
        };
        match mapfile::load(file)
            .map_err(|e| e.to_string())
            .and_then(|m| {
                m.lookup(&dn, self.wildcards, Select::OnlyKey)
                    .map_err(|e| e.to_string())
            }) {
            Err(e) => {
                log::error!(
                    "{who}: error while looking up DN in banmapfile {}: {e}",
                    file.display()
                );
                Status::Failure
            }
            Ok(Some(hit)) => {
                log::info!(
                    "{who}: DN \"{dn}\" is found on the ban list ({}:{}).",
                    file.display(),
                    hit.line
                );
                Status::Failure
            }
            Ok(None) => {
                log::debug!("{who}: No entry found in the ban list: user is NOT banned.");
                Status::Success
            }
        }
    }
}

impl Plugin for BanDn {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let o = mapfile::BanOptions::parse(&format!("{PREFIX}-plugin_initialize()"), argv)?;
        self.banmapfile = Some(o.file);
        self.wildcards = o.wildcards;
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![USER_DN]
    }

    lcmaps_core::run_and_verify_with!(run_or_verify);
}

#[cfg(test)]
mod tests {
    use super::*;
    use lcmaps_core::cred::Store;
    use lcmaps_core::plugin::Request;

    fn init(args: &[&str]) -> Result<BanDn, PluginError> {
        let mut p = BanDn::default();
        let mut argv = vec!["/x/lcmaps_ban_dn.mod".to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        p.initialize(&argv).map(|_| p)
    }

    fn run(p: &mut BanDn, dn: &str) -> (Status, Store) {
        let req = Request::with_dn(dn);
        let mut store = Store::new();
        let s = p.run(&mut RunContext {
            request: &req,
            store: &mut store,
        });
        (s, store)
    }

    #[test]
    fn bans_listed_dns_with_wildcards() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("ban_users.db");
        std::fs::write(&f, "# banned\n\"/DC=org/CN=Mallory\"\n\"/DC=evil/*\"\n").unwrap();
        let fs = f.display().to_string();
        let mut p = init(&["-banmapfile", &fs]).unwrap();
        assert_eq!(run(&mut p, "/DC=org/CN=Mallory").0, Status::Failure);
        assert_eq!(run(&mut p, "/DC=evil/CN=Eve").0, Status::Failure);
        let (s, store) = run(&mut p, "/DC=org/CN=Alice");
        assert_eq!(s, Status::Success);
        assert_eq!(store.dn.as_deref(), Some("/DC=org/CN=Alice"));
        let mut p = init(&["-BAN_MAPFILE", &fs, "-no_wildcard"]).unwrap();
        assert_eq!(run(&mut p, "/DC=evil/CN=Eve").0, Status::Success);
        assert_eq!(run(&mut p, "/DC=evil/*").0, Status::Failure);
    }

    #[test]
    fn missing_or_unreadable_ban_file_fails_closed() {
        let e = init(&["-banmapfile", "/nonexistent/lcmaps-rs/ban_users.db"]).unwrap_err();
        assert!(e.0.contains("/nonexistent/lcmaps-rs/ban_users.db"), "{e}");
        assert!(init(&[]).unwrap_err().0.contains("No banmapfile"));
        assert!(init(&["-frob"]).unwrap_err().0.contains("-frob"));
        // A directory cannot be read as a ban file.
        let d = tempfile::tempdir().unwrap();
        assert!(init(&["-gridmap", &d.path().display().to_string()]).is_err());
        // Removed after initialize: every run fails (closed).
        let f = d.path().join("ban");
        std::fs::write(&f, "\"/CN=x\"\n").unwrap();
        let mut p = init(&["-GRIDMAP", &f.display().to_string()]).unwrap();
        assert_eq!(run(&mut p, "/CN=y").0, Status::Success);
        std::fs::remove_file(&f).unwrap();
        assert_eq!(run(&mut p, "/CN=y").0, Status::Failure);
        // Malformed line before any match: fails closed.
        std::fs::write(&f, "\"/CN=broken\n\"/CN=x\"\n").unwrap();
        assert_eq!(run(&mut p, "/CN=y").0, Status::Failure);
    }

    #[test]
    fn every_alias() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("ban");
        std::fs::write(&f, "").unwrap();
        let fs = f.display().to_string();
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
            init(&[o, &fs]).unwrap();
        }
        for o in [
            "-no_wildcard",
            "-disablewildcard",
            "--disablewildcard",
            "-disablewildcards",
            "--disablewildcards",
        ] {
            assert!(!init(&["-gridmap", &fs, o]).unwrap().wildcards);
        }
        assert_eq!(BanDn::default().introspect(), [USER_DN]);
    }
}
