//! The LCAS 1.3 C API of liblcmaps_rs.so: a C caller and a C LCAS plugin,
//! both compiled against Debian's liblcas-dev headers, run on our library
//! and on Debian's liblcas.so.0 with the same lcas.db; our built-in LCAS
//! plugins next to the C one; NULLs and out-of-order calls.

use std::path::{Path, PathBuf};
use std::process::Command;

use ffi_tests::*;
use lcmaps_x509::fixtures;

const LCAS_INCLUDE: &str = "/usr/include/lcas";
const DEBIAN_LCAS: &str = "/usr/lib/liblcas.so.0";

/// `-I` flags for Debian's LCAS headers (which include Globus's gssapi.h),
/// or `None` when liblcas-dev / the Globus headers are missing.
fn lcas_cflags() -> Option<Vec<String>> {
    if !Path::new(LCAS_INCLUDE).join("lcas.h").exists() {
        return None;
    }
    let out = Command::new("pkg-config")
        .args(["--cflags", "globus-gssapi-gsi"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut flags = vec![format!("-I{LCAS_INCLUDE}")];
    flags.extend(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from),
    );
    Some(flags)
}

fn build(dir: &Path, cflags: &[String], src: &str, out: &str, extra: &[&str]) -> PathBuf {
    let mut flags = cflags.to_vec();
    flags.extend(extra.iter().map(|s| s.to_string()));
    let libs: &[&str] = if out.ends_with(".mod") {
        &[]
    } else {
        &["-llcas"]
    };
    build_program(dir, &c_source(src), out, &flags, None, libs)
}

struct World {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    client: PathBuf,
    plugin: PathBuf,
    clib: PathBuf,
}

impl World {
    fn new(cflags: &[String]) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let clib = clib_dir(&dir);
        // Linked against Debian's liblcas.so when installed, else against ours.
        let libdir = format!("-L{}", clib.display());
        let link: Vec<&str> = if Path::new(DEBIAN_LCAS).exists() {
            vec![]
        } else {
            vec![libdir.as_str()]
        };
        let client = build(&dir, cflags, "lcas_client.c", "lcas_client", &link);
        let plugin = build(
            &dir,
            cflags,
            "lcas_plugin.c",
            "lcas_cplugin.mod",
            &["-shared", "-fPIC"],
        );
        World {
            _tmp: tmp,
            dir,
            client,
            plugin,
            clib,
        }
    }

    fn pem(&self, name: &str, cn: &str) -> PathBuf {
        let ca = fixtures::ca("Test CA");
        let (user, key) = fixtures::user(&ca, cn, 3);
        let p = self.dir.join(name);
        std::fs::write(&p, fixtures::pem(&[&user], Some(&key))).unwrap();
        p
    }

    fn db(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Run the client; `ours` selects our library through LD_LIBRARY_PATH.
    fn run(&self, ours: bool, db: &Path, args: &[&str]) -> Ran {
        let mut cmd = Command::new(&self.client);
        cmd.args(args)
            .env("LCAS_DB_FILE", db)
            .env("LCAS_DEBUG_LEVEL", "5")
            .env_remove("LCAS_MODULES_DIR");
        if ours {
            cmd.env("LD_LIBRARY_PATH", &self.clib);
        }
        run(&mut cmd)
    }

    fn trace(&self) -> String {
        std::fs::read_to_string(self.dir.join("trace")).unwrap_or_default()
    }
}

#[test]
fn a_c_caller_and_a_c_plugin_work_on_our_library_as_on_debians() {
    let t = "a_c_caller_and_a_c_plugin_work_on_our_library_as_on_debians";
    let Some(cflags) = lcas_cflags() else {
        return skip(
            t,
            "liblcas-dev or libglobus-gssapi-gsi-dev is not installed",
        );
    };
    let w = World::new(&cflags);
    let jane = w.pem("jane.pem", "Jane Doe");
    let eve = w.pem("eve.pem", "evil Eve");
    let trace = w.dir.join("trace");
    let db = w.db(
        "lcas.db",
        &format!(
            "# the C plugin only: both libraries run it\n\
             pluginname=\"{}\",pluginargs=\"evil {}\"\n",
            w.plugin.display(),
            trace.display()
        ),
    );
    let mut libs = vec![true];
    if Path::new(DEBIAN_LCAS).exists() {
        libs.push(false);
    } else {
        skip(t, "Debian's liblcas0 is not installed: our library only");
    }
    for ours in libs {
        let which = if ours { "ours" } else { "Debian's" };
        let _ = std::fs::remove_file(&trace);
        let r = w.run(
            ours,
            &db,
            &["pem", jane.to_str().unwrap(), "&(executable=\"/bin/sh\")"],
        );
        assert_eq!(r.code, 0, "{which}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.starts_with("rc=0\n"), "{which}: {}", r.stdout);
        assert_eq!(
            w.trace(),
            "init argc=3\nconfirm /DC=org/DC=example/CN=Jane Doe &(executable=\"/bin/sh\")\nterm\n",
            "{which}: what the plugin was called with"
        );
        // The plugin's own log line reached the log (lcas_log).
        assert!(
            r.stderr
                .contains("lcas_plugin: initialized, refusing DNs with \"evil\""),
            "{which}: {}",
            r.stderr
        );
        let _ = std::fs::remove_file(&trace);
        let r = w.run(ours, &db, &["pem", eve.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{which}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.starts_with("rc=1\n"), "{which}: {}", r.stdout);
        assert_eq!(
            w.trace(),
            "init argc=3\nconfirm /DC=org/DC=example/CN=evil Eve (null)\nterm\n",
            "{which}"
        );
        if ours {
            assert!(r.stderr.contains("refusing /DC=org/DC=example/CN=evil Eve"));
            assert!(
                r.stderr
                    .contains("plugin_confirm_authorization() returned 1 (LCAS_MOD_FAIL)"),
                "{}",
                r.stderr
            );
            assert!(r.stdout.contains("version=1.3.19"), "{}", r.stdout);
        }
    }
}

#[test]
fn built_in_plugins_run_beside_c_plugins_and_the_first_refusal_refuses() {
    let t = "built_in_plugins_run_beside_c_plugins_and_the_first_refusal_refuses";
    let Some(cflags) = lcas_cflags() else {
        return skip(
            t,
            "liblcas-dev or libglobus-gssapi-gsi-dev is not installed",
        );
    };
    let w = World::new(&cflags);
    let jane = w.pem("jane.pem", "Jane Doe");
    let bob = w.pem("bob.pem", "Bob");
    std::fs::write(
        w.dir.join("ban_users.db"),
        "# banned\n\"/DC=org/DC=example/CN=Bob\"\n",
    )
    .unwrap();
    let trace = w.dir.join("trace");
    let db = w.db(
        "lcas.db",
        &format!(
            "pluginname=\"lcas_userban.mod\",pluginargs=\"ban_users.db\"\n\
             pluginname=\"{}\",pluginargs=\"evil {}\"\n",
            w.plugin.display(),
            trace.display()
        ),
    );
    let r = w.run(true, &db, &["pem", jane.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(w.trace().contains("confirm /DC=org/DC=example/CN=Jane Doe"));
    let _ = std::fs::remove_file(&trace);
    let r = w.run(true, &db, &["pem", bob.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("authorization failed for plugin lcas_userban.mod"),
        "{}",
        r.stderr
    );
    // The ban refused first: the C plugin was never asked.
    assert_eq!(w.trace(), "init argc=3\nterm\n");
}

#[test]
fn bad_configuration_and_bad_calls_fail_cleanly() {
    let t = "bad_configuration_and_bad_calls_fail_cleanly";
    let Some(cflags) = lcas_cflags() else {
        return skip(
            t,
            "liblcas-dev or libglobus-gssapi-gsi-dev is not installed",
        );
    };
    let w = World::new(&cflags);
    let jane = w.pem("jane.pem", "Jane Doe");
    let trace = w.dir.join("trace");
    let good = w.db(
        "lcas.db",
        &format!(
            "pluginname=\"{}\",pluginargs=\"evil {}\"\n",
            w.plugin.display(),
            trace.display()
        ),
    );
    // NULLs and calls out of order: no crash, LCAS's answers.
    let r = w.run(true, &good, &["null"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        "pem-before-init=1\nterm-before-init=0\npem-null=1\npem-garbage=1\ngss-null=1\n\
         gss-dn-only=1\n\
         init-again=0\nterm=0\nterm-again=0\n"
    );
    // A malformed lcas.db: init fails with file:line:col.
    let broken = w.db(
        "broken.db",
        "pluginname=\"lcas_userban.mod\",pluginargs=\"x\n",
    );
    let r = w.run(true, &broken, &["pem", jane.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("init=1"));
    assert!(
        r.stderr.contains(&format!("{}:1:", broken.display())),
        "{}",
        r.stderr
    );
    // A plugin without plugin_terminate is refused at init, naming it.
    let noterm = build(
        &w.dir,
        &cflags,
        "lcas_plugin.c",
        "lcas_noterm.mod",
        &["-shared", "-fPIC", "-DLCAS_PLUGIN_NO_TERM"],
    );
    let db = w.db(
        "noterm.db",
        &format!(
            "pluginname=\"{}\",pluginargs=\"evil {}\"\n",
            noterm.display(),
            trace.display()
        ),
    );
    let r = w.run(true, &db, &["pem", jane.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("missing function \"plugin_terminate()\""),
        "{}",
        r.stderr
    );
    // A missing user list: the built-in refuses to initialize, naming it.
    let db = w.db(
        "noban.db",
        "pluginname=\"lcas_userban.mod\",pluginargs=\"no_such_file.db\"\n",
    );
    let r = w.run(true, &db, &["pem", jane.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("no_such_file.db"), "{}", r.stderr);
}

/// Issue #16: Debian's `lcas-lcmaps-gt4-interface` (the GSI authorization
/// callout of globus-gridftp-server and globus-gatekeeper) dlopens liblcas
/// and calls `lcas_get_fabric_authorization(client_name, user_cred, "RSL")`,
/// the three-argument form Debian's liblcas 1.3.19 is built with. Ours took
/// two arguments, read the DN string as a GSS credential and the server
/// child died with SIGSEGV. `c/lcas_gt4.c` makes that call (with a real
/// Globus credential, with a NULL DN, with a NULL credential, with a DN that
/// is not the credential's) on Debian's liblcas and on ours, built against
/// Debian's headers and against ours: no crash, and the same decisions and
/// the same plugin calls as Debian's, whose rule is: the credential's DN
/// decides (the DN argument is not used when there is a credential), and no
/// credential is refused before any plugin runs.
#[test]
fn the_gt4_interface_three_argument_call_does_not_crash_and_decides_as_debian() {
    let t = "the_gt4_interface_three_argument_call_does_not_crash_and_decides_as_debian";
    let Some(cflags) = lcas_cflags() else {
        return skip(
            t,
            "liblcas-dev or libglobus-gssapi-gsi-dev is not installed",
        );
    };
    let w = World::new(&cflags);
    let d = w.dir.as_path();
    // The interface's call, type-checked against Debian's lcas.h and ours
    // as the interface is built (-DALLOW_EMPTY_CREDENTIALS).
    let gt4 = |name: &str, include: &str| {
        let mut flags = vec![
            format!("-I{include}"),
            "-DALLOW_EMPTY_CREDENTIALS".to_string(),
        ];
        flags.extend(cflags.iter().skip(1).cloned());
        build_program(
            d,
            &c_source("lcas_gt4.c"),
            name,
            &flags,
            None,
            &["-lglobus_gssapi_gsi"],
        )
    };
    let on_debians_header = gt4("gt4_debian_h", LCAS_INCLUDE);
    let on_our_header = gt4("gt4_our_h", &include_dir().display().to_string());
    // Globus credentials (certificate, key, CA) for Jane and for evil Eve.
    let ca = fixtures::ca("Test CA");
    fixtures::install_ca(d, &ca, &[]);
    let cred = |file: &str, cn: &str, serial: u32| {
        use std::os::unix::fs::PermissionsExt;
        let (user, key) = fixtures::user(&ca, cn, serial);
        let p = d.join(file);
        std::fs::write(&p, fixtures::pem(&[&user, &ca.cert], Some(&key))).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    let jane = cred("jane.cred", "Jane Doe", 3);
    let eve = cred("eve.cred", "evil Eve", 4);
    const JANE: &str = "/DC=org/DC=example/CN=Jane Doe";
    const EVE: &str = "/DC=org/DC=example/CN=evil Eve";
    let trace = d.join("trace");
    let c_plugin_db = w.db(
        "lcas.db",
        &format!(
            "pluginname=\"{}\",pluginargs=\"evil {}\"\n",
            w.plugin.display(),
            trace.display()
        ),
    );
    // (credential, mode, DN argument, permitted, the plugin's trace)
    let confirm = |dn: &str| format!("init argc=3\nconfirm {dn} RSL\nterm\n");
    let cases: Vec<(&Path, &str, Option<&str>, bool, String)> = vec![
        (&jane, "both", Some(JANE), true, confirm(JANE)),
        (&eve, "both", Some(EVE), false, confirm(EVE)),
        (&jane, "cred", None, true, confirm(JANE)),
        (&eve, "cred", None, false, confirm(EVE)),
        // No credential: refused before any plugin, whatever the DN.
        (&jane, "dn", Some(JANE), false, "init argc=3\nterm\n".into()),
        (&eve, "dn", Some(EVE), false, "init argc=3\nterm\n".into()),
        // The DN argument is not the credential's: the credential decides.
        (&eve, "both", Some(JANE), false, confirm(EVE)),
        (&jane, "both", Some(EVE), true, confirm(JANE)),
    ];
    let ours_lib = w.clib.join("liblcas.so.0");
    let mut runs: Vec<(&str, &Path, &Path)> = vec![
        ("ours (Debian's lcas.h)", &on_debians_header, &ours_lib),
        ("ours (our lcas.h)", &on_our_header, &ours_lib),
    ];
    if Path::new(DEBIAN_LCAS).exists() {
        runs.push(("Debian's", &on_debians_header, Path::new(DEBIAN_LCAS)));
    } else {
        skip(t, "Debian's liblcas0 is not installed: our library only");
    }
    let call = |exe: &Path, lib: &Path, db: &Path, cred: &Path, mode: &str, dn: Option<&str>| {
        let mut cmd = Command::new(exe);
        cmd.arg(lib)
            .arg(mode)
            .args(dn)
            .env("X509_USER_PROXY", cred)
            .env("X509_CERT_DIR", d)
            .env("LCAS_DB_FILE", db)
            .env("LCAS_DEBUG_LEVEL", "5")
            .env_remove("LCAS_MODULES_DIR")
            .env_remove("LD_LIBRARY_PATH");
        run(&mut cmd)
    };
    for (which, exe, lib) in &runs {
        for (cred, mode, dn, permitted, plugin_saw) in &cases {
            let _ = std::fs::remove_file(&trace);
            let r = call(exe, lib, &c_plugin_db, cred, mode, *dn);
            let what = format!("{which}, {mode} {} {dn:?}", cred.display());
            assert_eq!(
                r.code, 0,
                "{what}: the caller died (-1: a signal)\n{}{}",
                r.stdout, r.stderr
            );
            let rc = r
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix("rc="))
                .unwrap_or_else(|| panic!("{what}: {}{}", r.stdout, r.stderr));
            assert_eq!(rc == "0", *permitted, "{what}: rc={rc}\n{}", r.stderr);
            assert!(r.stdout.ends_with("term=0\n"), "{what}: {}", r.stdout);
            assert_eq!(&w.trace(), plugin_saw, "{what}: the plugin's calls");
            if which.starts_with("Debian") && *mode == "dn" {
                // Debian's names the missing credential.
                assert_eq!(rc, "4", "{what}");
                assert!(
                    r.stderr
                        .contains("could not get X509 cred from gss credential"),
                    "{what}: {}",
                    r.stderr
                );
            }
            if which.starts_with("ours") && *mode == "dn" {
                assert!(
                    r.stderr.contains("no GSS credential given"),
                    "{what}: {}",
                    r.stderr
                );
            }
        }
    }
    // Our built-in lcas_userban.mod through the same call: Eve is banned.
    std::fs::write(d.join("ban_users.db"), format!("\"{EVE}\"\n")).unwrap();
    let ban_db = w.db(
        "ban.db",
        "pluginname=\"lcas_userban.mod\",pluginargs=\"ban_users.db\"\n",
    );
    for (cred, mode, dn, permitted) in [
        (&jane, "both", Some(JANE), true),
        (&jane, "cred", None, true),
        (&eve, "both", Some(EVE), false),
        (&eve, "cred", None, false),
        (&eve, "both", Some(JANE), false),
        (&jane, "dn", Some(JANE), false),
    ] {
        let r = call(&on_debians_header, &ours_lib, &ban_db, cred, mode, dn);
        let what = format!("lcas_userban, {mode} {} {dn:?}", cred.display());
        assert_eq!(r.code, 0, "{what}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            r.stdout.starts_with("rc=0\n"),
            permitted,
            "{what}: {}{}",
            r.stdout,
            r.stderr
        );
    }
}
