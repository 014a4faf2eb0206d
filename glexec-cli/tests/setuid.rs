//! glexec end to end: a setuid-root copy of the binary, run by an
//! unprivileged caller, really switching to the mapped account.
//!
//! Each run happens in a private mount namespace (`unshare -m`) in which a
//! copy of /etc with test accounts, /etc/glexec.conf and the LCMAPS policy
//! is bind-mounted over /etc: the machine's own /etc is never touched, and
//! glexec reads its compiled-in configuration path as in production.
//! Needs root (CI runs as root): a failure under `CI=true`, a skip with a
//! message otherwise.

#[path = "../../lcmaps-plugins/lcmaps-scitokens/tests/common/mod.rs"]
mod tokens;
mod world;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use lcmaps_x509::fixtures::{self, Kind, Tweak};
use world::*;

#[test]
fn maps_switches_and_runs_the_payload() {
    need_root!();
    // The real thing: verify_proxy against the test CA, then the DN through
    // a grid-mapfile to dteam001 (groups from the account database).
    let w = World::new("", None);
    let o = w.run(
        &[
            ("LD_PRELOAD", "/nonexistent.so"),
            ("MALLOC_CHECK_", "3"),
            ("GLEXEC_ENV", "blob"),
            ("TZ", "UTC"),
            ("SECRET", "x"),
        ],
        &["/bin/sh", "-c", "id -u; id -g; id -G; pwd; env | sort"],
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], TARGET.to_string());
    assert_eq!(lines[1], TARGET.to_string());
    assert_eq!(lines[2], format!("{TARGET} {TRACK}"));
    // The caller's cwd (/) is accessible to the target, so it is kept.
    assert_eq!(lines[3], "/");
    let envs: Vec<&str> = lines[4..].to_vec();
    let home = w.path("home/dteam001");
    let expected = [
        "GLEXEC_CLIENT_CERT=".to_string() + &w.path("caller/proxy").display().to_string(),
        "GLEXEC_ENV=blob".into(),
        "GLEXEC_TARGET_PROXY=".to_string() + &w.target_proxy().display().to_string(),
        format!("HOME={}", home.display()),
        "LOGNAME=dteam001".into(),
        "PATH=/usr/local/bin:/usr/bin:/bin".into(),
        "TZ=UTC".into(),
        "USER=dteam001".into(),
        format!("X509_USER_PROXY={}", w.target_proxy().display()),
    ];
    let got: Vec<&str> = envs
        .iter()
        .copied()
        .filter(|l| !l.starts_with("PWD=") && !l.starts_with("SHLVL=") && !l.starts_with("_="))
        .collect();
    assert_eq!(got, expected.iter().map(String::as_str).collect::<Vec<_>>());
    // The proxy copy belongs to the target, mode 0600, same bytes.
    let m = std::fs::metadata(w.target_proxy()).unwrap();
    assert_eq!(
        (m.uid(), m.gid(), m.mode() & 0o7777),
        (TARGET, TARGET, 0o600)
    );
    assert_eq!(
        std::fs::read(w.target_proxy()).unwrap(),
        std::fs::read(w.path("caller/proxy")).unwrap()
    );
    // One mapping record, and the JSON line.
    let log = w.log();
    assert!(
        log.contains("mapping: caller pilot001 (uid 5001) DN \"/DC=org/DC=example/CN=Jane Doe\""),
        "{log}"
    );
    assert!(log.contains("\"event\":\"glexec-mapping\""), "{log}");
}

#[test]
fn cwd_falls_back_to_home_and_fds_may_be_closed() {
    need_root!();
    let w = World::new(
        "linger = no\n",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    // The caller's own directory (mode 700) is not accessible to the target.
    let o = w.run_as(
        CALLER,
        &[],
        &w.path("caller"),
        &["/bin/sh", "-c", "pwd; id -G"],
        "0<&-",
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], w.path("home/dteam001").display().to_string());
    assert_eq!(
        lines[1],
        TARGET.to_string(),
        "no secondary groups were mapped"
    );
}

