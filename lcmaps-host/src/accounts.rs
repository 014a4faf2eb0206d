//! `getgrouplist(3)` for the built-in plugins' account lookups
//! ([`lcmaps_plugin_common::accounts::use_grouplist`], registered by
//! [`crate::default_loader`]).

use std::ffi::CStr;
use std::sync::OnceLock;

/// Most groups asked for: the kernel's `NGROUPS_MAX` (read once per
/// process), plus the primary group, which the list may add.
fn max_groups() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        let n = nix::unistd::sysconf(nix::unistd::SysconfVar::NGROUPS_MAX)
            .ok()
            .flatten()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(65_536);
        n.saturating_add(1)
    })
}

/// Every group of `user` whose primary group is `gid`, `gid` included, as
/// `getgrouplist(3)` lists them.
pub fn getgrouplist(user: &CStr, gid: u32) -> Result<Vec<u32>, String> {
    let max = max_groups();
    let mut groups: Vec<libc::gid_t> = vec![0; 32.min(max)];
    loop {
        let mut n = libc::c_int::try_from(groups.len()).map_err(|_| "too many groups")?;
        // SAFETY: `user` is a NUL-terminated string; `groups` has room for
        // `n` gids and `n` is a valid int the call updates.
        let r = unsafe { libc::getgrouplist(user.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        let n = usize::try_from(n).unwrap_or(0);
        if r >= 0 {
            groups.truncate(n.min(groups.len()));
            return Ok(groups);
        }
        // Too small: glibc says how many there are in `n`.
        if groups.len() >= max {
            return Err(format!("more than {max} groups"));
        }
        let want = n.max(groups.len() * 2).min(max);
        groups.resize(want, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_in_its_primary_group_and_as_nix_says() {
        let root = c"root";
        let ours = getgrouplist(root, 0).unwrap();
        assert!(ours.contains(&0));
        let nix: Vec<u32> = nix::unistd::getgrouplist(root, nix::unistd::Gid::from_raw(0))
            .unwrap()
            .into_iter()
            .map(|g| g.as_raw())
            .collect();
        assert_eq!(ours, nix);
    }

    #[test]
    fn an_unknown_account_has_its_primary_group_only() {
        assert_eq!(
            getgrouplist(c"no-such-user-lcmaps-rs", 4242).unwrap(),
            vec![4242]
        );
    }
}
