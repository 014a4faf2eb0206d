//! Shared test fixtures: groups and accounts, requests, runs.

use std::sync::Arc;

use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_plugin_common::accounts::{Accounts, StaticAccounts};

use crate::groups::{Groups, StaticGroups};

pub fn groups() -> Groups {
    Arc::new(StaticGroups::new(&[
        ("dteam", 500),
        ("dteamprd", 501),
        ("pool", 600),
        ("atlas", 700),
        ("group001", 801),
        ("group002", 802),
        ("group003", 803),
        ("group004", 804),
        ("users", 100),
    ]))
}

pub fn accounts() -> Accounts {
    Arc::new(StaticAccounts::new(&[
        ("dteamsgm", 4000, 100, &[500]),
        ("alice", 4001, 100, &[]),
        ("dteam001", 5001, 100, &[]),
        ("dteam002", 5002, 100, &[]),
        ("dteam003", 5003, 100, &[]),
        ("atlas001", 6001, 100, &[700]),
    ]))
}

pub fn argv(module: &str, opts: &[String]) -> Vec<String> {
    std::iter::once(module.to_string())
        .chain(opts.iter().cloned())
        .collect()
}

pub fn request(fqans: &[&str]) -> Request {
    Request {
        user_dn: Some("/O=x/CN=John Doe".into()),
        fqans: fqans.iter().map(|s| s.to_string()).collect(),
        ..Request::default()
    }
}

pub fn run(p: &mut dyn Plugin, req: &Request) -> (Status, Store) {
    let mut store = Store::new();
    let s = p.run(&mut RunContext {
        request: req,
        store: &mut store,
    });
    (s, store)
}
