//! The C caller API of liblcmaps_rs.so, driven by C programs built with gcc
//! against our headers and Debian's, and compared with Debian's LCMAPS on
//! Debian's own plugins.

use std::path::Path;
use std::process::Command;

use ffi_tests::*;

/// An lcmaps.db with our test plugin that uses every callback.
fn plugin_all_db(dir: &Path) -> std::path::PathBuf {
    let m = build_plugin(dir, "plugin_all.c", "plugin_all.mod", &[]);
    let db = dir.join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "all = \"{} --uid 501 --gid 500 --sgid 600\"\nstandard:\n~all -> lcmaps_dummy_bad.mod\n",
            m.display(),
        ),
    )
    .unwrap();
    db
}

fn gatekeeper(dir: &Path, name: &str, include: &str, libdir: Option<&Path>) -> std::path::PathBuf {
    build_program(
        dir,
        &c_source("gatekeeper.c"),
        name,
        &[format!("-I{include}")],
        libdir,
        &["-llcmaps"],
    )
}

#[test]
fn gatekeeper_from_our_headers_and_debians_runs_on_our_library() {
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let db = plugin_all_db(tmp.path());
    let ours = gatekeeper(
        tmp.path(),
        "gk_ours",
        &include_dir().display().to_string(),
        Some(&clib),
    );
    let mut outputs = vec![];
    let mut exes = vec![ours];
    if have_debian_lcmaps() {
        exes.push(gatekeeper(tmp.path(), "gk_debian", DEBIAN_INCLUDE, None));
    } else {
        skip(
            "gatekeeper (Debian headers half)",
            "liblcmaps-dev is not installed",
        );
    }
    for exe in &exes {
        let r = run(Command::new(exe)
            .args(["account", "/CN=Jane", "/dteam/Role=NULL/Capability=NULL"])
            .env("LD_LIBRARY_PATH", &clib)
            .env("LCMAPS_DB_FILE", &db)
            .env("LCMAPS_DEBUG_LEVEL", "5"));
        assert_eq!(r.code, 0, "{}: {}{}", exe.display(), r.stdout, r.stderr);
        assert!(
            r.stderr.contains("lcmaps-rs"),
            "ran on our library: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("LCMAPS CRED FINAL: DN:\"/CN=Jane\"->mapped uid:'501',pgid:'500',sgid:'600',sgid:'602'"),
            "{}",
            r.stderr
        );
        outputs.push(r.stdout);
    }
    assert_eq!(
        outputs[0],
        "rc=0 uid=501 pgid=500 sgid=600,602 poolindex=pool-index-1\n"
    );
    for o in &outputs {
        assert_eq!(o, &outputs[0]);
    }
}

#[test]
fn init_on_a_broken_lcmaps_db_fails_with_file_line_col() {
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let gk = gatekeeper(
        tmp.path(),
        "gk",
        &include_dir().display().to_string(),
        Some(&clib),
    );
    let db = tmp.path().join("broken.db");
    std::fs::write(
        &db,
        "good = \"lcmaps_dummy_good.mod\"\nstandard:\ngood -> \n",
    )
    .unwrap();
    let r = run(Command::new(&gk)
        .args(["account", "/CN=x"])
        .env("LD_LIBRARY_PATH", &clib)
        .env("LCMAPS_DB_FILE", &db));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "init=1\n");
    let loc = format!("{}:3:", db.display());
    assert!(
        r.stderr.contains(&loc),
        "diagnostic with file:line:col: {}",
        r.stderr
    );
    assert!(r.stderr.contains("LOG_ERR"), "{}", r.stderr);
    // A missing file too.
    let r = run(Command::new(&gk)
        .args(["account", "/CN=x"])
        .env("LD_LIBRARY_PATH", &clib)
        .env("LCMAPS_DB_FILE", tmp.path().join("nope.db")));
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("nope.db"), "{}", r.stderr);
    // A bad LCMAPS_DEBUG_LEVEL fails init as in LCMAPS.
    let r = run(Command::new(&gk)
        .args(["account", "/CN=x"])
        .env("LD_LIBRARY_PATH", &clib)
        .env("LCMAPS_DB_FILE", &db)
        .env("LCMAPS_DEBUG_LEVEL", "9"));
    assert_eq!(r.code, 3);
}

