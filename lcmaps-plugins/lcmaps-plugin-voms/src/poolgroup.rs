//! `lcmaps_voms_poolgroup.mod`: leases a pool group to each FQAN in the
//! groupmapdir (lease = URL-encoded FQAN hard-linked to a pool group file).
//!
//! Options: `-groupmapfile|-GROUPMAPFILE|-groupmap|-GROUPMAP <file>`
//! (mandatory), `-groupmapdir|-GROUPMAPDIR <absolute dir>` (default
//! `$GROUPMAPDIR`), `-mapmin <n>`, `-mapall`, `--map-to-secondary-groups`,
//! `-override_inconsistency|-OVERRIDE_INCONSISTENCY`,
//! `-strict_poolprefix_match yes|no` (default yes, as upstream's code).

use std::path::PathBuf;

use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::gridmapdir::{
    self, Options, Request, GROUPMAPDIR_OPTION, OVERRIDE_INCONSISTENCY_OPTION,
    STRICT_POOLPREFIX_OPTION,
};
use lcmaps_plugin_common::options::{self, Opt};

use crate::fqan_source::{fqans, FQAN_LIST, NFQAN};
use crate::group_mapping::{
    add_named_group, enough_groups, mapmin_option, GROUPMAPFILE_OPTION, MAPALL_OPTION,
    MAP_TO_SECONDARY_GROUPS_OPTION,
};
use crate::groups::{self, Groups};
use crate::leases;
use crate::log_lines::{outcome, who};

const PREFIX: &str = "lcmaps_voms_poolgroup";

/// The plugin.
#[derive(Debug)]
pub struct VomsPoolGroup {
    groupmapfile: Option<PathBuf>,
    groupmapdir: Option<PathBuf>,
    override_inconsistency: bool,
    strict: bool,
    secondary: bool,
    mapall: bool,
    mapmin: i32,
    groups: Groups,
}

impl Default for VomsPoolGroup {
    fn default() -> Self {
        Self::with_groups(groups::system())
    }
}

impl VomsPoolGroup {
    /// With another group database (tests).
    pub fn with_groups(groups: Groups) -> Self {
        VomsPoolGroup {
            groupmapfile: None,
            groupmapdir: None,
            override_inconsistency: false,
            strict: true,
            secondary: false,
            mapall: false,
            mapmin: 0,
            groups,
        }
    }

    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = who(PREFIX, verify);
        let s = self.map(ctx, verify, &who);
        outcome(&who, "voms_poolgroup", s);
        s
    }

    fn map(&mut self, ctx: &mut RunContext<'_>, verify: bool, who: &str) -> Status {
        let Some(list) = fqans(ctx, who) else {
            return Status::Failure;
        };
        let Some(file) = self.groupmapfile.clone() else {
            log::error!("{who}: no group-mapfile");
            return Status::Failure;
        };
        let dir = match gridmapdir::lease_dir(
            self.groupmapdir.as_deref(),
            "GROUPMAPDIR",
            "groupmapdir",
        ) {
            Ok(d) => d,
            Err(e) => {
                log::error!("{who}: {e}");
                return Status::Failure;
            }
        };
        let options = Options {
            wildcards: true,
            strict_prefix: self.strict,
            override_inconsistency: self.override_inconsistency,
            only_existing: verify,
        };
        let mut count = 0;
        for (i, fqan) in list.iter().enumerate() {
            let req = Request {
                mapfile: Some(&file),
                dn: fqan,
                leasename: fqan.as_bytes(),
                dir: &dir,
                mapping_max: 1,
                mapcounter: -1,
                requested: None,
                options,
            };
            let lease = match leases::lookup(&req) {
                Err(e) => {
                    log::error!("{who}: {e}");
                    return Status::Failure;
                }
                Ok(l) => l,
            };
            let Some(lease) = lease else {
                if self.mapall {
                    log::error!(
                        "{who}: No match for a VOMS poolgroup for FQAN {}, \"{fqan}\"",
                        i + 1
                    );
                    return Status::Failure;
                }
                log::debug!(
                    "{who}: No match for a VOMS poolgroup for FQAN {}, \"{fqan}\"",
                    i + 1
                );
                continue;
            };
            let group = lease.account;
            log::debug!(
                "{who}: found groupname {group} for FQAN {}, \"{fqan}\"",
                i + 1
            );
            count += 1;
            if !add_named_group(
                who,
                self.groups.as_ref(),
                ctx,
                i,
                self.secondary,
                fqan,
                &group,
            ) {
                return Status::Failure;
            }
        }
        if enough_groups(who, count, self.mapmin) {
            Status::Success
        } else {
            Status::Failure
        }
    }
}

