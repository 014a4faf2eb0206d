//! `lcmaps_voms_localaccount.mod`: maps the first FQAN with an account in
//! the grid-mapfile (FQAN keys, wildcards) to that local account.
//!
//! Options: `-gridmapfile|-GRIDMAPFILE|-gridmap|-GRIDMAP <file>` and the gid
//! flags (default here: add the account's primary and secondary gids).

use std::path::PathBuf;

use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::accounts::{self, Accounts};
use lcmaps_plugin_common::context::{self, REQUESTED_UID, REQUESTED_USERNAME};
use lcmaps_plugin_common::mapfile::{self, Select, GRIDMAPFILE_OPTION};
use lcmaps_plugin_common::options::{self, Opt};

use crate::fqan_source::{fqans, FQAN_LIST, NFQAN};
use crate::gidflags::{self, GidFlags, GidMapping};
use crate::log_lines::{outcome, who};

const PREFIX: &str = "lcmaps_voms_localaccount";

/// The plugin.
#[derive(Debug)]
pub struct VomsLocalAccount {
    gridmapfile: Option<PathBuf>,
    gids: GidMapping,
    accounts: Accounts,
}

impl Default for VomsLocalAccount {
    fn default() -> Self {
        Self::with_accounts(accounts::system())
    }
}

impl VomsLocalAccount {
    /// With another account database (tests).
    pub fn with_accounts(accounts: Accounts) -> Self {
        VomsLocalAccount {
            gridmapfile: None,
            gids: GidFlags::default().resolve(true),
            accounts,
        }
    }

    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = who(PREFIX, verify);
        let s = self.map(ctx, verify, &who);
        outcome(&who, "voms_localaccount", s);
        s
    }

    fn map(&mut self, ctx: &mut RunContext<'_>, verify: bool, who: &str) -> Status {
        let Some(list) = fqans(ctx, who) else {
            return Status::Failure;
        };
        let Ok(requested) = context::requested_account(ctx, &*self.accounts, true, verify, who)
        else {
            return Status::Failure;
        };
        let select = match &requested {
            Some(r) => Select::Exact(r),
            None => Select::Exclude("."),
        };
        let mut found = None;
        for (i, fqan) in list.iter().enumerate() {
            match mapfile::gridmapfile(self.gridmapfile.as_deref(), fqan, true, select, true) {
                Err(e) => {
                    log::error!("{who}: {e}");
                    return Status::Failure;
                }
                Ok(Some(h)) if h.mapping.is_some() => {
                    found = h.mapping.map(|m| (i, m));
                    break;
                }
                Ok(_) => log::debug!(
                    "{who}: No match for {} localaccount for FQAN {}, \"{fqan}\"",
                    if requested.is_some() {
                        "the requested"
                    } else {
                        "a VOMS"
                    },
                    i + 1
                ),
            }
        }
        let Some((i, name)) = found else {
            log::info!(
                "{who}: No match for {} for any of the FQANs, in {}",
                requested
                    .as_ref()
                    .map_or("a VOMS localaccount".to_string(), |r| format!(
                        "requested localaccount {r}"
                    )),
                self.gridmapfile
                    .as_ref()
                    .map_or("default grid-mapfile".into(), |p| p.display().to_string())
            );
            return Status::Failure;
        };
        log::debug!(
            "{who}: found username {name} for FQAN {}, \"{}\"",
            i + 1,
            list[i]
        );
        if gidflags::add_account(ctx, &*self.accounts, &name, self.gids, who) {
            Status::Success
        } else {
            Status::Failure
        }
    }
}

/// The state of `plugin_initialize`: the plugin and the gid flags.
struct Init<'a> {
    plugin: &'a mut VomsLocalAccount,
    flags: GidFlags,
}

impl AsMut<GidFlags> for Init<'_> {
    fn as_mut(&mut self) -> &mut GidFlags {
        &mut self.flags
    }
}

