//! Property tests (issue #15 item 5): gridmapdir leases under random
//! interleavings of lease, re-lease and removal by several workers.
//!
//! A case is a list of rounds on one fresh gridmapdir with a pool of three
//! accounts (`pool1` .. `pool3`, plus `other0` and `other1`, which are not
//! in the pool) and four DNs. In a round one to three workers start
//! together (threads behind a barrier, or real processes: this test binary
//! run again as [`lease_worker`]) and each performs one to four operations
//! in order:
//!
//! * lease: `Gridmapdir::pool` for the DN (a first lease or a re-lease);
//! * request: `Gridmapdir::requested` for the DN and an account;
//! * unlease: unlink the lease name, as the cron cleanup does;
//! * recycle: unlink an account's name and create it again, as an admin
//!   removing an account does (its lease is left solitary: stale); orphan:
//!   the same for the account a DN holds.
//!
//! Half of the rounds start every worker on the same DN, half of those
//! after a round that left the DN's lease stale (see [`round`]).
//!
//! After every round, with nothing running, the directory must be sound: no
//! name has more than two links (no account is held by two leases), every
//! account with a second name is held by exactly one lease (or by a lease
//! kept aside, see the gridmapdir module documentation), no lease points
//! outside the pool. Each result is checked against the states before and
//! after the round, unless a removal in the round touched its DN or
//! account: a lease or a granted request is still held by exactly that DN at
//! the end; a re-lease of a lease that existed at the start returns the same
//! account (and does not fail for want of a free one); "no free account" or
//! a refused request in a round without removals means the account(s) are
//! taken at the end; no operation fails, except for a file removed under it.
//! A round with a single worker is checked exactly against a sequential
//! model of the pool.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Barrier;
use std::time::Duration;

use lcmaps_plugin_common::gridmapdir::{Gridmapdir, Options, ASIDE_PREFIX};
use lcmaps_plugin_common::urlencode::{lease_name, urlencode};
use proptest::prelude::*;

const DNS: usize = 4;
const ACCOUNTS: usize = 3;
const POOL: &str = "pool";
/// Files in the gridmapdir that are not pool accounts (`other0`, ...): a
/// lease must never take one.
const OTHERS: usize = 2;

fn other(i: usize) -> String {
    format!("other{i}")
}

fn is_other(name: &str) -> bool {
    name.strip_prefix("other")
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n < OTHERS && other(n) == name)
}

fn dn(d: usize) -> String {
    format!("/DC=org/CN=user {d}")
}

fn lease(d: usize) -> String {
    String::from_utf8(urlencode(&lease_name(dn(d).as_bytes(), -1))).unwrap()
}