impl Plugin for VomsPoolGroup {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        let err = |m: String| PluginError(format!("{who}: {m}"));
        const OPTIONS: &[Opt<VomsPoolGroup>] = &[
            Opt::file(GROUPMAPFILE_OPTION, |p, f| p.groupmapfile = Some(f)),
            Opt::absolute_dir(GROUPMAPDIR_OPTION, |p, d| p.groupmapdir = Some(d)),
            mapmin_option(|p, n| p.mapmin = n),
            Opt::yes_no(STRICT_POOLPREFIX_OPTION, |p, b| p.strict = b),
            Opt::flag(OVERRIDE_INCONSISTENCY_OPTION, |p, _| {
                p.override_inconsistency = true;
                Ok(())
            }),
            Opt::flag(MAP_TO_SECONDARY_GROUPS_OPTION, |p, _| {
                p.secondary = true;
                Ok(())
            }),
            Opt::flag(MAPALL_OPTION, |p, _| {
                p.mapall = true;
                Ok(())
            }),
        ];
        options::parse(OPTIONS, options::options(argv), self).map_err(|e| err(e.message()))?;
        if self.groupmapfile.is_none() {
            return Err(err(
                "No group-mapfile was provided, use option -groupmapfile".into(),
            ));
        }
        if self.groupmapdir.is_none() {
            log::info!("{who}: No groupmapdir was provided, will try environment variable.");
        }
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
    use lcmaps_core::cred::Store;
    use std::os::unix::fs::MetadataExt;

    struct Site {
        _d: tempfile::TempDir,
        dir: PathBuf,
        map: PathBuf,
    }

    fn site(map: &str, entries: &[&str]) -> Site {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("groupmapdir");
        std::fs::create_dir(&dir).unwrap();
        for e in entries {
            std::fs::write(dir.join(e), "").unwrap();
        }
        let m = d.path().join("groupmapfile");
        std::fs::write(&m, map).unwrap();
        Site { dir, map: m, _d: d }
    }

    impl Site {
        fn plugin(&self, extra: &[&str]) -> VomsPoolGroup {
            let mut a = vec![
                "-groupmapfile".to_string(),
                self.map.display().to_string(),
                "-groupmapdir".into(),
                self.dir.display().to_string(),
            ];
            a.extend(extra.iter().map(|s| s.to_string()));
            let mut p = VomsPoolGroup::with_groups(groups());
            p.initialize(&argv("lcmaps_voms_poolgroup.mod", &a))
                .unwrap();
            p
        }
    }

    const MAP: &str = "\"/dteam/*\" .group\n\"/atlas/*\" atlas\n";

    #[test]
    fn lease_of_an_fqan() {
        let s = site(MAP, &["group001", "group002"]);
        let mut p = s.plugin(&[]);
        let fqan = "/dteam/Role=NULL/Capability=NULL";
        let (st, store) = run(&mut p, &request(&[fqan]));
        assert_eq!(st, Status::Success);
        let lease = s.dir.join("%2fdteam%2frole%3dnull%2fcapability%3dnull");
        let m = std::fs::metadata(&lease).expect("lease named by the encoded FQAN");
        assert_eq!(m.nlink(), 2);
        let group = ["group001", "group002"]
            .into_iter()
            .find(|g| std::fs::metadata(s.dir.join(g)).unwrap().ino() == m.ino())
            .unwrap();
        let gid = 800 + group[5..].parse::<u32>().unwrap();
        assert_eq!(store.pri_gids, [gid]);
        assert_eq!(store.vo_mappings[0].groupname.as_deref(), Some(group));
        assert_eq!(store.vo_mappings[0].vostring, fqan);
        // Same FQAN again: same group; verify finds it without creating.
        let (_, again) = run(&mut p, &request(&[fqan]));
        assert_eq!(again.pri_gids, [gid]);
        let mut st2 = Store::new();
        assert!(p
            .verify(&mut RunContext {
                request: &request(&[fqan]),
                store: &mut st2
            })
            .is_success());
        assert_eq!(st2.pri_gids, [gid]);
        // Verification of an FQAN without a lease: no mapping, no lease made.
        let other = "/dteam/Role=production/Capability=NULL";
        let mut st3 = Store::new();
        assert!(p
            .verify(&mut RunContext {
                request: &request(&[other]),
                store: &mut st3
            })
            .is_success());
        assert!(st3.pri_gids.is_empty());
        assert!(!s
            .dir
            .join("%2fdteam%2frole%3dproduction%2fcapability%3dnull")
            .exists());
        let mut p = s.plugin(&["-mapall"]);
        assert!(!p
            .verify(&mut RunContext {
                request: &request(&[other]),
                store: &mut Store::new()
            })
            .is_success());
    }