/// Issue #16 item 3: a refused `lcmaps_run_*_and_return_account` names, at
/// the default LCMAPS_DEBUG_LEVEL, the plugin that refused and its reason,
/// also for a C plugin that logs nothing itself.
#[test]
fn a_refused_mapping_names_the_plugin_and_its_reason_at_the_default_level() {
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let gk = gatekeeper(
        tmp.path(),
        "gk",
        &include_dir().display().to_string(),
        Some(&clib),
    );
    let silent = build_plugin(
        tmp.path(),
        "plugin_bad.c",
        "silent.mod",
        &["-DRETURN_CODE=42"],
    );
    let db = tmp.path().join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "silent = \"{}\"\nfirst:\nsilent -> lcmaps_dummy_good.mod\nsecond:\nlcmaps_dummy_bad.mod -> lcmaps_dummy_good.mod\n",
            silent.display()
        ),
    )
    .unwrap();
    let log = tmp.path().join("lcmaps.log");
    let r = run(Command::new(&gk)
        .args(["account", "/CN=x"])
        .env("LD_LIBRARY_PATH", &clib)
        .env("LCMAPS_DB_FILE", &db)
        .env("LCMAPS_LOG_FILE", &log)
        .env_remove("LCMAPS_DEBUG_LEVEL"));
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let log = format!(
        "{}{}",
        r.stderr,
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    for needle in [
        // The silent C plugin: its return code.
        "silent.mod plugin_run() returned 42: failure",
        // The built-in: its own reason.
        "lcmaps_dummy_bad-plugin_run(): bad plugin successfully failed by design",
        // Which plugin ended each policy, at LOG_ERR.
        "LOG_ERR",
        "policy \"first\" failed at plugin \"silent\"",
        "policy \"second\" failed at plugin \"lcmaps_dummy_bad.mod\" (lcmaps_dummy_bad.mod)",
    ] {
        assert!(log.contains(needle), "{needle}: {log}");
    }
}

#[test]
fn bad_input_null_pointers_init_order_pem_and_helper_libraries() {
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let db = plugin_all_db(tmp.path());
    let exe = tmp.path().join("badinput");
    let inc = format!("-I{}", include_dir().display());
    let libdir = format!("-L{}", clib.display());
    let src = c_source("badinput.c");
    gcc(&[
        "-Wall",
        "-Wno-deprecated-declarations",
        "-Wno-nonnull",
        &inc,
        "-o",
        exe.to_str().unwrap(),
        src.to_str().unwrap(),
        &libdir,
        "-llcmaps",
        "-llcmaps_return_account_from_pem",
        "-llcmaps_verify_account_from_pem",
        "-llcmaps_gss_assist_gridmap",
    ]);
    let mut cmd = Command::new(&exe);
    cmd.arg("/CN=Jane")
        .env("LD_LIBRARY_PATH", &clib)
        .env("LCMAPS_DB_FILE", &db)
        .env("LCMAPS_LOG_FILE", tmp.path().join("lcmaps.log"));
    let nss = Path::new(NSS_WRAPPER).exists();
    if nss {
        cmd.envs(nss_env(tmp.path()));
    } else {
        skip("gk501 user name lookups", "libnss-wrapper is not installed");
    }
    let r = run(&mut cmd);
    assert!(!r.stdout.contains("FAIL"), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("failures=0"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    if nss {
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("user=gk501\n"), "{}", r.stdout);
        assert!(r.stdout.contains("gridmap user=gk501\n"), "{}", r.stdout);
    }
    let log = std::fs::read_to_string(tmp.path().join("lcmaps.log")).unwrap_or_default();
    let all = format!("{}{log}", r.stderr);
    assert!(all.contains("cannot use the PEM credential"), "{all}");
    assert!(all.contains("Caught signal SIGPIPE"), "{all}");
    assert!(
        all.contains("The number of arguments (3) should be 2"),
        "{all}"
    );
}

/// One scenario for the Debian comparison: policy, DN, FQANs, mapcounter.
struct Case {
    policy: &'static str,
    dn: &'static str,
    fqans: &'static [&'static str],
    mapcounter: &'static str,
}