fn account(a: usize) -> String {
    format!("{POOL}{}", a + 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lease(usize),
    Request(usize, usize),
    Unlease(usize),
    Recycle(usize),
    /// Recycle the account the DN holds, if any: its lease is left
    /// solitary (stale).
    Orphan(usize),
}

impl Op {
    fn encode(self) -> String {
        match self {
            Op::Lease(d) => format!("L{d}"),
            Op::Request(d, a) => format!("Q{d}.{a}"),
            Op::Unlease(d) => format!("U{d}"),
            Op::Recycle(a) => format!("A{a}"),
            Op::Orphan(d) => format!("O{d}"),
        }
    }

    fn decode(s: &str) -> Op {
        let n = |s: &str| s.parse::<usize>().unwrap();
        match s.split_at(1) {
            ("L", d) => Op::Lease(n(d)),
            ("Q", r) => {
                let (d, a) = r.split_once('.').unwrap();
                Op::Request(n(d), n(a))
            }
            ("U", d) => Op::Unlease(n(d)),
            ("A", a) => Op::Recycle(n(a)),
            ("O", d) => Op::Orphan(n(d)),
            _ => panic!("bad op {s}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Res {
    /// `pool`: the account, or none free.
    Got(Option<String>),
    /// `requested`: granted or not.
    Granted(bool),
    /// A removal was done.
    Done,
    Failed(String),
}

impl Res {
    fn encode(&self) -> String {
        match self {
            Res::Got(Some(a)) => format!("got {a}"),
            Res::Got(None) => "none".into(),
            Res::Granted(g) => format!("granted {g}"),
            Res::Done => "done".into(),
            Res::Failed(e) => format!("failed {}", e.replace('\n', " ")),
        }
    }

    fn decode(s: &str) -> Res {
        match s.split_once(' ').unwrap_or((s, "")) {
            ("got", a) => Res::Got(Some(a.into())),
            ("none", _) => Res::Got(None),
            ("granted", g) => Res::Granted(g == "true"),
            ("done", _) => Res::Done,
            ("failed", e) => Res::Failed(e.into()),
            _ => panic!("bad result {s}"),
        }
    }
}

/// Remove an account file and create it again.
fn recycle(dir: &Path, a: usize) -> Result<Res, String> {
    // Another worker may be recycling it too.
    let p = dir.join(account(a));
    match fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
        _ => fs::write(&p, "")
            .map(|()| Res::Done)
            .map_err(|e| e.to_string()),
    }
}

fn apply(dir: &Path, op: Op) -> Res {
    let opts = Options::default();
    let open = || Gridmapdir::open(dir);
    let r = match op {
        Op::Lease(d) => open().and_then(|g| g.pool(&lease(d), POOL, opts).map(Res::Got)),
        Op::Request(d, a) => {
            open().and_then(|g| g.requested(&lease(d), &account(a), opts).map(Res::Granted))
        }
        Op::Unlease(d) => match fs::remove_file(dir.join(lease(d))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(Res::Done),
        },
        Op::Recycle(a) => recycle(dir, a),
        Op::Orphan(d) => {
            let held = fs::symlink_metadata(dir.join(lease(d))).ok().and_then(|l| {
                (0..ACCOUNTS).find(|&a| {
                    fs::symlink_metadata(dir.join(account(a))).is_ok_and(|m| m.ino() == l.ino())
                })
            });
            held.map_or(Ok(Res::Done), |a| recycle(dir, a))
        }
    };
    r.unwrap_or_else(Res::Failed)
}

/// A fresh gridmapdir: root-owned 0755 under a 0755 temporary directory, so
/// a privileged process (the tests run as root in CI) accepts it.
fn gridmapdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = t.path().join("gridmapdir");
    fs::DirBuilder::new().mode(0o755).create(&dir).unwrap();
    for a in 0..ACCOUNTS {
        fs::write(dir.join(account(a)), "").unwrap();
    }
    for i in 0..OTHERS {
        fs::write(dir.join(other(i)), "").unwrap();
    }
    (t, dir)
}

/// Who holds what, from the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct State {
    /// DN → account.
    held: BTreeMap<usize, usize>,
    /// Accounts kept taken by a lease put aside (see the gridmapdir module
    /// documentation): held by nobody, given to nobody.
    aside: BTreeSet<usize>,
}

impl State {
    fn taken(&self, a: usize) -> bool {
        self.aside.contains(&a) || self.held.values().any(|&b| b == a)
    }

    fn free(&self) -> Vec<usize> {
        (0..ACCOUNTS).filter(|&a| !self.taken(a)).collect()
    }
}

/// The state of the directory, with the soundness checks; on failure the
/// listing of the directory is added.
fn state(dir: &Path) -> Result<State, String> {
    check_state(dir).map_err(|e| {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                format!(
                    "  {:?} inode {} links {}",
                    e.file_name(),
                    m.ino(),
                    m.nlink()
                )
            })
            .collect();
        names.sort();
        format!("{e}; the directory:\n{}", names.join("\n"))
    })
}