#[test]
fn exit_codes_of_the_payload() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    for (script, code) in [
        ("exit 0", 0),
        ("exit 7", 7),
        ("exit 201", 204),
        ("exit 202", 204),
        ("exit 204", 204),
        ("exit 205", 205),
        ("kill -TERM $$", 143),
    ] {
        let o = w.run(&[], &["/bin/sh", "-c", script]);
        assert_eq!(o.status.code(), Some(code), "{script}: {}", stderr(&o));
    }
    assert!(w.log().contains("the payload exited 201, reported as 204"));
}

#[test]
fn client_errors_are_201() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let proxy = w.path("caller/proxy");
    let check = |env: &[(&str, &str)], args: &[&str], needle: &str| {
        let o = w.run(env, args);
        assert_eq!(o.status.code(), Some(201), "{needle}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.starts_with("glexec: error 201 [id "), "{e}");
        assert!(e.contains(needle), "{needle} not in {e}");
    };
    check(&[], &[], "no command given");
    check(&[], &["bin/sh"], "not an absolute path");
    check(
        &[("GLEXEC_CLIENT_CERT", "")],
        &["/bin/true"],
        "no credential given",
    );
    check(
        &[("GLEXEC_SOURCE_PROXY", "")],
        &["/bin/true"],
        "GLEXEC_SOURCE_PROXY is set but empty",
    );
    // Proxy mode too wide.
    chmod(&proxy, 0o644);
    check(&[], &["/bin/true"], "mode 0644");
    chmod(&proxy, 0o600);
    // A symlink to the proxy.
    let link = w.path("caller/link");
    std::os::unix::fs::symlink(&proxy, &link).unwrap();
    check(
        &[("GLEXEC_CLIENT_CERT", link.to_str().unwrap())],
        &["/bin/true"],
        "symbolic link",
    );
    // A hard link to someone else's file.
    let hard = w.path("caller/hard");
    std::fs::hard_link(&proxy, &hard).unwrap();
    check(&[], &["/bin/true"], "2 hard links");
    std::fs::remove_file(&hard).unwrap();
    // Owned by someone else.
    let foreign = w.path("caller/foreign");
    std::fs::copy(&proxy, &foreign).unwrap();
    chown(&foreign, OTHER, OTHER);
    chmod(&foreign, 0o600);
    check(
        &[("GLEXEC_CLIENT_CERT", foreign.to_str().unwrap())],
        &["/bin/true"],
        "Permission denied",
    );
    // The target proxy in a directory the caller controls.
    let tp = w.path("caller/target-proxy");
    check(
        &[("GLEXEC_TARGET_PROXY", tp.to_str().unwrap())],
        &["/bin/true"],
        "not to the target or root",
    );
    assert!(!tp.exists());
    // A command the target may not execute.
    let noexec = w.path("bin/noexec");
    write_executable(&noexec, b"#!/bin/sh\n", 0o644);
    check(&[], &[noexec.to_str().unwrap()], "cannot run the command");
    // Not a proxy at all.
    std::fs::write(&proxy, "hello").unwrap();
    check(&[], &["/bin/true"], "has no private key");
}

#[test]
fn authorization_errors_are_203() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let o = w.run_as(OTHER, &[], Path::new("/"), &["/bin/true"], "");
    assert_eq!(o.status.code(), Some(203), "{}", stderr(&o));
    assert!(stderr(&o).contains("the caller other001 is not in user_white_list"));
    for (args, needle) in [
        (
            "--dummy-uid 0 --dummy-gid 0".to_string(),
            "never runs payloads as root",
        ),
        (
            format!("--dummy-uid 50 --dummy-gid {TARGET}"),
            "below min_target_uid 100",
        ),
        (
            format!("--dummy-uid {TARGET}"),
            "LCMAPS did not map the credential",
        ),
        (
            "--dummy-uid 6000 --dummy-gid 6000".to_string(),
            "has no account on this node",
        ),
    ] {
        w.policy(&args);
        let o = w.run(&[], &["/bin/true"]);
        assert_eq!(o.status.code(), Some(203), "{args}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
    }
    // A policy that does not map.
    std::fs::write(
        w.path("etc/lcmaps-glexec.db"),
        "glexec:\nlcmaps_dummy_bad.mod -> lcmaps_dummy_good.mod\n",
    )
    .unwrap();
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(203));
    assert!(stderr(&o).contains("LCMAPS did not map the credential"));
}

