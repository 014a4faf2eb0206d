//! The credential entry points that take no PEM text, from a C caller:
//! `lcmaps_run_with_stack_of_x509_and_return_account` (compared with
//! Debian's LCMAPS) and lcmaps-rs's `lcmaps_rs_run_with_token_and_return_account`.

#[path = "../../lcmaps-plugins/lcmaps-scitokens/tests/common/mod.rs"]
mod tokens;

use std::path::{Path, PathBuf};
use std::process::Command;

use ffi_tests::*;
use lcmaps_x509::fixtures::{self, Kind, Tweak};
use serde_json::json;

/// `cred_client` built against `include` (and linked with `-llcmaps` from
/// `libdir`, or the system's).
fn cred_client(dir: &Path, name: &str, include: &str, libdir: Option<&Path>) -> PathBuf {
    build_program(
        dir,
        &c_source("cred_client.c"),
        name,
        &[format!("-I{include}")],
        libdir,
        &["-llcmaps", "-lcrypto"],
    )
}

#[test]
fn a_stack_of_x509_maps_as_its_pem_does_and_as_debian_maps_it() {
    let t = "a_stack_of_x509_maps_as_its_pem_does_and_as_debian_maps_it";
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    // A STACK_OF(X509) carries no private key: verify_proxy (Debian's and
    // ours) is told not to require one, as a site using this call must.
    let ca = fixtures::ca("Test CA");
    let (user, ukey) = fixtures::user(&ca, "Jane Doe", 7);
    let (p, pkey) = fixtures::proxy(&user, &ukey, Kind::Rfc, Tweak::default());
    let proxy = tmp.path().join("proxy.pem");
    std::fs::write(&proxy, fixtures::pem(&[&p, &user], Some(&pkey))).unwrap();
    let gridmap = tmp.path().join("grid-mapfile");
    std::fs::write(&gridmap, "\"/DC=org/DC=example/CN=Jane Doe\" root\n").unwrap();
    let certs = tmp.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    fixtures::install_ca(&certs, &ca, &[]);
    let db = tmp.path().join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "path = {DEBIAN_PLUGINS}\n\
             vp = \"lcmaps_verify_proxy.mod -certdir {} --discard_private_key_absence\"\n\
             local = \"lcmaps_localaccount.mod -gridmapfile {}\"\n\
             stack:\nvp -> local\n",
            certs.display(),
            gridmap.display()
        ),
    )
    .unwrap();
    let ours = cred_client(
        tmp.path(),
        "cc_ours",
        &include_dir().display().to_string(),
        Some(&clib),
    );
    // (program, LD_LIBRARY_PATH, LCMAPS_RS_BUILTINS)
    let mut runs: Vec<(PathBuf, Option<PathBuf>, &str)> =
        vec![(ours.clone(), Some(clib.clone()), "on")];
    let debian_plugins = Path::new(DEBIAN_PLUGINS)
        .join("lcmaps_verify_proxy.mod")
        .exists()
        && Path::new(DEBIAN_PLUGINS)
            .join("lcmaps_localaccount.mod")
            .exists();
    if have_debian_lcmaps() && debian_plugins {
        // Debian's C plugins in our engine, and Debian's LCMAPS.
        runs.push((ours.clone(), Some(clib.clone()), "off"));
        let debian = cred_client(tmp.path(), "cc_debian", DEBIAN_INCLUDE, None);
        runs.push((debian, None, "off"));
    } else {
        skip(
            t,
            "Debian's LCMAPS and plugins are not installed: lcmaps-rs built-ins only",
        );
    }
    let mut outs = vec![];
    for (exe, ld, builtins) in &runs {
        let mut cmd = Command::new(exe);
        cmd.args(["stack", proxy.to_str().unwrap()])
            .env("LCMAPS_DB_FILE", &db)
            .env("LCMAPS_RS_BUILTINS", builtins)
            .env("LCMAPS_DEBUG_LEVEL", "5");
        if let Some(l) = ld {
            cmd.env("LD_LIBRARY_PATH", l);
        }
        let r = run(&mut cmd);
        assert_eq!(r.code, 0, "{}: {}{}", exe.display(), r.stdout, r.stderr);
        assert!(
            r.stderr.contains("DN:\"/DC=org/DC=example/CN=Jane Doe\""),
            "{}",
            r.stderr
        );
        outs.push(r.stdout);
    }
    assert!(outs[0].starts_with("rc=0 uid=0 pgid=0"), "{}", outs[0]);
    // The caller's stack is intact after the call (2 certificates).
    assert!(outs[0].contains("chain=2"), "{}", outs[0]);
    for o in &outs[1..] {
        assert_eq!(o, &outs[0], "every library/plugin combination maps alike");
    }

    // A chain from an unknown CA is refused; an empty stack is an error.
    let rogue = fixtures::ca("Rogue CA");
    let (ru, rk) = fixtures::user(&rogue, "Jane Doe", 9);
    let (rp, rpk) = fixtures::proxy(&ru, &rk, Kind::Rfc, Tweak::default());
    std::fs::write(&proxy, fixtures::pem(&[&rp, &ru], Some(&rpk))).unwrap();
    for (exe, ld, builtins) in &runs {
        let mut cmd = Command::new(exe);
        cmd.args(["stack", proxy.to_str().unwrap()])
            .env("LCMAPS_DB_FILE", &db)
            .env("LCMAPS_RS_BUILTINS", builtins);
        if let Some(l) = ld {
            cmd.env("LD_LIBRARY_PATH", l);
        }
        let r = run(&mut cmd);
        assert_eq!(r.code, 1, "{}: {}{}", exe.display(), r.stdout, r.stderr);
        assert!(r.stdout.starts_with("rc=1"), "{}", r.stdout);
    }
    std::fs::write(&proxy, "no certificates here\n").unwrap();
    let r = run(Command::new(&ours)
        .args(["stack", proxy.to_str().unwrap()])
        .env("LD_LIBRARY_PATH", &clib)
        .env("LCMAPS_DB_FILE", &db));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("the stack holds no certificate"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_token_maps_through_the_c_entry_point() {
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let w = tokens::World::new();
    std::fs::write(
        &w.mapfile,
        format!("\"{}\" group \"/cms/uscms\" root\n", tokens::AUTH),
    )
    .unwrap();
    let db = tmp.path().join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "token = \"lcmaps_scitokens.mod -issuers {} -mapfile {}\"\ntokens:\n~lcmaps_dummy_bad.mod -> token\n",
            w.issuers.display(),
            w.mapfile.display()
        ),
    )
    .unwrap();
    let exe = cred_client(
        tmp.path(),
        "cc_token",
        &include_dir().display().to_string(),
        Some(&clib),
    );
    let now = lcmaps_scitokens::time::now();
    let mut claims = w.claims();
    claims["exp"] = json!(now + 600);
    claims["nbf"] = json!(now - 5);
    claims["iat"] = json!(now - 5);
    let file = tmp.path().join("token");
    let map = |text: &str| {
        std::fs::write(&file, text).unwrap();
        run(Command::new(&exe)
            .args(["token", file.to_str().unwrap()])
            .env("LD_LIBRARY_PATH", &clib)
            .env("LCMAPS_DB_FILE", &db)
            .env("LCMAPS_DEBUG_LEVEL", "5"))
    };
    let r = map(&(w.es256(&claims) + "\n"));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("rc=0 uid=0 pgid=0"), "{}", r.stdout);

    // Expired, wrong signature, garbage, empty and 1 MB: refused, cleanly.
    claims["exp"] = json!(now - 3600);
    let expired = w.rs256(&claims);
    claims["exp"] = json!(now + 600);
    let mut forged = w.rs256(&claims);
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    for (what, text, says) in [
        ("expired", expired, "expired"),
        ("forged", forged, "signature"),
        ("garbage", "not.a.token".to_string(), ""),
        ("empty", String::new(), "no token given"),
        ("1 MB", "a".repeat(1 << 20), "more than the"),
    ] {
        let r = map(&text);
        assert_eq!(r.code, 1, "{what}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.starts_with("rc=1"), "{what}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{what}: {}", r.stderr);
    }
}
