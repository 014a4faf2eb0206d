//! The `lcmaps` command on good and bad configurations: exit codes and the
//! exact diagnostics.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn lcmaps() -> Command {
    let mut c = Command::cargo_bin("lcmaps").expect("binary built");
    for v in [
        "LCMAPS_DB_FILE",
        "LCMAPS_DIR",
        "LCMAPS_ETC_DIR",
        "LCMAPS_MODULES_DIR",
        "LCMAPS_DEBUG_LEVEL",
        "LCMAPS_LOG_FILE",
        "LCMAPS_POLICY_NAME",
        "X509_CERT_DIR",
    ] {
        c.env_remove(v);
    }
    c
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn check_accepts_the_examples() {
    lcmaps()
        .arg("check")
        .arg(example("lcmaps.db"))
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "lcmaps.db: ok (2 policies, 2 plugins; 0 errors, 0 warnings)\n",
        ))
        .stderr("");
}

#[test]
fn check_pins_every_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let db = write(
        &dir,
        "lcmaps.db",
        "good = \"lcmaps_dummy_good.mod --dummy-uid 10\"\n\
         good = \"lcmaps_dummy_good.mod\"\n\
         bad = \"lcmaps_dummy_bad.mod\n\
         unused = \"lcmaps_dummy_bad.mod\"\n\
         \n\
         glexec:\n\
         good -> bda | good\n\
         x = \"y\"\n",
    );
    let name = db.display().to_string();
    let expected = format!(
        "error: `good` is already declared on line 1
 --> {name}:2:1
  |
2 | good = \"lcmaps_dummy_good.mod\"
  | ^^^^
  = hint: rename one of the two declarations, or remove one

error: unterminated string: a string must end on the line it starts
 --> {name}:3:7
  |
3 | bad = \"lcmaps_dummy_bad.mod
  |       ^^^^^^^^^^^^^^^^^^^^^
  = hint: add the closing `\"`; to continue a plugin's arguments on the next line, close this string and start a new one there

error: `bda` is not a declared plugin, and there is no module file `bda` in /usr/lib/x86_64-linux-gnu/lcmaps
 --> {name}:7:9
  |
7 | good -> bda | good
  |         ^^^
  = hint: did you mean `bad`? Otherwise declare it above the first policy (`name = \"lcmaps_x.mod options\"`)

error: rule `good -> bda | good` loops: its failure branch `good` leads back to it
 --> {name}:7:15
  |
7 | good -> bda | good
  |               ^^^^
  = hint: LCMAPS refuses policies that can run forever; end the chain in a state without a rule of its own

error: declaration of `x` after the first policy
 --> {name}:8:1
  |
8 | x = \"y\"
  | ^
  = hint: LCMAPS reads declarations only before the first policy label (line 6); move it up

warning: plugin `unused` is declared but no rule uses it; it is not loaded
 --> {name}:4:1
  |
4 | unused = \"lcmaps_dummy_bad.mod\"
  | ^^^^^^
  = hint: use it in a policy, or remove the declaration

{name}: 5 errors, 1 warning
"
    );
    lcmaps()
        .arg("check")
        .arg(&db)
        .assert()
        .code(1)
        .stdout("")
        .stderr(expected);
}

#[test]
fn check_defaults_to_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "my.db",
        "p:\nlcmaps_dummy_good.mod -> lcmaps_dummy_bad.mod\n",
    );
    lcmaps()
        .arg("check")
        .env("LCMAPS_DIR", dir.path())
        .env("LCMAPS_DB_FILE", "my.db")
        .assert()
        .success()
        .stdout(predicate::str::contains("my.db: ok (1 policy, 2 plugins"));
    lcmaps()
        .arg("check")
        .env("LCMAPS_DB_FILE", "/nonexistent/lcmaps.db")
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: cannot read /nonexistent/lcmaps.db: No such file or directory (os error 2)\n",
        ));
    lcmaps()
        .arg("check")
        .env("LCMAPS_DEBUG_LEVEL", "7")
        .assert()
        .code(2)
        .stderr("lcmaps: bad environment: LCMAPS_DEBUG_LEVEL=\"7\": must be a number from 0 (errors only) to 5 (debug)\n");
}

#[test]
fn check_rejects_bad_bytes_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("nul.db", b"p:\na -> b\0\n", ":2:7\n"),
        ("latin1.db", b"# caf\xe9\np:\n", ":1:6\n"),
        ("crlf.db", b"p:\r\na -> b\r\n", ":1:3\n"),
    ];
    for (name, bytes, at) in cases {
        let db = write(&dir, name, bytes);
        lcmaps()
            .arg("check")
            .arg(&db)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!("{}{at}", db.display())));
    }
    let db = write(&dir, "crlf2.db", b"p:\r\na -> b\r\n");
    lcmaps()
        .arg("check")
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: the file has Windows (CRLF) line ends (2 carriage returns)",
        ));
}

