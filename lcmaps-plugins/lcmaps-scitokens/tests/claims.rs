//! Issue #21: mapping by any claim (every rule kind), groups_claim,
//! username_claim, the WLCG 1.0 and SciTokens 2.0 profiles, and the
//! explanation of each decision.

mod common;

use std::sync::Arc;

use common::*;
use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_plugin_common::accounts::StaticAccounts;
use lcmaps_scitokens::explain::CHECKS;
use lcmaps_scitokens::SciTokens;
use serde_json::{json, Value};

const WLCG: &str = "https://wlcg.example.org/";
const SCI: &str = "https://sci.example.org";

const CFG: &str = "\
[Issuer Auth]
issuer = https://auth.example.org/
jwks = keys
audience = https://ce.example.org
mode = map
groups_claim = wlcg.groups

[Issuer WLCG]
issuer = https://wlcg.example.org/
jwks = keys
audience = https://ce.example.org, https://wlcg.cern.ch/jwt/v1/any
mode = authorize-and-map
required_scopes = compute.create
profile = wlcg

[Issuer Sci]
issuer = https://sci.example.org
jwks = keys
audience = https://ce.example.org
mode = map
profile = scitokens
groups_claim = eduperson_entitlement
username_claim = preferred_username
";

const MAP: &str = r#"
"https://auth.example.org/" sub exact "alice-sub" alice
"https://auth.example.org/" sub prefix "svc-" svcuser
"https://auth.example.org/" sub regex "[0-9a-f]{8}-(prod|test)" cmsprd
"https://auth.example.org/" claim:preferred_username exact "carol" carol
"https://auth.example.org/" claim:email prefix "ops@" opsuser
"https://auth.example.org/" claim:acr regex "https://refeds\.org/profile/.*" refeds
"https://auth.example.org/" group prefix "/atlas/" atlasuser
"https://auth.example.org/" group regex "/cms(/.*)?" cmsuser
"https://auth.example.org/" sub regex "(a+)+$" aaa
"https://wlcg.example.org/" sub "w-sub" alice
"https://sci.example.org" group "/urn:mace:egi.eu:group:cms:role=member#aai.egi.eu" cmsuser
"https://sci.example.org" claim:eduperson_entitlement prefix "urn:mace:egi.eu:group:atlas:" atlasuser
"#;

fn world() -> World {
    let w = World::new();
    std::fs::write(&w.issuers, CFG).unwrap();
    std::fs::write(&w.mapfile, MAP).unwrap();
    w
}

fn plugin(w: &World) -> SciTokens {
    let mut p = SciTokens::with_accounts(Arc::new(StaticAccounts::new(&[
        ("alice", 1501, 1500, &[]),
        ("svcuser", 1502, 1500, &[]),
        ("cmsprd", 1601, 1600, &[]),
        ("cmsuser", 1602, 1600, &[]),
        ("carol", 1503, 1500, &[]),
        ("opsuser", 1504, 1500, &[]),
        ("refeds", 1505, 1500, &[]),
        ("atlasuser", 1701, 1700, &[]),
        ("aaa", 1801, 1800, &[]),
        ("dave", 2001, 2000, &[]),
        ("root", 0, 0, &[]),
        ("daemon", 2, 2, &[]),
    ])))
    .with_clock(NOW);
    p.initialize(&w.argv()).unwrap();
    p
}

fn base(iss: &str, sub: &str) -> Value {
    json!({"iss": iss, "sub": sub, "aud": AUD, "exp": NOW + 3600, "iat": NOW - 10})
}