fn check_state(dir: &Path) -> Result<State, String> {
    let mut by_ino: BTreeMap<u64, usize> = BTreeMap::new();
    for a in 0..ACCOUNTS {
        let m = fs::symlink_metadata(dir.join(account(a)))
            .map_err(|e| format!("account {} is gone: {e}", account(a)))?;
        if m.nlink() > 2 {
            return Err(format!("{} has {} links", account(a), m.nlink()));
        }
        by_ino.insert(m.ino(), a);
    }
    for i in 0..OTHERS {
        let m = fs::symlink_metadata(dir.join(other(i))).unwrap();
        if m.nlink() != 1 {
            return Err(format!(
                "{} (not in the pool) has {} links",
                other(i),
                m.nlink()
            ));
        }
    }
    let leases: BTreeMap<String, usize> = (0..DNS).map(|d| (lease(d), d)).collect();
    let mut st = State::default();
    let mut second_names = 0;
    for e in fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if is_other(&name) || (0..ACCOUNTS).any(|a| account(a) == name) {
            continue;
        }
        let m = fs::symlink_metadata(dir.join(&name)).unwrap();
        let account_of = by_ino.get(&m.ino()).copied();
        if name.starts_with(ASIDE_PREFIX) {
            match (m.nlink(), account_of) {
                (1, None) => {} // its account was recycled since
                (2, Some(a)) => {
                    st.aside.insert(a);
                    second_names += 1;
                }
                (n, _) => return Err(format!("{name} has {n} links")),
            }
            continue;
        }
        let Some(&d) = leases.get(&name) else {
            return Err(format!("unexpected name {name:?}"));
        };
        match (m.nlink(), account_of) {
            (1, None) => {} // solitary: its account was recycled
            (2, Some(a)) => {
                st.held.insert(d, a);
                second_names += 1;
            }
            (n, a) => {
                return Err(format!(
                    "lease of DN {d} has {n} links (account {:?})",
                    a.map(account)
                ))
            }
        }
    }
    // Every account with two links was seen from its second name, and no
    // account from two (each has at most two links).
    let linked = (0..ACCOUNTS)
        .filter(|&a| fs::symlink_metadata(dir.join(account(a))).unwrap().nlink() == 2)
        .count();
    if linked != second_names {
        return Err(format!(
            "{linked} accounts have a second name, {second_names} leases hold one: {st:?}"
        ));
    }
    Ok(st)
}

