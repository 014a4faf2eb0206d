//! Verification and mapping with keys and tokens made here.

mod common;

use std::sync::Arc;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lcmaps_core::cred::Store;
use lcmaps_core::plugin::{Plugin, Request, RunContext, Status};
use lcmaps_plugin_common::accounts::StaticAccounts;
use lcmaps_scitokens::{Config, Mode, SciTokens, TokenError, TokenMapfile, Verifier};
use serde_json::{json, Value};

fn verifier(w: &World) -> Verifier {
    Verifier::new(Config::load(&w.issuers).unwrap())
}

fn reject(w: &World, token: &str) -> TokenError {
    verifier(w).verify_at(token, NOW).unwrap_err()
}

fn with(w: &World, f: impl FnOnce(&mut Value)) -> Value {
    let mut c = w.claims();
    f(&mut c);
    c
}

fn plugin(w: &World) -> SciTokens {
    let mut p = SciTokens::with_accounts(Arc::new(StaticAccounts::new(&[
        ("alice", 501, 500, &[77]),
        ("cmsprd", 601, 600, &[]),
        ("cmsuser", 602, 600, &[]),
        ("bob", 701, 700, &[]),
    ])))
    .with_clock(NOW);
    p.initialize(&w.argv()).unwrap();
    p
}

fn run(
    p: &mut SciTokens,
    token: Option<&str>,
    requested: Option<&str>,
    verify: bool,
) -> (Status, Store) {
    let req = Request {
        token: token.map(String::from),
        requested_username: requested.map(String::from),
        ..Request::default()
    };
    let mut store = Store::new();
    let mut ctx = RunContext {
        request: &req,
        store: &mut store,
    };
    let s = if verify {
        p.verify(&mut ctx)
    } else {
        p.run(&mut ctx)
    };
    (s, store)
}

#[test]
fn valid_rs256_token_claims() {
    let w = World::new();
    let t = w.rs256(&w.claims());
    let c = verifier(&w).verify_at(&format!("  {t}\n"), NOW).unwrap();
    assert_eq!(c.raw, t);
    assert_eq!((c.kid.as_str(), c.alg), ("rsa1", Algorithm::RS256));
    assert_eq!(c.issuer_name, "Auth");
    assert_eq!(c.mode, Mode::AuthorizeAndMap);
    let cl = &c.claims;
    assert_eq!(cl.iss, AUTH);
    assert_eq!(cl.sub, "alice-sub");
    assert_eq!(cl.aud, [AUD]);
    assert_eq!(
        (cl.exp, cl.nbf, cl.iat),
        (NOW + 3600, Some(NOW - 10), Some(NOW - 10))
    );
    assert_eq!(
        cl.scope,
        ["compute.create", "compute.read", "storage.read:/cms"]
    );
    assert_eq!(cl.groups, ["/cms", "/cms/uscms"]);
    assert_eq!(cl.wlcg_ver.as_deref(), Some("1.0"));
    assert_eq!(cl.jti.as_deref(), Some("abc"));
}

#[test]
fn valid_es256_token_and_audience_list() {
    let w = World::new();
    let t = w.es256(&with(&w, |c| {
        c["aud"] = json!(["x", "https://other.example.org"])
    }));
    let c = verifier(&w).verify_at(&t, NOW).unwrap();
    assert_eq!((c.kid.as_str(), c.alg), ("ec1", Algorithm::ES256));
    assert_eq!(c.claims.aud, ["x", "https://other.example.org"]);
}

#[test]
fn expired_and_skew() {
    let w = World::new();
    let e = reject(&w, &w.rs256(&with(&w, |c| c["exp"] = json!(NOW - 61))));
    assert_eq!(e, TokenError::Expired("2026-11-22T23:58:59Z".into()));
    assert_eq!(e.to_string(), "token expired at 2026-11-22T23:58:59Z");
    // Within the 60 s skew.
    verifier(&w)
        .verify_at(&w.rs256(&with(&w, |c| c["exp"] = json!(NOW - 60))), NOW)
        .unwrap();
    let e = reject(
        &w,
        &w.rs256(&with(&w, |c| {
            c.as_object_mut()
                .unwrap()
                .remove("exp")
                .map(|_| ())
                .unwrap()
        })),
    );
    assert_eq!(e.to_string(), "token claim exp is missing");
}

