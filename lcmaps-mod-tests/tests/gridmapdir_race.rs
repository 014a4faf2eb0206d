//! One gridmapdir shared by Debian's C `lcmaps_poolaccount.mod` and ours,
//! under a race: 64 processes at once (half Debian's C plugin, half our
//! `.mod`, both inside Debian's liblcmaps, driven by `c/batch.c`: one
//! lcmaps_init and many mappings per process), 1,000 distinct DNs (every
//! printable special character, tabs, non-ASCII) against a pool of 500
//! accounts from a fake passwd (libnss-wrapper). Every DN is mapped by one C
//! and one Rust process in each round; the race runs three times on the same
//! directory.
//!
//! Checked after every round: no account leased twice, every lease is a
//! hard link with link count 2 to one pool account, every lease name is the
//! one upstream writes for its DN (our `urlencode`, which the C plugin's
//! names are compared with), every reported mapping is the lease's account,
//! and the rounds after the pool is full change nothing.
//!
//! Upstream (C) fails a mapping when it loses a race for an account ("Two
//! ID have grabbed the same pool-entry, backing off"); ours tries the next
//! free account. So in the first round C processes may fail DNs that do get
//! a lease; once the pool is full every process agrees.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use ffi_tests::NSS_WRAPPER;
use lcmaps_mod_tests::{have_debian_lcmaps, our_mods, skip, DEBIAN_MODS};
use lcmaps_plugin_common::urlencode::urlencode;

const ACCOUNTS: usize = 500;
const DNS: usize = 1000;
const PROCS: usize = 64;
const FIRST_UID: u32 = 20_000;

fn ready(test: &str) -> bool {
    if !have_debian_lcmaps()
        || !Path::new(DEBIAN_MODS)
            .join("lcmaps_poolaccount.mod")
            .exists()
        || !Path::new(NSS_WRAPPER).exists()
    {
        skip(
            test,
            "Debian's liblcmaps-dev, lcmaps-plugins-basic-poolaccount or libnss-wrapper is not installed",
        );
        return false;
    }
    true
}

/// 1,000 distinct DNs: plain ones, every printable ASCII special character
/// (also as a run), tabs, UTF-8 (which upstream's encoder mangles, see
/// lcmaps_plugin_common::urlencode; the mangled names are still distinct
/// here because the ASCII counter follows).
fn dns() -> Vec<String> {
    const SPECIAL: &str = " !\"#$%&'()*+,-.:;<=>?@[\\]^_`{|}~";
    let specials: Vec<char> = SPECIAL.chars().collect();
    let v: Vec<String> = (0..DNS)
        .map(|i| match i % 5 {
            0 => format!("/DC=org/DC=example/OU=People/CN=User Number {i}"),
            1 => {
                let c = specials[i % specials.len()];
                format!("/DC=org/O=Grid{c}Site/CN=Spe{c}cial {c}{i}{c}")
            }
            2 => format!("/C=NL/O=Nikhef/CN={SPECIAL}{i}"),
            3 => format!("/C=DE/O=Universität {i}/CN=Jörg Müller-Łukasz 名前/OU=end"),
            _ => format!("/O=tabs\tand  spaces/CN=x\t{i}/emailAddress=u{i}@example.org"),
        })
        .collect();
    let distinct: BTreeSet<Vec<u8>> = v.iter().map(|d| urlencode(d.as_bytes())).collect();
    assert_eq!(distinct.len(), DNS, "the DNs' lease names must be distinct");
    v
}

fn account(n: usize) -> String {
    format!("pool{n:03}")
}

/// A site: the fake passwd/group, the shared gridmapdir and grid-mapfile,
/// one lcmaps.db per plugin kind.
struct Site {
    dir: tempfile::TempDir,
    _mods: tempfile::TempDir,
    batch: PathBuf,
    gmd: PathBuf,
    /// db for Debian's plugin, db for ours.
    dbs: [PathBuf; 2],
}

