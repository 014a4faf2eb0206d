//! End to end through the real policy engine and the built-ins loader:
//! `vomslocalgroup -> vomspoolaccount`, with system accounts and groups
//! from fake passwd/group files through nss_wrapper (in a child process:
//! this test binary re-run with LD_PRELOAD).

use std::path::Path;

use lcmaps_builtins::{validate_options, Loader};
use lcmaps_core::db;
use lcmaps_core::plugin::Request;
use lcmaps_core::policy::{Engine, Mode, RunOptions};

const CHILD: &str = "LCMAPS_RS_VOMS_E2E_CHILD";

fn child(dir: &Path) {
    let gm = dir.join("grid-mapfile");
    let grp = dir.join("groupmapfile");
    let gmd = dir.join("gridmapdir");
    let text = format!(
        "vomslocalgroup = \"lcmaps_voms_localgroup.mod -groupmapfile {} -mapmin 1\"\n\
         vomspoolaccount = \"lcmaps_voms_poolaccount.mod -gridmapfile {} -gridmapdir {} -override_inconsistency\"\n\
         ban = \"lcmaps_ban_fqan.mod -banmapfile {}\"\n\
         standard:\nban -> vomslocalgroup\nvomslocalgroup -> vomspoolaccount\n",
        grp.display(),
        gm.display(),
        gmd.display(),
        dir.join("ban_fqan").display(),
    );
    let checked = db::check_str("lcmaps.db", &text, &validate_options(None));
    let config = checked
        .config
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    let mut engine = Engine::new(config, &Loader::default()).unwrap();
    let req = Request {
        fqans: vec![
            "/dteam/Role=production/Capability=NULL".into(),
            "/dteam/Role=NULL/Capability=NULL".into(),
        ],
        ..Request::with_dn("/O=x/CN=John Doe")
    };
    let out = engine.run(&req, Mode::Run, &RunOptions::default());
    assert!(out.is_mapped(), "{out:?}");
    let s = &out.store;
    assert_eq!(s.pri_gids, [7501], "dteamprd from the first FQAN");
    assert_eq!(s.sec_gids, [7500], "dteam from the second");
    let lease = "%2fo%3dx%2fcn%3djohn%20doe:dteamprd:dteam";
    assert_eq!(s.pool_index.as_deref(), Some(lease));
    assert_eq!(s.uids.len(), 1);
    assert!(s.uids[0] == 7001 || s.uids[0] == 7002, "{:?}", s.uids);
    assert_eq!(s.vo_mappings.len(), 2);
    assert!(gmd.join(lease).exists());
    // Again: the same lease and account.
    let again = engine.run(&req, Mode::Run, &RunOptions::default());
    assert_eq!(again.store.uids, s.uids);
    // A banned FQAN stops the policy.
    let banned = Request {
        fqans: vec!["/evil/Role=NULL/Capability=NULL".into()],
        ..Request::with_dn("/O=x/CN=John Doe")
    };
    assert!(!engine
        .run(&banned, Mode::Run, &RunOptions::default())
        .is_mapped());
    // No FQANs: ban_fqan passes, voms_localgroup fails: not mapped.
    let none = Request::with_dn("/O=x/CN=John Doe");
    assert!(!engine
        .run(&none, Mode::Run, &RunOptions::default())
        .is_mapped());
    println!("E2E-CHILD-OK");
}

#[test]
fn localgroup_then_poolaccount_through_the_engine() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(Path::new(&dir));
        return;
    }
    let Some(lib) = lcmaps_core::testing::nss_wrapper(module_path!()) else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("passwd"),
        "root:x:0:0:root:/root:/bin/sh\n\
         dteam001:x:7001:7000::/home/dteam001:/bin/sh\n\
         dteam002:x:7002:7000::/home/dteam002:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        p.join("group"),
        "root:x:0:\npool:x:7000:\ndteam:x:7500:\ndteamprd:x:7501:\n",
    )
    .unwrap();
    std::fs::write(
        p.join("groupmapfile"),
        "\"/dteam/Role=production/*\" dteamprd\n\"/dteam/*\" dteam\n",
    )
    .unwrap();
    std::fs::write(p.join("grid-mapfile"), "\"/dteam/*\" .dteam\n").unwrap();
    std::fs::write(p.join("ban_fqan"), "\"/evil/*\"\n").unwrap();
    let gmd = p.join("gridmapdir");
    std::fs::create_dir(&gmd).unwrap();
    for a in ["dteam001", "dteam002"] {
        std::fs::write(gmd.join(a), "").unwrap();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "localgroup_then_poolaccount_through_the_engine",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, p)
        .env("LD_PRELOAD", lib)
        .env("NSS_WRAPPER_PASSWD", p.join("passwd"))
        .env("NSS_WRAPPER_GROUP", p.join("group"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("E2E-CHILD-OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
