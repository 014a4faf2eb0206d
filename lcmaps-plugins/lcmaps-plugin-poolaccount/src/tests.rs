use super::*;
use lcmaps_core::cred::Store;
use lcmaps_core::plugin::Request;
use lcmaps_plugin_common::accounts::{AccountDb, StaticAccounts};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

struct Site {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    mapfile: PathBuf,
    accounts: Arc<StaticAccounts>,
}

fn site(pools: &[(&str, usize)], map: &str) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("gridmapdir");
    std::fs::create_dir(&dir).unwrap();
    let mut list = Vec::new();
    for (k, &(pool, n)) in pools.iter().enumerate() {
        for i in 1..=n {
            let name = format!("{pool}{i:03}");
            std::fs::write(dir.join(&name), "").unwrap();
            list.push((name, 10_000 + 1000 * k as u32 + i as u32, 500 + k as u32));
        }
    }
    let accts: Vec<(&str, u32, u32, &[u32])> = list
        .iter()
        .map(|(n, u, g)| (n.as_str(), *u, *g, &[][..]))
        .collect();
    let mapfile = tmp.path().join("grid-mapfile");
    std::fs::write(&mapfile, map).unwrap();
    Site {
        accounts: Arc::new(StaticAccounts::new(&accts)),
        _tmp: tmp,
        dir,
        mapfile,
    }
}

impl Site {
    fn plugin(&self, extra: &[&str]) -> PoolAccount {
        let mut p = PoolAccount::with_accounts(self.accounts.clone());
        let mut argv: Vec<String> = vec![
            "/x/lcmaps_poolaccount.mod".into(),
            "-gridmapfile".into(),
            self.mapfile.display().to_string(),
            "-gridmapdir".into(),
            self.dir.display().to_string(),
        ];
        argv.extend(extra.iter().map(|s| s.to_string()));
        p.initialize(&argv).unwrap();
        p
    }

    fn links(&self, name: &str) -> u64 {
        std::fs::symlink_metadata(self.dir.join(name))
            .unwrap()
            .nlink()
    }

    fn ino(&self, name: &str) -> u64 {
        std::fs::symlink_metadata(self.dir.join(name))
            .unwrap()
            .ino()
    }

    fn leases(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('%'))
            .collect();
        v.sort();
        v
    }
}

fn run(p: &mut PoolAccount, req: &Request) -> (Status, Store) {
    let mut store = Store::new();
    let s = p.run(&mut RunContext {
        request: req,
        store: &mut store,
    });
    (s, store)
}

fn verify(p: &mut PoolAccount, req: &Request) -> Status {
    let mut store = Store::new();
    p.verify(&mut RunContext {
        request: req,
        store: &mut store,
    })
}

const ALICE: &str = "/DC=org/CN=Alice";
const ALICE_LEASE: &str = "%2fdc%3dorg%2fcn%3dalice";
const MAP: &str = "\"/DC=org/CN=*\" .dteam\n\"/DC=atlas/*\" .atlas\n";

#[test]
fn first_lease_then_same_account() {
    let s = site(&[("dteam", 5)], MAP);
    let mut p = s.plugin(&[]);
    let (st, store) = run(&mut p, &Request::with_dn(ALICE));
    assert_eq!(st, Status::Success);
    assert_eq!(store.pool_index.as_deref(), Some(ALICE_LEASE));
    assert_eq!(store.dn.as_deref(), Some(ALICE));
    let uid = store.uids[0];
    let acct = s.accounts.name_by_uid(uid).unwrap().unwrap();
    assert_eq!(s.links(&acct), 2);
    assert_eq!(s.ino(&acct), s.ino(ALICE_LEASE));
    assert_eq!(
        store.sec_gids, store.pri_gids,
        "getgrouplist includes the primary gid"
    );
    for _ in 0..3 {
        let (st, again) = run(&mut p, &Request::with_dn(ALICE));
        assert_eq!(st, Status::Success);
        assert_eq!(again.uids, [uid]);
    }
    // A fresh plugin instance (another process) finds the same lease.
    assert_eq!(
        run(&mut s.plugin(&[]), &Request::with_dn(ALICE)).1.uids,
        [uid]
    );
    assert_eq!(s.leases(), [ALICE_LEASE]);
}

