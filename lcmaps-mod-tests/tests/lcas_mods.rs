//! Our LCAS plugins, built as `.mod`s through the SDK's
//! `export_lcas_plugin!`, loaded by Debian's liblcas.so.0 (a C caller
//! compiled against liblcas-dev) and by lcmaps-rs's LCAS host: the same
//! decisions as the built-ins.

use std::path::{Path, PathBuf};
use std::process::Command;

use lcmaps_mod_tests::{debian_lcas_client, our_mods, run, skip};

const DEBIAN_LCAS: &str = "/usr/lib/liblcas.so.0";

fn pem(dir: &Path, cn: &str) -> PathBuf {
    let ca = lcmaps_x509::fixtures::ca("Test CA");
    let (user, key) = lcmaps_x509::fixtures::user(&ca, cn, 5);
    let p = dir.join(format!("{}.pem", cn.replace(' ', "_")));
    std::fs::write(&p, lcmaps_x509::fixtures::pem(&[&user], Some(&key))).unwrap();
    p
}

#[test]
fn our_lcas_mods_decide_in_debians_liblcas_as_in_ours() {
    let t = "our_lcas_mods_decide_in_debians_liblcas_as_in_ours";
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    if !Path::new(DEBIAN_LCAS).exists() {
        return skip(t, "Debian's liblcas0 is not installed");
    }
    let Some(client) = debian_lcas_client(t, dir) else {
        return;
    };
    let mods = our_mods();
    let clib = ffi_tests::clib_dir(dir);
    let jane = pem(dir, "Jane Doe");
    let bob = pem(dir, "Bob");
    std::fs::write(dir.join("ban_users.db"), "\"/DC=org/DC=example/CN=Bob\"\n").unwrap();
    std::fs::write(
        dir.join("allowed_users.db"),
        "# who may run here\n\"/DC=org/DC=example/CN=Jane Doe\"\n\"/DC=org/DC=example/CN=Bob\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("open.db"), "* * * * * *\n").unwrap();
    std::fs::write(dir.join("closed.db"), "* * * * 1999-2000 *\n").unwrap();
    let m = |n: &str| mods.join(n).display().to_string();
    let d = |n: &str| dir.join(n).display().to_string();
    // (db body, DN file, request, expected rc)
    let ban_and_allow = format!(
        "pluginname=\"{}\",pluginargs=\"{}\"\npluginname=\"{}\",pluginargs=\"{}\"\n",
        m("lcas_userban.mod"),
        d("ban_users.db"),
        m("lcas_userallow.mod"),
        d("allowed_users.db")
    );
    let open = format!(
        "pluginname=\"{}\",pluginargs=\"{}\"\n",
        m("lcas_timeslots.mod"),
        d("open.db")
    );
    let closed = format!(
        "pluginname=\"{}\",pluginargs=\"{}\"\n",
        m("lcas_timeslots.mod"),
        d("closed.db")
    );
    let exec = format!(
        "pluginname=\"{}\",pluginargs=\"-exec /bin/sh:/usr/bin/env\"\n",
        m("lcas_check_executable.mod")
    );
    let cases: Vec<(&str, &String, &PathBuf, &str, i32)> = vec![
        ("ban+allow, Jane", &ban_and_allow, &jane, "", 0),
        ("ban+allow, Bob (banned)", &ban_and_allow, &bob, "", 1),
        ("timeslots open", &open, &jane, "", 0),
        ("timeslots closed", &closed, &jane, "", 1),
        (
            "executable allowed",
            &exec,
            &jane,
            "&(executable=\"/bin/sh\")",
            0,
        ),
        (
            "executable refused",
            &exec,
            &jane,
            "&(executable=\"/bin/bash\")",
            1,
        ),
        ("no executable", &exec, &jane, "", 1),
    ];
    for (what, body, who, request, want) in cases {
        let db = dir.join("lcas.db");
        std::fs::write(&db, body).unwrap();
        for ours in [false, true] {
            let lib = if ours {
                "lcmaps-rs"
            } else {
                "Debian's liblcas"
            };
            let mut cmd = Command::new(&client);
            cmd.args(["pem", who.to_str().unwrap()]);
            if !request.is_empty() {
                cmd.arg(request);
            }
            cmd.env("LCAS_DB_FILE", &db).env("LCAS_DEBUG_LEVEL", "5");
            if ours {
                cmd.env("LD_LIBRARY_PATH", &clib);
            }
            let r = run(&mut cmd);
            assert_eq!(r.code, want, "{what} on {lib}: {}{}", r.stdout, r.stderr);
            assert!(
                r.stdout.starts_with(&format!("rc={want}\n")),
                "{what} on {lib}: {}",
                r.stdout
            );
            if want == 1 && !ours {
                // The plugin's reason reached Debian's log through lcas_log.
                assert!(
                    r.stderr.contains("-plugin_confirm_authorization(): "),
                    "{what}: {}",
                    r.stderr
                );
            }
        }
    }
}
