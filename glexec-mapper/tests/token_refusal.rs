//! A refused bearer token: the refusal glexec logs names the check that
//! refused it (issue #21).

#[path = "../../lcmaps-plugins/lcmaps-scitokens/tests/common/mod.rs"]
mod tokens;

use glexec_privsep::wire::Caller;
use glexec_privsep::{CredentialKind, Job, Mode, Settings};
use serde_json::json;
use tokens::*;

/// glexec's question for a bearer token, mapped with the policy `db`.
fn token_job(token: String, db: &std::path::Path) -> Job {
    Job {
        caller: Caller {
            uid: 1000,
            gid: 1000,
            name: "pilot".into(),
        },
        correlation_id: "t".into(),
        credential_kind: CredentialKind::Token,
        credential: token.into_bytes(),
        credential_source: "BEARER_TOKEN_FILE".into(),
        command: "/bin/true".into(),
        mode: Mode::GetAccount,
        settings: Settings {
            lcmaps_db_file: db.to_path_buf(),
            ..Settings::default()
        },
    }
}

#[test]
fn a_refused_token_names_the_failed_check() {
    let w = World::new();
    let db = w.token_db("tok", "tok -> lcmaps_dummy_good.mod");
    let mut claims = w.claims_now();
    claims["aud"] = json!("https://elsewhere.example");
    let job = |token: String| token_job(token, &db);
    let r = glexec_mapper::mapping::map(&job(w.rs256(&claims))).unwrap_err();
    assert!(
        r.reason.contains(
            "tok: token refused at check `audience`: token audience https://elsewhere.example"
        ),
        "{}",
        r.reason
    );
    // No rule for the subject: refused at `mapping`.
    claims["aud"] = json!(AUD);
    claims["sub"] = json!("nobody");
    claims["wlcg.groups"] = json!([]);
    let r = glexec_mapper::mapping::map(&job(w.rs256(&claims))).unwrap_err();
    assert!(
        r.reason
            .contains("token refused at check `mapping`: no mapping for issuer"),
        "{}",
        r.reason
    );
}

/// A token refused before its plugin ran (the policy's first plugin
/// refuses): explaining the refusal must not lease the pool account the
/// token's rule names.
#[test]
fn explaining_a_refusal_leases_nothing() {
    let w = World::new();
    let gridmapdir = w.dir.path().join("gridmapdir");
    std::fs::create_dir(&gridmapdir).unwrap();
    std::fs::write(gridmapdir.join("pool001"), "").unwrap();
    std::fs::write(&w.mapfile, format!("\"{AUTH}\" sub \"alice-sub\" .pool\n")).unwrap();
    let db = w.dir.path().join("lcmaps.db");
    std::fs::write(
        &db,
        format!(
            "tok = \"lcmaps_scitokens.mod -issuers {} -mapfile {} -gridmapdir {}\"\ntokens:\nlcmaps_dummy_bad.mod -> tok\n",
            w.issuers.display(),
            w.mapfile.display(),
            gridmapdir.display()
        ),
    )
    .unwrap();
    let job = token_job(w.rs256(&w.claims_now()), &db);
    let r = glexec_mapper::mapping::map(&job).unwrap_err();
    let leases: Vec<_> = std::fs::read_dir(&gridmapdir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('%'))
        .collect();
    assert!(leases.is_empty(), "a refusal leased {leases:?}");
    assert!(
        r.reason.contains("token refused at check `mapping`"),
        "{}",
        r.reason
    );
}