#[test]
fn check_survives_garbage_and_huge_files() {
    let dir = tempfile::tempdir().unwrap();
    // 10 MB of printable garbage: reported (capped), no panic.
    let mut garbage = Vec::with_capacity(10 << 20);
    let mut x: u32 = 12345;
    while garbage.len() < 10 << 20 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let b = (x >> 16) as u8 % 96 + 32;
        garbage.push(if b == 127 { b'\n' } else { b });
        if x % 97 == 0 {
            garbage.push(b'\n');
        }
    }
    let db = write(&dir, "garbage.db", &garbage);
    lcmaps()
        .arg("check")
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the rest are not reported"));
    // 10 MB of random bytes: not UTF-8.
    let random: Vec<u8> = garbage.iter().map(|b| b.wrapping_mul(7)).collect();
    let db = write(&dir, "random.db", &random);
    lcmaps()
        .arg("check")
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not valid UTF-8"));
}

/// glexec's privilege separation: files the mapping account cannot read,
/// and a gridmapdir it cannot write to, are warnings at their plugins.
#[test]
fn check_warns_about_files_the_mapping_account_cannot_use() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(dir.path(), 0o755);
    let gm = write(&dir, "grid-mapfile", "\"/CN=Jane\" .dteam\n");
    mode(&gm, 0o600);
    let gmd = dir.path().join("gridmapdir");
    std::fs::create_dir(&gmd).unwrap();
    mode(&gmd, 0o755);
    let db = write(
        &dir,
        "lcmaps.db",
        format!(
            "pool = \"lcmaps_poolaccount.mod -gridmapfile {} -gridmapdir {}\"\np:\n~lcmaps_dummy_bad.mod -> pool\n",
            gm.display(),
            gmd.display()
        ),
    );
    lcmaps()
        .args(["check", "--mapping-account", "nobody"])
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 errors, 2 warnings"))
        .stderr(
            predicate::str::contains(format!(
                "warning: plugin pool: nobody cannot read {} (owner uid",
                gm.display()
            ))
            .and(predicate::str::contains(format!(
                "warning: plugin pool: nobody cannot write to {} (owner uid",
                gmd.display()
            )))
            .and(predicate::str::contains(":1:1")),
        );
    // Readable by all, and the gridmapdir nobody's own would be fine; an
    // unknown account is a warning of its own.
    mode(&gm, 0o644);
    lcmaps()
        .args(["check", "--mapping-account", "no-such-account-here"])
        .arg(&db)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "mapping account: no account no-such-account-here",
        ));
}

#[test]
fn check_handles_100k_lines_and_a_10k_state_chain() {
    let dir = tempfile::tempdir().unwrap();
    // 10,000 distinct module files so that the chain is valid.
    let mods = dir.path().join("mods");
    std::fs::create_dir(&mods).unwrap();
    let mut db = String::from("chain:\n");
    for i in 0..10_000 {
        std::fs::write(mods.join(format!("m{i}.mod")), "").unwrap();
        db.push_str(&format!("m{i}.mod -> m{}.mod\n", i + 1));
    }
    std::fs::write(mods.join("m10000.mod"), "").unwrap();
    let file = write(&dir, "chain.db", &db);
    lcmaps()
        .arg("check")
        .arg(&file)
        .env("LCMAPS_MODULES_DIR", &mods)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ok (1 policy, 10001 plugins; 0 errors, 0 warnings)",
        ));

    // 100,000 lines: 20,000 policies over the built-ins.
    let mut big = String::from("g = \"lcmaps_dummy_good.mod\"\nb = \"lcmaps_dummy_bad.mod\"\n");
    for p in 0..20_000 {
        big.push_str(&format!("p{p}:\n~b -> g\n# comment\n\n\n"));
    }
    assert!(big.lines().count() >= 100_000);
    let file = write(&dir, "big.db", &big);
    lcmaps()
        .arg("check")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ok (20000 policies, 2 plugins; 0 errors, 0 warnings)",
        ));
}

