use super::*;
use crate::testutil::*;
use lcmaps_core::cred::Store;
use lcmaps_core::plugin::Request as RunRequest;
use std::os::unix::fs::MetadataExt;

struct Site {
    _d: tempfile::TempDir,
    dir: PathBuf,
    map: PathBuf,
}

const MAP: &str = "\"/dteam/Role=lcgadmin/*\" .atlas\n\"/dteam/*\" .dteam\n\"/cms/*\" cmsuser\n";

fn site() -> Site {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("gridmapdir");
    std::fs::create_dir(&dir).unwrap();
    for e in ["dteam001", "dteam002", "dteam003", "atlas001"] {
        std::fs::write(dir.join(e), "").unwrap();
    }
    let map = d.path().join("grid-mapfile");
    std::fs::write(&map, MAP).unwrap();
    Site { _d: d, dir, map }
}

impl Site {
    fn plugin(&self, extra: &[&str]) -> VomsPoolAccount {
        let mut a = vec![
            "-gridmapfile".to_string(),
            self.map.display().to_string(),
            "-gridmapdir".into(),
            self.dir.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        let mut p = VomsPoolAccount::with_db(accounts(), groups());
        p.initialize(&argv("lcmaps_voms_poolaccount.mod", &a))
            .unwrap();
        p
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

    fn linked(&self, lease: &str) -> String {
        let ino = std::fs::metadata(self.dir.join(lease)).unwrap().ino();
        std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .find(|n| {
                !n.starts_with('%') && std::fs::metadata(self.dir.join(n)).unwrap().ino() == ino
            })
            .unwrap()
    }
}

/// A store as voms_localgroup/poolgroup leave it.
fn store_with_groups(pri: &[u32], sec: &[u32]) -> Store {
    let mut s = Store::new();
    for g in pri {
        s.add(CredData::PriGid(*g));
    }
    for g in sec {
        s.add(CredData::SecGid(*g));
    }
    s
}

fn run_with(p: &mut VomsPoolAccount, req: &RunRequest, mut store: Store) -> (Status, Store) {
    let s = p.run(&mut RunContext {
        request: req,
        store: &mut store,
    });
    (s, store)
}

#[test]
fn lease_name_is_dn_and_group_names() {
    let s = site();
    let mut p = s.plugin(&[]);
    let req = request(&["/dteam/Role=NULL/Capability=NULL"]);
    let (st, store) = run_with(&mut p, &req, store_with_groups(&[600], &[804]));
    assert_eq!(st, Status::Success);
    let lease = "%2fo%3dx%2fcn%3djohn%20doe:pool:group004";
    assert_eq!(s.leases(), [lease]);
    assert_eq!(store.pool_index.as_deref(), Some(lease));
    let acct = s.linked(lease);
    assert!(acct.starts_with("dteam"), "{acct}");
    let uid = 5000 + acct[5..].parse::<u32>().unwrap();
    assert_eq!(store.uids, [uid]);
    assert_eq!(store.pri_gids, [600], "default: no account groups added");
    assert_eq!(store.sec_gids, [804]);
    // The same credential and groups: the same account.
    let (_, again) = run_with(&mut p, &req, store_with_groups(&[600], &[804]));
    assert_eq!(again.uids, [uid]);
    // Other groups: another lease, another account.
    let (_, other) = run_with(&mut p, &req, store_with_groups(&[500], &[]));
    assert_ne!(other.uids, [uid]);
    assert_eq!(
        other.pool_index.as_deref(),
        Some("%2fo%3dx%2fcn%3djohn%20doe:dteam")
    );
}

#[test]
fn do_not_use_secondary_gids_and_no_groups() {
    let s = site();
    let mut p = s.plugin(&["--do-not-use-secondary-gids"]);
    let req = request(&["/dteam/Role=NULL/Capability=NULL"]);
    let (_, st) = run_with(&mut p, &req, store_with_groups(&[600], &[804]));
    assert_eq!(
        st.pool_index.as_deref(),
        Some("%2fo%3dx%2fcn%3djohn%20doe:pool")
    );
    let (_, st) = run_with(&mut p, &req, Store::new());
    assert_eq!(
        st.pool_index.as_deref(),
        Some("%2fo%3dx%2fcn%3djohn%20doe"),
        "no groups: the DN alone"
    );
    let mut p = s.plugin(&["--require-primary-gid"]);
    assert_eq!(run_with(&mut p, &req, Store::new()).0, Status::Failure);
    assert_eq!(
        run_with(&mut p, &req, store_with_groups(&[], &[804])).0,
        Status::Failure
    );
    // an unknown gid in the store cannot be named: failure
    assert_eq!(
        run_with(&mut s.plugin(&[]), &req, store_with_groups(&[4242], &[])).0,
        Status::Failure
    );
}

#[test]
fn mapcount_lease_names() {
    let s = site();
    let mut p = s.plugin(&["-max_mappings_per_credential", "2"]);
    let mut req = request(&["/dteam/Role=NULL/Capability=NULL"]);
    req.mapcounter = 2;
    let (_, st) = run_with(&mut p, &req, store_with_groups(&[600], &[]));
    assert_eq!(
        st.pool_index.as_deref(),
        Some("%2fo%3dx%2fcn%3djohn%20doe:pool:mapcount=0002")
    );
    let (_, st) = run_with(&mut p, &req, Store::new());
    assert_eq!(
        st.pool_index.as_deref(),
        Some("%2fo%3dx%2fcn%3djohn%20doe:mapcount=0002")
    );
    req.mapcounter = 3;
    assert_eq!(
        run_with(&mut p, &req, Store::new()).0,
        Status::Failure,
        "exceeds the maximum"
    );
}

#[test]
fn fqans_in_order_and_wildcards() {
    let s = site();
    let mut p = s.plugin(&[]);
    let (st, store) = run_with(
        &mut p,
        &request(&[
            "/cms/Role=NULL/Capability=NULL",
            "/dteam/Role=lcgadmin/Capability=NULL",
            "/dteam/Role=NULL/Capability=NULL",
        ]),
        Store::new(),
    );
    assert_eq!(
        st,
        Status::Success,
        "cms has no pool mapping: the next FQAN"
    );
    assert_eq!(
        store.uids,
        [6001],
        "the lcgadmin key comes first and maps to the atlas pool"
    );
    assert_eq!(
        run_with(&mut p, &request(&["/dteam"]), Store::new()).0,
        Status::Failure
    );
    assert_eq!(
        run_with(&mut p, &request(&[]), Store::new()).0,
        Status::Failure
    );
}

#[test]
fn requested_username_and_verify() {
    let s = site();
    let mut p = s.plugin(&[]);
    let mut req = request(&["/dteam/Role=NULL/Capability=NULL"]);
    req.requested_username = Some("dteam002".into());
    let (st, store) = run_with(&mut p, &req, Store::new());
    assert_eq!((st, store.uids.as_slice()), (Status::Success, &[5002][..]));
    assert_eq!(s.linked("%2fo%3dx%2fcn%3djohn%20doe"), "dteam002");
    req.requested_username = Some("atlas001".into());
    assert_eq!(
        run_with(&mut p, &req, Store::new()).0,
        Status::Failure,
        "not in the dteam pool"
    );
    // verification: requested account needed, existing lease only
    let mut plain = request(&["/dteam/Role=NULL/Capability=NULL"]);
    assert_eq!(
        p.verify(&mut RunContext {
            request: &plain,
            store: &mut Store::new()
        }),
        Status::Failure
    );
    plain.requested_uid = Some(5002);
    let mut st = Store::new();
    assert_eq!(
        p.verify(&mut RunContext {
            request: &plain,
            store: &mut st
        }),
        Status::Success
    );
    assert_eq!(st.uids, [5002]);
    plain.requested_uid = Some(5003);
    assert_eq!(
        p.verify(&mut RunContext {
            request: &plain,
            store: &mut Store::new()
        }),
        Status::Failure
    );
    assert_eq!(s.leases().len(), 1, "verification creates no lease");
}

#[test]
fn account_gid_flags() {
    let s = site();
    let req = request(&["/dteam/Role=lcgadmin/Capability=NULL"]);
    let (_, st) = run_with(&mut s.plugin(&["--use-account-gid"]), &req, Store::new());
    assert_eq!(
        (st.pri_gids.as_slice(), st.sec_gids.as_slice()),
        (&[100][..], &[100, 700][..])
    );
    let s = site();
    let (_, st) = run_with(
        &mut s.plugin(&["--add-primary-gid-as-secondary-gid-from-mapped-account"]),
        &req,
        Store::new(),
    );
    assert_eq!((st.pri_gids.len(), st.sec_gids.as_slice()), (0, &[100][..]));
}

#[test]
fn options() {
    let s = site();
    let m = s.map.display().to_string();
    // A root-owned directory: /tmp (sticky, world-writable) is refused
    // by a privileged process as a gridmapdir (issue #14 item 7).
    let d = s.dir.display().to_string();
    let init = |a: &[&str]| {
        let a: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        VomsPoolAccount::with_db(accounts(), groups()).initialize(&argv("m", &a))
    };
    for o in ["-gridmapfile", "-GRIDMAPFILE", "-gridmap", "-GRIDMAP"] {
        init(&[o, &m]).unwrap();
    }
    for o in [
        "-override_inconsistency",
        "-OVERRIDE_INCONSISTENCY",
        "--do-not-use-secondary-gids",
        "-do_not-use-secondary-gids",
        "-do_not_use_secondary_gids",
        "--require-primary-gid",
        "--do-not-require-primary-gid",
        "-do_not-require-primary-gid",
        "-do_not_require_primary_gid",
        "--use-voms-gid",
        "--use-account-gid",
        "--add-secondary-gids-from-mapped-account",
    ] {
        init(&[o]).unwrap();
    }
    init(&[
        "-gridmapdir",
        &d,
        "-GRIDMAPDIR",
        &d,
        "-max_mappings_per_credential",
        "9999",
        "-strict_poolprefix_match",
        "no",
    ])
    .unwrap();
    for bad in ["0", "10000", "x"] {
        assert!(
            init(&["-max_mappings_per_credential", bad]).is_err(),
            "{bad}"
        );
    }
    assert!(init(&["-gridmapdir", "rel"]).is_err());
    let e = init(&["--require-primary-gid", "-do_not_require_primary_gid"])
        .unwrap_err()
        .0;
    assert!(e.contains("cannot specify both"), "{e}");
    let e = init(&["-no_wildcard"]).unwrap_err().0;
    assert!(
        e.contains("Unknown argument for plugin: -no_wildcard"),
        "{e}"
    );
    assert_eq!(
        VomsPoolAccount::default().introspect(),
        [
            USER_DN,
            FQAN_LIST,
            NFQAN,
            MAPCOUNTER,
            REQUESTED_UID,
            REQUESTED_USERNAME
        ]
    );
}

#[test]
fn missing_mapfile_fails_closed() {
    let s = site();
    let mut p = VomsPoolAccount::with_db(accounts(), groups());
    p.initialize(&argv(
        "m",
        &[
            "-gridmapfile".into(),
            "/nonexistent/lcmaps-rs/gm".into(),
            "-gridmapdir".into(),
            s.dir.display().to_string(),
        ],
    ))
    .unwrap();
    assert_eq!(
        run_with(
            &mut p,
            &request(&["/dteam/Role=NULL/Capability=NULL"]),
            Store::new()
        )
        .0,
        Status::Failure
    );
    assert!(s.leases().is_empty());
}