#[test]
fn site_errors_are_202() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let conf = w.path("etc/glexec.conf");
    let expect = |needle: &str| {
        let o = w.run(&[], &["/bin/true"]);
        assert_eq!(o.status.code(), Some(202), "{needle}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
    };
    chmod(&conf, 0o664);
    expect("writable by group or others");
    chmod(&conf, 0o640);
    chown(&conf, CALLER, 0);
    expect("not root");
    chown(&conf, 0, 0);
    let real = w.path("etc/glexec.conf.real");
    std::fs::rename(&conf, &real).unwrap();
    std::os::unix::fs::symlink(&real, &conf).unwrap();
    expect("symbolic link");
    std::fs::remove_file(&conf).unwrap();
    expect("cannot stat /etc/glexec.conf");
    std::fs::rename(&real, &conf).unwrap();
    // A broken policy file.
    std::fs::write(w.path("etc/lcmaps-glexec.db"), "glexec:\na -> \n").unwrap();
    expect("/etc/lcmaps-glexec.db is not usable");
    assert!(w.log().contains("/etc/lcmaps-glexec.db:2:"), "{}", w.log());
}

#[test]
fn lingering_glexec_forwards_signals() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let ready = w.path("home/dteam001/ready");
    let script = format!(
        "trap 'exit 3' TERM; : > {}; while :; do sleep 0.05; done",
        ready.display()
    );
    let envs = [
        format!("GLEXEC_CLIENT_CERT={}", w.path("caller/proxy").display()),
        format!("GLEXEC_TARGET_PROXY={}", w.target_proxy().display()),
    ];
    let mut child = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            &format!("mount --bind \"$1\" /etc && cd / && exec setpriv --reuid {CALLER} --regid {CALLER} --clear-groups env -i \"$2\" \"$3\" \"$4\" /bin/sh -c \"$5\""),
            "sh",
        ])
        .arg(w.path("etc"))
        .args(&envs)
        .arg(w.path("bin/glexec"))
        .arg(&script)
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !ready.exists() {
        assert!(
            start.elapsed().as_secs() < 10,
            "payload did not start: {}",
            w.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The child of the test is glexec itself (unshare, sh, setpriv and env exec).
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(3),
        "the payload's TERM trap decides the exit code"
    );
}

#[test]
fn a_proxy_from_an_unknown_ca_is_not_mapped() {
    need_root!();
    let w = World::new("", None);
    let rogue = fixtures::ca("Rogue CA");
    let (user, ukey) = fixtures::user(&rogue, "Jane Doe", 7);
    let (p, pkey) = fixtures::proxy(&user, &ukey, Kind::Rfc, Tweak::default());
    let proxy = w.path("caller/proxy");
    std::fs::write(&proxy, fixtures::pem(&[&p, &user], Some(&pkey))).unwrap();
    let o = w.run(&[], &["/usr/bin/id", "-u"]);
    assert_eq!(o.status.code(), Some(203), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("LCMAPS did not map the credential: the last plugin, verifyproxy in policy glexec, failed"), "{}", stderr(&o));
    assert!(
        !w.target_proxy().exists(),
        "nothing written for a refused credential"
    );
}

