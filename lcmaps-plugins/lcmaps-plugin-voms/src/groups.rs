//! Group lookup: upstream's `getgrnam()` (group-mapfile names to gids) and
//! `getgrgid()` (gids to names for voms_poolaccount lease names). Behind a
//! trait so tests can inject groups; [`SystemGroups`] asks NSS.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use nix::unistd::{Gid, Group};

/// Where groups come from.
pub trait GroupDb: Send + Sync + Debug {
    /// `getgrnam`: the gid of group `name`; `Ok(None)`: no such group.
    fn gid_by_name(&self, name: &str) -> Result<Option<u32>, String>;
    /// `getgrgid`: the name of group `gid`; `Ok(None)`: no such group.
    fn name_by_gid(&self, gid: u32) -> Result<Option<String>, String>;
}

/// getgrnam_r(3) reports "not found" as 0 or one of these errnos.
fn not_found(e: nix::errno::Errno) -> bool {
    use nix::errno::Errno;
    matches!(
        e,
        Errno::ENOENT | Errno::ESRCH | Errno::EBADF | Errno::EPERM
    )
}

/// The system's groups (NSS).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemGroups;

impl GroupDb for SystemGroups {
    fn gid_by_name(&self, name: &str) -> Result<Option<u32>, String> {
        if name.contains('\0') {
            return Ok(None);
        }
        match Group::from_name(name) {
            Ok(g) => Ok(g.map(|g| g.gid.as_raw())),
            Err(e) if not_found(e) => Ok(None),
            Err(e) => Err(format!("getgrnam(\"{name}\"): {e}")),
        }
    }

    fn name_by_gid(&self, gid: u32) -> Result<Option<String>, String> {
        match Group::from_gid(Gid::from_raw(gid)) {
            Ok(g) => Ok(g.map(|g| g.name)),
            Err(e) if not_found(e) => Ok(None),
            Err(e) => Err(format!("getgrgid({gid}): {e}")),
        }
    }
}

/// A fixed set of groups `name -> gid`, for tests and dry runs.
#[derive(Debug, Default, Clone)]
pub struct StaticGroups(pub BTreeMap<String, u32>);

impl StaticGroups {
    /// Groups `(name, gid)`.
    pub fn new(list: &[(&str, u32)]) -> Self {
        StaticGroups(list.iter().map(|&(n, g)| (n.to_string(), g)).collect())
    }
}

impl GroupDb for StaticGroups {
    fn gid_by_name(&self, name: &str) -> Result<Option<u32>, String> {
        Ok(self.0.get(name).copied())
    }

    fn name_by_gid(&self, gid: u32) -> Result<Option<String>, String> {
        Ok(self
            .0
            .iter()
            .find(|(_, g)| **g == gid)
            .map(|(n, _)| n.clone()))
    }
}

/// A shared group database.
pub type Groups = Arc<dyn GroupDb>;

/// The system's groups, shared.
pub fn system() -> Groups {
    Arc::new(SystemGroups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_root_group() {
        assert_eq!(SystemGroups.gid_by_name("root").unwrap(), Some(0));
        assert_eq!(
            SystemGroups.name_by_gid(0).unwrap().as_deref(),
            Some("root")
        );
        assert_eq!(
            SystemGroups.gid_by_name("no-such-group-lcmaps-rs").unwrap(),
            None
        );
        assert_eq!(SystemGroups.gid_by_name("nul\0byte").unwrap(), None);
    }

    #[test]
    fn static_groups() {
        let g = StaticGroups::new(&[("dteam", 500), ("pool", 600)]);
        assert_eq!(g.gid_by_name("pool").unwrap(), Some(600));
        assert_eq!(g.name_by_gid(500).unwrap().as_deref(), Some("dteam"));
        assert_eq!(g.name_by_gid(1).unwrap(), None);
    }
}
