//! glexec attacked by its caller: a pilot controlling argv, environment,
//! resource limits and input files; a careless C plugin; a mapping that
//! names system groups. Each test is named after the attack, runs the
//! setuid copy of glexec as an unprivileged caller (see `world.rs`) and
//! checks that the attack is refused (or has no effect) and that nothing is
//! left behind. docs/security.md lists them.

#[path = "../../lcmaps-plugins/lcmaps-scitokens/tests/common/mod.rs"]
mod tokens;
mod world;

use std::path::Path;

use world::*;

const VERIFY: (&str, &str) = ("GLEXEC_MODE", "lcmaps_verify_account");

#[test]
fn verify_mode_cannot_pick_its_own_gid_or_uid() {
    need_root!();
    // The worker-node policy maps the DN to dteam001; the pilot asks to
    // run as dteam001 with group 6 (disk), then as itself.
    let w = World::new("lcmaps_verify_account_policy = glexec\n", None);
    let t = TARGET.to_string();
    let c = CALLER.to_string();
    for (uid, gid) in [(t.as_str(), "6"), (c.as_str(), c.as_str()), (&t, &c)] {
        let o = w.run(&[VERIFY], &[uid, gid, "/bin/sh", "-c", "echo ran; id"]);
        assert_eq!(o.status.code(), Some(203), "{uid} {gid}: {}", stderr(&o));
        assert!(!stdout(&o).contains("ran"), "{}", stdout(&o));
        let e = stderr(&o);
        assert!(
            e.contains("is not what LCMAPS mapped") || e.contains("LCMAPS did not verify"),
            "{e}"
        );
    }
    // A verify policy whose plugins only say yes (no account at all).
    let w = World::new(
        "lcmaps_verify_account_policy = glexec\n",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let o = w.run(&[VERIFY], &[&t, "6", "/bin/sh", "-c", "echo ran; id"]);
    assert_eq!(o.status.code(), Some(203), "{}", stderr(&o));
    assert!(!stdout(&o).contains("ran"));
    assert!(!w.target_proxy().exists(), "nothing written when refused");
}

/// The plugin opens /etc/shadow, which only root can: so it runs where
/// the mapping runs as root (`privilege_separation = no`). With privilege
/// separation it cannot open it at all (tests/separation.rs).
#[test]
fn a_c_plugin_descriptor_never_reaches_the_payload() {
    need_root!();
    for linger in ["yes", "no"] {
        let w = World::new(
            &format!("linger = {linger}\nprivilege_separation = no\n"),
            None,
        );
        let module = c_plugin(&w.path("bin"), "plugin_leak_fd", TARGET, &[]);
        w.one_module_policy(&module);
        // The payload lists what its descriptors point at.
        let o = w.run(
            &[],
            &[
                "/bin/sh",
                "-c",
                "id -u; for f in /proc/$$/fd/*; do readlink $f; done; true",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
        let out = stdout(&o);
        assert!(out.starts_with(&format!("{TARGET}\n")), "{out}");
        assert!(!out.contains("shadow"), "linger = {linger}: {out}");
    }
}

#[test]
fn a_newline_in_an_argument_cannot_forge_a_log_line() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let forged = "x\nglexec[1]  NOTICE: 2026-01-01.00:00:00Z: FORGED mapping\r\u{1b}[2K";
    let o = w.run(&[], &["/bin/true", forged]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    let log = w.log();
    assert!(log.contains("FORGED"), "the argument is logged: {log}");
    // Every line is a record of this run: `glexec[PID] LEVEL: TIME: [ID] ...`
    // with the run's correlation id; the forged one has none.
    fn id(l: &str) -> Option<&str> {
        l.split(": ")
            .nth(2)
            .map(|f| f.split(' ').next().unwrap_or(""))
    }
    let first = id(log.lines().next().unwrap()).unwrap().to_string();
    assert!(first.starts_with('[') && first.ends_with(']'), "{first}");
    for line in log.lines() {
        assert_eq!(
            id(line),
            Some(first.as_str()),
            "a line of its own: {line:?}"
        );
        assert!(!line.contains('\r') && !line.contains('\u{1b}'), "{line:?}");
    }
    // The JSON record is still one valid JSON object per line.
    let json = log
        .lines()
        .find(|l| l.contains("\"event\":\"glexec-mapping\""))
        .unwrap();
    let obj = &json[json.find('{').unwrap()..];
    let v: serde_json::Value = serde_json::from_str(obj).unwrap();
    assert_eq!(v["args"][0], forged);
}

#[test]
fn a_log_file_with_a_second_link_is_refused() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    std::fs::write(w.path("glexec.log"), "").unwrap();
    std::fs::hard_link(w.path("glexec.log"), w.path("other-name")).unwrap();
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran"]);
    assert_eq!(o.status.code(), Some(202), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 links"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("ran"));
}

#[test]
fn a_malformed_environment_entry_is_201_without_a_backtrace() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    for entry in ["=X=1", "=", "==x"] {
        let o = w.run(
            &[("RUST_BACKTRACE", "full"), (entry, "")],
            &["/bin/sh", "-c", "echo ran"],
        );
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(201), "{entry}: {e}");
        assert!(!stdout(&o).contains("ran"));
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.starts_with("glexec: error 201 [id "), "{e}");
        assert!(e.contains("malformed environment entry"), "{e}");
        assert!(!e.contains("panicked") && !e.contains("backtrace"), "{e}");
    }
}