/// Run one round: every worker's operations, workers side by side.
fn run_threads(dir: &Path, workers: &[Vec<Op>]) -> Vec<Vec<Res>> {
    let barrier = Barrier::new(workers.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = workers
            .iter()
            .map(|ops| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    ops.iter().map(|&op| apply(dir, op)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

const WORKER_DIR: &str = "LCMAPS_RS_LEASE_WORKER_DIR";
const WORKER_OPS: &str = "LCMAPS_RS_LEASE_WORKER_OPS";
const WORKER_READY: &str = "LCMAPS_RS_LEASE_WORKER_READY";
const WORKER_GO: &str = "LCMAPS_RS_LEASE_WORKER_GO";

/// The same round with one process per worker: this test binary, running
/// only [`lease_worker`]. Each says it is ready, then waits for the go.
fn run_processes(dir: &Path, workers: &[Vec<Op>]) -> Vec<Vec<Res>> {
    let sync = dir.parent().unwrap();
    let go = sync.join("go");
    let _ = fs::remove_file(&go);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = workers
        .iter()
        .enumerate()
        .map(|(i, ops)| {
            let ready = sync.join(format!("ready{i}"));
            let _ = fs::remove_file(&ready);
            let ops: Vec<String> = ops.iter().map(|o| o.encode()).collect();
            let child = Command::new(&exe)
                .args(["--exact", "lease_worker", "--nocapture", "--test-threads=1"])
                .env(WORKER_DIR, dir)
                .env(WORKER_OPS, ops.join(","))
                .env(WORKER_READY, &ready)
                .env(WORKER_GO, &go)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (child, ready)
        })
        .collect();
    for (_, ready) in &children {
        while !ready.exists() {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    fs::write(&go, "").unwrap();
    children
        .into_iter()
        .zip(workers)
        .map(|((child, _), ops)| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "worker failed: {out:?}");
            let results: Vec<Res> = String::from_utf8(out.stdout.clone())
                .unwrap()
                .lines()
                // `--nocapture` prints the test's name before its output.
                .filter_map(|l| l.split_once("LEASE-RESULT ").map(|(_, r)| r))
                .map(Res::decode)
                .collect();
            assert_eq!(results.len(), ops.len(), "worker output: {out:?}");
            results
        })
        .collect()
}

/// A worker process of [`run_processes`]; does nothing in an ordinary run.
#[test]
fn lease_worker() {
    let Some(dir) = std::env::var_os(WORKER_DIR) else {
        return;
    };
    let ops: Vec<Op> = std::env::var(WORKER_OPS)
        .unwrap()
        .split(',')
        .map(Op::decode)
        .collect();
    fs::write(std::env::var_os(WORKER_READY).unwrap(), "").unwrap();
    let go = PathBuf::from(std::env::var_os(WORKER_GO).unwrap());
    while !go.exists() {
        std::thread::sleep(Duration::from_micros(100));
    }
    for op in ops {
        println!("LEASE-RESULT {}", apply(Path::new(&dir), op).encode());
    }
}

/// The sequential model of a single worker's round: the exact results and
/// the state after it, given the state before.
fn sequential(start: &State, ops: &[Op], got: &[Res]) -> Result<State, String> {
    let mut m = start.clone();
    for (&op, res) in ops.iter().zip(got) {
        let want = match op {
            Op::Lease(d) => match m.held.get(&d) {
                Some(&a) => Res::Got(Some(account(a))),
                None => {
                    let free = m.free();
                    match res {
                        // Which free account is taken is the code's choice.
                        Res::Got(Some(acc)) if free.iter().any(|&a| account(a) == *acc) => {
                            let a = free.into_iter().find(|&a| account(a) == *acc).unwrap();
                            m.held.insert(d, a);
                            res.clone()
                        }
                        _ if free.is_empty() => Res::Got(None),
                        _ => Res::Got(Some(format!("one of {free:?}"))),
                    }
                }
            },
            Op::Request(d, a) => Res::Granted(match m.held.get(&d) {
                Some(&b) => b == a,
                None if m.taken(a) => false,
                None => {
                    m.held.insert(d, a);
                    true
                }
            }),
            Op::Unlease(d) => {
                m.held.remove(&d);
                Res::Done
            }
            Op::Recycle(a) => {
                m.held.retain(|_, b| *b != a);
                m.aside.remove(&a);
                Res::Done
            }
            Op::Orphan(d) => {
                m.held.remove(&d);
                Res::Done
            }
        };
        if want != *res {
            return Err(format!("{op:?}: got {res:?}, the model says {want:?}"));
        }
    }
    Ok(m)
}

/// The checks of one concurrent round (see the module documentation).
fn check_round(
    start: &State,
    end: &State,
    workers: &[Vec<Op>],
    results: &[Vec<Res>],
) -> Result<(), String> {
    let ops: Vec<(Op, &Res)> = workers
        .iter()
        .zip(results)
        .flat_map(|(o, r)| o.iter().copied().zip(r))
        .collect();
    let unleased: BTreeSet<usize> = ops
        .iter()
        .filter_map(|(o, _)| match o {
            Op::Unlease(d) | Op::Orphan(d) => Some(*d),
            _ => None,
        })
        .collect();
    let recycled: BTreeSet<usize> = ops
        .iter()
        .filter_map(|(o, _)| match o {
            Op::Recycle(a) => Some(*a),
            Op::Orphan(d) => start.held.get(d).copied(),
            _ => None,
        })
        .collect();
    let quiet = unleased.is_empty() && recycled.is_empty();
    // `d` held `a` (or `d` gets `a`) and no removal touched either.
    let untouched = |d: usize, a: usize| !unleased.contains(&d) && !recycled.contains(&a);
    let index = |name: &str| (0..ACCOUNTS).find(|&a| account(a) == name);
    let vanished = |e: &str| {
        let account_gone = recycled.iter().any(|&a| {
            let p = format!("/{}", account(a));
            e.contains(&format!("{p}:")) || e.contains(&format!("{p}\""))
        });
        let lease_gone = unleased
            .iter()
            .any(|&d| e.contains(&format!("{}\" failed: ENOENT", lease(d))));
        e.contains("No such file") && account_gone || lease_gone
    };
    // What a lease or grant of `a` to `d` may have become by the end: still
    // that lease, or (should two other processes of the DN have renewed it
    // at once) put aside.
    let kept = |d: usize, a: usize| end.held.get(&d) == Some(&a) || end.aside.contains(&a);
    let (start, all_taken) = (&start.held, end.free().is_empty());
    for (op, res) in ops {
        let fail = |why: &str| Err(format!("{op:?} -> {res:?}: {why}"));
        match (op, res) {
            // An account removed while it is being linked or looked at,
            // or a lease unlinked while it is being reused: an error (fail
            // closed), not a lost race.
            (_, Res::Failed(e)) if vanished(e) => {}
            (_, Res::Failed(e)) => return fail(&format!("failed: {e}")),
            (Op::Lease(d), Res::Got(Some(name))) => {
                let Some(a) = index(name) else {
                    return fail("not a pool account");
                };
                if let Some(&a0) = start.get(&d) {
                    if untouched(d, a0) && a != a0 {
                        return fail(&format!("re-lease of a lease to {}", account(a0)));
                    }
                }
                if untouched(d, a) && !kept(d, a) {
                    return fail(&format!("at the end {end:?}"));
                }
            }
            (Op::Lease(d), Res::Got(None)) => {
                if let Some(&a0) = start.get(&d) {
                    if untouched(d, a0) {
                        return fail(&format!("re-lease of a lease to {}", account(a0)));
                    }
                }
                if quiet && !all_taken {
                    return fail(&format!("no free account, yet at the end {end:?}"));
                }
            }
            (Op::Request(d, a), Res::Granted(true)) => {
                if let Some(&a0) = start.get(&d) {
                    if untouched(d, a0) && a0 != a {
                        return fail(&format!("the DN held {}", account(a0)));
                    }
                }
                if untouched(d, a) && !kept(d, a) {
                    return fail(&format!("at the end {end:?}"));
                }
            }
            (Op::Request(d, a), Res::Granted(false)) => {
                if start.get(&d) == Some(&a) && untouched(d, a) {
                    return fail("the DN held that account");
                }
                if quiet && !end.held.contains_key(&d) && !end.taken(a) {
                    return fail(&format!("refused, yet at the end {end:?}"));
                }
            }
            (Op::Unlease(_) | Op::Recycle(_) | Op::Orphan(_), Res::Done) => {}
            _ => return fail("wrong kind of result"),
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Exec {
    Threads,
    Processes,
}

fn run_case(rounds: &[Vec<Vec<Op>>], exec: Exec) -> Result<(), String> {
    let (_t, dir) = gridmapdir();
    let mut before = state(&dir)?;
    for (i, workers) in rounds.iter().enumerate() {
        let results = match exec {
            Exec::Threads => run_threads(&dir, workers),
            Exec::Processes => run_processes(&dir, workers),
        };
        let context = |e: String| {
            format!("round {i} of {rounds:?}\nstate before {before:?}\nresults {results:?}\n{e}")
        };
        let after = state(&dir).map_err(context)?;
        if workers.len() == 1 {
            let model = sequential(&before, &workers[0], &results[0]).map_err(context)?;
            if model != after {
                return Err(context(format!(
                    "state {after:?}, the model says {model:?}"
                )));
            }
        }
        check_round(&before, &after, workers, &results).map_err(context)?;
        before = after;
    }
    Ok(())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..DNS).prop_map(Op::Lease),
        2 => (0..DNS, 0..ACCOUNTS).prop_map(|(d, a)| Op::Request(d, a)),
        2 => (0..DNS).prop_map(Op::Unlease),
        2 => (0..ACCOUNTS).prop_map(Op::Recycle),
    ]
}

/// One to three workers with one to four operations each. In half of the
/// cases every worker starts with a lease or request for the same DN, the
/// races the protocol is about (same DN: who makes or replaces the lease;
/// different DNs: who gets the account); half of those are preceded by a
/// round that leaves that DN's lease stale (its account recycled), so that
/// the workers race to replace it.
fn round() -> impl Strategy<Value = Vec<Vec<Vec<Op>>>> {
    let worker = proptest::collection::vec(op(), 1..=4);
    let first = (0..ACCOUNTS + 1).prop_map(|a| (a < ACCOUNTS).then_some(a));
    (
        proptest::collection::vec((worker, first), 1..=3),
        proptest::option::of((0..DNS, any::<bool>())),
    )
        .prop_map(|(workers, hot)| {
            let round = workers
                .into_iter()
                .map(|(mut ops, first)| {
                    if let Some((d, _)) = hot {
                        ops.insert(0, first.map_or(Op::Lease(d), |a| Op::Request(d, a)));
                    }
                    ops
                })
                .collect();
            match hot {
                Some((d, true)) => vec![vec![vec![Op::Lease(d), Op::Orphan(d)]], round],
                _ => vec![round],
            }
        })
}

fn rounds(max_rounds: usize) -> impl Strategy<Value = Vec<Vec<Vec<Op>>>> {
    proptest::collection::vec(round(), 1..=max_rounds)
        .prop_map(|r| r.into_iter().flatten().collect())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        // Shrunk failures are printed; no regression file in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn leases_hold_under_threads(rounds in rounds(6)) {
        if let Err(e) = run_case(&rounds, Exec::Threads) {
            prop_assert!(false, "{}", e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        // Shrunk failures are printed; no regression file in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn leases_hold_under_processes(rounds in rounds(4)) {
        if let Err(e) = run_case(&rounds, Exec::Processes) {
            prop_assert!(false, "{}", e);
        }
    }
}
