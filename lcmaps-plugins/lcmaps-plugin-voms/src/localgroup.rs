//! `lcmaps_voms_localgroup.mod`: maps each FQAN to a local group through
//! the group-mapfile.
//!
//! Options: `-groupmapfile|-GROUPMAPFILE|-groupmap|-GROUPMAP <file>`
//! (mandatory), `-mapmin <n>` (default 0), `-mapall`,
//! `--map-to-secondary-groups`.

use std::path::PathBuf;

use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::mapfile::{self, Select};
use lcmaps_plugin_common::options::{self, Opt};

use crate::fqan_source::{fqans, FQAN_LIST, NFQAN};
use crate::group_mapping::{
    add_named_group, enough_groups, mapmin_option, GROUPMAPFILE_OPTION, MAPALL_OPTION,
    MAP_TO_SECONDARY_GROUPS_OPTION,
};
use crate::groups::{self, Groups};
use crate::log_lines::{outcome, who};

const PREFIX: &str = "lcmaps_voms_localgroup";

/// The plugin.
#[derive(Debug)]
pub struct VomsLocalGroup {
    groupmapfile: Option<PathBuf>,
    secondary: bool,
    mapall: bool,
    mapmin: i32,
    groups: Groups,
}

impl Default for VomsLocalGroup {
    fn default() -> Self {
        Self::with_groups(groups::system())
    }
}

impl VomsLocalGroup {
    /// With another group database (tests).
    pub fn with_groups(groups: Groups) -> Self {
        VomsLocalGroup {
            groupmapfile: None,
            secondary: false,
            mapall: false,
            mapmin: 0,
            groups,
        }
    }

    fn run_or_verify(&mut self, ctx: &mut RunContext<'_>, verify: bool) -> Status {
        let who = who(PREFIX, verify);
        let s = self.map(ctx, &who);
        outcome(&who, "voms_localgroup", s);
        s
    }