const CASES: &[Case] = &[
    Case {
        policy: "standard",
        dn: "/CN=alice",
        fqans: &[],
        mapcounter: "0",
    },
    Case {
        policy: "standard",
        dn: "/CN=bob",
        fqans: &[],
        mapcounter: "0",
    },
    Case {
        policy: "standard",
        dn: "/CN=bob",
        fqans: &[],
        mapcounter: "0",
    },
    Case {
        policy: "standard",
        dn: "/CN=carol smith",
        fqans: &[],
        mapcounter: "0",
    },
    Case {
        policy: "standard",
        dn: "/CN=evil",
        fqans: &[],
        mapcounter: "0",
    },
    Case {
        policy: "standard",
        dn: "/CN=nobody",
        fqans: &[],
        mapcounter: "0",
    },
    Case {
        policy: "standard",
        dn: "/CN=bob",
        fqans: &[],
        mapcounter: "1",
    },
    Case {
        policy: "voms",
        dn: "/CN=dave",
        fqans: &["/dteam/Role=NULL/Capability=NULL"],
        mapcounter: "0",
    },
    Case {
        policy: "voms",
        dn: "/CN=erin",
        fqans: &[
            "/atlas/Role=NULL/Capability=NULL",
            "/dteam/Role=NULL/Capability=NULL",
        ],
        mapcounter: "0",
    },
    Case {
        policy: "voms",
        dn: "/CN=frank",
        fqans: &["/cms/Role=NULL/Capability=NULL"],
        mapcounter: "0",
    },
    Case {
        policy: "banfqan",
        dn: "/CN=gina",
        fqans: &["/evil/Role=NULL/Capability=NULL"],
        mapcounter: "0",
    },
    Case {
        policy: "banfqan",
        dn: "/CN=alice",
        fqans: &["/dteam/Role=NULL/Capability=NULL"],
        mapcounter: "0",
    },
    Case {
        policy: "vlocal",
        dn: "/CN=hank",
        fqans: &["/dteam/Role=NULL/Capability=NULL"],
        mapcounter: "0",
    },
    Case {
        policy: "poolgroup",
        dn: "/CN=kim",
        fqans: &["/cms/Role=NULL/Capability=NULL"],
        mapcounter: "0",
    },
    Case {
        policy: "poolgroup",
        dn: "/CN=lee",
        fqans: &["/cms/Role=NULL/Capability=NULL"],
        mapcounter: "0",
    },
    Case {
        policy: "poolgroup",
        dn: "/CN=kim",
        fqans: &["/cms/Role=NULL/Capability=NULL"],
        mapcounter: "0",
    },
    Case {
        policy: "banfqan",
        dn: "/CN=alice",
        fqans: &[],
        mapcounter: "0",
    },
    Case {
        policy: "dummies",
        dn: "/CN=ivan",
        fqans: &[],
        mapcounter: "0",
    },
    Case {
        policy: "verifyproxy",
        dn: "/CN=ivan",
        fqans: &[],
        mapcounter: "0",
    },
];