#[test]
fn legacy_verify_account_mode() {
    need_root!();
    // The worker-node policy (verify the proxy, then the grid-mapfile)
    // verifies the account the DN maps to, and the payload runs as it.
    let w = World::new("lcmaps_verify_account_policy = glexec\n", None);
    let t = TARGET.to_string();
    let o = w.run(
        &[("GLEXEC_MODE", "lcmaps_verify_account")],
        &[&t, &t, "/bin/sh", "-c", "id -u; id -g; id -G"],
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    assert_eq!(stdout(&o), format!("{t}\n{t}\n{t} {TRACK}\n"));
    // The verification is logged as a mapping's trace is.
    let log = w.log();
    assert!(
        log.contains("lcmaps verify: policy glexec plugin gridmap"),
        "{log}"
    );
    let o = w.run(
        &[("GLEXEC_MODE", "lcmaps_verify_account")],
        &["/usr/bin/id"],
    );
    assert_eq!(o.status.code(), Some(201));
    let o = w.run(&[("GLEXEC_MODE", "bogus")], &["/usr/bin/id"]);
    assert_eq!(o.status.code(), Some(201));
    // A policy that refuses verification.
    std::fs::write(
        w.path("etc/lcmaps-glexec.db"),
        "glexec:\nlcmaps_dummy_bad.mod -> lcmaps_dummy_good.mod\n",
    )
    .unwrap();
    let o = w.run(
        &[("GLEXEC_MODE", "lcmaps_verify_account")],
        &[&t, &t, "/usr/bin/id"],
    );
    assert_eq!(o.status.code(), Some(203), "{}", stderr(&o));
    // At the default log_level the log names the plugin and its reason.
    let log = w.log();
    assert!(
        log.contains("lcmaps_dummy_bad-plugin_verify(): bad plugin successfully failed by design")
            && log.contains("policy \"glexec\" failed at plugin \"lcmaps_dummy_bad.mod\""),
        "{log}"
    );
}

/// The payload double-forks a process into a session of its own (which
/// ignores SIGTERM if `stubborn`), prints its pid (once it is in that
/// session), its cgroup and `id -G`, and exits.
fn daemonising_payload(stubborn: bool) -> String {
    let trap = if stubborn { "trap \"\" TERM; " } else { "" };
    format!(
        "pid=$( (setsid sh -c '{trap}echo $$; exec >/dev/null; exec sleep 60' </dev/null 2>/dev/null &) ); \
         echo $pid; cat /proc/$pid/cgroup | grep '^0::'; id -G"
    )
}

/// Runs [`daemonising_payload`] and checks that glexec returned only after
/// the leftover was killed. Returns the leftover's cgroup (`0::` line) and
/// the payload's groups.
fn leftover_is_killed(w: &World, stubborn: bool) -> (String, String) {
    let o = w.run(&[], &["/bin/sh", "-c", &daemonising_payload(stubborn)]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    let out = stdout(&o);
    let mut lines = out.lines();
    let pid: i32 = lines.next().unwrap().trim().parse().unwrap();
    let cgroup = lines.next().unwrap().to_string();
    let groups = lines.next().unwrap().to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    if !(status.is_empty() || status.contains("State:\tZ")) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        panic!("leftover {pid} still alive:\n{status}\n{}", w.log());
    }
    (cgroup, groups)
}

#[test]
fn tracking_gid_and_leftovers_are_killed() {
    need_root!();
    let w = World::new("", None);
    // The gid mode alone, as upstream.
    tracking_policy(&w, 5100, 5109, "-cgroup off");
    let (_, groups) = leftover_is_killed(&w, false);
    assert!(
        groups.split_whitespace().any(|g| g == "5100"),
        "tracking gid in {groups}"
    );
    let log = w.log();
    assert!(log.contains("tracking gid 5100"), "{log}");
    assert!(log.contains("1 leftover processes killed"), "{log}");
    assert!(!log.contains("; cgroup "), "{log}");
}

/// A writable cgroup v2 hierarchy, or why not (the test then skips).
fn cgroup_v2() -> Result<std::path::PathBuf, String> {
    lcmaps_plugin_glexec_tracking::cgroup::probe(None)
}

#[test]
fn tracking_cgroup_kills_leftovers_and_accounts() {
    need_root!();
    if let Err(e) = cgroup_v2() {
        let why = format!("cgroup v2 is not writable here: {e}");
        lcmaps_core::testing::requirement(
            "tracking_cgroup_kills_leftovers_and_accounts",
            false,
            &why,
        );
        return;
    }
    let w = World::new("", None);
    tracking_policy(&w, 5110, 5119, "-cgroup required");
    // The leftover ignores SIGTERM: cgroup.kill after the grace period.
    let (cgroup, groups) = leftover_is_killed(&w, true);
    assert!(
        groups.split_whitespace().any(|g| g == "5110"),
        "tracking gid in {groups}"
    );
    // The leftover was in the payload's cgroup, which is gone now.
    let rel = cgroup.strip_prefix("0::").unwrap();
    let name = rel.rsplit('/').next().unwrap();
    assert!(name.starts_with("lcmaps-glexec-"), "{cgroup}");
    let log = w.log();
    assert!(log.contains("payload cgroup "), "{log}");
    let dir = log
        .lines()
        .find_map(|l| l.split("payload cgroup ").nth(1))
        .unwrap()
        .trim()
        .to_string();
    assert!(dir.ends_with(rel), "{dir} vs {rel}");
    assert!(!std::path::Path::new(&dir).exists(), "{dir} not removed");
    let record = log
        .lines()
        .find(|l| l.contains("usage: payload pid"))
        .unwrap_or_else(|| panic!("no usage record in {log}"));
    assert!(record.contains("1 leftover processes killed"), "{record}");
    assert!(record.contains(&format!("; cgroup {dir} cpu ")), "{record}");
    assert!(record.contains("memory peak "), "{record}");
    eprintln!("{record}");
}

#[test]
fn tracking_cgroup_required_fails_closed() {
    need_root!();
    let w = World::new("", None);
    let not_a_cgroup = w.path("home");
    tracking_policy(
        &w,
        5120,
        5129,
        &format!("-cgroup required -cgroup-parent {}", not_a_cgroup.display()),
    );
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran"]);
    assert_eq!(o.status.code(), Some(203), "{}\n{}", stderr(&o), w.log());
    assert!(!stdout(&o).contains("ran"));
    let log = w.log();
    assert!(
        log.contains("-cgroup required, but cgroup v2 is not usable"),
        "{log}"
    );
    // With auto, the same site runs the payload, tracked by gid only.
    tracking_policy(
        &w,
        5120,
        5129,
        &format!("-cgroup auto -cgroup-parent {}", not_a_cgroup.display()),
    );
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran; id -G"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    assert!(stdout(&o).contains("ran"), "{}", stdout(&o));
    assert!(stdout(&o).contains("5120"), "{}", stdout(&o));
    assert!(
        w.log().contains("tracking gid 5120 without a cgroup"),
        "{}",
        w.log()
    );
}

#[test]
fn fifty_concurrent_payloads_get_fifty_distinct_gids_and_the_51st_is_refused() {
    need_root!();
    let w = World::new("", None);
    tracking_policy(&w, 5200, 5249, "");
    let board = w.path("board");
    std::fs::create_dir(&board).unwrap();
    chmod(&board, 0o777);
    let go = w.path("go");
    // Each payload posts its groups, then waits (bounded: 120 s) until the
    // test says go, holding its gid meanwhile.
    let script = format!(
        "id -G > {b}/$$; n=0; while [ ! -e {go} ] && [ $n -lt 1200 ]; do sleep 0.1; n=$((n+1)); done; id -G",
        b = board.display(),
        go = go.display()
    );
    let w = std::sync::Arc::new(w);
    let runs: Vec<_> = (0..50)
        .map(|_| {
            let (w, script) = (w.clone(), script.clone());
            std::thread::spawn(move || w.run(&[], &["/bin/sh", "-c", &script]))
        })
        .collect();
    // Release the payloads however this test ends.
    struct Go(std::path::PathBuf);
    impl Drop for Go {
        fn drop(&mut self) {
            let _ = std::fs::write(&self.0, "");
        }
    }
    let release = Go(go.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::fs::read_dir(&board).unwrap().count() < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} payloads started:\n{}",
            std::fs::read_dir(&board).unwrap().count(),
            w.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // All 50 hold a gid: the range is exhausted, the next run is refused.
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran"]);
    assert_eq!(o.status.code(), Some(203), "{}\n{}", stderr(&o), w.log());
    assert!(!stdout(&o).contains("ran"));
    assert!(
        w.log().contains("no free tracking gid in 5200-5249"),
        "{}",
        w.log()
    );
    drop(release);
    let mut gids = Vec::new();
    for r in runs {
        let o = r.join().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let g: Vec<u32> = stdout(&o)
            .split_whitespace()
            .filter_map(|g| g.parse().ok())
            .filter(|g| (5200..=5249).contains(g))
            .collect();
        assert_eq!(g.len(), 1, "{}", stdout(&o));
        gids.push(g[0]);
    }
    gids.sort_unstable();
    gids.dedup();
    assert_eq!(gids.len(), 50, "{gids:?}");
}

#[test]
fn a_bearer_token_instead_of_a_proxy() {
    need_root!();
    let w = World::new("", None);
    let t = tokens::World::new();
    std::fs::write(
        &t.mapfile,
        format!("\"{}\" group \"/cms/uscms\" dteam001\n", tokens::AUTH),
    )
    .unwrap();
    std::fs::write(
        w.path("etc/lcmaps-glexec.db"),
        format!(
            "token = \"lcmaps_scitokens.mod -issuers {} -mapfile {}\"\nglexec:\n~lcmaps_dummy_bad.mod -> token\n",
            t.issuers.display(),
            t.mapfile.display()
        ),
    )
    .unwrap();
    let now = lcmaps_scitokens::time::now();
    let mut claims = t.claims();
    claims["exp"] = serde_json::json!(now + 600);
    claims["nbf"] = serde_json::json!(now - 5);
    claims["iat"] = serde_json::json!(now - 5);
    let file = w.path("caller/token");
    std::fs::write(&file, t.es256(&claims)).unwrap();
    chown(&file, CALLER, CALLER);
    chmod(&file, 0o600);
    let target_token = w.path("home/dteam001/token");
    let o = w.run(
        &[
            ("GLEXEC_CLIENT_CERT", ""),
            ("BEARER_TOKEN_FILE", file.to_str().unwrap()),
            ("GLEXEC_TARGET_TOKEN", target_token.to_str().unwrap()),
        ],
        &["/bin/sh", "-c", "id -u; echo $BEARER_TOKEN_FILE"],
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], TARGET.to_string());
    assert_eq!(lines[1], target_token.display().to_string());
    let m = std::fs::metadata(&target_token).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (TARGET, 0o600));
    assert!(!w.target_proxy().exists(), "no proxy, no proxy copy");
    // The token file is checked like a proxy.
    chmod(&file, 0o644);
    let o = w.run(
        &[
            ("GLEXEC_CLIENT_CERT", ""),
            ("BEARER_TOKEN_FILE", file.to_str().unwrap()),
        ],
        &["/bin/true"],
    );
    assert_eq!(o.status.code(), Some(201), "{}", stderr(&o));
    // An expired token is not mapped.
    chmod(&file, 0o600);
    claims["exp"] = serde_json::json!(now - 3600);
    std::fs::write(&file, t.rs256(&claims)).unwrap();
    let o = w.run(
        &[
            ("GLEXEC_CLIENT_CERT", ""),
            ("BEARER_TOKEN_FILE", file.to_str().unwrap()),
        ],
        &["/bin/true"],
    );
    assert_eq!(o.status.code(), Some(203), "{}", stderr(&o));
}