    #[test]
    fn verifying_a_lease_in_a_user_owned_groupmapdir_is_refused() {
        // Issue #14 item 7; the tests run as root in CI.
        if !lcmaps_core::testing::root("verifying_a_lease_in_a_user_owned_groupmapdir_is_refused") {
            return;
        }
        let s = site(MAP, &["group001", "group002"]);
        let mut p = s.plugin(&[]);
        let fqan = "/dteam/Role=NULL/Capability=NULL";
        assert_eq!(run(&mut p, &request(&[fqan])).0, Status::Success);
        let verify = |p: &mut VomsPoolGroup| {
            p.verify(&mut RunContext {
                request: &request(&[fqan]),
                store: &mut Store::new(),
            })
        };
        assert!(verify(&mut p).is_success());
        std::os::unix::fs::chown(&s.dir, Some(5001), None).unwrap();
        assert!(!verify(&mut p).is_success());
        assert_ne!(run(&mut p, &request(&[fqan])).0, Status::Success);
    }

    #[test]
    fn secondary_groups_mapall_mapmin() {
        let s = site(MAP, &["group001", "group002"]);
        let fq = [
            "/atlas/Role=NULL/Capability=NULL",
            "/dteam/Role=NULL/Capability=NULL",
            "/cms/Role=NULL/Capability=NULL",
        ];
        let mut p = s.plugin(&["--map-to-secondary-groups"]);
        let (st, store) = run(&mut p, &request(&fq));
        assert_eq!(st, Status::Success);
        assert!(store.pri_gids.is_empty());
        assert_eq!(
            store.sec_gids.len(),
            1,
            "atlas is not a pool mapping; cms unmatched"
        );
        assert_eq!(
            run(&mut s.plugin(&["-mapall"]), &request(&fq)).0,
            Status::Failure
        );
        assert_eq!(
            run(&mut s.plugin(&["-mapmin", "2"]), &request(&fq)).0,
            Status::Failure
        );
        assert_eq!(
            run(&mut s.plugin(&["-mapmin", "1"]), &request(&fq)).0,
            Status::Success
        );
    }

    #[test]
    fn full_pool_and_strict_prefix() {
        let s = site(MAP, &["groupx", "group001"]);
        let mut p = s.plugin(&[]);
        assert_eq!(
            run(&mut p, &request(&["/dteam/a/Role=NULL/Capability=NULL"])).0,
            Status::Success
        );
        let (st, store) = run(&mut p, &request(&["/dteam/b/Role=NULL/Capability=NULL"]));
        assert_eq!(st, Status::Success, "an unmatched FQAN is skipped");
        assert!(
            store.pri_gids.is_empty(),
            "groupx is not a strict pool entry"
        );
        let mut p = s.plugin(&["-strict_poolprefix_match", "no"]);
        let (_, store) = run(&mut p, &request(&["/dteam/b/Role=NULL/Capability=NULL"]));
        assert!(
            store.pri_gids.is_empty(),
            "groupx is not a known group: {store:?}"
        );
    }

    #[test]
    fn groupmapdir_from_env_unset_fails() {
        let s = site(MAP, &["group001"]);
        let mut p = VomsPoolGroup::with_groups(groups());
        p.initialize(&argv(
            "m",
            &["-groupmapfile".into(), s.map.display().to_string()],
        ))
        .unwrap();
        if std::env::var_os("GROUPMAPDIR").is_none() {
            assert_eq!(
                run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"])).0,
                Status::Failure
            );
        }
    }

    #[test]
    fn options() {
        let s = site(MAP, &[]);
        let m = s.map.display().to_string();
        // A root-owned directory: /tmp (sticky, world-writable) is refused
        // by a privileged process as a gridmapdir (issue #14 item 7).
        let d = s.dir.display().to_string();
        let init = |a: &[&str]| {
            let a: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            VomsPoolGroup::with_groups(groups()).initialize(&argv("m", &a))
        };
        for o in ["-groupmapfile", "-GROUPMAPFILE", "-groupmap", "-GROUPMAP"] {
            init(&[o, &m]).unwrap();
        }
        init(&[
            "-groupmapfile",
            &m,
            "-groupmapdir",
            &d,
            "-GROUPMAPDIR",
            &d,
            "-mapmin",
            "0",
            "-mapall",
            "--map-to-secondary-groups",
            "-override_inconsistency",
            "-OVERRIDE_INCONSISTENCY",
            "-strict_poolprefix_match",
            "yes",
        ])
        .unwrap();
        assert!(init(&["-groupmapfile", &m, "-groupmapdir", "relative"]).is_err());
        assert!(init(&["-groupmapfile", &m, "-strict_poolprefix_match", "maybe"]).is_err());
        assert!(init(&["-groupmapdir", &d])
            .unwrap_err()
            .0
            .contains("No group-mapfile"));
        let e = init(&["-groupmapfile", &m, "-gridmapdir", &d])
            .unwrap_err()
            .0;
        assert!(
            e.contains("Unknown argument for plugin: -gridmapdir"),
            "{e}"
        );
        assert_eq!(
            VomsPoolGroup::with_groups(groups()).introspect(),
            [FQAN_LIST, NFQAN]
        );
    }
}