#[test]
fn the_callers_file_size_limit_does_not_break_tracking() {
    need_root!();
    let w = World::new("", None);
    tracking_policy(&w, 5300, 5300, "-cgroup off");
    let state = w.path("tracking-state");
    // Twice in a row with `ulimit -f 0` (whose first run used to leave an
    // empty lock that was never reclaimed, exhausting a range of one).
    for _ in 0..2 {
        let o = w.run_wrapped(
            CALLER,
            &[],
            Path::new("/"),
            &["/bin/sh", "-c", "ulimit -f; id -G"],
            "",
            "prlimit --fsize=0:unlimited",
        );
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
        let out = stdout(&o);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "0", "the payload keeps the caller's limit");
        assert!(lines[1].split_whitespace().any(|g| g == "5300"), "{out}");
        assert!(w.log().contains("tracking gid 5300"), "{}", w.log());
    }
    // A hard limit of 0: raised where the kernel lets root do it
    // (CAP_SYS_RESOURCE in the bounding set), else refused up front.
    let o = w.run_wrapped(
        CALLER,
        &[],
        Path::new("/"),
        &["/bin/sh", "-c", "ulimit -f"],
        "",
        "prlimit --fsize=0:0",
    );
    if can_raise_hard_limits() {
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
        assert_eq!(stdout(&o), "0\n");
    } else {
        assert_eq!(o.status.code(), Some(201), "{}", stderr(&o));
        assert!(stderr(&o).contains("file size limit"), "{}", stderr(&o));
    }
    assert_eq!(
        std::fs::read_dir(&state).unwrap().count(),
        1,
        "one lock file, reused"
    );
}

/// Whether root here may raise hard resource limits (CAP_SYS_RESOURCE,
/// bit 24, in the capability bounding set; some sandboxes drop it).
fn can_raise_hard_limits() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let bnd = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .unwrap()
        .trim();
    u64::from_str_radix(bnd, 16).unwrap() & (1 << 24) != 0
}

#[test]
fn a_mapped_group_inside_the_tracking_range_is_refused() {
    need_root!();
    // The account database puts dteam001 in group 5105, inside the
    // tracking range: the payload would share it with another payload, and
    // glexec would kill that one's processes.
    let w = World::new("", None);
    let group = w.path("etc/group");
    let g = std::fs::read_to_string(&group).unwrap();
    std::fs::write(&group, format!("{g}shared:x:5105:dteam001\n")).unwrap();
    tracking_policy(&w, 5100, 5109, "-cgroup off");
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran"]);
    assert_eq!(o.status.code(), Some(202), "{}\n{}", stderr(&o), w.log());
    assert!(!stdout(&o).contains("ran"));
    assert!(stderr(&o).contains("tracking range"), "{}", stderr(&o));
}