    fn map(&mut self, ctx: &mut RunContext<'_>, who: &str) -> Status {
        let Some(list) = fqans(ctx, who) else {
            return Status::Failure;
        };
        let Some(file) = self.groupmapfile.clone() else {
            log::error!("{who}: no group-mapfile");
            return Status::Failure;
        };
        let mut count = 0;
        for (i, fqan) in list.iter().enumerate() {
            let hit =
                match mapfile::gridmapfile(Some(&file), fqan, true, Select::Exclude("."), true) {
                    Err(e) => {
                        log::error!("{who}: {e}");
                        return Status::Failure;
                    }
                    Ok(h) => h.and_then(|h| h.mapping),
                };
            let Some(group) = hit else {
                if self.mapall {
                    log::warn!(
                        "{who}: No match for a VOMS localgroup for FQAN {}, \"{fqan}\"",
                        i + 1
                    );
                    return Status::Failure;
                }
                log::debug!(
                    "{who}: No match for a VOMS localgroup for FQAN {}, \"{fqan}\"",
                    i + 1
                );
                continue;
            };
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

impl Plugin for VomsLocalGroup {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        let err = |m: String| PluginError(format!("{who}: {m}"));
        const OPTIONS: &[Opt<VomsLocalGroup>] = &[
            Opt::file(GROUPMAPFILE_OPTION, |p, f| p.groupmapfile = Some(f)),
            mapmin_option(|p, n| p.mapmin = n),
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

    fn plugin(extra: &[&str], map: &str) -> (tempfile::TempDir, VomsLocalGroup) {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("groupmapfile");
        std::fs::write(&f, map).unwrap();
        let mut p = VomsLocalGroup::with_groups(groups());
        let mut a = vec!["-groupmapfile".to_string(), f.display().to_string()];
        a.extend(extra.iter().map(|s| s.to_string()));
        p.initialize(&argv("lcmaps_voms_localgroup.mod", &a))
            .unwrap();
        (d, p)
    }

    const MAP: &str = "# group-mapfile\n\
        \"/dteam/Role=production/Capability=NULL\" dteamprd\n\
        \"/dteam/*\" dteam\n\
        \"/atlas/Role=NULL/Capability=NULL\" .atlaspool atlas\n";

    #[test]
    fn wildcard_keys_and_vo_mappings() {
        let (_d, mut p) = plugin(&[], MAP);
        let req = request(&[
            "/dteam/Role=production/Capability=NULL",
            "/dteam/sub/Role=NULL/Capability=NULL",
            "/atlas/Role=NULL/Capability=NULL",
            "/dteam",
        ]);
        let (s, store) = run(&mut p, &req);
        assert_eq!(s, Status::Success);
        assert_eq!(store.pri_gids, [501]);
        assert_eq!(
            store.sec_gids,
            [500, 700],
            "atlas via the non-pool mapping; bare /dteam unmatched"
        );
        let m: Vec<_> = store
            .vo_mappings
            .iter()
            .map(|m| (m.vostring.as_str(), m.groupname.as_deref().unwrap(), m.gid))
            .collect();
        assert_eq!(
            m,
            [
                ("/dteam/Role=production/Capability=NULL", "dteamprd", 501),
                ("/dteam/sub/Role=NULL/Capability=NULL", "dteam", 500),
                ("/atlas/Role=NULL/Capability=NULL", "atlas", 700),
            ]
        );
    }

    #[test]
    fn first_fqan_unmatched_gives_no_primary_gid() {
        let (_d, mut p) = plugin(&[], MAP);
        let (s, store) = run(
            &mut p,
            &request(&[
                "/cms/Role=NULL/Capability=NULL",
                "/dteam/Role=NULL/Capability=NULL",
            ]),
        );
        assert_eq!(s, Status::Success);
        assert!(store.pri_gids.is_empty());
        assert_eq!(store.sec_gids, [500]);
    }

    #[test]
    fn map_to_secondary_groups() {
        let (_d, mut p) = plugin(&["--map-to-secondary-groups"], MAP);
        let (s, store) = run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"]));
        assert_eq!(s, Status::Success);
        assert!(store.pri_gids.is_empty());
        assert_eq!(store.sec_gids, [500]);
    }

    #[test]
    fn mapall_and_mapmin() {
        let req = request(&[
            "/dteam/Role=NULL/Capability=NULL",
            "/cms/Role=NULL/Capability=NULL",
        ]);
        let (_d, mut p) = plugin(&["-mapall"], MAP);
        assert_eq!(run(&mut p, &req).0, Status::Failure);
        let (_d, mut p) = plugin(&["-mapmin", "2"], MAP);
        assert_eq!(run(&mut p, &req).0, Status::Failure);
        let (_d, mut p) = plugin(&["-mapmin", "1"], MAP);
        assert_eq!(run(&mut p, &req).0, Status::Success);
        assert!(p
            .verify(&mut lcmaps_core::plugin::RunContext {
                request: &req,
                store: &mut Default::default()
            })
            .is_success());
    }

    #[test]
    fn fqans_from_store_win_and_none_fail() {
        let (_d, mut p) = plugin(&[], MAP);
        let req = request(&["/cms/Role=NULL/Capability=NULL"]);
        let mut store = lcmaps_core::cred::Store::new();
        store
            .vo_strings
            .push("/dteam/Role=NULL/Capability=NULL".into());
        let s = p.run(&mut RunContext {
            request: &req,
            store: &mut store,
        });
        assert_eq!(s, Status::Success);
        assert_eq!(store.pri_gids, [500]);
        assert_eq!(run(&mut p, &request(&[])).0, Status::Failure);
    }

    #[test]
    fn unknown_group_fails() {
        let (_d, mut p) = plugin(&[], "\"/x/*\" nosuchgroup\n");
        assert_eq!(
            run(&mut p, &request(&["/x/Role=NULL/Capability=NULL"])).0,
            Status::Failure
        );
    }

    #[test]
    fn malformed_line_names_file_and_line() {
        let (d, mut p) = plugin(&[], "\"/cms/*\" cms\n\"/dteam/* dteam\n");
        let (s, _) = run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"]));
        assert_eq!(s, Status::Failure);
        let f = d.path().join("groupmapfile");
        let e = lcmaps_plugin_common::mapfile::load(&f)
            .unwrap()
            .lookup(
                "/dteam/Role=NULL/Capability=NULL",
                true,
                Select::Exclude("."),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}:2: invalid line: quote-imbalance", f.display())
        );
    }

    #[test]
    fn options() {
        let init = |a: &[&str]| {
            let a: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            VomsLocalGroup::with_groups(groups()).initialize(&argv("m", &a))
        };
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("g");
        std::fs::write(&f, MAP).unwrap();
        let f = f.display().to_string();
        for o in ["-groupmapfile", "-GROUPMAPFILE", "-groupmap", "-GROUPMAP"] {
            init(&[o, &f]).unwrap();
        }
        init(&[
            "-groupmapfile",
            &f,
            "-mapmin",
            "3",
            "-mapall",
            "--map-to-secondary-groups",
        ])
        .unwrap();
        let e = init(&[]).unwrap_err().0;
        assert!(e.contains("No group-mapfile"), "{e}");
        let e = init(&["-groupmapfile", &f, "-bogus"]).unwrap_err().0;
        assert!(e.contains("Unknown argument for plugin: -bogus"), "{e}");
        for bad in ["-1", "x", "", "99999999999"] {
            assert!(
                init(&["-groupmapfile", &f, "-mapmin", bad]).is_err(),
                "{bad}"
            );
        }
        let e = init(&["-groupmapfile", "/nonexistent/lcmaps-rs/g"]).map(|_| ());
        // An absolute path is taken as-is at initialize (as upstream); the
        // run fails closed naming it.
        assert!(e.is_ok());
        let mut p = VomsLocalGroup::with_groups(groups());
        p.initialize(&argv(
            "m",
            &["-groupmapfile".into(), "/nonexistent/lcmaps-rs/g".into()],
        ))
        .unwrap();
        assert_eq!(
            run(&mut p, &request(&["/dteam/Role=NULL/Capability=NULL"])).0,
            Status::Failure
        );
        assert_eq!(VomsLocalGroup::default().introspect(), [FQAN_LIST, NFQAN]);
    }
}
