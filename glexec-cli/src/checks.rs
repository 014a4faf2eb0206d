//! Checks of the mapping helper's answer (step 10 of the run), on the root
//! side: nothing runs with an account the mapping gave before these pass.

use std::path::PathBuf;

use nix::unistd::{Uid, User};

use crate::config::Config;
use crate::privs::Ids;
use crate::tracking::Tracking;
use crate::Failure;

/// The mapping as the helper answered it, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The proxy's DN (`None` for a bearer token), for the record.
    pub dn: Option<String>,
    /// The proxy's verified FQANs, for the record.
    pub fqans: Vec<String>,
    /// Uids (the helper gives exactly one; checked again here).
    pub uids: Vec<u32>,
    /// Primary gids.
    pub pri_gids: Vec<u32>,
    /// Secondary gids, the tracking gid among them.
    pub sec_gids: Vec<u32>,
    /// The tracking gid glexec leased and the helper's policy gave, with
    /// the tracking plugin's options.
    pub tracking: Option<Tracking>,
    /// The uid and gid the helper ran as (`mapping_account`; `None`: it ran
    /// as root), which the payload never gets.
    pub helper: Option<(u32, u32)>,
}

/// The account the payload runs as.
pub struct Target {
    /// Uid, primary gid and secondary groups.
    pub ids: Ids,
    /// Account name.
    pub name: String,
    /// Home directory.
    pub home: PathBuf,
    /// The payload's tracking, when the tracking plugin gave a gid.
    pub tracking: Option<Tracking>,
}

/// Checks what the mapping gave: one uid, a primary gid, nothing root's,
/// nothing below `min_target_uid` / `min_target_gid` (system accounts and
/// groups such as `disk` or `shadow`), secondary groups included but for
/// the tracking gid, which comes from the tracking plugin's own range; not
/// the helper's uid or gid; and an account of that uid on this node.
pub fn check_mapping(m: &Mapping, cfg: &Config) -> Result<Target, Failure> {
    let todo = "ask the site to fix its mapping policy";
    let [uid] = m.uids[..] else {
        return Err(Failure::authz(
            format!(
                "the mapping gave {} uids; exactly one is needed",
                m.uids.len()
            ),
            todo,
        ));
    };
    let Some(&gid) = m.pri_gids.first() else {
        return Err(Failure::authz("the mapping gave no primary group", todo));
    };
    if uid == 0 || gid == 0 {
        return Err(Failure::authz(
            format!("the mapping gave uid {uid} / gid {gid}; glexec never runs payloads as root"),
            todo,
        ));
    }
    if uid < cfg.min_target_uid {
        return Err(Failure::authz(
            format!(
                "the mapped uid {uid} is below min_target_uid {}",
                cfg.min_target_uid
            ),
            todo,
        ));
    }
    if gid < cfg.min_target_gid {
        return Err(Failure::authz(
            format!(
                "the mapped gid {gid} is below min_target_gid {}",
                cfg.min_target_gid
            ),
            todo,
        ));
    }
    let sgids = &m.sec_gids;
    if sgids.contains(&0) {
        return Err(Failure::authz(
            "the mapping gave secondary group 0 (root)",
            todo,
        ));
    }
    let tracking_gid = m.tracking.as_ref().map(|t| t.gid);
    if let Some(g) = sgids
        .iter()
        .find(|g| **g < cfg.min_target_gid && Some(**g) != tracking_gid)
    {
        return Err(Failure::authz(
            format!(
                "the mapped secondary gid {g} is below min_target_gid {}",
                cfg.min_target_gid
            ),
            todo,
        ));
    }
    // Outside the helper's sandbox, a payload with the helpers' ids could
    // change what every helper may change (the gridmapdir's leases) and
    // signal other callers' helpers. A site's policy has no reason to map
    // to that account; a subverted helper would.
    if let Some((huid, hgid)) = m.helper {
        let which = if uid == huid {
            Some(format!("uid {uid}"))
        } else if gid == hgid || sgids.contains(&hgid) {
            Some(format!("gid {hgid}"))
        } else {
            None
        };
        if let Some(which) = which {
            return Err(Failure::authz(
                format!(
                    "the mapping gave {which}, the mapping account {}'s; payloads never run as the account of glexec's helpers",
                    cfg.mapping_account
                ),
                todo,
            ));
        }
    }
    let user = User::from_uid(Uid::from_raw(uid))
        .map_err(|e| {
            Failure::system(
                format!("cannot look up uid {uid}: {e}"),
                "check the account database",
            )
        })?
        .ok_or_else(|| {
            Failure::authz(
                format!("the mapped uid {uid} has no account on this node"),
                todo,
            )
        })?;
    Ok(Target {
        ids: Ids {
            uid,
            gid,
            groups: sgids.clone(),
        },
        name: user.name,
        home: user.dir,
        tracking: m.tracking.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Exit;

    fn mapping(uids: &[u32], pri: &[u32], sec: &[u32]) -> Mapping {
        Mapping {
            dn: None,
            fqans: Vec::new(),
            uids: uids.to_vec(),
            pri_gids: pri.to_vec(),
            sec_gids: sec.to_vec(),
            tracking: None,
            helper: None,
        }
    }

    #[test]
    fn root_system_ids_and_ambiguous_answers_are_refused() {
        let cfg = Config::default();
        for m in [
            mapping(&[], &[1000], &[]),
            mapping(&[1000, 1001], &[1000], &[]),
            mapping(&[1000], &[], &[]),
            mapping(&[0], &[1000], &[]),
            mapping(&[1000], &[0], &[]),
            mapping(&[99], &[1000], &[]),
            mapping(&[1000], &[6], &[]),
            mapping(&[1000], &[1000], &[0]),
            mapping(&[1000], &[1000], &[6]),
        ] {
            let Err(f) = check_mapping(&m, &cfg) else {
                panic!("{m:?} accepted")
            };
            assert_eq!(f.exit, Exit::Authz, "{m:?}");
        }
    }
}
