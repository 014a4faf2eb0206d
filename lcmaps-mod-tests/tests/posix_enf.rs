//! Our `lcmaps_posix_enf.mod` inside Debian's liblcmaps against Debian's
//! C posix_enf on the same scenarios. The C gatekeeper is the forked child
//! that switches identity; it prints its real/effective uid and gid and its
//! supplementary groups after the run (GK_PRINT_IDS). Needs root (the tests
//! run as root here and in CI); skipped otherwise.
//!
//! Where we deliberately differ (docs/compatibility.md): we check everything
//! before changing anything, so a refused uid 0 or gid 0 leaves the process
//! as it was, where upstream has already called setregid/setgroups (and, for
//! primary gid 0, setreuid); and we refuse secondary gid 0, which upstream
//! accepts.

use std::path::Path;

use lcmaps_mod_tests::{
    debian_gatekeeper, have_debian_lcmaps, our_mods, result_line, skip, Ran, Setup, DEBIAN_MODS,
};

fn euid() -> u32 {
    // /proc/self/status: "Uid:\treal\teffective\tsaved\tfs".
    let st = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    st.lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse().ok())
        .expect("effective uid in /proc/self/status")
}

fn ready(test: &str) -> bool {
    if !have_debian_lcmaps() || !Path::new(DEBIAN_MODS).join("lcmaps_posix_enf.mod").exists() {
        skip(
            test,
            "Debian's liblcmaps-dev / lcmaps-plugins-basic-posixenf are not installed",
        );
        return false;
    }
    if euid() != 0 {
        skip(
            test,
            "posix_enf switches identity and needs euid 0 (the tests run as root in CI)",
        );
        return false;
    }
    true
}

/// The two module directories: Debian's, and a plain-named copy of ours
/// (Debian's lcmaps.db lexer takes no '-' or leading '.' in `path`).
fn mod_dirs() -> (tempfile::TempDir, [std::path::PathBuf; 2]) {
    let mods = tempfile::Builder::new()
        .prefix("lcmapsmods")
        .tempdir()
        .expect("tempdir");
    for m in [
        "lcmaps_posix_enf.mod",
        "lcmaps_dummy_good.mod",
        "lcmaps_localaccount.mod",
    ] {
        std::fs::copy(our_mods().join(m), mods.path().join(m)).expect("copy mod");
    }
    let ours = mods.path().to_path_buf();
    (mods, [DEBIAN_MODS.into(), ours])
}

/// One run of `body` (an lcmaps.db without `path`; `{good2}` is replaced by
/// a second copy of that kind's dummy_good, LCMAPS refuses one module twice)
/// with each kind's modules. Returns (Debian's, ours).
fn both(gk: &Path, mods: &[std::path::PathBuf; 2], body: &str) -> [Ran; 2] {
    let mut out = Vec::new();
    for m in mods {
        let dir = tempfile::tempdir().expect("tempdir");
        let good2 = dir.path().join("lcmaps_dummy_good2.mod");
        std::fs::copy(m.join("lcmaps_dummy_good.mod"), &good2).expect("copy dummy_good");
        std::fs::write(dir.path().join("grid-mapfile"), "\"/CN=alice\" alice\n")
            .expect("grid-mapfile");
        let body = body
            .replace("{good2}", &good2.display().to_string())
            .replace("{dir}", &dir.path().display().to_string());
        let s = Setup::new(dir.path(), m, &body);
        out.push(s.map(gk, "account", "/CN=alice", &[("GK_PRINT_IDS", "1")]));
    }
    let [d, o]: [Ran; 2] = out.try_into().expect("two runs");
    [d, o]
}

fn ids(r: &Ran) -> String {
    r.stdout
        .lines()
        .find(|l| l.starts_with("ids "))
        .unwrap_or("(no ids line)")
        .to_string()
}

const LOCAL: &str = "local = \"lcmaps_localaccount.mod -gridmapfile {dir}/grid-mapfile\"\n";