#[test]
fn epilogue_runs_after_the_payload() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let out = w.path("epilogue.out");
    let epi = w.path("bin/epilogue");
    // The epilogue gets no variable of the caller's: its exit code comes
    // from a file.
    let exit_file = w.path("epilogue.exit");
    write_executable(
        &epi,
        format!(
            "#!/bin/sh\necho \"$(id -u) $GLEXEC_EPILOG_USER $GLEXEC_EPILOG_UID $GLEXEC_EPILOG_PAYLOAD_EXIT $GLEXEC_EPILOG_CALLER\" > {}\nexit $(cat {} 2>/dev/null || echo 0)\n",
            out.display(),
            exit_file.display()
        )
        .as_bytes(),
        0o755,
    );
    let conf = w.path("etc/glexec.conf");
    let base = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        format!("{base}epilogue = {}\nepilogue_timeout = 5\n", epi.display()),
    )
    .unwrap();
    let o = w.run(&[], &["/bin/sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().trim(),
        format!("0 dteam001 {TARGET} 7 pilot001")
    );
    // The epilogue's own failure is the site's problem; 201-204 become 204.
    std::fs::write(&exit_file, "3").unwrap();
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(202), "{}", stderr(&o));
    assert!(stderr(&o).contains("the epilogue"), "{}", stderr(&o));
    std::fs::write(&exit_file, "203").unwrap();
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(204));
    std::fs::remove_file(&exit_file).unwrap();
    // A group-writable epilogue is refused.
    chmod(&epi, 0o775);
    std::os::unix::fs::chown(&epi, Some(0), Some(OTHER)).unwrap();
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(202));
    assert!(
        stderr(&o).contains("writable by nobody else"),
        "{}",
        stderr(&o)
    );
    // An epilogue needs a lingering glexec.
    std::fs::write(
        &conf,
        format!("{base}epilogue = {}\nlinger = no\n", epi.display()),
    )
    .unwrap();
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(202));
}
