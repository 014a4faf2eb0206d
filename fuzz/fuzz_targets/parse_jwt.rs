//! Fuzz the SciTokens JWT checks (`lcmaps_scitokens::verify`): the input
//! as a whole token (`Verifier::verify_at`), as the JSON of a header
//! (`parse_header`) and as the JSON of a payload (`Verifier::check_claims`,
//! the claim checks made once a signature verified). Never a panic; a
//! header is accepted only with RS256 or ES256 and a key id; accepted
//! claims satisfy every rule (configured issuer, subject, expiry, not
//! before, issued at, audience, required scopes) and, written back out as
//! JSON, are accepted as the same claims; a token is accepted only with
//! the header and the claims checked on their own.
#![no_main]

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use lcmaps_scitokens::config::{Config, Issuer, Mode};
use lcmaps_scitokens::jwks::{Key, KeySet};
use lcmaps_scitokens::verify::{parse_header, scope_grants, Claims, Verifier};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_700_000_000;

fn issuer(iss: &str, mode: Mode, scopes: &[&str], keys: KeySet) -> (String, Issuer) {
    (
        iss.to_string(),
        Issuer {
            name: iss.trim_start_matches("https://").to_string(),
            issuer: iss.to_string(),
            jwks_path: None,
            keys,
            refresh: None,
            audiences: vec!["https://ce.example.org".into(), "any".into()],
            mode,
            required_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            identity: Default::default(),
        },
    )
}

fn verifier() -> Verifier {
    // The P-256 key of RFC 7515 appendix A.3, as key id `k1`.
    let ec = DecodingKey::from_ec_components(
        "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    )
    .expect("a valid P-256 point");
    let mut keys = KeySet::default();
    keys.keys.insert(
        "k1".into(),
        Key {
            alg: Algorithm::ES256,
            decoding: ec,
        },
    );
    Verifier::new(Config {
        clock_skew: 60,
        max_token_size: 4096,
        issuers: BTreeMap::from([
            issuer("https://issuer.example.org", Mode::Map, &[], keys),
            issuer(
                "https://wlcg.example.org",
                Mode::AuthorizeAndMap,
                &["compute.create", "storage.read:/cms"],
                KeySet::default(),
            ),
        ]),
        cache_dir: None,
    })
}

/// `c` as the JSON of a token payload.
fn render(c: &Claims) -> String {
    let mut m = Map::new();
    m.insert("iss".into(), json!(c.iss));
    m.insert("sub".into(), json!(c.sub));
    m.insert("aud".into(), json!(c.aud));
    m.insert("exp".into(), json!(c.exp));
    for (k, v) in [("nbf", c.nbf), ("iat", c.iat)] {
        if let Some(t) = v {
            m.insert(k.into(), json!(t));
        }
    }
    if !c.scope.is_empty() {
        m.insert("scope".into(), json!(c.scope.join(" ")));
    }
    if !c.groups.is_empty() {
        m.insert("wlcg.groups".into(), json!(c.groups));
    }
    for (k, v) in [("wlcg.ver", &c.wlcg_ver), ("ver", &c.ver), ("jti", &c.jti)] {
        if let Some(s) = v {
            m.insert(k.into(), json!(s));
        }
    }
    Value::Object(m).to_string()
}

fn check_claims(v: &Verifier, c: &Claims) {
    let cfg = v.config();
    let issuer = cfg.issuers.get(&c.iss).expect("a configured issuer");
    let skew = cfg.clock_skew;
    assert!(!c.sub.is_empty());
    assert!(NOW <= c.exp.saturating_add(skew), "expired: {c:?}");
    for t in [c.nbf, c.iat].into_iter().flatten() {
        assert!(t.saturating_sub(skew) <= NOW, "in the future: {c:?}");
    }
    assert!(c.aud.iter().any(|a| issuer.audiences.contains(a)), "{c:?}");
    // The profile a token names is the one it follows (issue #21).
    assert!(c.wlcg_ver.is_none() || c.ver.is_none(), "{c:?}");
    assert!(c.wlcg_ver.as_deref().is_none_or(|v| v == "1.0"), "{c:?}");
    assert!(c.ver.as_deref().is_none_or(|v| v == "scitoken:2.0"), "{c:?}");
    if issuer.mode == Mode::AuthorizeAndMap {
        for want in &issuer.required_scopes {
            assert!(
                c.scope.iter().any(|h| scope_grants(h, want)),
                "{want}: {c:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let v = verifier();

    let part = URL_SAFE_NO_PAD.encode(data);
    if let Ok(h) = parse_header(&part) {
        assert!(matches!(h.alg, Algorithm::RS256 | Algorithm::ES256));
        assert!(!h.kid.is_empty());
        let again = json!({"alg": format!("{:?}", h.alg), "kid": h.kid}).to_string();
        assert_eq!(
            parse_header(&URL_SAFE_NO_PAD.encode(&again)),
            Ok(h),
            "{again}"
        );
    }

    if let Ok(mut c) = v.check_claims(&part, NOW) {
        check_claims(&v, &c);
        let again = render(&c);
        let mut c2 = v
            .check_claims(&URL_SAFE_NO_PAD.encode(&again), NOW)
            .unwrap_or_else(|e| panic!("{again} (written from accepted claims) is refused: {e}"));
        // Every claim is kept for mapfile rules; only the checked ones are
        // written back.
        c.payload = Map::new();
        c2.payload = Map::new();
        assert_eq!(c, c2, "{again}");
    }

    if let Ok(token) = std::str::from_utf8(data) {
        if let Ok(t) = v.verify_at(token, NOW) {
            let parts: Vec<&str> = t.raw.split('.').collect();
            let h = parse_header(parts[0]).expect("the header of an accepted token");
            assert_eq!((h.alg, h.kid), (t.alg, t.kid));
            assert_eq!(v.check_claims(parts[1], NOW), Ok(t.claims.clone()));
            check_claims(&v, &t.claims);
        }
    }
});
