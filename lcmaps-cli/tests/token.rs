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
    let db = w.dir.path().join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "token = \"lcmaps_scitokens.mod -issuers {} -mapfile {}\"\ntokens:\n~lcmaps_dummy_bad.mod -> token\n",
            w.issuers.display(),
            w.mapfile.display()
        ),
    )
    .unwrap();
    let now = lcmaps_scitokens::time::now();
    let mut claims = w.claims();
    claims["exp"] = json!(now + 600);
    claims["nbf"] = json!(now - 5);
    claims["iat"] = json!(now - 5);
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
    claims["exp"] = json!(now - 3600);
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