#[test]
fn requested_username_and_verification() {
    let s = site(&[("dteam", 5), ("atlas", 2)], MAP);
    let mut p = s.plugin(&[]);
    let mut req = Request::with_dn(ALICE);
    req.requested_username = Some("dteam003".into());
    // Verification never creates a lease.
    assert_eq!(verify(&mut p, &req), Status::Failure);
    assert!(s.leases().is_empty());
    let (st, store) = run(&mut p, &req);
    assert_eq!(st, Status::Success);
    assert_eq!(store.uids, [10_003]);
    assert_eq!(s.ino("dteam003"), s.ino(ALICE_LEASE));
    assert_eq!(verify(&mut p, &req), Status::Success);
    // requested_uid works too (poolaccount reads it), uid 0 never.
    let mut by_uid = Request::with_dn(ALICE);
    by_uid.requested_uid = Some(10_003);
    assert_eq!(verify(&mut p, &by_uid), Status::Success);
    by_uid.requested_uid = Some(0);
    assert_eq!(verify(&mut p, &by_uid), Status::Failure);
    // Not in the DN's pool.
    req.requested_username = Some("atlas001".into());
    assert_eq!(run(&mut p, &req).0, Status::Failure);
    // Taken by someone else.
    let mut bob = Request::with_dn("/DC=org/CN=Bob");
    bob.requested_username = Some("dteam003".into());
    assert_eq!(run(&mut p, &bob).0, Status::Failure);
    // Alice asking for another account while she holds dteam003.
    req.requested_username = Some("dteam004".into());
    assert_eq!(run(&mut p, &req).0, Status::Failure);
    let mut o = s.plugin(&["-override_inconsistency"]);
    assert_eq!(run(&mut o, &req).0, Status::Success);
    assert_eq!(s.links("dteam003"), 1);
    assert_eq!(s.ino("dteam004"), s.ino(ALICE_LEASE));
}

#[test]
fn override_inconsistency_moves_to_new_pool() {
    let s = site(&[("dteam", 2), ("atlas", 2)], MAP);
    let (st, store) = run(&mut s.plugin(&[]), &Request::with_dn(ALICE));
    assert_eq!(st, Status::Success);
    let old = s.accounts.name_by_uid(store.uids[0]).unwrap().unwrap();
    // The site moves Alice to atlas.
    std::fs::write(&s.mapfile, "\"/DC=org/CN=Alice\" .atlas\n").unwrap();
    assert_eq!(
        run(&mut s.plugin(&[]), &Request::with_dn(ALICE)).0,
        Status::Failure
    );
    let (st, store) = run(
        &mut s.plugin(&["-OVERRIDE_INCONSISTENCY"]),
        &Request::with_dn(ALICE),
    );
    assert_eq!(st, Status::Success);
    let new = s.accounts.name_by_uid(store.uids[0]).unwrap().unwrap();
    assert!(new.starts_with("atlas"), "{new}");
    assert_eq!(s.links(&old), 1, "old account is free again");
}

#[test]
fn stale_lease_and_vanished_account_file() {
    let s = site(&[("dteam", 3)], MAP);
    // A solitary lease (its account file was removed by a cleanup script).
    std::fs::write(s.dir.join(ALICE_LEASE), "").unwrap();
    let (st, store) = run(&mut s.plugin(&[]), &Request::with_dn(ALICE));
    assert_eq!(st, Status::Success);
    let acct = s.accounts.name_by_uid(store.uids[0]).unwrap().unwrap();
    assert_eq!(s.ino(&acct), s.ino(ALICE_LEASE));
    // The account file vanishes: the lease is solitary, a new one is made.
    std::fs::remove_file(s.dir.join(&acct)).unwrap();
    let (st, store) = run(&mut s.plugin(&[]), &Request::with_dn(ALICE));
    assert_eq!(st, Status::Success);
    let acct2 = s.accounts.name_by_uid(store.uids[0]).unwrap().unwrap();
    assert_ne!(acct, acct2);
    assert_eq!(s.ino(&acct2), s.ino(ALICE_LEASE));
}

#[test]
fn vanished_account_in_passwd_fails() {
    let s = site(&[("dteam", 1)], MAP);
    std::fs::write(s.dir.join("dteam999"), "").unwrap();
    std::fs::remove_file(s.dir.join("dteam001")).unwrap();
    // dteam999 is in the gridmapdir but not in the account database.
    let (st, store) = run(&mut s.plugin(&[]), &Request::with_dn(ALICE));
    assert_eq!(st, Status::Failure);
    assert!(store.uids.is_empty());
}