fn site() -> Site {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let batch = lcmaps_mod_tests::debian_batch(d);
    let mut passwd = String::from("root:x:0:0:root:/root:/bin/sh\n");
    for n in 1..=ACCOUNTS {
        passwd.push_str(&format!(
            "{}:x:{}:6000:pool:/home/{0}:/bin/sh\n",
            account(n),
            FIRST_UID + n as u32
        ));
    }
    std::fs::write(d.join("passwd"), passwd).expect("passwd");
    std::fs::write(d.join("group"), "root:x:0:\npools:x:6000:\n").expect("group");
    let gmd = d.join("gridmapdir");
    std::fs::create_dir(&gmd).expect("mkdir gridmapdir");
    std::fs::set_permissions(&gmd, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for n in 1..=ACCOUNTS {
        std::fs::write(gmd.join(account(n)), "").expect("pool file");
    }
    let gm = d.join("grid-mapfile");
    std::fs::write(&gm, "\"/*\" .pool\n").expect("grid-mapfile");
    // Debian's lcmaps.db lexer takes no '-' or leading '.' in an unquoted
    // `path`: our modules go to a plain-named directory.
    let mods = tempfile::Builder::new()
        .prefix("lcmapsmods")
        .tempdir()
        .expect("tempdir");
    for m in ["lcmaps_poolaccount.mod", "lcmaps_dummy_good.mod"] {
        std::fs::copy(our_mods().join(m), mods.path().join(m)).expect("copy mod");
    }
    let db = |name: &str, path: &Path| {
        let f = d.join(name);
        std::fs::write(
            &f,
            format!(
                "path = {}\n\
                 pool = \"lcmaps_poolaccount.mod -gridmapfile {} -gridmapdir {}\"\n\
                 noop = \"lcmaps_dummy_good.mod\"\n\
                 standard:\n\
                 pool -> noop\n",
                path.display(),
                gm.display(),
                gmd.display()
            ),
        )
        .expect("write db");
        f
    };
    let dbs = [
        db("debian.db", Path::new(DEBIAN_MODS)),
        db("ours.db", mods.path()),
    ];
    Site {
        dir,
        _mods: mods,
        batch,
        gmd,
        dbs,
    }
}

/// Children killed and reaped however the test ends.
struct Kids(Vec<Child>);

impl Drop for Kids {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One reported mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapped {
    dn: usize,
    /// 0: Debian's plugin, 1: ours.
    kind: usize,
    /// The account, or None for rc=1.
    account: Option<String>,
    poolindex: Option<String>,
}

/// Run one race: `jobs` is (kind, DN indices) per process; all processes
/// start mapping at once (a start file). Returns every reported mapping and
/// the processes' logs.
fn race(
    s: &Site,
    dns: &[String],
    jobs: &[(usize, Vec<usize>)],
    tag: &str,
) -> (Vec<Mapped>, String) {
    let d = s.dir.path();
    let start = d.join(format!("start-{tag}"));
    let mut kids = Kids(Vec::new());
    let mut files = Vec::new();
    for (p, (kind, list)) in jobs.iter().enumerate() {
        let dnfile = d.join(format!("dns-{tag}-{p}"));
        let text: String = list.iter().map(|&i| format!("{}\n", dns[i])).collect();
        std::fs::write(&dnfile, text).expect("dn file");
        let out = d.join(format!("out-{tag}-{p}"));
        let err = d.join(format!("err-{tag}-{p}"));
        let child = Command::new(&s.batch)
            .arg(&dnfile)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LD_PRELOAD", NSS_WRAPPER)
            .env("NSS_WRAPPER_PASSWD", d.join("passwd"))
            .env("NSS_WRAPPER_GROUP", d.join("group"))
            .env("LCMAPS_DB_FILE", &s.dbs[*kind])
            .env("LCMAPS_DEBUG_LEVEL", "4")
            .env("BATCH_START_FILE", &start)
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("out file"))
            .stderr(File::create(&err).expect("err file"))
            .spawn()
            .expect("spawn batch");
        kids.0.push(child);
        files.push((out, err));
    }
    std::fs::write(&start, "").expect("start file");
    let mut mapped = Vec::new();
    let mut logs = String::new();
    for (p, child) in kids.0.iter_mut().enumerate() {
        let st = child.wait().expect("wait");
        let out = std::fs::read_to_string(&files[p].0).expect("read out");
        let err =
            String::from_utf8_lossy(&std::fs::read(&files[p].1).expect("read err")).into_owned();
        assert!(
            st.success(),
            "{tag}: process {p} ({}) exited with {st}\n{out}\n{err}",
            ["debian", "ours"][jobs[p].0]
        );
        let (kind, list) = &jobs[p];
        let mut seen = 0;
        for l in out.lines().filter(|l| l.starts_with("map ")) {
            let w: Vec<&str> = l.split(' ').collect();
            let line: usize = w[1].parse().expect("line number");
            let dn = list[line - 1];
            let field = |k: &str| w.iter().find_map(|x| x.strip_prefix(k)).map(str::to_string);
            let account = match w[2] {
                "rc=0" => {
                    let uid: u32 = field("uid=").expect("uid").parse().expect("uid number");
                    assert!(
                        uid > FIRST_UID && uid <= FIRST_UID + ACCOUNTS as u32,
                        "{tag}: uid {uid} is not a pool account: {l}"
                    );
                    Some(account((uid - FIRST_UID) as usize))
                }
                "rc=1" => None,
                other => panic!("{tag}: unexpected result {other} in {l}\n{err}"),
            };
            mapped.push(Mapped {
                dn,
                kind: *kind,
                account,
                poolindex: field("poolindex="),
            });
            seen += 1;
        }
        assert_eq!(
            seen,
            list.len(),
            "{tag}: process {p} mapped every DN\n{out}"
        );
        logs.push_str(&err);
    }
    drop(kids);
    (mapped, logs)
}

/// The gridmapdir's leases (lease name → account), after checking its
/// invariants: only pool account files and leases, all regular files; every
/// account file has link count 1 or 2; every lease has link count 2 and
/// shares its inode with exactly one account file and no other lease; every
/// lease name is upstream's encoding of one of `dns`.
fn leases(gmd: &Path, dns: &[String]) -> BTreeMap<String, String> {
    let names: HashMap<String, usize> = dns
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                String::from_utf8(urlencode(d.as_bytes())).expect("ascii"),
                i,
            )
        })
        .collect();
    let mut by_inode: BTreeMap<u64, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut accounts = 0;
    for e in std::fs::read_dir(gmd).expect("read gridmapdir") {
        let e = e.expect("entry");
        let name = e.file_name().into_string().expect("ASCII file name");
        let m = std::fs::symlink_metadata(e.path()).expect("lstat");
        assert!(m.file_type().is_file(), "{name} is not a regular file");
        let slot = by_inode.entry(m.ino()).or_default();
        if name.starts_with('%') {
            assert!(
                names.contains_key(&name),
                "lease {name} is not the encoding of any DN"
            );
            assert_eq!(m.nlink(), 2, "lease {name} has link count {}", m.nlink());
            slot.1.push(name);
        } else {
            let n: usize = name
                .strip_prefix("pool")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected file {name} in the gridmapdir"));
            assert!((1..=ACCOUNTS).contains(&n) && account(n) == name, "{name}");
            assert!(
                m.nlink() == 1 || m.nlink() == 2,
                "account {name} has link count {}",
                m.nlink()
            );
            accounts += 1;
            slot.0.push(name);
        }
    }
    assert_eq!(accounts, ACCOUNTS, "every account file is still there");
    let mut out = BTreeMap::new();
    for (ino, (accts, lease)) in by_inode {
        assert_eq!(
            accts.len(),
            1,
            "inode {ino}: accounts {accts:?} leases {lease:?}"
        );
        assert!(lease.len() <= 1, "{} leased twice: {lease:?}", accts[0]);
        if let Some(l) = lease.into_iter().next() {
            out.insert(l, accts[0].clone());
        }
    }
    out
}

