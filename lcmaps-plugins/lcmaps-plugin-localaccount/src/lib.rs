//! `lcmaps_localaccount.mod`: maps a DN to the local account the
//! grid-mapfile gives for it (upstream lcmaps-plugins-basic 1.7.1).
//!
//! Options: `-gridmapfile|-GRIDMAPFILE|-gridmap|-GRIDMAP <file>`. No
//! wildcards (exact DN match). With a requested username the mapping must
//! equal it; otherwise the first mapping that does not start with `.`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::PathBuf;

use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::accounts::{self, Accounts};
use lcmaps_plugin_common::context::{self, REQUESTED_USERNAME, USER_DN};
use lcmaps_plugin_common::mapfile::{self, Select, GRIDMAPFILE_OPTION};
use lcmaps_plugin_common::options::{self, Opt, OptionError};

const PREFIX: &str = "lcmaps_localaccount";

/// The plugin.
#[derive(Debug)]
pub struct LocalAccount {
    gridmapfile: Option<PathBuf>,
    accounts: Accounts,
}

impl Default for LocalAccount {
    fn default() -> Self {
        Self::with_accounts(accounts::system())
    }
}

impl LocalAccount {
    /// With another account database (tests).
    pub fn with_accounts(accounts: Accounts) -> Self {
        LocalAccount {
            gridmapfile: None,
            accounts,
        }
    }

    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = if verify {
            format!("{PREFIX}-plugin_verify()")
        } else {
            format!("{PREFIX}-plugin_run()")
        };
        let result = self.map(ctx, verify, &who);
        log::info!(
            "{who}: localaccount plugin {}",
            if result.is_success() {
                "succeeded"
            } else {
                "failed"
            }
        );
        result
    }

    fn map(&mut self, ctx: &mut RunContext<'_>, verify: bool, who: &str) -> Status {
        let Some(dn) = context::take_dn(ctx, who) else {
            return Status::Failure;
        };
        // Upstream introspects only user_dn and requested_username, so
        // requested_uid never reaches it.
        let Ok(requested) = context::requested_account(ctx, &*self.accounts, false, verify, who)
        else {
            return Status::Failure;
        };
        let select = match &requested {
            Some(r) => Select::Exact(r),
            None => Select::Exclude("."),
        };
        let hit = match mapfile::gridmapfile(self.gridmapfile.as_deref(), &dn, false, select, false)
        {
            Ok(h) => h,
            Err(_) => return Status::Failure,
        };
        let Some(name) = hit.and_then(|h| h.mapping) else {
            let file = self
                .gridmapfile
                .as_ref()
                .map_or("default grid-mapfile".to_string(), |p| {
                    p.display().to_string()
                });
            match &requested {
                Some(r) => log::info!(
                    "{who}: No match for requested localaccount {r} for user \"{dn}\", in {file}"
                ),
                None => {
                    log::info!("{who}: No match for a localaccount for user \"{dn}\", in {file}")
                }
            }
            return Status::Failure;
        };
        if context::add_account(ctx, &*self.accounts, &name, who) {
            Status::Success
        } else {
            Status::Failure
        }
    }
}

impl Plugin for LocalAccount {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        const OPTIONS: &[Opt<LocalAccount>] = &[Opt::file(GRIDMAPFILE_OPTION, |p, f| {
            p.gridmapfile = Some(f)
        })];
        // Only the unknown-option message names the function, as before.
        options::parse(OPTIONS, options::options(argv), self).map_err(|e| match e {
            OptionError::Unknown(_) => PluginError(format!("{who}: {}", e.message())),
            e => PluginError(e.message()),
        })?;
        if self.gridmapfile.is_none() {
            log::info!("{who}: No grid-mapfile was provided, will use default.");
        }
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![USER_DN, REQUESTED_USERNAME]
    }

    lcmaps_core::run_and_verify_with!(run_or_verify);
}

#[cfg(test)]
mod tests {
    use super::*;
    use lcmaps_core::cred::Store;
    use lcmaps_core::plugin::Request;
    use lcmaps_plugin_common::accounts::StaticAccounts;
    use std::sync::Arc;