#[test]
fn not_yet_valid() {
    let w = World::new();
    let e = reject(&w, &w.rs256(&with(&w, |c| c["nbf"] = json!(NOW + 61))));
    assert_eq!(e.to_string(), "token not valid before 2026-11-23T00:01:01Z");
    verifier(&w)
        .verify_at(&w.rs256(&with(&w, |c| c["nbf"] = json!(NOW + 60))), NOW)
        .unwrap();
    let e = reject(&w, &w.rs256(&with(&w, |c| c["iat"] = json!(NOW + 3000))));
    assert!(matches!(e, TokenError::IssuedInFuture(_)), "{e}");
}

#[test]
fn wrong_audience() {
    let w = World::new();
    let e = reject(
        &w,
        &w.rs256(&with(&w, |c| c["aud"] = json!("https://elsewhere.example"))),
    );
    assert_eq!(
        e.to_string(),
        "token audience https://elsewhere.example does not include any of \
         https://ce.example.org https://other.example.org required for issuer https://auth.example.org/"
    );
    // The WLCG "any" audience is only accepted where configured.
    let any = |iss: &str| {
        with(&w, |c| {
            c["aud"] = json!("https://wlcg.cern.ch/jwt/v1/any");
            c["iss"] = json!(iss);
            c["sub"] = json!("bob-sub");
        })
    };
    assert!(matches!(
        reject(&w, &w.rs256(&any(AUTH))),
        TokenError::WrongAudience { .. }
    ));
    verifier(&w)
        .verify_at(&w.rs256(&any(MAPONLY)), NOW)
        .unwrap();
    let e = reject(&w, &w.rs256(&with(&w, |c| c["aud"] = json!([]))));
    assert_eq!(e.to_string(), "token claim aud is missing");
}

#[test]
fn missing_scope_authorize_and_map_vs_map_only() {
    let w = World::new();
    let e = reject(
        &w,
        &w.rs256(&with(&w, |c| {
            c["scope"] = json!("compute.read compute.create:/x")
        })),
    );
    assert_eq!(
        e.to_string(),
        "token lacks scope compute.create required for issuer https://auth.example.org/"
    );
    assert!(matches!(
        reject(
            &w,
            &w.rs256(&with(&w, |c| {
                c.as_object_mut().unwrap().remove("scope");
            }))
        ),
        TokenError::MissingScope { .. }
    ));
    // Map-only issuer: scopes are not looked at.
    let t = w.rs256(&with(&w, |c| {
        c["iss"] = json!(MAPONLY);
        c["sub"] = json!("bob-sub");
        c.as_object_mut().unwrap().remove("scope");
    }));
    let c = verifier(&w).verify_at(&t, NOW).unwrap();
    assert_eq!(c.mode, Mode::Map);
    let mut p = plugin(&w);
    let (s, store) = run(&mut p, Some(&t), None, false);
    assert_eq!(s, Status::Success);
    assert_eq!(store.uids, [701]);
    // Authorize-and-map: the same token shape without scope maps nothing.
    let t = w.rs256(&with(&w, |c| {
        c.as_object_mut().unwrap().remove("scope");
    }));
    let (s, store) = run(&mut p, Some(&t), None, false);
    assert_eq!(s, Status::Failure);
    assert!(store.uids.is_empty());
}

#[test]
fn unknown_issuer() {
    let w = World::new();
    let e = reject(
        &w,
        &w.rs256(&with(&w, |c| c["iss"] = json!("https://auth.example.org"))),
    );
    assert_eq!(
        e.to_string(),
        "issuer https://auth.example.org is not configured"
    );
    let e = reject(
        &w,
        &w.rs256(&with(&w, |c| {
            c.as_object_mut().unwrap().remove("iss");
        })),
    );
    assert_eq!(e, TokenError::NoIssuer);
}

#[test]
fn bad_signature() {
    let w = World::new();
    // Signed by another RSA key under the right kid.
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("rsa1".into());
    let t = jsonwebtoken::encode(&h, &w.claims(), &w.other_rsa).unwrap();
    let e = reject(&w, &t);
    assert_eq!(
        e.to_string(),
        "token signature does not verify with key id rsa1 of issuer https://auth.example.org/"
    );
    // A claim changed after signing.
    let good = w.rs256(&w.claims());
    let parts: Vec<&str> = good.split('.').collect();
    let forged = with(&w, |c| c["sub"] = json!("root"));
    let t = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged.to_string().as_bytes()),
        parts[2]
    );
    assert!(matches!(reject(&w, &t), TokenError::BadSignature { .. }));
    // Signature of the wrong length / not base64url.
    let t = format!("{}.{}.AAAA", parts[0], parts[1]);
    assert!(matches!(reject(&w, &t), TokenError::BadSignature { .. }));
    let t = format!("{}.{}.!!!", parts[0], parts[1]);
    assert!(matches!(reject(&w, &t), TokenError::BadSignature { .. }));
}