#[test]
fn map_runs_the_demo() {
    lcmaps()
        .args(["map", "--dn", "/DC=org/DC=example/CN=Jane Doe", "--db"])
        .arg(example("lcmaps.db"))
        .assert()
        .success()
        .stdout(predicate::str::contains("Mapped by policy fallback:"))
        .stdout(predicate::str::contains(
            "LCMAPS CRED FINAL: mapped uid:'1000',pgid:'1000',sgid:'1001'\n",
        ))
        .stdout(
            predicate::str::is_match(r"(?m)^  strict +deny +lcmaps_dummy_bad\.mod +failure ")
                .unwrap(),
        );
}

#[test]
fn map_json_and_policy_selection() {
    let out = lcmaps()
        .args([
            "map",
            "--json",
            "--dn",
            "/CN=x",
            "--fqan",
            "/dteam/Role=NULL/Capability=NULL",
        ])
        .arg("--db")
        .arg(example("lcmaps.db"))
        .args(["--policy", "strict"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["mapped"], false);
    assert_eq!(v["status"], "failure");
    assert_eq!(v["policies"], serde_json::json!(["strict"]));
    assert_eq!(
        v["fqans"],
        serde_json::json!(["/dteam/Role=NULL/Capability=NULL"])
    );
    assert_eq!(v["steps"].as_array().unwrap().len(), 1);
    assert_eq!(v["steps"][0]["plugin"], "deny");

    // LCMAPS_POLICY_NAME selects policies when --policy is not given.
    let out = lcmaps()
        .args(["map", "--json", "--dn", "/CN=x", "--db"])
        .arg(example("lcmaps.db"))
        .env("LCMAPS_POLICY_NAME", "nope:fallback")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["policy"], "fallback");
    assert_eq!(v["credentials"]["uids"], serde_json::json!([1000]));
    assert_eq!(
        v["credentials"]["secondary_gids"],
        serde_json::json!([1001])
    );
    assert_eq!(v["credentials"]["pool_index"], "dummy%201000%201000");
}

#[test]
fn map_exit_codes_for_bad_configurations() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(&dir, "broken.db", "p:\na -> \n");
    lcmaps()
        .args(["map", "--dn", "/CN=x", "--db"])
        .arg(&broken)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("; not mapping"));
    // Valid file, but a plugin refuses its options at initialization.
    let init = write(
        &dir,
        "init.db",
        "g = \"lcmaps_dummy_good.mod --dummy-uid 12x\"\np:\ng -> lcmaps_dummy_bad.mod\n",
    );
    lcmaps().args(["map", "--dn", "/CN=x", "--db"]).arg(&init).assert().code(2).stderr(
        predicate::str::contains(
            "plugin `g` (lcmaps_dummy_good.mod) failed to initialize: --dummy-uid: `12x` is not a number",
        ),
    );
    // Success of the last plugin without a uid is not a mapping.
    let nouid = write(
        &dir,
        "nouid.db",
        "p:\n~lcmaps_dummy_good.mod -> lcmaps_dummy_bad.mod\n",
    );
    lcmaps()
        .args(["map", "--dn", "/CN=x", "--db"])
        .arg(&nouid)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "Not mapped (LCMAPS result: success, but no uid and primary gid).",
        ));
}

#[test]
fn map_logs_in_lcmaps_format_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("lcmaps.log");
    lcmaps()
        .args(["map", "--verbose", "--dn", "/CN=x", "--db"])
        .arg(example("lcmaps.db"))
        .env("LCMAPS_LOG_FILE", &log)
        .env("LCMAPS_LOG_STRING", "demo")
        .assert()
        .success();
    let text = std::fs::read_to_string(&log).unwrap();
    let re = regex_lite(
        r"lcmaps\[\d+\]    LOG_INFO: \d{4}-\d\d-\d\d\.\d\d:\d\d:\d\dZ: demo: Starting policy: strict",
    );
    assert!(re(&text), "{text}");
    assert!(text.contains("  LOG_NOTICE: ",));
    assert!(
        text.contains("demo: LCMAPS CRED FINAL: mapped uid:'1000',pgid:'1000',sgid:'1001'\n"),
        "{text}"
    );
}

/// A tiny matcher via the `predicates` crate's regex support.
fn regex_lite(re: &str) -> impl Fn(&str) -> bool {
    let p = predicate::str::is_match(re).unwrap();
    move |s| p.eval(s)
}

