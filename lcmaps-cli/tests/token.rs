//! `lcmaps map --token FILE`: a bearer token mapped by lcmaps_scitokens.mod.

#[path = "../../lcmaps-plugins/lcmaps-scitokens/tests/common/mod.rs"]
mod tokens;

use assert_cmd::Command;
use serde_json::json;
use tokens::*;

#[test]
fn map_a_token() {
    let w = World::new();
    std::fs::write(
        &w.mapfile,
        format!("\"{AUTH}\" group \"/cms/uscms\" root\n"),
    )
    .unwrap();
    let db = w.token_db("token", "~lcmaps_dummy_bad.mod -> token");
    let mut claims = w.claims_now();
    let file = w.dir.path().join("token");
    std::fs::write(&file, w.es256(&claims) + "\n").unwrap();
    let out = Command::cargo_bin("lcmaps")
        .unwrap()
        .args(["map", "--json", "--db"])
        .arg(&db)
        .arg("--token")
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["credentials"]["uids"], json!([0]));
    assert_eq!(
        v["credentials"]["vo_strings"],
        json!(["/cms", "/cms/uscms"])
    );

    // Expired: not mapped; a missing file: configuration error.
    claims["exp"] = json!(lcmaps_scitokens::time::now() - 3600);
    std::fs::write(&file, w.rs256(&claims)).unwrap();
    Command::cargo_bin("lcmaps")
        .unwrap()
        .args(["map", "--db"])
        .arg(&db)
        .arg("--token")
        .arg(&file)
        .assert()
        .code(1);
    Command::cargo_bin("lcmaps")
        .unwrap()
        .args(["map", "--db"])
        .arg(&db)
        .args(["--token", "/nonexistent/token"])
        .assert()
        .code(2);
    // Neither --dn nor --token.
    Command::cargo_bin("lcmaps")
        .unwrap()
        .args(["map", "--db"])
        .arg(&db)
        .assert()
        .code(2);
}

/// A world whose lcmaps.db runs lcmaps_scitokens.mod, and a token file of
/// the given claims (times around now).
fn explained(
    mapfile: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> (World, std::path::PathBuf, std::path::PathBuf) {
    let w = World::new();
    std::fs::write(&w.mapfile, mapfile).unwrap();
    let db = w.token_db("scitokens", "scitokens -> lcmaps_dummy_good.mod");
    let mut claims = w.claims_now();
    edit(&mut claims);
    let file = w.dir.path().join("token");
    std::fs::write(&file, w.rs256(&claims)).unwrap();
    (w, db, file)
}

fn lcmaps_map(db: &std::path::Path, token: &std::path::Path, json: bool) -> (Option<i32>, String) {
    let mut c = Command::cargo_bin("lcmaps").unwrap();
    c.arg("map");
    if json {
        c.arg("--json");
    }
    let out = c
        .arg("--db")
        .arg(db)
        .arg("--token")
        .arg(token)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

use lcmaps_scitokens::explain::CHECKS;

#[test]
fn explain_a_token_that_maps() {
    let map =
        format!("\"{AUTH}\" sub \"someone-else\" root\n\"{AUTH}\" group prefix \"/cms/\" root\n");
    let (_w, db, token) = explained(&map, |_| {});
    let (code, text) = lcmaps_map(&db, &token, false);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("Token decision of scitokens (lcmaps_scitokens.mod):"),
        "{text}"
    );
    let mut at = 0;
    for c in CHECKS {
        let line = format!("  check {c:<9} pass");
        let i = text[at..]
            .find(&line)
            .unwrap_or_else(|| panic!("{line:?} in order in {text}"));
        at += i;
    }
    assert!(
        text.contains("rule  line 1    no     sub exact \"someone-else\" root"),
        "{text}"
    );
    assert!(
        text.contains(
            "rule  line 2    MATCH  group prefix \"/cms/\" root  (\"/cms/uscms\" matches)"
        ),
        "{text}"
    );
    assert!(text.contains("token maps to root"), "{text}");

    let (code, out) = lcmaps_map(&db, &token, true);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ex = &v["token"][0]["explanation"];
    assert_eq!(v["token"][0]["plugin"], "scitokens");
    let names: Vec<&str> = ex["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(names, CHECKS);
    assert!(ex["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["passed"] == json!(true)));
    assert_eq!(ex["rules"][0]["line"], 1);
    assert_eq!(ex["rules"][0]["matched"], false);
    assert_eq!(ex["rules"][1]["line"], 2);
    assert_eq!(ex["rules"][1]["matched"], true);
    assert_eq!(ex["account"], "root");
    assert_eq!(ex["refusal"], serde_json::Value::Null);
}

#[test]
fn explain_a_refused_token() {
    let map = format!("\"{AUTH}\" group \"/cms\" root\n");
    let (_w, db, token) = explained(&map, |c| c["aud"] = json!("https://elsewhere.example"));
    let (code, text) = lcmaps_map(&db, &token, false);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("  check signature pass"), "{text}");
    assert!(text.contains("  check time      pass"), "{text}");
    assert!(
        text.contains("  check audience  FAIL  token audience https://elsewhere.example"),
        "{text}"
    );
    assert!(!text.contains("check scopes"), "{text}");
    assert!(text.contains("token refused at check `audience`"), "{text}");

    let (code, out) = lcmaps_map(&db, &token, true);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ex = &v["token"][0]["explanation"];
    let checks = ex["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 6);
    assert_eq!(checks[5]["check"], "audience");
    assert_eq!(checks[5]["passed"], false);
    assert_eq!(ex["rules"], json!([]));
    assert_eq!(ex["refusal"]["check"], "audience");

    // Verified, but no rule matches: refused at `mapping`, each rule shown.
    let (_w, db, token) = explained(&map, |c| c["wlcg.groups"] = json!(["/atlas"]));
    let (code, out) = lcmaps_map(&db, &token, true);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ex = &v["token"][0]["explanation"];
    assert_eq!(ex["rules"][0]["matched"], false);
    assert_eq!(ex["rules"][0]["detail"], "no match in \"/atlas\"");
    assert_eq!(ex["refusal"]["check"], "mapping");
}