#[test]
fn alg_none_and_other_algorithms() {
    let w = World::new();
    for alg in [
        "none", "None", "HS256", "HS512", "PS256", "RS512", "ES384", "EdDSA",
    ] {
        let t = World::raw(
            &json!({"alg": alg, "kid": "rsa1", "typ": "JWT"}),
            &w.claims(),
            b"",
        );
        let e = reject(&w, &t);
        assert_eq!(e, TokenError::AlgorithmNotAllowed(alg.into()));
        assert!(e
            .to_string()
            .starts_with(&format!("token algorithm {alg} is not allowed")));
        let t = format!("{}.", t.trim_end_matches('.'));
        assert!(matches!(reject(&w, &t), TokenError::AlgorithmNotAllowed(_)));
    }
    let t = World::raw(&json!({"kid": "rsa1"}), &w.claims(), b"x");
    assert!(matches!(reject(&w, &t), TokenError::Malformed(_)));
    let t = World::raw(
        &json!({"alg": "RS256", "kid": "rsa1", "crit": ["exp"]}),
        &w.claims(),
        b"x",
    );
    assert!(reject(&w, &t).to_string().contains("crit"));
}

#[test]
fn key_id_not_found_and_no_key_id() {
    let w = World::new();
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("rsa2".into());
    let t = jsonwebtoken::encode(&h, &w.claims(), &w.rsa).unwrap();
    assert_eq!(
        reject(&w, &t).to_string(),
        "key id rsa2 not found for issuer https://auth.example.org/"
    );
    // The skipped encryption key is not usable either.
    h.kid = Some("enc1".into());
    let t = jsonwebtoken::encode(&h, &w.claims(), &w.rsa).unwrap();
    assert!(matches!(reject(&w, &t), TokenError::UnknownKey { .. }));
    // No kid at all.
    let t = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &w.claims(), &w.rsa).unwrap();
    assert_eq!(reject(&w, &t), TokenError::NoKeyId);
    // The EC key is not in MapOnly's set (a single file, not the directory).
    let t = w.es256(&with(&w, |c| {
        c["iss"] = json!(MAPONLY);
        c["sub"] = json!("bob-sub");
    }));
    assert_eq!(
        reject(&w, &t).to_string(),
        "key id ec1 not found for issuer https://maponly.example.org"
    );
}

#[test]
fn hs256_with_the_public_key_as_secret() {
    let w = World::new();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("rsa1".into());
    let t = jsonwebtoken::encode(
        &h,
        &w.claims(),
        &EncodingKey::from_secret(&w.rsa_public_pem),
    )
    .unwrap();
    assert_eq!(
        reject(&w, &t),
        TokenError::AlgorithmNotAllowed("HS256".into())
    );
}

#[test]
fn key_algorithm_confusion_between_rsa_and_ec() {
    let w = World::new();
    // ES256 signed with the EC key but claiming the RSA key's kid, and the
    // other way round.
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some("rsa1".into());
    let t = jsonwebtoken::encode(&h, &w.claims(), &w.ec).unwrap();
    assert_eq!(
        reject(&w, &t).to_string(),
        "key id rsa1 of issuer https://auth.example.org/ is for RS256, token says ES256"
    );
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("ec1".into());
    let t = jsonwebtoken::encode(&h, &w.claims(), &w.rsa).unwrap();
    assert!(matches!(
        reject(&w, &t),
        TokenError::KeyAlgorithmMismatch { .. }
    ));
}

#[test]
fn one_megabyte_token() {
    let w = World::new();
    let big = w.rs256(&with(&w, |c| c["pad"] = json!("x".repeat(1 << 20))));
    assert!(big.len() > 1 << 20);
    let e = reject(&w, &big);
    assert!(matches!(e, TokenError::TooLarge { max: 65536, .. }), "{e}");
    assert!(e.to_string().contains("more than the limit of 65536"));
    let mut p = plugin(&w);
    assert_eq!(run(&mut p, Some(&big), None, false).0, Status::Failure);
}