#[test]
fn check_accepts_the_worker_node_example() {
    // The example names Debian's C plugins in /usr/lib/lcmaps; check it
    // against a directory holding files of those names.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("worker-node.db")).unwrap();
    for m in [
        "lcmaps_verify_proxy.mod",
        "lcmaps_ban_dn.mod",
        "lcmaps_voms_localgroup.mod",
        "lcmaps_voms_poolaccount.mod",
        "lcmaps_poolaccount.mod",
        "lcmaps_posix_enf.mod",
    ] {
        write(&dir, m, "");
    }
    let db = write(
        &dir,
        "worker-node.db",
        text.replace(
            "path = /usr/lib/lcmaps",
            &format!("path = {}", dir.path().display()),
        ),
    );
    lcmaps()
        .arg("check")
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ok (2 policies, 6 plugins; 0 errors, 0 warnings)",
        ));
    // Every plugin it names is built in, so it also checks without the
    // module files; a module that is neither built in nor installed (here
    // Argus's lcmaps_c_pep.mod) is an error at its declaration.
    let empty = tempfile::tempdir().unwrap();
    let db = write(
        &empty,
        "worker-node.db",
        text.replace(
            "path = /usr/lib/lcmaps",
            &format!("path = {}", empty.path().display()),
        ),
    );
    lcmaps().arg("check").arg(&db).assert().success();
    let db = write(
        &empty,
        "pep.db",
        text.replace(
            "path = /usr/lib/lcmaps",
            &format!("path = {}", empty.path().display()),
        )
        .replace("lcmaps_voms_localgroup.mod", "lcmaps_c_pep.mod"),
    );
    lcmaps()
        .arg("check")
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "error: module file `lcmaps_c_pep.mod` not found in {}\n  --> {}:14:20\n",
            empty.path().display(),
            db.display()
        )))
        .stderr(predicate::str::contains("1 error, 0 warnings"));
}

#[test]
fn check_lcas_db() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        &dir,
        "lcas.db",
        "# LCAS\npluginname=\"lcas_userban.mod\",pluginargs=\"ban_users.db\"\n\
         pluginname=\"lcas_timeslots.mod\",pluginargs=\"timeslots.db\"\n",
    );
    lcmaps()
        .args(["check", "--lcas"])
        .arg(&good)
        .env_remove("LCAS_MODULES_DIR")
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "lcas.db: ok (2 plugins; 0 errors, 0 warnings)\n",
        ));
    let bad = write(
        &dir,
        "bad.db",
        "pluginname=\"lcas_userban.mod\",pluginargs=\"ban_users.db\"\npluginname=\"lcas_userban.mod\"\n",
    );
    lcmaps()
        .args(["check", "--lcas"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "error: module `lcas_userban.mod` is already listed on line 1; LCAS loads a module once\n --> {}:2:12\n",
            bad.display()
        )));
}

#[test]
fn check_accepts_the_osg_example() {
    lcmaps()
        .arg("check")
        .arg(example("osg-worker-node/lcmaps.db"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ok (2 policies, 4 plugins; 0 errors, 0 warnings)",
        ));
}

#[test]
fn check_accepts_the_glexec_examples() {
    lcmaps()
        .arg("check")
        .arg(example("glexec/lcmaps-glexec.db"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ok (2 policies, 4 plugins; 0 errors, 0 warnings)",
        ));
    lcmaps()
        .args(["check", "--lcas"])
        .arg(example("glexec/lcas-glexec.db"))
        .env_remove("LCAS_MODULES_DIR")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ok (2 plugins; 0 errors, 0 warnings)",
        ));
}

/// A self-signed CA certificate `/CN=<cn>` (PEM) and its subject hash.
fn ca_pem(cn: &str) -> (Vec<u8>, u32) {
    use openssl::{asn1::Asn1Time, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = x509::X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let c = b.build();
    (c.to_pem().unwrap(), c.subject_name_hash())
}

/// `lcmaps check` warns (exit 0) about each CA of verify_proxy's CA
/// directory without a CRL, at the plugin's declaration, naming the CA and
/// the file looked for.
#[test]
fn check_warns_about_a_ca_without_crl_in_the_verify_proxy_certdir() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certificates");
    std::fs::create_dir(&certs).unwrap();
    let (pem, hash) = ca_pem("No CRL CA");
    std::fs::write(certs.join(format!("{hash:08x}.0")), pem).unwrap();
    let db = write(
        &dir,
        "lcmaps.db",
        format!(
            "vp = \"lcmaps_verify_proxy.mod -certdir {}\"\n\
             good = \"lcmaps_dummy_good.mod\"\n\
             p:\n\
             vp -> good\n",
            certs.display()
        ),
    );
    let looked_for = certs.join(format!("{hash:08x}.r0"));
    lcmaps()
        .arg("check")
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 errors, 1 warning"))
        .stderr(predicate::str::contains(format!(
            "warning: plugin vp: CA \"/CN=No CRL CA\" in {} has no CRL (looked for {}): \
             its certificates are accepted without a revocation check\n --> {}:1:1\n",
            certs.display(),
            looked_for.display(),
            db.display()
        )));
    // With --crl-mode require the same CA refuses every proxy it issued.
    let db = write(
        &dir,
        "require.db",
        format!(
            "vp = \"lcmaps_verify_proxy.mod -certdir {} --crl-mode require\"\n\
             good = \"lcmaps_dummy_good.mod\"\n\
             p:\n\
             vp -> good\n",
            certs.display()
        ),
    );
    lcmaps()
        .arg("check")
        .arg(&db)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "--crl-mode require refuses every certificate it issued",
        ));
}

