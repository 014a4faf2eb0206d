//! The gid options of voms_localaccount and voms_poolaccount: which groups
//! of the mapped account are added to the store.

use lcmaps_core::cred::CredData;
use lcmaps_core::plugin::RunContext;
use lcmaps_plugin_common::accounts::AccountDb;
use lcmaps_plugin_common::options::Opt;

/// The gid flags while parsing, then resolved into [`GidMapping`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct GidFlags {
    use_voms_gid: bool,
    use_account_gid: bool,
    no_pgid: bool,
    add_pgid: bool,
    add_pgid_as_sgid: bool,
    no_sgids: bool,
    add_sgids: bool,
}

/// What to add from the account: `pgid & 1`: its primary gid as PRI_GID,
/// `pgid & 2`: its primary gid as SEC_GID, `sgids`: its group list as SEC_GIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GidMapping {
    pub pgid: u8,
    pub sgids: bool,
}

impl GidFlags {
    /// The gid options, for a parse state that holds the flags. Conflicting
    /// flags are an error naming the later one, as upstream.
    pub fn options<T: AsMut<GidFlags>>() -> [Opt<T>; 7] {
        [
            Opt::flag(
                &["--do-not-add-primary-gid-from-mapped-account"],
                |t: &mut T, o| {
                    let f = t.as_mut();
                    if f.add_pgid || f.add_pgid_as_sgid {
                        return conflict(o, "--add-primary-gid-from-mapped-account or --add-primary-gid-as-secondary-gid-from-mapped-account");
                    }
                    f.no_pgid = true;
                    Ok(())
                },
            ),
            Opt::flag(
                &["--add-primary-gid-from-mapped-account"],
                |t: &mut T, o| {
                    let f = t.as_mut();
                    if f.no_pgid {
                        return conflict(o, "--do-not-add-primary-gid-from-mapped-account");
                    }
                    f.add_pgid = true;
                    Ok(())
                },
            ),
            Opt::flag(
                &["--add-primary-gid-as-secondary-gid-from-mapped-account"],
                |t: &mut T, o| {
                    let f = t.as_mut();
                    if f.no_pgid {
                        return conflict(o, "--do-not-add-primary-gid-from-mapped-account");
                    }
                    f.add_pgid_as_sgid = true;
                    Ok(())
                },
            ),
            Opt::flag(
                &["--do-not-add-secondary-gids-from-mapped-account"],
                |t: &mut T, o| {
                    let f = t.as_mut();
                    if f.add_sgids {
                        return conflict(o, "--add-secondary-gids-from-mapped-account");
                    }
                    f.no_sgids = true;
                    Ok(())
                },
            ),
            Opt::flag(
                &["--add-secondary-gids-from-mapped-account"],
                |t: &mut T, o| {
                    let f = t.as_mut();
                    if f.no_sgids {
                        return conflict(o, "--do-not-add-secondary-gids-from-mapped-account");
                    }
                    f.add_sgids = true;
                    Ok(())
                },
            ),
            Opt::flag(
                &["--use-voms-gid", "--use_voms_gid", "-use_voms_gid"],
                |t: &mut T, o| {
                    let f = t.as_mut();
                    if f.use_account_gid {
                        return conflict(o, "--use-account-gid");
                    }
                    f.use_voms_gid = true;
                    Ok(())
                },
            ),
            Opt::flag(&["--use-account-gid"], |t: &mut T, o| {
                let f = t.as_mut();
                if f.use_voms_gid {
                    return conflict(o, "--use-voms-gid");
                }
                f.use_account_gid = true;
                Ok(())
            }),
        ]
    }

    /// The resulting mapping, starting from the plugin's default
    /// (`account_default`: add the account's groups).
    pub fn resolve(&self, account_default: bool) -> GidMapping {
        let (mut pgid, mut sgids) = if account_default {
            (1, true)
        } else {
            (0, false)
        };
        if self.use_voms_gid {
            (pgid, sgids) = (0, false);
        } else if self.use_account_gid {
            (pgid, sgids) = (1, true);
        }
        if self.no_pgid {
            pgid = 0;
        } else {
            if self.add_pgid {
                pgid |= 1;
            }
            if self.add_pgid_as_sgid {
                pgid |= 2;
            }
        }
        if self.no_sgids {
            sgids = false;
        } else if self.add_sgids {
            sgids = true;
        }
        GidMapping { pgid, sgids }
    }
}

/// Upstream's message for option `opt` given after the conflicting `other`.
fn conflict(opt: &str, other: &str) -> Result<(), String> {
    Err(format!("cannot specify both {opt} and {other}"))
}