/// The leases Debian's poolaccount unlinked while backing off. Upstream
/// unlinks the lease *name* it tried when the account behind it has more
/// than two links, or when it finds a solitary lease — even when that name
/// was just made, correctly, by another process for the same DN (see
/// lcmaps_gridmapdir.c, "Two ID have grabbed the same pool-entry"). A
/// mapping reported for such a lease can be gone from the directory
/// through no fault of the process that made it.
fn unlinked_by_debian(logs: &str) -> BTreeSet<String> {
    logs.lines()
        .filter(|l| l.contains("Unlinking \"") || l.contains("removing solitary lease \""))
        .filter_map(|l| l.rsplit_once(" \"").map(|(_, r)| r))
        .filter_map(|r| r.split_once('"').map(|(name, _)| name.to_string()))
        .collect()
}

/// Every reported mapping agrees with the directory: a success names the
/// DN's lease and its account, with upstream's encoding as pool index;
/// leases Debian's plugin unlinked in the round (`unlinked`) may be gone.
fn check_reports(
    tag: &str,
    dns: &[String],
    mapped: &[Mapped],
    leases: &BTreeMap<String, String>,
    unlinked: &BTreeSet<String>,
) {
    for m in mapped {
        let enc = String::from_utf8(urlencode(dns[m.dn].as_bytes())).expect("ascii");
        if let Some(acct) = &m.account {
            assert_eq!(
                m.poolindex.as_deref(),
                Some(enc.as_str()),
                "{tag}: pool index of {:?}",
                dns[m.dn]
            );
            if unlinked.contains(&enc) && !leases.contains_key(&enc) {
                continue;
            }
            assert_eq!(
                leases.get(&enc),
                Some(acct),
                "{tag}: {} reported {acct} for {:?}, the gridmapdir disagrees",
                ["debian", "ours"][m.kind],
                dns[m.dn]
            );
        }
    }
}

fn count(mapped: &[Mapped], kind: usize, ok: bool) -> usize {
    mapped
        .iter()
        .filter(|m| m.kind == kind && m.account.is_some() == ok)
        .count()
}