#[test]
fn system_groups_are_refused_as_secondary_gids() {
    need_root!();
    // A mistaken account database (or a compromised PDP answer) puts the
    // mapped account in `disk` (6).
    let w = World::new("", None);
    let group = w.path("etc/group");
    let g = std::fs::read_to_string(&group).unwrap();
    let g: String = g
        .lines()
        .map(|l| {
            if l.starts_with("disk:") {
                "disk:x:6:dteam001\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&group, g).unwrap();
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran; id -G"]);
    assert_eq!(o.status.code(), Some(203), "{}\n{}", stderr(&o), w.log());
    assert!(!stdout(&o).contains("ran"));
    assert!(
        stderr(&o).contains("secondary gid 6 is below min_target_gid 100"),
        "{}",
        stderr(&o)
    );
    // A primary gid below 100 too, from a dummy policy.
    w.policy(&format!("--dummy-uid {TARGET} --dummy-gid 42"));
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(203), "{}", stderr(&o));
    assert!(stderr(&o).contains("below min_target_gid 100"));
}

#[test]
fn the_epilogue_never_sees_the_callers_variables() {
    need_root!();
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let out = w.path("epilogue.env");
    let epi = w.path("bin/epilogue");
    write_executable(
        &epi,
        format!("#!/bin/sh\nenv > {}\n", out.display()).as_bytes(),
        0o755,
    );
    let conf = w.path("etc/glexec.conf");
    let base = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        format!(
            "{base}epilogue = {}\npreserve_env_variables = KEEP\n",
            epi.display()
        ),
    )
    .unwrap();
    let o = w.run(
        &[
            ("GLEXEC_EVIL", "/home/pilot/evil"),
            ("KEEP", "x"),
            ("GLEXEC_EPILOG_USER", "root"),
        ],
        &["/bin/true"],
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    let env = std::fs::read_to_string(&out).unwrap();
    let mut names: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .filter(|k| !["PWD", "SHLVL", "_"].contains(k))
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "GLEXEC_EPILOG_CALLER",
            "GLEXEC_EPILOG_GID",
            "GLEXEC_EPILOG_PAYLOAD_EXIT",
            "GLEXEC_EPILOG_PAYLOAD_PID",
            "GLEXEC_EPILOG_UID",
            "GLEXEC_EPILOG_USER",
            "PATH"
        ],
        "{env}"
    );
    assert!(env.contains("GLEXEC_EPILOG_USER=dteam001\n"), "{env}");
}

#[test]
fn a_token_never_makes_the_setuid_glexec_fetch_keys() {
    need_root!();
    // The issuer's keys may be refreshed over HTTPS (jwks_refresh); a
    // token naming an unknown key id would make a verifier fetch. Inside
    // the setuid glexec it must not: the listener sees no connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let w = World::new("", None);
    let t = tokens::World::new();
    let cfg = std::fs::read_to_string(&t.issuers).unwrap().replace(
        "mode = authorize-and-map\n",
        &format!("mode = authorize-and-map\njwks_refresh = https://127.0.0.1:{port}/jwks.json\n"),
    );
    std::fs::write(&t.issuers, cfg).unwrap();
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
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some("published-only".into());
    let token = jsonwebtoken::encode(&h, &claims, &t.other_rsa).unwrap();
    let file = w.path("caller/token");
    std::fs::write(&file, token).unwrap();
    chown(&file, CALLER, CALLER);
    chmod(&file, 0o600);
    let o = w.run(
        &[
            ("GLEXEC_CLIENT_CERT", ""),
            ("BEARER_TOKEN_FILE", file.to_str().unwrap()),
        ],
        &["/bin/sh", "-c", "echo ran"],
    );
    assert_eq!(o.status.code(), Some(203), "{}\n{}", stderr(&o), w.log());
    assert!(!stdout(&o).contains("ran"));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("glexec connected to the key server: {other:?}"),
    }
    assert!(w.log().contains("no key refresh"), "{}", w.log());
}

#[test]
fn an_epilogue_in_a_directory_the_caller_owns_is_refused() {
    need_root!();
    // The root-owned epilogue sits in the pilot's own directory: the pilot
    // could rename it away and put its own program there.
    let w = World::new(
        "",
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let ran = w.path("epilogue.ran");
    let epi = w.path("caller/epilogue");
    write_executable(
        &epi,
        format!("#!/bin/sh\ntouch {}\n", ran.display()).as_bytes(),
        0o755,
    );
    let conf = w.path("etc/glexec.conf");
    let base = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, format!("{base}epilogue = {}\n", epi.display())).unwrap();
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(202), "{}\n{}", stderr(&o), w.log());
    assert!(stderr(&o).contains("the epilogue"), "{}", stderr(&o));
    assert!(!ran.exists(), "the epilogue must not run");
}

/// glexec leaves a target proxy that already holds the same proxy as it
/// is. The attack on that shortcut: the payload of an earlier run (the
/// target account) makes its copy readable by everyone, or swaps it for a
/// hard link to another of its files, hoping the next run keeps it so.
#[test]
fn a_target_proxy_made_readable_or_linked_is_not_kept() {
    need_root!();
    let w = World::new("", None);
    let tp = w.target_proxy();
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let proxy = std::fs::read(&tp).unwrap();
    // Readable by everyone, same bytes: made 0600 again.
    chmod(&tp, 0o644);
    let o = w.run(&[], &["/bin/true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&tp).unwrap().mode() & 0o7777, 0o600);
    assert_eq!(std::fs::read(&tp).unwrap(), proxy);
    // A second link to the copy (another file of the target's): refused,
    // nothing run, the file left alone.
    let other = w.path("home/dteam001/other");
    std::fs::hard_link(&tp, &other).unwrap();
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran"]);
    assert_eq!(o.status.code(), Some(201), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a regular single-link file"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("ran"));
    assert_eq!(std::fs::metadata(&tp).unwrap().nlink(), 2);
}