impl Plugin for VomsLocalAccount {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        let err = |m: String| PluginError(format!("{who}: {m}"));
        let mut init = Init {
            plugin: self,
            flags: GidFlags::default(),
        };
        let mut spec: Vec<Opt<Init<'_>>> = vec![Opt::file(GRIDMAPFILE_OPTION, |i, f| {
            i.plugin.gridmapfile = Some(f)
        })];
        spec.extend(GidFlags::options());
        options::parse(&spec, options::options(argv), &mut init).map_err(|e| err(e.message()))?;
        let flags = init.flags;
        if self.gridmapfile.is_none() {
            log::info!("{who}: No grid-mapfile was provided, will use default.");
        }
        self.gids = flags.resolve(true);
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![FQAN_LIST, NFQAN, REQUESTED_UID, REQUESTED_USERNAME]
    }

    lcmaps_core::run_and_verify_with!(run_or_verify);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use lcmaps_core::cred::Store;
    use lcmaps_core::plugin::Request;

    const MAP: &str = "\"/dteam/Role=lcgadmin/Capability=NULL\" dteamsgm\n\
        \"/dteam/*\" .dteam alice\n";

    fn plugin(extra: &[&str]) -> (tempfile::TempDir, VomsLocalAccount) {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("grid-mapfile");
        std::fs::write(&f, MAP).unwrap();
        let mut p = VomsLocalAccount::with_accounts(accounts());
        let mut a = vec!["-gridmapfile".to_string(), f.display().to_string()];
        a.extend(extra.iter().map(|s| s.to_string()));
        p.initialize(&argv("lcmaps_voms_localaccount.mod", &a))
            .unwrap();
        (d, p)
    }

    #[test]
    fn first_fqan_with_an_account_wins_and_account_gids_by_default() {
        let (_d, mut p) = plugin(&[]);
        let (s, st) = run(
            &mut p,
            &request(&[
                "/cms/Role=NULL/Capability=NULL",
                "/dteam/Role=lcgadmin/Capability=NULL",
                "/dteam/Role=NULL/Capability=NULL",
            ]),
        );
        assert_eq!(s, Status::Success);
        assert_eq!(st.uids, [4000]);
        assert_eq!(st.pri_gids, [100]);
        assert_eq!(st.sec_gids, [100, 500]);
        let (s, st) = run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"]));
        assert_eq!(s, Status::Success);
        assert_eq!(st.uids, [4001], "the .dteam pool mapping is skipped");
        assert_eq!(
            run(&mut p, &request(&["/dteam"])).0,
            Status::Failure,
            "no FNM_PATHNAME but /dteam/* needs the slash"
        );
    }

    #[test]
    fn use_voms_gid_adds_only_the_uid() {
        let (_d, mut p) = plugin(&["--use-voms-gid"]);
        let (s, st) = run(&mut p, &request(&["/dteam/Role=lcgadmin/Capability=NULL"]));
        assert_eq!(s, Status::Success);
        assert_eq!(st.uids, [4000]);
        assert!(st.pri_gids.is_empty() && st.sec_gids.is_empty());
        let (_d, mut p) = plugin(&[
            "--use-voms-gid",
            "--add-primary-gid-as-secondary-gid-from-mapped-account",
        ]);
        let (_, st) = run(&mut p, &request(&["/dteam/Role=lcgadmin/Capability=NULL"]));
        assert_eq!((st.pri_gids.len(), st.sec_gids.as_slice()), (0, &[100][..]));
    }

    #[test]
    fn requested_username_and_verify() {
        let (_d, mut p) = plugin(&[]);
        let mut req = request(&[
            "/dteam/Role=lcgadmin/Capability=NULL",
            "/dteam/Role=NULL/Capability=NULL",
        ]);
        req.requested_username = Some("alice".into());
        let (s, st) = run(&mut p, &req);
        assert_eq!((s, st.uids.as_slice()), (Status::Success, &[4001][..]));
        req.requested_username = Some("dteam001".into());
        assert_eq!(
            run(&mut p, &req).0,
            Status::Failure,
            "pool entries are not local accounts"
        );
        // verify needs a requested account
        let mut store = Store::new();
        let plain = request(&["/dteam/Role=lcgadmin/Capability=NULL"]);
        assert_eq!(
            p.verify(&mut RunContext {
                request: &plain,
                store: &mut store
            }),
            Status::Failure
        );
        let req = Request {
            requested_uid: Some(4000),
            ..plain.clone()
        };
        assert_eq!(
            p.verify(&mut RunContext {
                request: &req,
                store: &mut store
            }),
            Status::Success
        );
        let req = Request {
            requested_uid: Some(0),
            ..plain
        };
        assert_eq!(run(&mut p, &req).0, Status::Failure);
    }

    #[test]
    fn options() {
        let init = |a: &[&str]| {
            let a: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            VomsLocalAccount::with_accounts(accounts()).initialize(&argv("m", &a))
        };
        for o in ["-gridmapfile", "-GRIDMAPFILE", "-gridmap", "-GRIDMAP"] {
            init(&[o, "/etc/passwd"]).unwrap();
        }
        for o in [
            "--do-not-add-primary-gid-from-mapped-account",
            "--add-primary-gid-from-mapped-account",
            "--add-primary-gid-as-secondary-gid-from-mapped-account",
            "--do-not-add-secondary-gids-from-mapped-account",
            "--add-secondary-gids-from-mapped-account",
            "--use-voms-gid",
            "--use_voms_gid",
            "-use_voms_gid",
            "--use-account-gid",
        ] {
            init(&[o]).unwrap();
        }
        let e = init(&["--use-voms-gid", "--use-account-gid"])
            .unwrap_err()
            .0;
        assert!(e.contains("cannot specify both"), "{e}");
        let e = init(&["--map-to-secondary-groups"]).unwrap_err().0;
        assert!(
            e.contains("Unknown argument for plugin: --map-to-secondary-groups"),
            "{e}"
        );
        assert!(init(&["-gridmapfile"]).is_err());
        let p = VomsLocalAccount::with_accounts(accounts());
        assert_eq!(
            p.introspect(),
            [FQAN_LIST, NFQAN, REQUESTED_UID, REQUESTED_USERNAME]
        );
    }

    #[test]
    fn missing_mapfile_fails_closed() {
        let mut p = VomsLocalAccount::with_accounts(accounts());
        p.initialize(&argv(
            "m",
            &[
                "-gridmapfile".into(),
                "/nonexistent/lcmaps-rs/grid-mapfile".into(),
            ],
        ))
        .unwrap();
        assert_eq!(
            run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"])).0,
            Status::Failure
        );
    }
}