#[test]
fn garbage() {
    let w = World::new();
    for g in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.e30.x",
        "e30.e30.x",
        "bnVsbA.e30.x",
        "e30",
        "....",
        "\u{0}.\u{1}.\u{2}",
    ] {
        let e = reject(&w, g);
        assert!(
            matches!(
                e,
                TokenError::Malformed(_) | TokenError::AlgorithmNotAllowed(_)
            ),
            "{g:?}: {e}"
        );
        assert!(!e.to_string().contains('\n'));
    }
    // A JSON payload that is not an object, and claims of the wrong type.
    let h = json!({"alg": "RS256", "kid": "rsa1"});
    assert!(matches!(
        reject(&w, &World::raw(&h, &json!([1]), b"x")),
        TokenError::Malformed(_)
    ));
    let e = reject(&w, &w.rs256(&with(&w, |c| c["exp"] = json!("tomorrow"))));
    assert_eq!(e.to_string(), "token claim exp is not a number");
    let e = reject(
        &w,
        &w.rs256(&with(&w, |c| c["wlcg.groups"] = json!("/cms"))),
    );
    assert!(matches!(e, TokenError::BadClaim(_)), "{e}");
    let e = reject(&w, &w.rs256(&with(&w, |c| c["sub"] = json!(""))));
    assert_eq!(e.to_string(), "token claim sub is missing");
}

#[test]
fn maps_by_sub_into_the_store() {
    let w = World::new();
    let mut p = plugin(&w);
    for t in [w.rs256(&w.claims()), w.es256(&w.claims())] {
        let (s, store) = run(&mut p, Some(&t), None, false);
        assert_eq!(s, Status::Success);
        assert_eq!(store.uids, [501]);
        assert_eq!(store.pri_gids, [500]);
        assert_eq!(store.sec_gids, [77, 500]);
        assert_eq!(store.vo_strings, ["/cms", "/cms/uscms"]);
    }
}

#[test]
fn maps_by_group_first_rule_wins() {
    let w = World::new();
    let mut p = plugin(&w);
    let t = w.rs256(&with(&w, |c| {
        c["sub"] = json!("someone-else");
        c["wlcg.groups"] = json!(["/cms", "/cms/production", "not fqan", "/bad group"]);
    }));
    let (s, store) = run(&mut p, Some(&t), None, false);
    assert_eq!(s, Status::Success);
    // "/cms/production" comes first in the mapfile.
    assert_eq!(store.uids, [601]);
    assert_eq!(store.vo_strings, ["/cms", "/cms/production"]);
    let m = p.mapper().unwrap().map_at(&t, None, NOW).unwrap();
    assert_eq!((m.account.as_str(), m.line), ("cmsprd", 3));
    // Requested account picks a later rule; an unmatched one fails.
    let (s, store) = run(&mut p, Some(&t), Some("cmsuser"), false);
    assert_eq!((s, store.uids.as_slice()), (Status::Success, &[602][..]));
    assert_eq!(
        run(&mut p, Some(&t), Some("alice"), false).0,
        Status::Failure
    );
    // No rule for this subject and no group.
    let t = w.rs256(&with(&w, |c| {
        c["sub"] = json!("nobody");
        c["wlcg.groups"] = json!([]);
    }));
    let e = p.mapper().unwrap().map_at(&t, None, NOW).unwrap_err();
    assert_eq!(
        e,
        "token refused at check `mapping`: \
         no mapping for issuer https://auth.example.org/ subject nobody (no groups)"
    );
    assert_eq!(run(&mut p, Some(&t), None, false).0, Status::Failure);
}

#[test]
fn verify_mode_needs_the_requested_account() {
    let w = World::new();
    let mut p = plugin(&w);
    let t = w.rs256(&w.claims());
    assert_eq!(
        run(&mut p, Some(&t), Some("alice"), true).0,
        Status::Success
    );
    assert_eq!(run(&mut p, Some(&t), None, true).0, Status::Failure);
    assert_eq!(run(&mut p, Some(&t), Some("bob"), true).0, Status::Failure);
}

#[test]
fn no_token_or_unknown_account_fails() {
    let w = World::new();
    let mut p = plugin(&w);
    let (s, store) = run(&mut p, None, None, false);
    assert_eq!(s, Status::Failure);
    assert_eq!(store, Store::new());
    // Mapped to an account that does not exist here.
    let mut p = SciTokens::with_accounts(Arc::new(StaticAccounts::new(&[]))).with_clock(NOW);
    p.initialize(&w.argv()).unwrap();
    assert_eq!(
        run(&mut p, Some(&w.rs256(&w.claims())), None, false).0,
        Status::Failure
    );
    // Against the real clock, NOW + 1 h is in the past by then or not: the
    // default plugin uses the system time.
    assert!(SciTokens::default().mapper().is_none());
}

