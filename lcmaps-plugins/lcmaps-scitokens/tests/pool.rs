//! Issue #21: pool accounts for tokens, leased in a gridmapdir shared by
//! several engines (here: plugin instances, as on several nodes), beside
//! the leases of DNs.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use lcmaps_builtins::PoolAccount;
use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_plugin_common::accounts::StaticAccounts;
use lcmaps_scitokens::pool::lease_name;
use lcmaps_scitokens::{decisions, SciTokens};
use serde_json::json;

const MAP: &str = "\
\"https://auth.example.org/\" group \"/cms\" .cmspool
\"https://maponly.example.org\" sub prefix \"p-\" .cmspool
";

struct Site {
    w: World,
    gridmapdir: PathBuf,
    accounts: Arc<StaticAccounts>,
}

fn site() -> Site {
    let w = World::new();
    std::fs::write(&w.mapfile, MAP).unwrap();
    let gridmapdir = w.dir.path().join("gridmapdir");
    std::fs::create_dir(&gridmapdir).unwrap();
    for i in 1..=4 {
        std::fs::write(gridmapdir.join(format!("cmspool{i:03}")), "").unwrap();
    }
    let list: Vec<(String, u32)> = (1..=4)
        .map(|i| (format!("cmspool{i:03}"), 3000 + i))
        .collect();
    let accts: Vec<(&str, u32, u32, &[u32])> = list
        .iter()
        .map(|(n, u)| (n.as_str(), *u, 3000, &[][..]))
        .collect();
    Site {
        accounts: Arc::new(StaticAccounts::new(&accts)),
        w,
        gridmapdir,
    }
}

impl Site {
    /// One engine's plugin (a node of the site).
    fn engine(&self) -> SciTokens {
        let mut p = SciTokens::with_accounts(self.accounts.clone()).with_clock(NOW);
        let mut argv = self.w.argv();
        argv.extend(["-gridmapdir".into(), self.gridmapdir.display().to_string()]);
        p.initialize(&argv).unwrap();
        p
    }

    fn token(&self, sub: &str) -> String {
        let mut c = self.w.claims();
        c["sub"] = json!(sub);
        self.w.rs256(&c)
    }
}

/// Run (or verify, for `requested`) one token: the status, the uid, the
/// pool index.
fn run(
    p: &mut SciTokens,
    token: &str,
    requested: Option<&str>,
) -> (Status, Vec<u32>, Option<String>) {
    let req = Request {
        token: Some(token.to_string()),
        requested_username: requested.map(String::from),
        ..Request::default()
    };
    let mut store = Store::new();
    let mut ctx = RunContext {
        request: &req,
        store: &mut store,
    };
    let s = if requested.is_some() {
        p.verify(&mut ctx)
    } else {
        p.run(&mut ctx)
    };
    (s, store.uids.clone(), store.pool_index.clone())
}

#[test]
fn two_engines_share_leases() {
    let s = site();
    let (mut a, mut b) = (s.engine(), s.engine());
    let (st, uid1, idx) = run(&mut a, &s.token("sub-1"), None);
    assert_eq!(st, Status::Success);
    let lease = lease_name(AUTH, "sub-1");
    assert_eq!(lease, "%token:https%3A%2F%2Fauth.example.org%2F:sub-1");
    assert_eq!(idx.as_deref(), Some(lease.as_str()));
    assert!(s.gridmapdir.join(&lease).exists());
    // The same person on the other engine: the same account.
    let (st, uid1b, _) = run(&mut b, &s.token("sub-1"), None);
    assert_eq!((st, &uid1b), (Status::Success, &uid1));
    // Another person: another account, on either engine.
    let (st, uid2, _) = run(&mut b, &s.token("sub-2"), None);
    assert_eq!(st, Status::Success);
    assert_ne!(uid2, uid1);
    assert_eq!(run(&mut a, &s.token("sub-2"), None).1, uid2);
    // Subjects differing only in case are different people.
    let (_, uid3, _) = run(&mut a, &s.token("Sub-1"), None);
    assert!(uid3 != uid1 && uid3 != uid2);
    // The same subject of another issuer (a sub prefix rule) is another
    // person too.
    let mut c = s.w.claims();
    c["iss"] = json!(MAPONLY);
    c["sub"] = json!("p-1");
    let (st, uid4, idx) = run(&mut a, &s.w.rs256(&c), None);
    assert_eq!(st, Status::Success);
    assert!(![&uid1, &uid2, &uid3].contains(&&uid4));
    assert_eq!(idx.unwrap(), lease_name(MAPONLY, "p-1"));
    // The pool is full now.
    let (st, _, _) = run(&mut b, &s.token("sub-5"), None);
    assert_eq!(st, Status::Failure);
    let e = b
        .mapper()
        .unwrap()
        .map_at(&s.token("sub-5"), None, NOW)
        .unwrap_err();
    assert!(e.contains("no account of pool cmspool"), "{e}");
}

