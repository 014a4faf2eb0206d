//! Fuzz the JWKS parser (`lcmaps_scitokens::jwks::KeySet::parse`): any
//! bytes give keys or an error, never a panic; every key kept is one of
//! the document's, for RS256 (kty RSA) or ES256 (kty EC, P-256), with a
//! key id found once; each kept key, alone in a set, is kept again with
//! the same algorithm.
#![no_main]

use jsonwebtoken::Algorithm;
use lcmaps_scitokens::jwks::KeySet;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(set) = KeySet::parse(data) else {
        return;
    };
    let doc: Value = serde_json::from_slice(data).expect("accepted, so JSON");
    let jwks = doc["keys"].as_array().expect("accepted, so a keys array");
    for (kid, key) in &set.keys {
        let mine: Vec<&Value> = jwks
            .iter()
            .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
            .collect();
        assert!(!mine.is_empty(), "key {kid} is not in the document");
        let kty = mine.iter().find_map(|k| {
            let kty = k.get("kty").and_then(Value::as_str)?;
            match (kty, key.alg) {
                ("RSA", Algorithm::RS256) | ("EC", Algorithm::ES256) => Some(kty),
                _ => None,
            }
        });
        assert!(kty.is_some(), "key {kid}: {:?} from {mine:?}", key.alg);
        let usable: Vec<KeySet> = mine
            .iter()
            .filter_map(|k| KeySet::from_value(&json!({ "keys": [k] })).ok())
            .filter(|s| s.keys.get(kid).is_some_and(|k| k.alg == key.alg))
            .collect();
        assert_eq!(usable.len(), 1, "key {kid} alone");
    }
});