#[test]
fn debian_and_ours_race_on_one_gridmapdir() {
    if !ready("debian_and_ours_race_on_one_gridmapdir") {
        return;
    }
    let s = site();
    let dns = dns();
    // Each DN goes to one C process (strided, ascending) and one Rust
    // process (in blocks, descending).
    let half = PROCS / 2;
    let mut jobs: Vec<(usize, Vec<usize>)> = (0..PROCS).map(|p| (p / half, Vec::new())).collect();
    for i in 0..DNS {
        jobs[i % half].1.push(i);
        jobs[half + (i * half / DNS)].1.push(i);
    }
    for j in &mut jobs[half..] {
        j.1.reverse();
    }
    let mut history: Vec<BTreeMap<String, String>> = Vec::new();
    for round in 1..=3 {
        let tag = format!("round{round}");
        let t0 = std::time::Instant::now();
        let (mapped, logs) = race(&s, &dns, &jobs, &tag);
        let took = t0.elapsed();
        assert_eq!(mapped.len(), 2 * DNS);
        let l = leases(&s.gmd, &dns);
        let unlinked = unlinked_by_debian(&logs);
        check_reports(&tag, &dns, &mapped, &l, &unlinked);
        // DNs mapped by both kinds get the same account.
        let mut by_dn: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
        for m in &mapped {
            if let Some(a) = &m.account {
                by_dn.entry(m.dn).or_default().insert(a);
            }
        }
        assert!(by_dn.values().all(|s| s.len() == 1));
        let both = (0..DNS)
            .filter(|&i| {
                mapped
                    .iter()
                    .filter(|m| m.dn == i && m.account.is_some())
                    .count()
                    == 2
            })
            .count();
        eprintln!(
            "{tag} ({took:.1?}): {} leases; debian {} mapped / {} failed, ours {} mapped / {} failed; {both} DNs mapped by both; {} lease names unlinked by Debian's back-off",
            l.len(),
            count(&mapped, 0, true),
            count(&mapped, 0, false),
            count(&mapped, 1, true),
            count(&mapped, 1, false),
            unlinked.len(),
        );
        assert!(count(&mapped, 1, true) > 0 && count(&mapped, 0, true) > 0);
        // Leases are never moved or lost.
        if let Some(prev) = history.last() {
            for (lease, acct) in prev {
                assert_eq!(l.get(lease), Some(acct), "{tag}: lease {lease} changed");
            }
        }
        if round >= 2 {
            // Ours only reports "no mapping" when a scan finds no free
            // account, so at most one lost race at the very end can leave
            // an account free after round 1; by round 2 the pool is full.
            assert_eq!(l.len(), ACCOUNTS, "{tag}: the pool is full");
        }
        if round == 3 {
            // The pool was full before this round: nothing raced, every
            // process agrees.
            assert_eq!(
                &l,
                history.last().expect("round 2"),
                "round 3 changed nothing"
            );
            assert_eq!(both, ACCOUNTS, "every leased DN mapped by both kinds");
            for kind in 0..2 {
                assert_eq!(count(&mapped, kind, true), ACCOUNTS);
                assert_eq!(count(&mapped, kind, false), DNS - ACCOUNTS);
            }
        }
        history.push(l);
    }
}

#[test]
fn ours_alone_fills_the_pool_exactly() {
    if !ready("ours_alone_fills_the_pool_exactly") {
        return;
    }
    let s = site();
    let dns = dns();
    let mut jobs: Vec<(usize, Vec<usize>)> = (0..PROCS).map(|_| (1, Vec::new())).collect();
    for i in 0..DNS {
        jobs[i % PROCS].1.push(i);
    }
    let t0 = std::time::Instant::now();
    let (mapped, logs) = race(&s, &dns, &jobs, "ours");
    let took = t0.elapsed();
    let l = leases(&s.gmd, &dns);
    check_reports("ours", &dns, &mapped, &l, &BTreeSet::new());
    let ok: Vec<&Mapped> = mapped.iter().filter(|m| m.account.is_some()).collect();
    assert_eq!(ok.len(), ACCOUNTS, "exactly one lease per account");
    assert_eq!(mapped.len() - ok.len(), DNS - ACCOUNTS);
    assert_eq!(l.len(), ACCOUNTS);
    let accounts: BTreeSet<&str> = ok.iter().filter_map(|m| m.account.as_deref()).collect();
    assert_eq!(accounts.len(), ACCOUNTS, "no account handed out twice");
    // The failures are clean: the pool was full, not an error.
    let full = logs
        .matches("no pool-entry available for pool-name pool")
        .count();
    assert_eq!(full, DNS - ACCOUNTS, "one 'pool full' notice per failed DN");
    assert!(!logs.contains("giving up"), "{logs}");
    // Losing a race is normal and logged, never an error.
    eprintln!(
        "ours alone ({took:.1?}): {} leases, {} lost races",
        l.len(),
        logs.matches("backing off to the next account").count()
    );
}