fn debian_db(dir: &Path) -> std::path::PathBuf {
    let d = dir.display();
    std::fs::write(
        dir.join("grid-mapfile"),
        "\"/CN=alice\" alice\n\"/CN=bob\" .pool\n\"/CN=carol*\" .pool\n\"/dteam/*\" .dtp\n\"/cms/*\" .dtp\n",
    )
    .unwrap();
    std::fs::write(dir.join("voms-mapfile"), "\"/dteam/*\" alice\n").unwrap();
    std::fs::write(
        dir.join("groupmapfile"),
        "\"/dteam/*\" dteamgrp\n\"/atlas/*\" atlasgrp\n",
    )
    .unwrap();
    std::fs::write(dir.join("ban"), "\"/CN=evil\"\n\"/evil/*\"\n").unwrap();
    std::fs::write(dir.join("poolgroupmapfile"), "\"/cms/*\" .cmsgrp\n").unwrap();
    let db = dir.join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "path = {DEBIAN_PLUGINS}\n\
             localaccount = \"lcmaps_localaccount.mod -gridmapfile {d}/grid-mapfile\"\n\
             poolaccount = \"lcmaps_poolaccount.mod -gridmapfile {d}/grid-mapfile -gridmapdir {d}/gmd -max_mappings_per_credential 2\"\n\
             ban_dn = \"lcmaps_ban_dn.mod -banmapfile {d}/ban\"\n\
             ban_fqan = \"lcmaps_ban_fqan.mod -banmapfile {d}/ban\"\n\
             vlg = \"lcmaps_voms_localgroup.mod -groupmapfile {d}/groupmapfile -mapmin 1\"\n\
             vpa = \"lcmaps_voms_poolaccount.mod -gridmapfile {d}/grid-mapfile -gridmapdir {d}/gmd\"\n\
             vla = \"lcmaps_voms_localaccount.mod -gridmapfile {d}/voms-mapfile\"\n\
             enf = \"lcmaps_posix_enf.mod -maxuid 1 -maxpgid 1\"\n\
             vpg = \"lcmaps_voms_poolgroup.mod -groupmapfile {d}/poolgroupmapfile -groupmapdir {d}/ggmd -mapmin 1\"\n\
             good = \"{DEBIAN_PLUGINS}/lcmaps_dummy_good.mod\"\n\
             bad = \"{DEBIAN_PLUGINS}/lcmaps_dummy_bad.mod\"\n\
             proxy = \"lcmaps_verify_proxy.mod\"\n\
             standard:\n\
             ban_dn -> localaccount\n\
             localaccount -> good | poolaccount\n\
             voms:\n\
             vlg -> vpa\n\
             banfqan:\n\
             ban_fqan -> localaccount\n\
             vlocal:\n\
             vla -> vlg\n\
             dummies:\n\
             bad -> good | good\n\
             verifyproxy:\n\
             proxy -> good\n\
             enforce:\n\
             localaccount -> enf\n\
             poolgroup:\n\
             vpg -> vpa\n"
        ),
    )
    .unwrap();
    db
}

#[test]
fn posix_enf_switches_identity_in_a_child_as_debian_does() {
    let t = "posix_enf_switches_identity_in_a_child_as_debian_does";
    if !have_debian_lcmaps() || !Path::new(NSS_WRAPPER).exists() {
        return skip(
            t,
            "liblcmaps0/liblcmaps-dev/libnss-wrapper are not installed",
        );
    }
    if !Path::new(DEBIAN_PLUGINS)
        .join("lcmaps_posix_enf.mod")
        .exists()
    {
        return skip(t, "lcmaps-plugins-basic-posixenf is not installed");
    }
    if !lcmaps_capi::host::privileged() || !nix::unistd::geteuid().is_root() {
        return skip(t, "posix_enf needs euid 0 (the tests run as root in CI)");
    }
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let db = debian_db(tmp.path());
    fresh_gridmapdir(tmp.path());
    let env = nss_env(tmp.path());
    let gk = gatekeeper(tmp.path(), "gk", DEBIAN_INCLUDE, None);
    let mut outs = Vec::new();
    for ours in [false, true] {
        let mut cmd = Command::new(&gk);
        cmd.args(["account", "/CN=alice"])
            .envs(env.iter().cloned())
            .env("LCMAPS_DB_FILE", &db)
            .env("GK_POLICY", "enforce")
            .env("GK_PRINT_IDS", "1");
        if ours {
            cmd.env("LD_LIBRARY_PATH", &clib);
        }
        let r = run(&mut cmd);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        outs.push(r.stdout);
    }
    assert_eq!(outs[1], outs[0], "ours (left) vs Debian's (right)");
    assert!(
        outs[0].contains("ids ruid=5001 euid=5001 rgid=5001 egid=5001 groups=5001,5100"),
        "{}",
        outs[0]
    );
}

