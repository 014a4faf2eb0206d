//! glexec's privilege separation (issue #18), tried for real: a set-uid
//! copy run by an unprivileged caller in a private mount namespace (the
//! world of `world.rs`, whose glexec.conf says `privilege_separation = yes`
//! with the mapping account `glexmap`).
//!
//! * the mapping helper runs as the mapping account, with no groups, no
//!   capabilities and `no_new_privs` (a C plugin records its ids);
//! * a C plugin cannot read a root-only file;
//! * a pool account lease in a gridmapdir the mapping account owns;
//! * a helper that crashes, hangs, answers garbage, too much or twice, or
//!   answers uid 0, gid 0 or a tracking gid glexec did not lease: one error
//!   line with the run's id, exit 202 or 203, nothing written, the helper
//!   killed and reaped;
//! * the OSG worker-node example (`examples/osg-worker-node/lcmaps.db`:
//!   verify-proxy, the GUMS callout to a PDP, tracking) end to end.

mod world;

use std::path::Path;
use std::time::{Duration, Instant};

use world::*;

/// A world whose mapping helper is the shell script `body` (run as the
/// mapping account), with more glexec.conf lines.
fn with_fake_helper(body: &str, conf: &str) -> World {
    let w = World::new(
        &format!("mapping_helper = /etc/fake-helper\n{conf}"),
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    write_executable(
        &w.path("etc/fake-helper"),
        format!("#!/bin/sh\n{body}\n").as_bytes(),
        0o755,
    );
    w
}

/// A well-formed answer: uid, gid, groups and more records (`extra`, each
/// ending in a newline).
fn answer(uid: u32, gid: u32, extra: &str) -> String {
    let rec = |k: &str, v: &str| format!("{k}={}:{v}\\n", v.len());
    format!(
        "printf '{}{}{}{}{}end=0:\\n'",
        rec("version", "1"),
        rec("result", "mapped"),
        rec("uid", &uid.to_string()),
        rec("gid", &gid.to_string()),
        extra
    )
}

fn record(k: &str, v: &str) -> String {
    format!("{k}={}:{v}\\n", v.len())
}

/// Runs the payload `echo ran`; asserts the refusal: `code`, one error line
/// naming the run's id and containing `want`, no payload, no target proxy.
fn assert_refused(w: &World, code: i32, want: &str) {
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{err}\n{}", w.log());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("glexec: error {code} [id ")),
        "{err}"
    );
    assert!(err.contains(want), "wanted {want:?} in {err}");
    assert!(!stdout(&o).contains("ran"), "{}", stdout(&o));
    assert!(!w.target_proxy().exists(), "nothing written when refused");
}

/// Runs the C test plugin `name` (`tests/c/<name>.c`) as the whole policy
/// of a separated glexec mapping to the target; returns what the plugin
/// wrote to its `OUT` file (in a directory the mapping account owns).
fn plugin_report(name: &str) -> String {
    let w = World::new("", None);
    w.c_plugin_policy(name);
    let o = w.run(&[], &["/usr/bin/id", "-u"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    assert_eq!(stdout(&o).trim(), TARGET.to_string());
    w.plugin_report()
}

#[test]
fn the_helper_runs_as_the_mapping_account_without_privileges() {
    need_root!();
    assert_confined_as_mapper(&plugin_report("plugin_status"));
}

/// Another helper of the mapping account (a concurrent run's, subverted by
/// its caller's credential) cannot read this one's memory: the helper is
/// not dumpable.
#[test]
fn the_helper_is_not_dumpable() {
    need_root!();
    let r = plugin_report("plugin_sockets");
    assert!(r.contains("dumpable: 0"), "{r}");
}

/// The helper's seccomp filter: a plugin cannot make a user namespace (a
/// kernel attack surface) or touch kernel keyrings, and can still fork.
#[test]
fn the_helper_cannot_make_namespaces_or_keys() {
    need_root!();
    let r = plugin_report("plugin_syscalls");
    assert!(r.contains("unshare: Operation not permitted"), "{r}");
    assert!(r.contains("add_key: Operation not permitted"), "{r}");
    assert!(r.contains("fork: allowed"), "{r}");
}

#[test]
fn a_c_plugin_cannot_read_a_root_only_file() {
    need_root!();
    // The plugin maps only if it can open /etc/shadow (0640 root:shadow or
    // 0000 on Debian); as the mapping account it cannot. With
    // privilege_separation = no it can (tests/attacks.rs).
    let w = World::new("", None);
    let module = c_plugin(&w.path("bin"), "plugin_leak_fd", TARGET, &[]);
    w.one_module_policy(&module);
    assert_refused(&w, 203, "LCMAPS did not map the credential");
    let w = World::new("privilege_separation = no\n", None);
    let module = c_plugin(&w.path("bin"), "plugin_leak_fd", TARGET, &[]);
    w.one_module_policy(&module);
    let o = w.run(&[], &["/usr/bin/id", "-u"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
}

#[test]
fn pool_leases_in_a_gridmapdir_the_mapping_account_owns() {
    need_root!();
    let w = World::new("", None);
    let gmd = w.path("gridmapdir");
    std::fs::create_dir(&gmd).unwrap();
    std::fs::write(gmd.join("dteam001"), "").unwrap();
    for p in [&gmd, &gmd.join("dteam001")] {
        chown(p, MAPPER, MAPPER);
    }
    chmod(&gmd, 0o755);
    std::fs::write(
        w.path("pool-mapfile"),
        "\"/DC=org/DC=example/CN=Jane Doe\" .dteam\n",
    )
    .unwrap();
    std::fs::write(
        w.path("etc/lcmaps-glexec.db"),
        format!(
            "verifyproxy = \"lcmaps_verify_proxy.mod\" \"-certdir {}\"\n\
             pool = \"lcmaps_poolaccount.mod\" \"-gridmapfile {} -gridmapdir {}\"\n\
             glexec:\nverifyproxy -> pool\n",
            w.path("certs").display(),
            w.path("pool-mapfile").display(),
            gmd.display()
        ),
    )
    .unwrap();
    for _ in 0..2 {
        let o = w.run(&[], &["/usr/bin/id", "-u"]);
        assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
        assert_eq!(stdout(&o).trim(), TARGET.to_string());
    }
    let leases: Vec<_> = std::fs::read_dir(&gmd)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('%'))
        .collect();
    assert_eq!(leases.len(), 1, "one lease, kept: {leases:?}");
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(gmd.join(&leases[0])).unwrap();
    assert_eq!(meta.uid(), MAPPER, "the helper made the lease");
    // Root-owned files in it are no problem either; a world-writable
    // gridmapdir is refused, as it was when glexec mapped as root.
    chmod(&gmd, 0o777);
    std::fs::remove_file(w.target_proxy()).unwrap();
    assert_refused(&w, 202, "is writable by group and others");
}

#[test]
fn answers_with_root_or_a_system_id_are_refused() {
    need_root!();
    for (uid, gid, want) in [
        (0, TARGET, "glexec never runs payloads as root"),
        (TARGET, 0, "glexec never runs payloads as root"),
        (50, TARGET, "below min_target_uid"),
    ] {
        let w = with_fake_helper(&answer(uid, gid, ""), "");
        assert_refused(&w, 203, want);
    }
    // Secondary group 0 too.
    let w = with_fake_helper(&answer(TARGET, TARGET, &record("group", "0")), "");
    assert_refused(&w, 203, "secondary group 0");
}

/// A subverted helper (a crafted credential, a broken C plugin) maps the
/// payload to the mapping account: the payload would run outside the
/// helper's sandbox as the account that owns the gridmapdir's leases and
/// runs every other caller's helper, and could point other users' pool
/// leases at an account it controls. Refused, whichever of the ids it is.
#[test]
fn an_answer_with_the_mapping_accounts_ids_is_refused() {
    need_root!();
    for (uid, gid, extra) in [
        (MAPPER, MAPPER, String::new()),
        (MAPPER, TARGET, String::new()),
        (TARGET, MAPPER, String::new()),
        (TARGET, TARGET, record("group", &MAPPER.to_string())),
    ] {
        let w = with_fake_helper(&answer(uid, gid, &extra), "");
        // The pilot puts the target proxy where the mapped uid may have it.
        let home = w.path(&format!("home-{uid}"));
        std::fs::create_dir(&home).unwrap();
        chown(&home, uid, gid);
        let proxy = home.join("proxy");
        let o = w.run(
            &[("GLEXEC_TARGET_PROXY", proxy.to_str().unwrap())],
            &["/bin/sh", "-c", "echo ran as $(id -u)"],
        );
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(203),
            "{uid}/{gid}: {err}{}",
            stdout(&o)
        );
        assert!(err.contains("mapping account"), "{err}");
        assert!(!stdout(&o).contains("ran"), "{}", stdout(&o));
        assert!(!proxy.exists(), "nothing written when refused");
    }
}

#[test]
fn a_tracking_gid_glexec_did_not_lease_is_refused() {
    need_root!();
    // With the tracking plugin in the policy, glexec leases 5400 (the first
    // of the range) before it starts the helper.
    for (groups, tracking, with_plugin, want) in [
        (&["6"][..], "6", true, "is not the gid 5400 glexec leased"),
        // Another gid of the range beside the leased one.
        (
            &["5400", "5401"][..],
            "5400",
            true,
            "inside the tracking range 5400-5449",
        ),
        // A tracking gid with no tracking plugin in the policy.
        (&["5400"][..], "5400", false, "but glexec leased none"),
    ] {
        let extra: String = groups.iter().map(|g| record("group", g)).collect();
        let w = with_fake_helper(
            &answer(TARGET, TARGET, &(extra + &record("tracking_gid", tracking))),
            "",
        );
        if with_plugin {
            tracking_policy(&w, 5400, 5449, "");
        }
        assert_refused(&w, 202, want);
    }
}

#[test]
fn a_helper_that_crashes_or_answers_badly_is_a_202() {
    need_root!();
    let good = answer(TARGET, TARGET, "");
    for (body, want) in [
        ("kill -SEGV $$".to_string(), "killed by signal 11"),
        (format!("{good}; exit 3"), "failed with exit status 3"),
        ("echo garbage".to_string(), "malformed"),
        (format!("{good}; {good}"), "malformed"),
        (
            "head -c 70000 /dev/zero".to_string(),
            "wrote more than 65536 bytes",
        ),
        ("exec /nonexistent/helper".to_string(), "exit status 127"),
    ] {
        let w = with_fake_helper(&body, "");
        assert_refused(&w, 202, want);
    }
    // A helper program that is not root's is never started.
    let w = with_fake_helper(&good, "");
    chown(&w.path("etc/fake-helper"), MAPPER, MAPPER);
    assert_refused(&w, 202, "mapping_helper: /etc/fake-helper is owned by uid");
}

#[test]
fn a_helper_that_hangs_is_killed_after_the_timeout() {
    need_root!();
    let w = with_fake_helper("", "mapping_timeout = 1\n");
    let dir = w.path("pids");
    std::fs::create_dir(&dir).unwrap();
    chown(&dir, MAPPER, MAPPER);
    // The helper and a child of it both hang.
    write_executable(
        &w.path("etc/fake-helper"),
        format!(
            "#!/bin/sh\nsleep 60 & echo $! > {0}/child\necho $$ > {0}/helper\nsleep 60\n",
            dir.display()
        )
        .as_bytes(),
        0o755,
    );
    let start = Instant::now();
    assert_refused(&w, 202, "no answer within 1 s; killed");
    assert!(start.elapsed() < Duration::from_secs(20));
    // Killed (SIGKILL to the helper's process group): gone, or a zombie
    // until whoever adopted the orphaned child reaps it. The kill takes
    // effect asynchronously: look again for a while.
    for f in ["helper", "child"] {
        let pid = std::fs::read_to_string(dir.join(f)).unwrap();
        let status = Path::new("/proc").join(pid.trim()).join("status");
        let dead = || {
            let state = std::fs::read_to_string(&status).unwrap_or_default();
            let state = state
                .lines()
                .find(|l| l.starts_with("State:"))
                .unwrap_or("");
            state.is_empty() || state.contains('Z') || state.contains('X')
        };
        let since = Instant::now();
        while !dead() && since.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(dead(), "the {f} ({}) still runs", pid.trim());
    }
}

#[test]
fn the_mapping_account_must_exist_and_must_not_be_the_caller() {
    need_root!();
    let w = World::new("mapping_account = nosuchuser\n", None);
    assert_refused(&w, 202, "mapping_account nosuchuser does not exist");
    let w = World::new("mapping_account = pilot001\n", None);
    assert_refused(&w, 202, "is the caller's account");
    let w = World::new("user_identity_switch_by = lcmaps\n", None);
    assert_refused(&w, 202, "needs root in the mapping");
}

/// The set-uid root part links no credential parser: no OpenSSL (neither
/// the library nor the Rust bindings), no JSON, XML or X.509 crate, no
/// plugin (docs/security.md lists what it links).
#[test]
fn the_root_part_links_no_credential_parser() {
    let glexec = env!("CARGO_BIN_EXE_glexec");
    let needed = std::process::Command::new("readelf")
        .args(["-d", glexec])
        .output()
        .expect("readelf (binutils)");
    let needed = String::from_utf8_lossy(&needed.stdout);
    assert!(needed.contains("NEEDED"), "{needed}");
    for lib in ["libssl", "libcrypto", "libxml"] {
        assert!(!needed.contains(lib), "glexec needs {lib}: {needed}");
    }
    let syms = std::process::Command::new("nm")
        .args(["--defined-only", glexec])
        .output()
        .expect("nm (binutils)");
    let syms = String::from_utf8_lossy(&syms.stdout);
    assert!(syms.contains("glexec"), "no symbols to look at");
    for krate in [
        "openssl",
        "serde_json",
        "quick_xml",
        "jsonwebtoken",
        "x509_cert",
        "lcmaps_x509",
        "lcmaps_scitokens",
        "lcmaps_builtins",
        "lcmaps_host",
        "glexec_mapper",
    ] {
        let hits = syms.lines().filter(|l| l.contains(krate)).count();
        assert_eq!(hits, 0, "glexec links {krate}");
    }
    // The helper does link them (it is where they belong).
    let helper = std::process::Command::new("nm")
        .args(["--defined-only", env!("CARGO_BIN_EXE_glexec-mapper")])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&helper.stdout).contains("lcmaps_x509"));
}

/// The shipped OSG worker-node policy, unchanged but for its paths, the
/// PDP's address and the tracking range: the proxy is verified, the test
/// PDP maps it over the GUMS/XACML callout with the node's host
/// certificate (its key root's, readable by the mapping account's group),
/// the tracking plugin adds the gid glexec leased; the payload runs with
/// all of it.
#[test]
fn the_osg_worker_node_example_runs_separated() {
    use lcmaps_x509::fixtures;
    use lcmaps_xacml_pdp::{parse_map, Behaviour, Config, Server};
    need_root!();
    let w = World::new("", None);
    let ca = fixtures::ca("PDP CA");
    fixtures::install_ca(&w.path("certs"), &ca, &[]);
    let (host, host_key) = fixtures::user(&ca, "host/wn.example.org", 5);
    let hostcert = w.path("hostcert.pem");
    std::fs::write(&hostcert, host.to_pem().unwrap()).unwrap();
    let hostkey = w.path("hostkey.pem");
    std::fs::write(&hostkey, host_key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    chown(&hostkey, 0, MAPPER);
    chmod(&hostkey, 0o640);
    let (cert, key) = fixtures::server_cert(&ca, &["localhost"]);
    let pdp = Server::start(Config {
        cert,
        chain: Vec::new(),
        key,
        client_cas: vec![ca.cert.clone()],
        map: parse_map(&format!(
            "\"/DC=org/DC=example/CN=Jane Doe\" {TARGET} {TARGET} - dteam001\n"
        ))
        .unwrap(),
        behaviour: Behaviour::default(),
        port: 0,
    })
    .unwrap();
    let state = w.path("tracking-state");
    std::fs::create_dir(&state).unwrap();
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/osg-worker-node/lcmaps.db");
    let mut policy = std::fs::read_to_string(example).unwrap();
    for (from, to) in [
        (
            "/etc/grid-security/certificates".to_string(),
            w.path("certs").display().to_string(),
        ),
        (
            "/etc/grid-security/hostcert.pem".into(),
            hostcert.display().to_string(),
        ),
        (
            "/etc/grid-security/hostkey.pem".into(),
            hostkey.display().to_string(),
        ),
        (
            "https://gums.example.org:8443/gums/services/GUMSXACMLAuthorizationServicePort".into(),
            pdp.url(Some("localhost")),
        ),
        (
            "\"-min-gid 65000\" \"-max-gid 65049\"".into(),
            format!(
                "\"-min-gid 5600\" \"-max-gid 5649\" \"-statedir {}\"",
                state.display()
            ),
        ),
    ] {
        assert!(policy.contains(&from), "the example no longer has {from}");
        policy = policy.replace(&from, &to);
    }
    std::fs::write(w.path("etc/lcmaps-glexec.db"), policy).unwrap();
    let o = w.run(&[], &["/bin/sh", "-c", "id -u; id -G"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(&o), w.log());
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(TARGET.to_string().as_str()), "{out}");
    let groups: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert!(groups.contains(&"5600"), "tracking gid among {groups:?}");
    assert_eq!(pdp.requests(), 1, "one callout");
    assert!(w.log().contains("glexectracking"), "{}", w.log());
}