#[test]
fn planted_symlinks_are_refused() {
    let s = site(&[("dteam", 2)], MAP);
    let victim = s.dir.parent().unwrap().join("victim");
    std::fs::write(&victim, "secret").unwrap();
    std::os::unix::fs::symlink(&victim, s.dir.join(ALICE_LEASE)).unwrap();
    assert_eq!(
        run(&mut s.plugin(&[]), &Request::with_dn(ALICE)).0,
        Status::Failure
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret");
    assert!(std::fs::symlink_metadata(s.dir.join(ALICE_LEASE))
        .unwrap()
        .file_type()
        .is_symlink());
    // A symlink posing as a pool account is never leased.
    let s = site(&[("dteam", 0)], MAP);
    std::os::unix::fs::symlink(&victim, s.dir.join("dteam001")).unwrap();
    assert_eq!(
        run(&mut s.plugin(&[]), &Request::with_dn(ALICE)).0,
        Status::Failure
    );
    assert_eq!(std::fs::metadata(&victim).unwrap().nlink(), 1);
    let mut req = Request::with_dn(ALICE);
    req.requested_username = Some("dteam001".into());
    assert_eq!(run(&mut s.plugin(&[]), &req).0, Status::Failure);
    assert_eq!(std::fs::metadata(&victim).unwrap().nlink(), 1);
}

#[test]
fn full_pool() {
    let s = site(&[("dteam", 2)], MAP);
    let mut p = s.plugin(&[]);
    assert_eq!(
        run(&mut p, &Request::with_dn("/DC=org/CN=A")).0,
        Status::Success
    );
    assert_eq!(
        run(&mut p, &Request::with_dn("/DC=org/CN=B")).0,
        Status::Success
    );
    assert_eq!(
        run(&mut p, &Request::with_dn("/DC=org/CN=C")).0,
        Status::Failure
    );
    assert_eq!(s.leases().len(), 2);
}

#[test]
fn strict_prefix_and_candidates() {
    let s = site(&[("dteam", 0)], MAP);
    for n in ["dteamx", "root", "dteam1~", ".dteam2", "dteam"] {
        std::fs::write(s.dir.join(n), "").unwrap();
    }
    assert_eq!(
        run(&mut s.plugin(&[]), &Request::with_dn(ALICE)).0,
        Status::Failure
    );
    // Legacy prefix matching takes dteamx or dteam (no account: fails later),
    // but never root, backups or hidden files.
    let mut p = s.plugin(&["-strict_poolprefix_match", "no"]);
    let _ = run(&mut p, &Request::with_dn(ALICE));
    for n in ["root", "dteam1~", ".dteam2"] {
        assert_eq!(s.links(n), 1, "{n}");
    }
}

#[test]
fn world_writable_gridmapdir_is_refused() {
    let s = site(&[("dteam", 2)], MAP);
    // Made world-writable after initialization: a privileged process
    // already refuses it at initialization (common/tests/trust.rs).
    let mut p = s.plugin(&[]);
    std::fs::set_permissions(&s.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(run(&mut p, &Request::with_dn(ALICE)).0, Status::Failure);
    assert!(s.leases().is_empty());
}

#[test]
fn dn_not_starting_with_slash_is_refused() {
    // "dteam001" would encode to the pool account's own name.
    let s = site(&[("dteam", 2)], "\"*\" .dteam\n");
    assert_eq!(
        run(&mut s.plugin(&[]), &Request::with_dn("dteam001")).0,
        Status::Failure
    );
    assert_eq!(s.links("dteam001"), 1);
    assert!(std::fs::symlink_metadata(s.dir.join("dteam001")).is_ok());
}

#[test]
fn mapcounter_leases() {
    let s = site(&[("dteam", 4)], MAP);
    let mut p = s.plugin(&["-max_mappings_per_credential", "3"]);
    let mut req = Request::with_dn(ALICE);
    req.mapcounter = 2;
    let (st, store) = run(&mut p, &req);
    assert_eq!(st, Status::Success);
    assert_eq!(
        store.pool_index.as_deref(),
        Some("%2fdc%3dorg%2fcn%3dalice:mapcount=0002")
    );
    req.mapcounter = 4;
    assert_eq!(run(&mut p, &req).0, Status::Failure);
    req.mapcounter = -5;
    assert_eq!(run(&mut p, &req).0, Status::Failure);
    // Verification without a mapcounter finds the mapcount=0002 lease.
    let acct = s.accounts.name_by_uid(store.uids[0]).unwrap().unwrap();
    let mut v = Request::with_dn(ALICE);
    v.requested_username = Some(acct);
    assert_eq!(verify(&mut p, &v), Status::Success);
}

#[test]
fn options() {
    let bad = |a: &[&str]| {
        let mut argv = vec!["x".to_string()];
        argv.extend(a.iter().map(|s| s.to_string()));
        PoolAccount::default().initialize(&argv).unwrap_err().0
    };
    assert!(bad(&["-gridmapdir", "relative"]).contains("absolute"));
    assert!(bad(&["-max_mappings_per_credential", "0"]).contains("Illegal"));
    assert!(bad(&["-max_mappings_per_credential", "10000"]).contains("Illegal"));
    assert!(bad(&["-max_mappings_per_credential", "5x"]).contains("Illegal"));
    assert!(bad(&["-strict_poolprefix_match", "maybe"]).contains("yes"));
    assert!(bad(&["-frobnicate"]).contains("-frobnicate"));
    // A root-owned directory: /tmp (sticky, world-writable) is refused by a
    // privileged process as a gridmapdir (issue #14 item 7).
    let gmd = tempfile::tempdir().unwrap();
    let mut p = PoolAccount::default();
    p.initialize(
        &[
            "x",
            "-GRIDMAPDIR",
            gmd.path().to_str().unwrap(),
            "-GRIDMAP",
            "/nonexistent",
            "-no_wildcard",
            "-disablewildcard",
            "--disablewildcard",
            "-disablewildcards",
            "--disablewildcards",
            "-override_inconsistency",
            "-max_mappings_per_credential",
            "9999",
        ]
        .map(String::from),
    )
    .unwrap();
    assert!(!p.wildcards && p.override_inconsistency && p.mapping_max == 9999);
    assert_eq!(
        p.introspect(),
        [USER_DN, MAPCOUNTER, REQUESTED_UID, REQUESTED_USERNAME]
    );
}

/// 40 DNs race for a 30-account pool, each in its own thread with its own
/// plugin instance: exactly 30 get an account, no account is leased twice,
/// and a second round gives every winner the same account again.
#[test]
fn forty_racers_thirty_accounts() {
    let s = site(&[("dteam", 30)], MAP);
    let barrier = Arc::new(std::sync::Barrier::new(40));
    let results: Vec<(String, Option<u32>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let mut p = s.plugin(&[]);
                let barrier = barrier.clone();
                scope.spawn(move || {
                    let dn = format!("/DC=org/CN=User {i}");
                    barrier.wait();
                    let (st, store) = run(&mut p, &Request::with_dn(dn.clone()));
                    (dn, st.is_success().then(|| store.uids[0]))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<_> = results
        .iter()
        .filter_map(|(d, u)| Some((d, (*u)?)))
        .collect();
    assert_eq!(winners.len(), 30, "{results:?}");
    let mut uids: Vec<u32> = winners.iter().map(|w| w.1).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 30, "an account was leased twice");
    assert_eq!(s.leases().len(), 30);
    for i in 1..=30 {
        assert_eq!(s.links(&format!("dteam{i:03}")), 2);
    }
    let mut p = s.plugin(&[]);
    for (dn, uid) in &results {
        let (st, store) = run(&mut p, &Request::with_dn(dn.as_str()));
        match uid {
            Some(u) => assert_eq!(store.uids, [*u], "{dn}"),
            None => assert_eq!(st, Status::Failure, "{dn}"),
        }
    }
}

#[test]
fn system_accounts_resolve_root_pool_entry_refused() {
    // "root" is never a pool candidate, even with a pool named "ro".
    let s = site(&[], "\"/DC=org/*\" .ro\n");
    std::fs::write(s.dir.join("root"), "").unwrap();
    let mut p = PoolAccount::default();
    p.initialize(&[
        "x".into(),
        "-gridmap".into(),
        s.mapfile.display().to_string(),
        "-gridmapdir".into(),
        s.dir.display().to_string(),
        "-strict_poolprefix_match".into(),
        "no".into(),
    ])
    .unwrap();
    assert_eq!(run(&mut p, &Request::with_dn(ALICE)).0, Status::Failure);
    assert_eq!(s.links("root"), 1);
    let _ = Path::new("/");
}