#[test]
fn verification_needs_the_existing_lease() {
    let s = site();
    let mut a = s.engine();
    let (_, uid, _) = run(&mut a, &s.token("sub-1"), None);
    let account = format!("cmspool{:03}", uid[0] - 3000);
    let mut b = s.engine();
    assert_eq!(
        run(&mut b, &s.token("sub-1"), Some(&account)).0,
        Status::Success
    );
    // Another subject has no lease to that account.
    assert_eq!(
        run(&mut b, &s.token("sub-9"), Some(&account)).0,
        Status::Failure
    );
}

#[test]
fn a_dn_lease_never_collides_with_a_token_lease() {
    let s = site();
    // A DN made to look like a token lease, leased by lcmaps_poolaccount.mod
    // in the same gridmapdir.
    let dn = "/token:https://auth.example.org/:sub-1";
    let gridmapfile = s.w.dir.path().join("grid-mapfile");
    std::fs::write(&gridmapfile, format!("\"{dn}\" .cmspool\n")).unwrap();
    let mut pool = PoolAccount::with_accounts(s.accounts.clone());
    pool.initialize(&[
        "lcmaps_poolaccount.mod".into(),
        "-gridmapfile".into(),
        gridmapfile.display().to_string(),
        "-gridmapdir".into(),
        s.gridmapdir.display().to_string(),
    ])
    .unwrap();
    let req = Request {
        user_dn: Some(dn.into()),
        ..Request::default()
    };
    let mut store = Store::new();
    let mut ctx = RunContext {
        request: &req,
        store: &mut store,
    };
    assert_eq!(pool.run(&mut ctx), Status::Success);
    let dn_lease = store.pool_index.clone().unwrap();
    assert!(dn_lease.starts_with("%2f"), "{dn_lease}");
    let mut t = s.engine();
    let (st, uid, idx) = run(&mut t, &s.token("sub-1"), None);
    assert_eq!(st, Status::Success);
    assert_ne!(idx.unwrap(), dn_lease);
    assert_ne!(uid, store.uids);
}

#[test]
fn a_pool_rule_needs_a_gridmapdir() {
    let s = site();
    std::env::remove_var("GRIDMAPDIR");
    let mut p = SciTokens::with_accounts(s.accounts.clone());
    let e = p.initialize(&s.w.argv()).unwrap_err().0;
    assert!(
        e.contains("mapfile line 1 leases from pool .cmspool: gridmapdir is unset"),
        "{e}"
    );
}

/// The decision made again after a failed verification (glexec's refusal
/// line) makes no lease; after a run it finds the run's lease.
#[test]
fn decisions_lease_only_as_the_run_would() {
    let s = site();
    let text = format!(
        "tok = \"lcmaps_scitokens.mod -issuers {} -mapfile {} -gridmapdir {}\"\n\
         standard:\ntok -> lcmaps_dummy_good.mod\n",
        s.w.issuers.display(),
        s.w.mapfile.display(),
        s.gridmapdir.display()
    );
    let checked =
        lcmaps_core::db::check_str("lcmaps.db", &text, &lcmaps_builtins::validate_options(None));
    let config = checked.config.unwrap();
    let now = lcmaps_scitokens::time::now();
    let mut c = s.w.claims();
    c["sub"] = json!("sub-7");
    c["exp"] = json!(now + 600);
    c["nbf"] = json!(now - 5);
    c["iat"] = json!(now - 5);
    let t = s.w.rs256(&c);
    let lease = s.gridmapdir.join(lease_name(AUTH, "sub-7"));
    let r = decisions::explain(&config, &t, Some("cmspool001"), true);
    let ex = r[0].explanation.as_ref().unwrap();
    assert_eq!(ex.refusal.as_ref().unwrap().check, "mapping");
    assert!(!lease.exists());
    let r = decisions::explain(&config, &t, None, false);
    let ex = r[0].explanation.as_ref().unwrap();
    assert_eq!(
        ex.lease.as_deref(),
        Some(lease_name(AUTH, "sub-7").as_str())
    );
    assert!(lease.exists());
    let again = decisions::explain(&config, &t, None, false);
    assert_eq!(again[0].explanation.as_ref().unwrap().account, ex.account);
    assert!(decisions::refusals(&again).is_empty());
}
