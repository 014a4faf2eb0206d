//! `lcmaps_dummy_good.mod` and `lcmaps_dummy_bad.mod`, with upstream's
//! behaviour: good adds the configured ids and always succeeds, bad always
//! fails.

use super::{Plugin, PluginError, RunContext, Status};
use crate::cred::CredData;

/// `lcmaps_dummy_good.mod`.
///
/// Options (case-insensitive, each followed by its value):
/// `--dummy-uid N`, `--dummy-username NAME`, `--dummy-gid N`,
/// `--dummy-group NAME`, `--dummy-sec-gid N`, `--dummy-sec-group NAME`.
/// Unknown options are ignored, as upstream does. With both a uid and a gid
/// it also sets the pool index `dummy%20<uid>%20<gid>`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DummyGood {
    uid: Option<u32>,
    gid: Option<u32>,
    sec_gid: Option<u32>,
}

fn number(opt: &str, v: &str) -> Result<u32, PluginError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PluginError(format!("{opt}: `{v}` is not a number")));
    }
    v.parse()
        .map_err(|_| PluginError(format!("{opt}: `{v}` is out of range")))
}

impl Plugin for DummyGood {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let args = argv.get(1..).unwrap_or_default();
        for (i, opt) in args.iter().enumerate() {
            let Some(v) = args.get(i + 1).filter(|v| !v.is_empty()) else {
                continue;
            };
            match opt.to_ascii_lowercase().as_str() {
                "--dummy-uid" => self.uid = Some(number(opt, v)?),
                "--dummy-gid" => self.gid = Some(number(opt, v)?),
                "--dummy-sec-gid" => self.sec_gid = Some(number(opt, v)?),
                "--dummy-username" => {
                    let u = nix::unistd::User::from_name(v)
                        .ok()
                        .flatten()
                        .ok_or_else(|| {
                            PluginError(format!(
                                "no valid user account found with the name \"{v}\""
                            ))
                        })?;
                    self.uid = Some(u.uid.as_raw());
                }
                "--dummy-group" | "--dummy-sec-group" => {
                    let g = nix::unistd::Group::from_name(v)
                        .ok()
                        .flatten()
                        .ok_or_else(|| {
                            PluginError(format!("no valid group found with the name \"{v}\""))
                        })?;
                    if opt.eq_ignore_ascii_case("--dummy-group") {
                        self.gid = Some(g.gid.as_raw());
                    } else {
                        self.sec_gid = Some(g.gid.as_raw());
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        if let Some(u) = self.uid {
            ctx.add(CredData::Uid(u));
        }
        if let Some(g) = self.gid {
            ctx.add(CredData::PriGid(g));
        }
        if let Some(g) = self.sec_gid {
            ctx.add(CredData::SecGid(g));
        }
        if let (Some(u), Some(g)) = (self.uid, self.gid) {
            ctx.add(CredData::PoolIndex(format!("dummy%20{u}%20{g}")));
        }
        log::info!("lcmaps_dummy_good-plugin_run(): good plugin succeeded");
        Status::Success
    }

    fn has_verify(&self) -> bool {
        true
    }

    fn verify(&mut self, _ctx: &mut RunContext<'_>) -> Status {
        Status::Success
    }
}

/// `lcmaps_dummy_bad.mod`: takes no options and always fails.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DummyBad;

impl Plugin for DummyBad {
    fn initialize(&mut self, _argv: &[String]) -> Result<(), PluginError> {
        Ok(())
    }

    fn run(&mut self, _ctx: &mut RunContext<'_>) -> Status {
        log::info!("lcmaps_dummy_bad-plugin_run(): bad plugin successfully failed by design");
        Status::Failure
    }

    fn has_verify(&self) -> bool {
        true
    }

    fn verify(&mut self, _ctx: &mut RunContext<'_>) -> Status {
        log::info!("lcmaps_dummy_bad-plugin_verify(): bad plugin successfully failed by design");
        Status::Failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cred::Store;
    use crate::plugin::Request;

    fn argv(a: &[&str]) -> Vec<String> {
        std::iter::once("/x/lcmaps_dummy_good.mod")
            .chain(a.iter().copied())
            .map(String::from)
            .collect()
    }

    #[test]
    fn good_adds_what_it_is_told() {
        let mut p = DummyGood::default();
        p.initialize(&argv(&[
            "--DUMMY-UID",
            "501",
            "--dummy-gid",
            "500",
            "--dummy-sec-gid",
            "7",
            "--other",
        ]))
        .unwrap();
        let req = Request::default();
        let mut store = Store::new();
        assert_eq!(
            p.run(&mut RunContext {
                request: &req,
                store: &mut store
            }),
            Status::Success
        );
        assert_eq!(store.uids, [501]);
        assert_eq!(store.pri_gids, [500]);
        assert_eq!(store.sec_gids, [7]);
        assert_eq!(store.pool_index.as_deref(), Some("dummy%20501%20500"));
    }

    #[test]
    fn good_refuses_bad_numbers_and_unknown_names() {
        assert!(DummyGood::default()
            .initialize(&argv(&["--dummy-uid", "5x"]))
            .is_err());
        assert!(DummyGood::default()
            .initialize(&argv(&["--dummy-uid", "-5"]))
            .is_err());
        assert!(DummyGood::default()
            .initialize(&argv(&["--dummy-username", "no-such-user-lcmaps-rs"]))
            .is_err());
        // A trailing option without a value is ignored.
        assert!(DummyGood::default()
            .initialize(&argv(&["--dummy-uid"]))
            .is_ok());
    }

    #[test]
    fn bad_fails() {
        let req = Request::default();
        let mut store = Store::new();
        assert_eq!(
            DummyBad.run(&mut RunContext {
                request: &req,
                store: &mut store
            }),
            Status::Failure
        );
        assert_eq!(store, Store::new());
    }
}
