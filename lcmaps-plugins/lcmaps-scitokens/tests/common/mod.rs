//! Test world: RSA and EC P-256 keys made with openssl, their JWKS, an
//! issuer configuration, a mapfile, and a token minter.
#![allow(dead_code)]

use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use serde_json::{json, Value};

/// 2026-11-23T00:00:00Z.
pub const NOW: i64 = 1_795_392_000;
pub const AUTH: &str = "https://auth.example.org/";
pub const MAPONLY: &str = "https://maponly.example.org";
pub const AUD: &str = "https://ce.example.org";

pub fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub rsa: EncodingKey,
    pub rsa_public_pem: Vec<u8>,
    pub other_rsa: EncodingKey,
    pub ec: EncodingKey,
    pub issuers: PathBuf,
    pub mapfile: PathBuf,
}

pub const CONFIG: &str = "\
# test issuers
[Global]
clock_skew = 60

[Issuer Auth]
issuer = https://auth.example.org/
jwks = keys          ; a directory: rsa.json and ec.json
audience = https://ce.example.org, https://other.example.org
mode = authorize-and-map
required_scopes = compute.create

[Issuer MapOnly]
issuer = https://maponly.example.org
jwks = keys/rsa.json
audience = https://wlcg.cern.ch/jwt/v1/any https://ce.example.org
mode = map
";

pub const MAPFILE: &str = "\
# issuer kind value account
\"https://auth.example.org/\" sub \"alice-sub\" alice
\"https://auth.example.org/\" group \"/cms/production\" cmsprd
\"https://auth.example.org/\" group \"/cms\" cmsuser
\"https://maponly.example.org\" sub \"bob-sub\" bob
\"https://unconfigured.example\" sub \"alice-sub\" alice
";

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys).unwrap();

        let rsa = Rsa::generate(2048).unwrap();
        let rsa_jwk = json!({"kty": "RSA", "kid": "rsa1", "use": "sig", "alg": "RS256",
            "n": b64(&rsa.n().to_vec()), "e": b64(&rsa.e().to_vec())});
        let rsa_public_pem = rsa.public_key_to_pem().unwrap();
        let rsa_enc = EncodingKey::from_rsa_pem(&rsa.private_key_to_pem().unwrap()).unwrap();
        let other = Rsa::generate(2048).unwrap();
        let other_rsa = EncodingKey::from_rsa_pem(&other.private_key_to_pem().unwrap()).unwrap();

        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let ec = EcKey::generate(&group).unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        let mut ctx = BigNumContext::new().unwrap();
        ec.public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .unwrap();
        let ec_jwk = json!({"kty": "EC", "crv": "P-256", "kid": "ec1",
            "x": b64(&x.to_vec_padded(32).unwrap()), "y": b64(&y.to_vec_padded(32).unwrap())});
        let pkcs8 = PKey::from_ec_key(ec)
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap();
        let ec_enc = EncodingKey::from_ec_pem(&pkcs8).unwrap();

        // An encryption key and an unknown key type in the same set are skipped.
        let rsa_set = json!({"keys": [rsa_jwk,
            {"kty": "RSA", "kid": "enc1", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "kid": "ed1", "crv": "Ed25519", "x": "AAAA"}]});
        std::fs::write(keys.join("rsa.json"), rsa_set.to_string()).unwrap();
        std::fs::write(keys.join("ec.json"), json!({"keys": [ec_jwk]}).to_string()).unwrap();
        std::fs::write(keys.join("README"), "not a key set").unwrap();

        let issuers = dir.path().join("scitokens.cfg");
        std::fs::write(&issuers, CONFIG).unwrap();
        let mapfile = dir.path().join("token-mapfile");
        std::fs::write(&mapfile, MAPFILE).unwrap();
        World {
            dir,
            rsa: rsa_enc,
            rsa_public_pem,
            other_rsa,
            ec: ec_enc,
            issuers,
            mapfile,
        }
    }

    /// Claims of a good token of issuer Auth for alice.
    pub fn claims(&self) -> Value {
        json!({
            "iss": AUTH, "sub": "alice-sub", "aud": AUD,
            "exp": NOW + 3600, "nbf": NOW - 10, "iat": NOW - 10,
            "scope": "compute.create compute.read storage.read:/cms",
            "wlcg.groups": ["/cms", "/cms/uscms"], "wlcg.ver": "1.0",
            "jti": "abc"
        })
    }

    /// [`World::claims`] valid by the clock (not [`NOW`]): for runs
    /// through the engine, which takes the time itself.
    pub fn claims_now(&self) -> Value {
        let now = lcmaps_scitokens::time::now();
        let mut c = self.claims();
        c["exp"] = json!(now + 600);
        c["nbf"] = json!(now - 5);
        c["iat"] = json!(now - 5);
        c
    }

    /// An lcmaps.db in the world's directory: `lcmaps_scitokens.mod` on the
    /// world's issuers and mapfile declared as `name`, and policy `tokens`
    /// with the one rule `rule`.
    pub fn token_db(&self, name: &str, rule: &str) -> PathBuf {
        let db = self.dir.path().join("lcmaps.db");
        std::fs::write(
            &db,
            format!(
                "{name} = \"lcmaps_scitokens.mod -issuers {} -mapfile {}\"\ntokens:\n{rule}\n",
                self.issuers.display(),
                self.mapfile.display()
            ),
        )
        .unwrap();
        db
    }

    pub fn rs256(&self, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some("rsa1".into());
        jsonwebtoken::encode(&h, claims, &self.rsa).unwrap()
    }

    pub fn es256(&self, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some("ec1".into());
        jsonwebtoken::encode(&h, claims, &self.ec).unwrap()
    }

    /// A token with a hand-made header and signature.
    pub fn raw(header: &Value, claims: &Value, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(sig)
        )
    }

    pub fn argv(&self) -> Vec<String> {
        vec![
            "/usr/lib64/lcmaps/lcmaps_scitokens.mod".into(),
            "-issuers".into(),
            self.issuers.display().to_string(),
            "-mapfile".into(),
            self.mapfile.display().to_string(),
        ]
    }
}