#[test]
fn posix_enf_matches_debian_as_root() {
    let t = "posix_enf_matches_debian_as_root";
    if !ready(t) {
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    let gk = debian_gatekeeper(scratch.path());
    let (_keep, mods) = mod_dirs();

    // The identity the gatekeeper starts with (no posix_enf in the policy).
    let [bd, bo] = both(
        &gk,
        &mods,
        &format!("{LOCAL}noop = \"lcmaps_dummy_good.mod\"\nstandard:\nlocal -> noop\n"),
    );
    assert_eq!(result_line(&bd), result_line(&bo));
    let before = ids(&bd);
    assert_eq!(ids(&bo), before);
    assert!(
        before.starts_with("ids ruid=0 euid=0 rgid=0 egid=0 "),
        "{before}"
    );

    // A real switch, also within explicit limits.
    for enf in [
        "lcmaps_posix_enf.mod",
        "lcmaps_posix_enf.mod -maxuid 1 -maxpgid 1 -maxsgid 2",
    ] {
        let [d, o] = both(
            &gk,
            &mods,
            &format!("{LOCAL}enf = \"{enf}\"\nstandard:\nlocal -> enf\n"),
        );
        for (who, r) in [("debian", &d), ("ours", &o)] {
            assert_eq!(
                result_line(r),
                "rc=0 uid=5001 pgid=5001 sgid=5001,5100 poolindex=(none)",
                "{who} {enf}: {}",
                r.stderr
            );
            assert_eq!(
                ids(r),
                "ids ruid=5001 euid=5001 rgid=5001 egid=5001 groups=5001,5100",
                "{who} {enf}"
            );
            assert_eq!(r.code, 0);
        }
    }

    // Too many uids / primary gids / secondary gids: refused before any
    // change, by both.
    for (name, body, msg) in [
        (
            "maxuid",
            "good = \"lcmaps_dummy_good.mod --dummy-uid 5001 --dummy-gid 5001\"\n\
             good2 = \"{good2} --dummy-uid 5002\"\n\
             enf = \"lcmaps_posix_enf.mod -maxuid 1\"\n\
             standard:\ngood -> good2\ngood2 -> enf\n"
                .to_string(),
            "exceeds the maximum of 1",
        ),
        (
            "maxpgid",
            "good = \"lcmaps_dummy_good.mod --dummy-uid 5001 --dummy-gid 5001\"\n\
             good2 = \"{good2} --dummy-gid 5100\"\n\
             enf = \"lcmaps_posix_enf.mod -maxpgid 1\"\n\
             standard:\ngood -> good2\ngood2 -> enf\n"
                .to_string(),
            "exceeds the maximum of 1",
        ),
        (
            "maxsgid",
            format!("{LOCAL}enf = \"lcmaps_posix_enf.mod -maxsgid 1\"\nstandard:\nlocal -> enf\n"),
            "exceeds the maximum of 1",
        ),
    ] {
        let [d, o] = both(&gk, &mods, &body);
        for (who, r) in [("debian", &d), ("ours", &o)] {
            assert_eq!(result_line(r), "rc=1", "{name} {who}: {}", r.stderr);
            assert_eq!(ids(r), before, "{name} {who}: nothing changed");
            assert!(r.stderr.contains(msg), "{name} {who}: {}", r.stderr);
        }
    }

    // uid 0, primary gid 0: both refuse. Ours changes nothing; upstream has
    // already set the gid and the groups (and, for gid 0, the uid) by the
    // time it notices.
    let zero = |uid: u32, gid: u32, sgid: u32| {
        format!(
            "good = \"lcmaps_dummy_good.mod --dummy-uid {uid} --dummy-gid {gid} --dummy-sec-gid {sgid}\"\n\
             enf = \"lcmaps_posix_enf.mod\"\nstandard:\ngood -> enf\n"
        )
    };
    let [d, o] = both(&gk, &mods, &zero(0, 5001, 5100));
    assert_eq!(result_line(&d), "rc=1", "{}", d.stderr);
    assert_eq!(result_line(&o), "rc=1", "{}", o.stderr);
    assert!(
        o.stderr.contains("refusing to switch to uid 0"),
        "{}",
        o.stderr
    );
    assert_eq!(ids(&o), before, "ours: refused before any change");
    assert_eq!(
        ids(&d),
        "ids ruid=0 euid=0 rgid=5001 egid=5001 groups=5100",
        "upstream sets gid and groups before it refuses uid 0"
    );

    let [d, o] = both(&gk, &mods, &zero(5001, 0, 5100));
    assert_eq!(result_line(&d), "rc=1", "{}", d.stderr);
    assert_eq!(result_line(&o), "rc=1", "{}", o.stderr);
    assert!(
        o.stderr.contains("refusing to switch to primary gid 0"),
        "{}",
        o.stderr
    );
    assert_eq!(ids(&o), before, "ours: refused before any change");
    assert_eq!(
        ids(&d),
        "ids ruid=5001 euid=5001 rgid=0 egid=0 groups=5100",
        "upstream switches the uid before it refuses gid 0"
    );

    // Secondary gid 0: upstream accepts it, we refuse.
    let [d, o] = both(&gk, &mods, &zero(5001, 5001, 0));
    assert!(result_line(&d).starts_with("rc=0 uid=5001"), "{}", d.stderr);
    assert_eq!(
        ids(&d),
        "ids ruid=5001 euid=5001 rgid=5001 egid=5001 groups=0"
    );
    assert_eq!(result_line(&o), "rc=1", "{}", o.stderr);
    assert!(
        o.stderr.contains("refusing secondary gid 0"),
        "{}",
        o.stderr
    );
    assert_eq!(ids(&o), before);
}
