//! Account lookup: upstream's `getpwnam()` plus `lcmaps_get_gidlist()`
//! (`getgrouplist()`, whose list includes the primary gid). Behind a trait
//! so tests can inject accounts; [`SystemAccounts`] asks NSS through `nix`.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::fmt::Debug;
use std::sync::{Arc, OnceLock};

use nix::unistd::{getgrouplist, Gid, Uid, User};

/// A Unix account as the plugins need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// uid.
    pub uid: u32,
    /// Primary gid.
    pub gid: u32,
    /// Every group of the account, the primary gid included (getgrouplist).
    pub groups: Vec<u32>,
}

/// Where accounts come from.
pub trait AccountDb: Send + Sync + Debug {
    /// `getpwnam` + `getgrouplist`; `Ok(None)` when there is no such account.
    fn by_name(&self, name: &str) -> Result<Option<Account>, String>;
    /// `getpwuid`: the name of the account with this uid.
    fn name_by_uid(&self, uid: u32) -> Result<Option<String>, String>;
}

/// getpwnam_r(3): "0 or ENOENT or ESRCH or EBADF or EPERM or ..." may mean
/// the name was not found (nss_wrapper, for one, returns ENOENT).
fn not_found(e: nix::errno::Errno) -> bool {
    use nix::errno::Errno;
    matches!(
        e,
        Errno::ENOENT | Errno::ESRCH | Errno::EBADF | Errno::EPERM
    )
}

/// A `getgrouplist(3)`: every group of the account `user` whose primary
/// group is `gid`, `gid` included; the message of a failure.
pub type GroupList = fn(user: &CStr, gid: u32) -> Result<Vec<u32>, String>;

static HOST_GROUPLIST: OnceLock<GroupList> = OnceLock::new();

/// Makes [`SystemAccounts`] use `f` for the group list from now on (the
/// first call wins). The C host registers one that calls
/// `getgrouplist(3)` directly: `nix`'s asks `sysconf(_SC_NGROUPS_MAX)`
/// first on every call, which glibc answers by reading
/// /proc/sys/kernel/ngroups_max (an open, a read and a close per mapping).
pub fn use_grouplist(f: GroupList) {
    let _ = HOST_GROUPLIST.set(f);
}

fn grouplist(user: &CStr, gid: u32) -> Result<Vec<u32>, String> {
    if let Some(f) = HOST_GROUPLIST.get() {
        return f(user, gid);
    }
    getgrouplist(user, Gid::from_raw(gid))
        .map(|g| g.into_iter().map(Gid::as_raw).collect())
        .map_err(|e| e.to_string())
}

/// The system's accounts (NSS).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemAccounts;

impl AccountDb for SystemAccounts {
    fn by_name(&self, name: &str) -> Result<Option<Account>, String> {
        let user = match User::from_name(name) {
            Ok(Some(u)) => u,
            Ok(None) => return Ok(None),
            Err(e) if not_found(e) => return Ok(None),
            Err(e) => return Err(format!("getpwnam(\"{name}\"): {e}")),
        };
        let cname = CString::new(name).map_err(|_| format!("bad account name {name:?}"))?;
        let groups = grouplist(&cname, user.gid.as_raw())
            .map_err(|e| format!("getgrouplist(\"{name}\"): {e}"))?;
        Ok(Some(Account {
            name: user.name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            groups,
        }))
    }

    fn name_by_uid(&self, uid: u32) -> Result<Option<String>, String> {
        match User::from_uid(Uid::from_raw(uid)) {
            Ok(u) => Ok(u.map(|u| u.name)),
            Err(e) if not_found(e) => Ok(None),
            Err(e) => Err(format!("getpwuid({uid}): {e}")),
        }
    }
}

/// A fixed set of accounts, for tests and dry runs.
#[derive(Debug, Default, Clone)]
pub struct StaticAccounts(pub BTreeMap<String, Account>);

impl StaticAccounts {
    /// Accounts `(name, uid, gid, extra groups)`; each gets its primary gid
    /// first in `groups`, as getgrouplist returns it.
    pub fn new(list: &[(&str, u32, u32, &[u32])]) -> Self {
        StaticAccounts(
            list.iter()
                .map(|&(n, uid, gid, extra)| {
                    let mut groups = vec![gid];
                    groups.extend(extra.iter().copied().filter(|g| *g != gid));
                    (
                        n.to_string(),
                        Account {
                            name: n.to_string(),
                            uid,
                            gid,
                            groups,
                        },
                    )
                })
                .collect(),
        )
    }
}

impl AccountDb for StaticAccounts {
    fn by_name(&self, name: &str) -> Result<Option<Account>, String> {
        Ok(self.0.get(name).cloned())
    }

    fn name_by_uid(&self, uid: u32) -> Result<Option<String>, String> {
        Ok(self
            .0
            .values()
            .find(|a| a.uid == uid)
            .map(|a| a.name.clone()))
    }
}

/// A shared account database.
pub type Accounts = Arc<dyn AccountDb>;

/// The system's accounts, shared.
pub fn system() -> Accounts {
    Arc::new(SystemAccounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_root_has_its_primary_group() {
        let root = SystemAccounts.by_name("root").unwrap().unwrap();
        assert_eq!(root.uid, 0);
        assert!(root.groups.contains(&root.gid));
        assert_eq!(
            SystemAccounts.name_by_uid(0).unwrap().as_deref(),
            Some("root")
        );
        assert_eq!(
            SystemAccounts.by_name("no-such-user-lcmaps-rs").unwrap(),
            None
        );
        assert!(SystemAccounts.by_name("nul\0byte").is_ok());
    }

    #[test]
    fn static_accounts() {
        let a = StaticAccounts::new(&[("dteam001", 5001, 500, &[500, 77])]);
        let acc = a.by_name("dteam001").unwrap().unwrap();
        assert_eq!(acc.groups, [500, 77]);
        assert_eq!(a.name_by_uid(5001).unwrap().as_deref(), Some("dteam001"));
    }

    /// SystemAccounts against fake passwd/group files through nss_wrapper,
    /// in a child process (the test binary re-run for this test).
    #[test]
    fn system_accounts_through_nss_wrapper() {
        if std::env::var_os("LCMAPS_RS_NSS_CHILD").is_some() {
            let a = SystemAccounts.by_name("pool001").unwrap().unwrap();
            assert_eq!((a.uid, a.gid), (7001, 7000));
            let mut g = a.groups.clone();
            g.sort();
            assert_eq!(
                g,
                [7000, 7100],
                "primary gid included, plus the extra group"
            );
            assert_eq!(
                SystemAccounts.name_by_uid(7001).unwrap().as_deref(),
                Some("pool001")
            );
            assert_eq!(SystemAccounts.by_name("pool999").unwrap(), None);
            return;
        }
        let Some(lib) = lcmaps_core::testing::nss_wrapper(module_path!()) else {
            return;
        };
        let d = tempfile::tempdir().unwrap();
        let passwd = d.path().join("passwd");
        let group = d.path().join("group");
        std::fs::write(
            &passwd,
            "root:x:0:0:root:/root:/bin/sh\npool001:x:7001:7000::/home/pool001:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(&group, "root:x:0:\npool:x:7000:\nextra:x:7100:pool001\n").unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "accounts::tests::system_accounts_through_nss_wrapper",
                "--exact",
                "--test-threads=1",
            ])
            .env("LCMAPS_RS_NSS_CHILD", "1")
            .env("LD_PRELOAD", lib)
            .env("NSS_WRAPPER_PASSWD", &passwd)
            .env("NSS_WRAPPER_GROUP", &group)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