/// `lcmaps map --proxy FILE` maps a PEM proxy as a gatekeeper's
/// `lcmaps_run_with_pem_and_return_account` does: the DN is the chain's,
/// the FQANs are its VOMS attributes that verify, and verify_proxy sees the
/// chain. A chain from an untrusted CA is refused by verify_proxy; a file
/// that is not a proxy is a usage error naming the file; `--proxy` with
/// `--dn` or `--fqan` is refused (the proxy says both).
#[test]
fn map_a_proxy_file() {
    use lcmaps_x509::fixtures::{self, AcSpec, Kind, Tweak};
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let vomsdir = dir.path().join("vomsdir");
    std::fs::create_dir_all(&certs).unwrap();
    let ca = fixtures::ca("Test CA");
    fixtures::install_ca(&certs, &ca, &[]);
    let (server, server_key) = fixtures::voms_server(&ca, "voms.example.org");
    fixtures::install_lsc(&vomsdir, "dteam", "voms.example.org", &server);
    let (user, user_key) = fixtures::user(&ca, "Jane Doe", 7);
    let fqan = "/dteam/Role=NULL/Capability=NULL";
    let ac = fixtures::ac(&AcSpec {
        holder: &user,
        signer: &server,
        signer_key: &server_key,
        vo: "dteam",
        host: "voms.example.org",
        fqans: vec![fqan.into()],
        not_before: fixtures::now() - 3600,
        not_after: fixtures::now() + 3600,
        holder_by_subject: false,
    });
    let tweak = Tweak {
        extra: vec![fixtures::acseq_ext(vec![ac])],
        ..Tweak::default()
    };
    let (proxy, proxy_key) = fixtures::proxy(&user, &user_key, Kind::Rfc, tweak);
    let pem = write(
        &dir,
        "proxy.pem",
        fixtures::pem(&[&proxy, &user], Some(&proxy_key)),
    );
    let rogue = fixtures::ca("Rogue CA");
    let (ruser, rkey) = fixtures::user(&rogue, "Jane Doe", 8);
    let (rproxy, rpkey) = fixtures::proxy(&ruser, &rkey, Kind::Rfc, Tweak::default());
    let rogue_pem = write(
        &dir,
        "rogue.pem",
        fixtures::pem(&[&rproxy, &ruser], Some(&rpkey)),
    );
    let grid_mapfile = write(
        &dir,
        "grid-mapfile",
        "\"/DC=org/DC=example/CN=Jane Doe\" nobody\n",
    );
    let db = write(
        &dir,
        "lcmaps.db",
        format!(
            "vp = \"lcmaps_verify_proxy.mod\" \"-certdir {}\"\n\
             la = \"lcmaps_localaccount.mod\" \"-gridmapfile {}\"\n\
             p:\nvp -> la\n",
            certs.display(),
            grid_mapfile.display()
        ),
    );
    let map = |proxy: &Path| {
        let mut c = lcmaps();
        c.args(["map", "--json", "--proxy"])
            .arg(proxy)
            .arg("--db")
            .arg(&db)
            .env("X509_CERT_DIR", &certs)
            .env("X509_VOMS_DIR", &vomsdir);
        c
    };
    let out = map(&pem).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["dn"], "/DC=org/DC=example/CN=Jane Doe");
    assert_eq!(v["fqans"], serde_json::json!([fqan]));
    assert_eq!(v["steps"][0]["plugin"], "vp");
    assert_eq!(v["steps"][0]["result"], "success");
    assert_eq!(v["credentials"]["uids"], serde_json::json!([65534]));

    let out = map(&rogue_pem).assert().code(1).get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["mapped"], false);
    assert_eq!(v["steps"][0]["result"], "failure");
    assert_eq!(v["steps"].as_array().unwrap().len(), 1);

    map(&grid_mapfile)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(grid_mapfile.display().to_string()))
        .stderr(predicate::str::contains("not a usable proxy"));
    for extra in [["--dn", "/CN=x"], ["--fqan", fqan]] {
        map(&pem).args(extra).assert().code(2);
    }
}