/// Look `name` up, add its UID and the groups `map` asks for. `false`: no
/// such account (logged).
pub(crate) fn add_account(
    ctx: &mut RunContext<'_>,
    accounts: &dyn AccountDb,
    name: &str,
    map: GidMapping,
    who: &str,
) -> bool {
    let acc = match accounts.by_name(name) {
        Ok(Some(a)) => a,
        Ok(None) => {
            log::warn!("{who}: no user account found with the name \"{name}\"");
            return false;
        }
        Err(e) => {
            log::error!("{who}: {e}");
            return false;
        }
    };
    ctx.add(CredData::Uid(acc.uid));
    if map.pgid & 1 != 0 {
        log::debug!(
            "{who}: adding primary GID ({}) from mapped account",
            acc.gid
        );
        ctx.add(CredData::PriGid(acc.gid));
    }
    if map.pgid & 2 != 0 {
        log::debug!(
            "{who}: adding primary GID ({}) from mapped account as a secondary GID",
            acc.gid
        );
        ctx.add(CredData::SecGid(acc.gid));
    }
    if map.sgids {
        for g in acc.groups {
            ctx.add(CredData::SecGid(g));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    use lcmaps_plugin_common::options::{self, OptionError};

    impl AsMut<GidFlags> for GidFlags {
        fn as_mut(&mut self) -> &mut GidFlags {
            self
        }
    }

    fn parse(opts: &[&str]) -> Result<GidFlags, OptionError> {
        let opts: Vec<String> = opts.iter().map(|o| o.to_string()).collect();
        let mut f = GidFlags::default();
        options::parse(&GidFlags::options(), &opts, &mut f).map(|()| f)
    }

    fn flags(opts: &[&str]) -> Result<GidFlags, String> {
        parse(opts).map_err(OptionError::message)
    }

    #[test]
    fn defaults_and_overrides() {
        let m = |o: &[&str], d| flags(o).unwrap().resolve(d);
        assert_eq!(
            m(&[], true),
            GidMapping {
                pgid: 1,
                sgids: true
            }
        );
        assert_eq!(
            m(&[], false),
            GidMapping {
                pgid: 0,
                sgids: false
            }
        );
        assert_eq!(
            m(&["--use-voms-gid"], true),
            GidMapping {
                pgid: 0,
                sgids: false
            }
        );
        assert_eq!(m(&["--use_voms_gid"], true).pgid, 0);
        assert_eq!(m(&["-use_voms_gid"], true).pgid, 0);
        assert_eq!(
            m(&["--use-account-gid"], false),
            GidMapping {
                pgid: 1,
                sgids: true
            }
        );
        assert_eq!(
            m(
                &[
                    "--use-voms-gid",
                    "--add-primary-gid-as-secondary-gid-from-mapped-account"
                ],
                true
            ),
            GidMapping {
                pgid: 2,
                sgids: false
            }
        );
        assert_eq!(
            m(
                &[
                    "--add-primary-gid-from-mapped-account",
                    "--add-primary-gid-as-secondary-gid-from-mapped-account"
                ],
                false
            ),
            GidMapping {
                pgid: 3,
                sgids: false
            }
        );
        assert_eq!(
            m(
                &[
                    "--do-not-add-primary-gid-from-mapped-account",
                    "--add-secondary-gids-from-mapped-account"
                ],
                false
            ),
            GidMapping {
                pgid: 0,
                sgids: true
            }
        );
        assert_eq!(
            m(
                &[
                    "--use-account-gid",
                    "--do-not-add-secondary-gids-from-mapped-account"
                ],
                false
            ),
            GidMapping {
                pgid: 1,
                sgids: false
            }
        );
        assert_eq!(
            parse(&["--bogus"]).unwrap_err(),
            OptionError::Unknown("--bogus".into())
        );
    }

    #[test]
    fn conflicts() {
        for pair in [
            ["--use-voms-gid", "--use-account-gid"],
            ["--use-account-gid", "-use_voms_gid"],
            [
                "--do-not-add-primary-gid-from-mapped-account",
                "--add-primary-gid-from-mapped-account",
            ],
            [
                "--add-primary-gid-as-secondary-gid-from-mapped-account",
                "--do-not-add-primary-gid-from-mapped-account",
            ],
            [
                "--add-secondary-gids-from-mapped-account",
                "--do-not-add-secondary-gids-from-mapped-account",
            ],
            [
                "--do-not-add-secondary-gids-from-mapped-account",
                "--add-secondary-gids-from-mapped-account",
            ],
        ] {
            let e = flags(&pair).unwrap_err();
            assert!(
                e.contains(pair[1]) && e.contains("cannot specify both"),
                "{e}"
            );
        }
    }
}