#[test]
fn plugin_options_and_file_errors() {
    let w = World::new();
    let init = |args: &[&str]| {
        let mut argv = vec!["lcmaps_scitokens.mod".to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        SciTokens::default().initialize(&argv).map_err(|e| e.0)
    };
    let iss = w.issuers.display().to_string();
    let map = w.mapfile.display().to_string();
    init(&["-config", &iss, "-tokenmapfile", &map]).unwrap();
    assert!(init(&["-issuers", &iss])
        .unwrap_err()
        .contains("-mapfile <file> is required"));
    assert!(init(&["-mapfile", &map])
        .unwrap_err()
        .contains("-issuers <file> is required"));
    assert!(init(&["-issuers", &iss, "-mapfile", &map, "-x"])
        .unwrap_err()
        .contains("Unknown argument"));
    assert!(init(&["-issuers"]).is_err());

    let bad_map = w.dir.path().join("bad-map");
    std::fs::write(
        &bad_map,
        "# ok\n\"https://auth.example.org/\" sub alice-sub alice\n",
    )
    .unwrap();
    let e = init(&["-issuers", &iss, "-mapfile", &bad_map.display().to_string()]).unwrap_err();
    assert!(
        e.contains(&format!(
            "{}:2:33: expected a double-quoted string",
            bad_map.display()
        )),
        "{e}"
    );

    let cfg = |text: &str| {
        let f = w.dir.path().join("cfg");
        std::fs::write(&f, text).unwrap();
        Config::load(&f).unwrap_err()
    };
    let f = w.dir.path().join("cfg").display().to_string();
    let e =
        cfg("[Issuer A]\nissuer = https://a\njwks = keys\naudience = x\nmode = map\nscopes = x\n");
    assert_eq!(e, format!("{f}:6: unknown key scopes (expected one of issuer, jwks, audience, mode, required_scopes, jwks_refresh, jwks_ttl, jwks_grace, ca_file, capath, groups_claim, username_claim, username_pattern, username_min_uid, profile)"));
    let e = cfg("[Issuer A]\nissuer = https://a\njwks = keys\naudience = x\n");
    assert_eq!(
        e,
        format!("{f}:1: [Issuer A] is authorize-and-map but has no required_scopes")
    );
    let e = cfg("[Issuer A]\nissuer = https://a\njwks = keys\naudience = x\nmode = map\nrequired_scopes = compute.create\n");
    assert!(
        e.starts_with(&format!("{f}:6: required_scopes is only used")),
        "{e}"
    );
    let e = cfg("[Issuer A]\nissuer = https://a\njwks = keys\nmode = map\n");
    assert!(e.contains("has no audience"), "{e}");
    let e = cfg("[Issuer A]\nissuer = https://a\njwks = nokeys\naudience = x\nmode = map\n");
    assert!(e.starts_with(&format!("{f}:3: jwks: ")), "{e}");
    let e = cfg("[Issuer A]\nissuer = https://a\njwks = keys\naudience = x\nmode = mapping\n");
    assert!(e.contains(":5: mode \"mapping\""), "{e}");
    let e = cfg("[Global]\nclock_skew = 3600\n[Issuer A]\n");
    assert!(
        e.contains(":2: clock_skew must be a number from 0 to 300"),
        "{e}"
    );
    let e = cfg("[Issuer A]\nissuer = https://a\njwks = keys/rsa.json\naudience = x\nmode = map\n[Issuer B]\nissuer = https://a\njwks = keys/rsa.json\naudience = x\nmode = map\n");
    assert!(e.contains(":7: issuer https://a configured twice"), "{e}");
    assert!(cfg("# nothing\n").contains("no [Issuer NAME] section"));
    assert!(cfg("[Foo]\n").contains(":1: unknown section [Foo]"));
    // A JWKS with the same kid twice is refused.
    std::fs::write(
        w.dir.path().join("keys/copy.json"),
        std::fs::read(w.dir.path().join("keys/ec.json")).unwrap(),
    )
    .unwrap();
    let e = Config::load(&w.issuers).unwrap_err();
    assert!(e.contains("key id ec1 appears twice"), "{e}");

    let m = TokenMapfile::load(&w.mapfile).unwrap();
    assert_eq!(m.rules.len(), 5);
}
