//! Verify + map one token in-process (RS256 and ES256), through the
//! plugin's run as the engine calls it.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_plugin_common::accounts::StaticAccounts;
use lcmaps_scitokens::SciTokens;

fn bench(c: &mut Criterion) {
    let w = World::new();
    let mut p = SciTokens::with_accounts(Arc::new(StaticAccounts::new(&[
        ("alice", 501, 500, &[77]),
        ("cmsprd", 601, 600, &[]),
        ("cmsuser", 602, 600, &[]),
        ("bob", 701, 700, &[]),
    ])))
    .with_clock(NOW);
    p.initialize(&w.argv()).unwrap();
    for (name, token) in [
        ("rs256", w.rs256(&w.claims())),
        ("es256", w.es256(&w.claims())),
    ] {
        let req = Request {
            token: Some(token),
            ..Request::default()
        };
        c.bench_function(&format!("verify_and_map_{name}"), |b| {
            b.iter(|| {
                let mut store = Store::new();
                let s = p.run(&mut RunContext {
                    request: &req,
                    store: &mut store,
                });
                assert_eq!(s, Status::Success);
                assert_eq!(store.uids, [501]);
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
