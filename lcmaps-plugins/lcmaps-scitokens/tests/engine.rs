//! End to end: lcmaps.db → policy engine → built-ins loader →
//! lcmaps_scitokens.mod (system accounts, real clock).

mod common;

use common::*;
use lcmaps_core::db;
use lcmaps_core::plugin::Request;
use lcmaps_core::policy::{Engine, Mode, RunOptions};
use serde_json::json;

#[test]
fn engine_maps_a_token_through_the_builtins_loader() {
    let w = World::new();
    // Map to root, the one account every test machine has.
    std::fs::write(
        &w.mapfile,
        format!("\"{AUTH}\" group \"/cms/uscms\" root\n"),
    )
    .unwrap();
    let text = format!(
        "token = \"lcmaps_scitokens.mod -issuers {} -mapfile {}\"\n\
         good = \"lcmaps_dummy_good.mod\"\n\
         standard:\ntoken -> good\n",
        w.issuers.display(),
        w.mapfile.display()
    );
    let checked = db::check_str("lcmaps.db", &text, &lcmaps_builtins::validate_options(None));
    let config = checked
        .config
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    let mut engine = Engine::new(config, &lcmaps_builtins::Loader::default()).unwrap();

    let now = lcmaps_scitokens::time::now();
    let mut claims = w.claims();
    claims["exp"] = json!(now + 600);
    claims["nbf"] = json!(now - 5);
    claims["iat"] = json!(now - 5);
    claims["sub"] = json!("someone");
    let req = Request {
        token: Some(w.es256(&claims)),
        ..Request::default()
    };
    let out = engine.run(&req, Mode::Run, &RunOptions::default());
    assert!(out.is_mapped(), "{out:?}");
    assert_eq!(out.store.uids, [0]);
    assert_eq!(out.store.pri_gids, [0]);
    assert_eq!(out.store.vo_strings, ["/cms", "/cms/uscms"]);

    // Expired, no token, wrong scope: nothing is mapped.
    claims["exp"] = json!(now - 3600);
    for token in [Some(w.rs256(&claims)), None, Some("garbage".to_string())] {
        let req = Request {
            token,
            ..Request::default()
        };
        let out = engine.run(&req, Mode::Run, &RunOptions::default());
        assert!(!out.is_mapped(), "{out:?}");
        assert!(out.store.uids.is_empty());
    }

    // A missing issuers file stops the engine at start, naming the file.
    let text = "token = \"lcmaps_scitokens.mod -issuers /nonexistent/scitokens.cfg -mapfile /nonexistent/m\"\n\
                good = \"lcmaps_dummy_good.mod\"\n\
                standard:\ntoken -> good\n";
    let checked = db::check_str("lcmaps.db", text, &lcmaps_builtins::validate_options(None));
    let config = checked
        .config
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    let e = Engine::new(config, &lcmaps_builtins::Loader::default()).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/scitokens.cfg"), "{e}");
}

/// Issue #21: the groups of `groups_claim = eduperson_entitlement` reach
/// the store FQAN-like, where lcmaps_voms_localgroup.mod maps them to a
/// local group.
#[test]
fn entitlements_are_mapped_by_voms_localgroup() {
    let w = World::new();
    let cfg = std::fs::read_to_string(&w.issuers).unwrap().replace(
        "mode = map\n",
        "mode = map\ngroups_claim = eduperson_entitlement\n",
    );
    std::fs::write(&w.issuers, cfg).unwrap();
    std::fs::write(
        &w.mapfile,
        format!("\"{MAPONLY}\" sub prefix \"egi-\" root\n"),
    )
    .unwrap();
    let groupmap = w.dir.path().join("groupmapfile");
    std::fs::write(&groupmap, "\"/urn:mace:egi.eu:group:cms:*\" daemon\n").unwrap();
    let text = format!(
        "token = \"lcmaps_scitokens.mod -issuers {} -mapfile {}\"\n\
         groups = \"lcmaps_voms_localgroup.mod -groupmapfile {}\"\n\
         standard:\ntoken -> groups\n",
        w.issuers.display(),
        w.mapfile.display(),
        groupmap.display()
    );
    let checked = db::check_str("lcmaps.db", &text, &lcmaps_builtins::validate_options(None));
    let config = checked
        .config
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    let mut engine = Engine::new(config, &lcmaps_builtins::Loader::default()).unwrap();
    let now = lcmaps_scitokens::time::now();
    let claims = json!({
        "iss": MAPONLY, "sub": "egi-42", "aud": AUD, "exp": now + 600, "iat": now - 5,
        "eduperson_entitlement": ["urn:mace:egi.eu:group:cms:role=member#aai.egi.eu"],
    });
    let req = Request {
        token: Some(w.rs256(&claims)),
        ..Request::default()
    };
    let out = engine.run(&req, Mode::Run, &RunOptions::default());
    assert!(out.is_mapped(), "{out:?}");
    assert_eq!(
        out.store.vo_strings,
        ["/urn:mace:egi.eu:group:cms:role=member#aai.egi.eu"]
    );
    let daemon = nix::unistd::Group::from_name("daemon").unwrap().unwrap();
    assert!(
        out.store.sec_gids.contains(&daemon.gid.as_raw())
            || out.store.pri_gids.contains(&daemon.gid.as_raw()),
        "{out:?}"
    );
}