fn with(mut v: Value, extra: Value) -> Value {
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

/// Run the plugin; the status, the uid and the VO strings.
fn run(p: &mut SciTokens, token: &str) -> (Status, Vec<u32>, Vec<String>) {
    let req = Request {
        token: Some(token.to_string()),
        ..Request::default()
    };
    let mut store = Store::new();
    let mut ctx = RunContext {
        request: &req,
        store: &mut store,
    };
    let s = p.run(&mut ctx);
    (s, store.uids.clone(), store.vo_strings.clone())
}

/// The account a token maps to, or the refusal.
fn account(p: &SciTokens, token: &str) -> Result<String, String> {
    p.mapper()
        .unwrap()
        .map_at(token, None, NOW)
        .map(|m| m.account)
}

#[test]
fn every_rule_kind_on_sub_and_on_other_claims() {
    let w = world();
    let p = plugin(&w);
    let a = |claims: Value| account(&p, &w.rs256(&claims));
    assert_eq!(a(base(AUTH, "alice-sub")).unwrap(), "alice");
    assert_eq!(a(base(AUTH, "svc-backup")).unwrap(), "svcuser");
    assert_eq!(a(base(AUTH, "deadbeef-prod")).unwrap(), "cmsprd");
    // The regex is anchored: a longer subject does not match.
    assert!(a(base(AUTH, "deadbeef-prod-x")).is_err());
    assert_eq!(
        a(with(
            base(AUTH, "x"),
            json!({"preferred_username": "carol"})
        ))
        .unwrap(),
        "carol"
    );
    assert_eq!(
        a(with(base(AUTH, "x"), json!({"email": "ops@example.org"}))).unwrap(),
        "opsuser"
    );
    assert_eq!(
        a(with(
            base(AUTH, "x"),
            json!({"acr": "https://refeds.org/profile/mfa"})
        ))
        .unwrap(),
        "refeds"
    );
    assert_eq!(
        a(with(
            base(AUTH, "x"),
            json!({"wlcg.groups": ["/atlas/prod"]})
        ))
        .unwrap(),
        "atlasuser"
    );
    assert_eq!(
        a(with(
            base(AUTH, "x"),
            json!({"wlcg.groups": ["/cms/uscms"]})
        ))
        .unwrap(),
        "cmsuser"
    );
    // A claim of another type, or a value close to a rule, does not match.
    let e = a(with(
        base(AUTH, "x"),
        json!({"preferred_username": ["carolx"]}),
    ))
    .unwrap_err();
    assert!(
        e.starts_with("token refused at check `mapping`: no mapping"),
        "{e}"
    );
}

#[test]
fn first_match_wins() {
    let w = world();
    let p = plugin(&w);
    // Matches line 2 (sub exact), 5 (preferred_username) and 9 (group):
    // the first in file order maps.
    let c = with(
        base(AUTH, "alice-sub"),
        json!({"preferred_username": "carol", "wlcg.groups": ["/cms"]}),
    );
    let m = p.mapper().unwrap().map_at(&w.rs256(&c), None, NOW).unwrap();
    assert_eq!((m.account.as_str(), m.line), ("alice", 2));
    let c = with(
        base(AUTH, "nobody"),
        json!({"preferred_username": "carol", "wlcg.groups": ["/cms"]}),
    );
    let m = p.mapper().unwrap().map_at(&w.rs256(&c), None, NOW).unwrap();
    assert_eq!((m.account.as_str(), m.line), ("carol", 5));
}

#[test]
fn a_regex_that_would_backtrack_badly() {
    let w = world();
    let p = plugin(&w);
    // (a+)+$ against a^n b is exponential for a backtracking engine.
    let long = format!("{}b", "a".repeat(20_000));
    let e = account(&p, &w.rs256(&base(AUTH, &long))).unwrap_err();
    assert!(e.contains("no mapping"), "{e}");
    let all_a = "a".repeat(20_000);
    assert_eq!(account(&p, &w.rs256(&base(AUTH, &all_a))).unwrap(), "aaa");
}

#[test]
fn groups_claim_eduperson_entitlement() {
    let w = world();
    let mut p = plugin(&w);
    let ent = "urn:mace:egi.eu:group:cms:role=member#aai.egi.eu";
    let c = with(
        base(SCI, "egi-1"),
        json!({"ver": "scitoken:2.0", "eduperson_entitlement": [ent, "urn:x:y"],
               "wlcg.groups": ["/ignored"]}),
    );
    let (s, uids, vo) = run(&mut p, &w.rs256(&c));
    assert_eq!((s, uids), (Status::Success, vec![1602]));
    // Both entitlements go to the store, FQAN-like; wlcg.groups is not this
    // issuer's group claim.
    assert_eq!(vo, [format!("/{ent}"), "/urn:x:y".to_string()]);
    // A single string is one group; the raw value matches claim: rules.
    let c = with(
        base(SCI, "egi-2"),
        json!({"ver": "scitoken:2.0",
               "eduperson_entitlement": "urn:mace:egi.eu:group:atlas:role=member#aai.egi.eu"}),
    );
    assert_eq!(account(&p, &w.rs256(&c)).unwrap(), "atlasuser");
}

#[test]
fn username_claim_maps_and_refuses() {
    let w = world();
    let p = plugin(&w);
    let user = |name: Value| {
        let c = with(
            base(SCI, "egi-3"),
            json!({"ver": "scitoken:2.0", "preferred_username": name}),
        );
        account(&p, &w.rs256(&c))
    };
    assert_eq!(user(json!("dave")).unwrap(), "dave");
    let e = user(json!("root")).unwrap_err();
    assert!(e.contains("names root: never mapped"), "{e}");
    let e = user(json!("nosuchuser")).unwrap_err();
    assert!(e.contains("no such local account"), "{e}");
    let e = user(json!("../etc")).unwrap_err();
    assert!(e.contains("does not match username_pattern"), "{e}");
    let e = user(json!("Dave")).unwrap_err();
    assert!(e.contains("does not match username_pattern"), "{e}");
    let e = user(json!("daemon")).unwrap_err();
    assert!(e.contains("below username_min_uid 1000"), "{e}");
    let e = user(json!(["dave"])).unwrap_err();
    assert!(e.contains("no string claim preferred_username"), "{e}");
    // A mapfile rule wins over the username claim.
    let c = with(
        base(SCI, "egi-4"),
        json!({"ver": "scitoken:2.0", "preferred_username": "dave",
               "eduperson_entitlement": ["urn:mace:egi.eu:group:atlas:x"]}),
    );
    assert_eq!(account(&p, &w.rs256(&c)).unwrap(), "atlasuser");
    // With a requested account, the claim must name it.
    let c = with(
        base(SCI, "egi-5"),
        json!({"ver": "scitoken:2.0", "preferred_username": "dave"}),
    );
    let e = p
        .mapper()
        .unwrap()
        .map_at(&w.rs256(&c), Some("alice"), NOW)
        .unwrap_err();
    assert!(e.contains("not the requested account alice"), "{e}");
}

#[test]
fn wlcg_and_scitokens_profiles() {
    let w = world();
    let p = plugin(&w);
    let wlcg = with(
        base(WLCG, "w-sub"),
        json!({"wlcg.ver": "1.0", "scope": "compute.create storage.read:/cms"}),
    );
    assert_eq!(account(&p, &w.rs256(&wlcg)).unwrap(), "alice");
    assert_eq!(account(&p, &w.es256(&wlcg)).unwrap(), "alice");
    let refused = |c: &Value, check: &str, why: &str| {
        let e = account(&p, &w.rs256(c)).unwrap_err();
        assert!(
            e.starts_with(&format!("token refused at check `{check}`: ")) && e.contains(why),
            "{e}"
        );
    };
    // A SciTokens token to the WLCG-only issuer, and the other way round.
    let sci_to_wlcg = with(
        base(WLCG, "w-sub"),
        json!({"ver": "scitoken:2.0", "scope": "compute.create"}),
    );
    refused(&sci_to_wlcg, "profile", "the issuer's profile is wlcg");
    let wlcg_to_sci = with(base(SCI, "s"), json!({"wlcg.ver": "1.0"}));
    refused(&wlcg_to_sci, "profile", "the issuer's profile is scitokens");
    // No profile claim at all, for issuers that demand one.
    refused(
        &with(base(WLCG, "w-sub"), json!({"scope": "compute.create"})),
        "profile",
        "no wlcg.ver claim",
    );
    // The rules of each profile.
    refused(
        &with(
            base(WLCG, "w-sub"),
            json!({"wlcg.ver": "1.0", "scope": "compute.create storage.read"}),
        ),
        "profile",
        "scope storage.read needs a path",
    );
    let mut no_iat = with(
        base(WLCG, "w-sub"),
        json!({"wlcg.ver": "1.0", "scope": "compute.create"}),
    );
    no_iat.as_object_mut().unwrap().remove("iat");
    refused(&no_iat, "profile", "WLCG 1.0 requires iat");
    refused(
        &with(base(WLCG, "w-sub"), json!({"wlcg.ver": "2.0"})),
        "scopes",
        "lacks scope compute.create",
    );
    refused(
        &with(
            base(WLCG, "w-sub"),
            json!({"wlcg.ver": "2.0", "scope": "compute.create"}),
        ),
        "profile",
        "is not 1.0",
    );
    let sci = with(
        base(SCI, "egi-6"),
        json!({"ver": "scitoken:2.0", "scope": "read:/store write:/store/user",
               "preferred_username": "dave"}),
    );
    assert_eq!(account(&p, &w.rs256(&sci)).unwrap(), "dave");
    refused(
        &with(sci.clone(), json!({"scope": "read"})),
        "profile",
        "scope read needs a path",
    );
    refused(
        &with(sci, json!({"ver": "scitoken:1.0"})),
        "profile",
        "is not scitoken:2.0",
    );
    // A profile-less issuer takes tokens of either profile, and of none.
    for c in [
        with(base(AUTH, "alice-sub"), json!({"wlcg.ver": "1.0"})),
        with(base(AUTH, "alice-sub"), json!({"ver": "scitoken:2.0"})),
        base(AUTH, "alice-sub"),
    ] {
        assert_eq!(account(&p, &w.rs256(&c)).unwrap(), "alice");
    }
}

#[test]
fn explanation_of_a_mapping_and_of_a_refusal() {
    let w = world();
    let p = plugin(&w);
    let mapper = p.mapper().unwrap();
    let c = with(base(AUTH, "x"), json!({"email": "ops@example.org"}));
    let ex = mapper.explain_at(&w.rs256(&c), None, NOW, false);
    let names: Vec<&str> = ex.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(names, CHECKS);
    assert!(ex.checks.iter().all(|c| c.passed), "{ex:?}");
    let lines: Vec<(usize, bool)> = ex.rules.iter().map(|r| (r.line, r.matched)).collect();
    assert_eq!(
        lines,
        [(2, false), (3, false), (4, false), (5, false), (6, true)]
    );
    assert_eq!(ex.rules[4].rule, "claim:email prefix \"ops@\" opsuser");
    assert_eq!(ex.account.as_deref(), Some("opsuser"));
    assert!(ex.refusal.is_none());
    let text = ex.render();
    assert!(text.contains("check signature pass"), "{text}");
    assert!(text.contains("rule  line 6    MATCH"), "{text}");

    let bad = with(base(AUTH, "x"), json!({"aud": "https://elsewhere"}));
    let ex = mapper.explain_at(&w.rs256(&bad), None, NOW, false);
    let last = ex.checks.last().unwrap();
    assert_eq!((last.check.as_str(), last.passed), ("audience", false));
    assert_eq!(ex.checks.len(), 6);
    assert!(ex.rules.is_empty() && ex.account.is_none());
    let r = ex.refusal.unwrap();
    assert_eq!(r.check, "audience");
    assert!(r
        .to_string()
        .starts_with("token refused at check `audience`: token audience https://elsewhere"));
}

#[test]
fn new_settings_errors_name_line_and_column() {
    let w = world();
    let cfg = |extra: &str| {
        let text = format!(
            "[Issuer A]\nissuer = https://a\njwks = keys\naudience = x\nmode = map\n{extra}\n"
        );
        std::fs::write(&w.issuers, text).unwrap();
        lcmaps_scitokens::Config::load(&w.issuers).unwrap_err()
    };
    let f = w.issuers.display().to_string();
    assert_eq!(
        cfg("profile = wlcg2"),
        format!("{f}:6:11: profile \"wlcg2\": expected wlcg (WLCG common JWT profile 1.0), scitokens (SciTokens 2.0) or any")
    );
    let e = cfg("username_claim = preferred_username\nusername_pattern =  [a-z");
    assert!(
        e.starts_with(&format!(
            "{f}:7:21: username_pattern: invalid regular expression"
        )),
        "{e}"
    );
    let e = cfg("username_min_uid = 0");
    assert!(
        e.starts_with(&format!(
            "{f}:6:20: username_min_uid is only used with username_claim"
        )),
        "{e}"
    );
    let e = cfg("username_claim = x\nusername_min_uid = 0");
    assert!(
        e.contains(":7:20: username_min_uid must be a uid from 1"),
        "{e}"
    );
}