    fn plugin(map: &str) -> (tempfile::TempDir, LocalAccount) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("grid-mapfile");
        std::fs::write(&f, map).unwrap();
        let mut p = LocalAccount::with_accounts(Arc::new(StaticAccounts::new(&[
            ("alice", 501, 500, &[77]),
            ("alice2", 502, 500, &[]),
        ])));
        p.initialize(&[
            "/x/lcmaps_localaccount.mod".into(),
            "-gridmap".into(),
            f.display().to_string(),
        ])
        .unwrap();
        (dir, p)
    }

    fn run(p: &mut LocalAccount, req: &Request, verify: bool) -> (Status, Store) {
        let mut store = Store::new();
        let mut ctx = RunContext {
            request: req,
            store: &mut store,
        };
        let s = if verify {
            p.verify(&mut ctx)
        } else {
            p.run(&mut ctx)
        };
        (s, store)
    }

    const MAP: &str = "\"/CN=Alice\" .pool, alice, alice2\n\"/CN=Ghost\" ghost\n\"/CN=W*\" alice\n";

    #[test]
    fn maps_first_local_account() {
        let (_d, mut p) = plugin(MAP);
        let (s, store) = run(&mut p, &Request::with_dn("/CN=Alice"), false);
        assert_eq!(s, Status::Success);
        assert_eq!(store.uids, [501]);
        assert_eq!(store.pri_gids, [500]);
        assert_eq!(store.sec_gids, [77, 500]);
        assert_eq!(store.dn.as_deref(), Some("/CN=Alice"));
    }

    #[test]
    fn requested_username_and_verify() {
        let (_d, mut p) = plugin(MAP);
        let mut req = Request::with_dn("/CN=Alice");
        req.requested_username = Some("alice2".into());
        let (s, store) = run(&mut p, &req, false);
        assert_eq!((s, store.uids.as_slice()), (Status::Success, &[502][..]));
        assert_eq!(run(&mut p, &req, true).0, Status::Success);
        req.requested_username = Some("bob".into());
        assert_eq!(run(&mut p, &req, false).0, Status::Failure);
        // Verification needs a requested account; requested_uid is not read.
        let mut req = Request::with_dn("/CN=Alice");
        assert_eq!(run(&mut p, &req, true).0, Status::Failure);
        req.requested_uid = Some(502);
        assert_eq!(run(&mut p, &req, true).0, Status::Failure);
    }

    #[test]
    fn no_wildcards_unknown_dn_and_vanished_account() {
        let (_d, mut p) = plugin(MAP);
        assert_eq!(
            run(&mut p, &Request::with_dn("/CN=Wanda"), false).0,
            Status::Failure
        );
        assert_eq!(
            run(&mut p, &Request::with_dn("/CN=Nobody"), false).0,
            Status::Failure
        );
        let (s, store) = run(&mut p, &Request::with_dn("/CN=Ghost"), false);
        assert_eq!(s, Status::Failure);
        assert!(store.uids.is_empty());
        assert_eq!(run(&mut p, &Request::default(), false).0, Status::Failure);
    }

    #[test]
    fn dn_from_store_wins() {
        let (_d, mut p) = plugin(MAP);
        let req = Request::with_dn("/CN=Nobody");
        let mut store = Store::new();
        store.dn = Some("/CN=Alice".into());
        let s = p.run(&mut RunContext {
            request: &req,
            store: &mut store,
        });
        assert_eq!(s, Status::Success);
    }

    #[test]
    fn malformed_line_fails_lookups_that_reach_it() {
        let (_d, mut p) = plugin("\"/CN=Alice\" alice\n\"/CN=broken alice\n\"/CN=Bob\" alice\n");
        assert_eq!(
            run(&mut p, &Request::with_dn("/CN=Alice"), false).0,
            Status::Success
        );
        assert_eq!(
            run(&mut p, &Request::with_dn("/CN=Bob"), false).0,
            Status::Failure
        );
    }

    #[test]
    fn options() {
        let mut p = LocalAccount::default();
        let e = p
            .initialize(&["x".into(), "-gridmapfil".into(), "/etc/x".into()])
            .unwrap_err();
        assert!(e.0.contains("-gridmapfil"), "{e}");
        assert!(LocalAccount::default()
            .initialize(&["x".into(), "-GRIDMAPFILE".into()])
            .is_err());
        for o in ["-gridmapfile", "-GRIDMAPFILE", "-gridmap", "-GRIDMAP"] {
            LocalAccount::default()
                .initialize(&["x".into(), o.into(), "/nonexistent/gm".into()])
                .unwrap();
        }
        assert!(LocalAccount::default()
            .initialize(&["x".into(), "-gridmap".into(), "no-such-relative-gm".into()])
            .is_err());
        assert_eq!(
            LocalAccount::default().introspect(),
            [USER_DN, REQUESTED_USERNAME]
        );
    }
}