fn fresh_gridmapdir(dir: &Path) {
    let g = dir.join("gmd");
    let _ = std::fs::remove_dir_all(&g);
    std::fs::create_dir(&g).unwrap();
    for p in [
        "pool001", "pool002", "pool003", "dtp001", "dtp002", "dtp003",
    ] {
        std::fs::write(g.join(p), "").unwrap();
    }
    let gg = dir.join("ggmd");
    let _ = std::fs::remove_dir_all(&gg);
    std::fs::create_dir(&gg).unwrap();
    for p in ["cmsgrp001", "cmsgrp002"] {
        std::fs::write(gg.join(p), "").unwrap();
    }
}

#[test]
fn debian_plugins_give_the_same_results_as_debian_liblcmaps() {
    let t = "debian_plugins_give_the_same_results_as_debian_liblcmaps";
    if !have_debian_lcmaps() {
        return skip(t, "liblcmaps0/liblcmaps-dev are not installed");
    }
    if !Path::new(NSS_WRAPPER).exists() {
        return skip(t, "libnss-wrapper is not installed");
    }
    for m in [
        "lcmaps_localaccount.mod",
        "lcmaps_poolaccount.mod",
        "lcmaps_voms_poolaccount.mod",
        "lcmaps_verify_proxy.mod",
    ] {
        if !Path::new(DEBIAN_PLUGINS).join(m).exists() {
            return skip(t, &format!("{m} is not installed (lcmaps-plugins-*)"));
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let db = debian_db(tmp.path());
    let env = nss_env(tmp.path());
    let gk = gatekeeper(tmp.path(), "gk", DEBIAN_INCLUDE, None);
    let mut results: Vec<Vec<String>> = Vec::new();
    for ours in [false, true] {
        fresh_gridmapdir(tmp.path());
        let mut lines = Vec::new();
        for c in CASES {
            let mut cmd = Command::new(&gk);
            cmd.arg("account")
                .arg(c.dn)
                .args(c.fqans)
                .envs(env.iter().cloned())
                .env("LCMAPS_DB_FILE", &db)
                // Debian's C plugins, not the lcmaps-rs built-ins of the same names.
                .env("LCMAPS_RS_BUILTINS", "off")
                .env("LCMAPS_DEBUG_LEVEL", "5")
                .env("GK_POLICY", c.policy)
                .env("GK_MAPCOUNTER", c.mapcounter);
            if ours {
                cmd.env("LD_LIBRARY_PATH", &clib);
            }
            let r = run(&mut cmd);
            assert_eq!(
                r.stderr.contains("lcmaps-rs"),
                ours,
                "library selection: {}",
                r.stderr
            );
            lines.push(format!(
                "{} {} {:?}: {}",
                c.policy,
                c.dn,
                c.fqans,
                r.stdout.trim()
            ));
        }
        lines.extend(gridmapdir_state(&tmp.path().join("gmd")));
        lines.extend(gridmapdir_state(&tmp.path().join("ggmd")));
        results.push(lines);
    }
    assert_eq!(
        results[1], results[0],
        "ours (left) vs Debian's LCMAPS (right)"
    );
    // The comparison is not vacuous: mappings and leases happened.
    let all = results[0].join("\n");
    assert!(
        all.contains("/CN=alice []: rc=0 uid=5001 pgid=5001 sgid=5001,5100"),
        "{all}"
    );
    assert!(all.contains("poolindex=%2fcn%3dbob"), "{all}");
    assert!(all.contains("/CN=evil []: rc=1"), "{all}");
    assert!(all.contains("linked: %2fcn%3dbob = pool"), "{all}");
    assert!(all.contains("rc=0 uid=700"), "voms pool account: {all}");
    assert!(
        all.contains("linked: %2fcms"),
        "voms pool group lease: {all}"
    );
}

#[test]
fn dlopen_style_client_from_debian_headers_and_ours_loads_our_helper_library() {
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let db = plugin_all_db(tmp.path());
    let mut includes = vec![include_dir().display().to_string()];
    if have_debian_lcmaps() {
        includes.push(DEBIAN_INCLUDE.to_string());
    } else {
        skip(
            "dlopen client (Debian headers half)",
            "liblcmaps-dev is not installed",
        );
    }
    for (i, inc) in includes.iter().enumerate() {
        let exe = tmp.path().join(format!("dlc{i}"));
        let src = c_source("dlopen_client.c");
        gcc(&[
            "-DLIBSUFF=\".so.0\"",
            &format!("-I{inc}"),
            "-o",
            exe.to_str().unwrap(),
            src.to_str().unwrap(),
            "-ldl",
        ]);
        let log = tmp.path().join(format!("lcmaps{i}.log"));
        let r = run(Command::new(&exe)
            .env("LD_LIBRARY_PATH", &clib)
            .env("LCMAPS_DB_FILE", &db)
            .env("LCMAPS_LOG_FILE", &log)
            .env("LCMAPS_DEBUG_LEVEL", "5"));
        assert_eq!(r.stdout, "version=1.6.6\nrc=1\n", "{inc}: {}", r.stderr);
        let log = std::fs::read_to_string(&log).unwrap();
        assert!(log.contains("lcmaps-rs"), "{log}");
        assert!(
            log.contains("cannot use the PEM credential: no certificate found"),
            "{log}"
        );
    }
}

#[test]
fn dlopen_handles_of_our_headers_load_every_helper_library() {
    let t = "dlopen_handles_of_our_headers_load_every_helper_library";
    if !Path::new("/usr/include/globus/gssapi.h").exists() {
        return skip(
            t,
            "libglobus-gssapi-gsi-dev is not installed (lcmaps_return_poolindex.h)",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let db = plugin_all_db(tmp.path());
    let exe = tmp.path().join("dla");
    let src = c_source("dlopen_all.c");
    gcc(&[
        "-Wall",
        "-Wextra",
        "-Werror",
        "-DLIBSUFF=\".so.0\"",
        &format!("-I{}", include_dir().display()),
        "-I/usr/include/globus",
        "-I/usr/lib/x86_64-linux-gnu/globus/include",
        "-o",
        exe.to_str().unwrap(),
        src.to_str().unwrap(),
        "-ldl",
    ]);
    let mut cmd = Command::new(&exe);
    cmd.arg("/CN=Jane")
        .env("LD_LIBRARY_PATH", &clib)
        .env("LCMAPS_DB_FILE", &db);
    let nss = Path::new(NSS_WRAPPER).exists();
    if nss {
        cmd.envs(nss_env(tmp.path()));
    }
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let mut expected = String::from(
        "RETURN_ACCOUNT_FROM_PEM 1.6.6\nVERIFY_ACCOUNT_FROM_PEM 1.6.6\n\
         RETURN_POOLINDEX 1.6.6\nGSS_ASSIST_GRIDMAP 1.6.6\nrequire 1\n",
    );
    if nss {
        expected.push_str("gridmap rc=0 user=gk501\nclose 1\n");
        assert_eq!(r.stdout, expected, "{}", r.stderr);
    } else {
        skip(
            t,
            "libnss-wrapper is not installed: gridmap result not checked",
        );
        assert!(r.stdout.starts_with(&expected), "{}", r.stdout);
    }
}

#[test]
fn gss_calls_map_a_globus_credential_as_debian_does() {
    let t = "gss_calls_map_a_globus_credential_as_debian_does";
    let globus_inc = "/usr/include/globus";
    let globus_cfg = "/usr/lib/x86_64-linux-gnu/globus/include";
    if !Path::new(globus_inc).join("gssapi.h").exists() {
        return skip(t, "libglobus-gssapi-gsi-dev is not installed");
    }
    if !have_debian_lcmaps() || !Path::new(NSS_WRAPPER).exists() {
        return skip(
            t,
            "liblcmaps0/liblcmaps-dev/libnss-wrapper are not installed",
        );
    }
    if run(Command::new("openssl").arg("version")).code != 0 {
        return skip(t, "the openssl command is not installed");
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let clib = clib_dir(d);
    // A CA with a CRL, hashed in `d` (X509_CERT_DIR and verify_proxy's
    // -certdir), and Alice's credential issued by it.
    let ca = lcmaps_x509::fixtures::ca("Test CA");
    let (alice, alice_key) = lcmaps_x509::fixtures::user(&ca, "Alice Smith", 7);
    lcmaps_x509::fixtures::install_ca(d, &ca, &[]);
    let cred = d.join("x509up");
    std::fs::write(
        &cred,
        lcmaps_x509::fixtures::pem(&[&alice, &ca.cert], Some(&alice_key)),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cred, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let env = nss_env(d);
    std::fs::write(
        d.join("gm"),
        "\"/DC=org/DC=example/CN=Alice Smith\" alice\n",
    )
    .unwrap();
    std::fs::write(
        d.join("gmp"),
        "\"/DC=org/DC=example/CN=Alice Smith\" .pool\n",
    )
    .unwrap();
    let db = d.join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "path = {DEBIAN_PLUGINS}\n\
             local = \"lcmaps_localaccount.mod -gridmapfile {0}/gm\"\n\
             pool = \"lcmaps_poolaccount.mod -gridmapfile {0}/gmp -gridmapdir {0}/gmd\"\n\
             vp = \"lcmaps_verify_proxy.mod -certdir {0} --discard_private_key_absence\"\n\
             standard:\nlocal -> lcmaps_dummy_good.mod | pool\n\
             pooled:\npool -> lcmaps_dummy_good.mod\n\
             verified:\nvp -> local\n",
            d.display()
        ),
    )
    .unwrap();
    let build = |name: &str, include: &str, libdir: Option<&Path>| {
        let exe = d.join(name);
        let src = c_source("gss_client.c");
        let mut args = vec![
            "-Wall".to_string(),
            "-DLCMAPS_GSI_MODE".into(),
            format!("-I{include}"),
            format!("-I{globus_inc}"),
            format!("-I{globus_cfg}"),
            "-o".into(),
            exe.display().to_string(),
            src.display().to_string(),
        ];
        if let Some(l) = libdir {
            args.push(format!("-L{}", l.display()));
        }
        args.extend(
            [
                "-llcmaps",
                "-llcmaps_return_poolindex",
                "-lglobus_gssapi_gsi",
            ]
            .map(String::from),
        );
        gcc(&args.iter().map(String::as_str).collect::<Vec<_>>());
        exe
    };
    let debian_built = build("gss_debian", DEBIAN_INCLUDE, None);
    let ours_built = build(
        "gss_ours",
        &include_dir().display().to_string(),
        Some(&clib),
    );
    let mut outs = Vec::new();
    for (exe, ours) in [
        (&debian_built, false),
        (&debian_built, true),
        (&ours_built, true),
    ] {
        fresh_gridmapdir(d);
        let mut cmd = Command::new(exe);
        cmd.envs(env.iter().cloned())
            .env("LCMAPS_DB_FILE", &db)
            .env("LCMAPS_DEBUG_LEVEL", "5")
            .env("X509_USER_PROXY", &cred)
            .env("X509_CERT_DIR", d)
            .env("GK_POLICY", "pooled")
            .env("GK_VERIFIED", "1")
            .env("LCMAPS_POLICY_NAME", "pooled");
        if ours {
            cmd.env("LD_LIBRARY_PATH", &clib);
        }
        let r = run(&mut cmd);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert_eq!(r.stderr.contains("lcmaps-rs"), ours, "{}", r.stderr);
        outs.push(r.stdout);
    }
    assert_eq!(outs[1], outs[0], "ours (left) vs Debian's (right)");
    assert_eq!(
        outs[2], outs[0],
        "built on our headers (left) vs Debian's (right)"
    );
    assert_eq!(
        outs[0],
        "username rc=0 user=alice\n\
         poolindex rc=0 poolindex=%2fdc%3dorg%2fdc%3dexample%2fcn%3dalice%20smith\n\
         verified rc=0 user=alice\n\
         run rc=0\nterm=0\n\
         helper rc=0 poolindex=%2fdc%3dorg%2fdc%3dexample%2fcn%3dalice%20smith\n\
         small buffer rc=1\n"
    );
}

#[test]
fn pem_calls_map_a_proxy_as_debian_does() {
    use lcmaps_x509::fixtures::{self, Kind, Tweak};
    if !have_debian_lcmaps() || !Path::new("/usr/lib/lcmaps/lcmaps_localaccount.mod").exists() {
        skip(
            "pem_calls_map_a_proxy_as_debian_does",
            "Debian's LCMAPS or localaccount plugin is not installed",
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let clib = clib_dir(tmp.path());
    let ca = fixtures::ca("Test CA");
    let (user, ukey) = fixtures::user(&ca, "Jane Doe", 7);
    let (p, pkey) = fixtures::proxy(&user, &ukey, Kind::Rfc, Tweak::default());
    let proxy = tmp.path().join("proxy.pem");
    std::fs::write(&proxy, fixtures::pem(&[&p, &user], Some(&pkey))).unwrap();
    let gridmap = tmp.path().join("grid-mapfile");
    std::fs::write(&gridmap, "\"/DC=org/DC=example/CN=Jane Doe\" root\n").unwrap();
    // Debian's C verify_proxy reads px509_cred / px509_chain, which we
    // build from the PEM as LCMAPS does.
    let certs = tmp.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    fixtures::install_ca(&certs, &ca, &[]);
    let db = tmp.path().join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "path = /usr/lib/lcmaps\nvp = \"lcmaps_verify_proxy.mod -certdir {}\"\n\
             local = \"lcmaps_localaccount.mod -gridmapfile {}\"\n\
             noop = \"lcmaps_dummy_good.mod\"\npem:\nvp -> local\nlocal -> noop\n",
            certs.display(),
            gridmap.display()
        ),
    )
    .unwrap();
    let ours = gatekeeper(
        tmp.path(),
        "gk_pem_ours",
        &include_dir().display().to_string(),
        Some(&clib),
    );
    let debian = gatekeeper(tmp.path(), "gk_pem_debian", DEBIAN_INCLUDE, None);
    let mut outs = vec![];
    for (exe, ld) in [(&ours, Some(&clib)), (&debian, None)] {
        let mut cmd = Command::new(exe);
        cmd.args(["pem", proxy.to_str().unwrap()])
            .env("LCMAPS_DB_FILE", &db)
            // Debian's C plugins in both (not the lcmaps-rs built-ins).
            .env("LCMAPS_RS_BUILTINS", "off")
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
    assert_eq!(
        outs[0], outs[1],
        "ours and Debian's LCMAPS map the proxy alike"
    );
    assert!(outs[0].contains("uid=0"), "{}", outs[0]);
    // A proxy from an unknown CA: Debian's verify_proxy refuses it in both.
    let rogue = fixtures::ca("Rogue CA");
    let (ru, rk) = fixtures::user(&rogue, "Jane Doe", 9);
    let (rp, rpk) = fixtures::proxy(&ru, &rk, Kind::Rfc, Tweak::default());
    std::fs::write(&proxy, fixtures::pem(&[&rp, &ru], Some(&rpk))).unwrap();
    for (exe, ld) in [(&ours, Some(&clib)), (&debian, None)] {
        let mut cmd = Command::new(exe);
        cmd.args(["pem", proxy.to_str().unwrap()])
            .env("LCMAPS_DB_FILE", &db);
        if let Some(l) = ld {
            cmd.env("LD_LIBRARY_PATH", l);
        }
        let r = run(&mut cmd);
        assert_ne!(r.code, 0, "{}: {}{}", exe.display(), r.stdout, r.stderr);
        assert!(r.stdout.contains("rc=1"), "{}", r.stdout);
    }
    // Not a certificate chain: refused by both.
    std::fs::write(&proxy, "not a pem").unwrap();
    let r = run(Command::new(&ours)
        .args(["pem", proxy.to_str().unwrap()])
        .env("LD_LIBRARY_PATH", &clib)
        .env("LCMAPS_DB_FILE", &db));
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("cannot use the PEM credential"),
        "{}",
        r.stderr
    );
}
