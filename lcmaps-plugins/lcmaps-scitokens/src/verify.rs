//! Token verification: header, issuer, key, signature, then claims.
//!
//! Order (each step fails closed with one [`TokenError`]):
//! 1. size bound, three base64url parts, JSON header and payload;
//! 2. `alg` is RS256 or ES256 (so never `none`, HS*, PS*, ...), no `crit`,
//!    a `kid` is present;
//! 3. `iss` names a configured issuer, `kid` one of its keys (local, else
//!    fetched from the issuer when `jwks_refresh` is configured, see
//!    [`crate::remote`]), and that key
//!    is for the header's algorithm (no algorithm confusion: an RSA key
//!    can only verify RS256, an EC P-256 key only ES256);
//! 4. the signature, with `jsonwebtoken` (ring);
//! 5. `sub`, `exp` (required), `nbf`, `iat` with the clock skew, `aud`
//!    against the issuer's audiences, and for authorize-and-map issuers
//!    every required scope;
//! 6. the profile the token names (WLCG 1.0 or SciTokens 2.0) and the
//!    issuer's `profile` ([`crate::profile`]).
//!
//! [`Verifier::explain_at`] records these as the checks of
//! [`crate::explain::CHECKS`]: `format` (1, 2), `issuer`, `signature` (3,
//! 4), `claims` (`sub`, the group claim), `time`, `audience`, `scopes`,
//! `profile`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::config::{Config, Issuer, Mode};
use crate::error::TokenError;
use crate::explain::Check;
use crate::identity::DEFAULT_GROUPS_CLAIM;
use crate::profile;
use crate::time::rfc3339;

/// The verified claims of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// `iss`.
    pub iss: String,
    /// `sub`.
    pub sub: String,
    /// `aud` (a string is a one-element list).
    pub aud: Vec<String>,
    /// `exp`.
    pub exp: i64,
    /// `nbf`.
    pub nbf: Option<i64>,
    /// `iat`.
    pub iat: Option<i64>,
    /// `scope`, split on blanks.
    pub scope: Vec<String>,
    /// The entries of the issuer's group claim (`groups_claim`, default
    /// `wlcg.groups`), as the token has them.
    pub groups: Vec<String>,
    /// `wlcg.ver`.
    pub wlcg_ver: Option<String>,
    /// `ver` (SciTokens, e.g. `scitoken:2.0`).
    pub ver: Option<String>,
    /// `jti`.
    pub jti: Option<String>,
    /// Every claim, for mapfile rules on any claim.
    pub payload: Map<String, Value>,
}

/// A verified bearer token: the raw token and its claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCredential {
    /// The token as presented (surrounding blanks removed).
    pub raw: String,
    /// Its key id.
    pub kid: String,
    /// Its algorithm.
    pub alg: Algorithm,
    /// The verified claims.
    pub claims: Claims,
    /// The configuration name of its issuer (`[Issuer NAME]`).
    pub issuer_name: String,
    /// What the issuer's tokens are good for.
    pub mode: Mode,
}

/// Verifies tokens against a [`Config`].
#[derive(Debug, Clone)]
pub struct Verifier {
    config: Config,
}

/// What a token's header (its first part) says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The algorithm: RS256 or ES256, never anything else.
    pub alg: Algorithm,
    /// The key id, not empty.
    pub kid: String,
}

/// Check a token's header, its first part (base64url JSON), as
/// [`Verifier::verify_at`] does: `alg` RS256 or ES256, no `crit`, a `kid`.
pub fn parse_header(part: &str) -> Result<Header, TokenError> {
    let header = b64_json(part, "header")?;
    let alg_name = match header.get("alg") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(TokenError::Malformed("alg is not a string".into())),
        None => return Err(TokenError::Malformed("header has no alg".into())),
    };
    let alg = match alg_name.as_str() {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        _ => return Err(TokenError::AlgorithmNotAllowed(alg_name)),
    };
    if header.contains_key("crit") {
        return Err(TokenError::Malformed(
            "header has crit, no extension is understood".into(),
        ));
    }
    let kid = match header.get("kid") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) | None => return Err(TokenError::NoKeyId),
        Some(_) => return Err(TokenError::Malformed("kid is not a string".into())),
    };
    Ok(Header { alg, kid })
}

fn b64_json(part: &str, what: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(format!("{what} is not base64url")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(TokenError::Malformed(format!(
            "{what} is not a JSON object"
        ))),
    }
}

fn opt_str(m: &Map<String, Value>, k: &str) -> Result<Option<String>, TokenError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TokenError::BadClaim(format!("{k} is not a string"))),
    }
}

fn opt_time(m: &Map<String, Value>, k: &str) -> Result<Option<i64>, TokenError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or_else(|| TokenError::BadClaim(format!("{k} is not a valid time"))),
        Some(_) => Err(TokenError::BadClaim(format!("{k} is not a number"))),
    }
}

fn str_list(m: &Map<String, Value>, k: &str) -> Result<Vec<String>, TokenError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .ok_or_else(|| TokenError::BadClaim(format!("{k} has a non-string element")))
            })
            .collect(),
        Some(_) => Err(TokenError::BadClaim(format!(
            "{k} is not a string or a list of strings"
        ))),
    }
}

/// Whether token scope `have` grants required scope `want`. Scopes are
/// `name` or `name:path`; a path in `have` grants itself and everything
/// below it (`storage.read:/cms` grants `storage.read:/cms/data`, not
/// `storage.read:/cmsx`). A required scope without a path needs the bare
/// name (or the name with path `/`).
pub fn scope_grants(have: &str, want: &str) -> bool {
    let split = |s: &str| -> (String, Option<String>) {
        match s.split_once(':') {
            Some((n, p)) => (n.to_string(), Some(p.to_string())),
            None => (s.to_string(), None),
        }
    };
    let (hn, hp) = split(have);
    let (wn, wp) = split(want);
    if hn != wn {
        return false;
    }
    match (hp.as_deref(), wp.as_deref()) {
        (None, None) => true,
        (Some("/"), _) => true,
        (Some(_), None) | (None, Some(_)) => false,
        (Some(h), Some(w)) => {
            let h = h.trim_end_matches('/');
            w == h || (w.starts_with(h) && w.as_bytes().get(h.len()) == Some(&b'/'))
        }
    }
}

impl Verifier {
    /// A verifier for `config`.
    pub fn new(config: Config) -> Verifier {
        Verifier { config }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Verify `token` now.
    pub fn verify(&self, token: &str) -> Result<TokenCredential, TokenError> {
        self.verify_at(token, crate::time::now())
    }

    /// Verify `token` at unix time `now`.
    pub fn verify_at(&self, token: &str, now: i64) -> Result<TokenCredential, TokenError> {
        self.explain_at(token, now).1
    }

    /// Verify `token` at unix time `now`, recording each check in the order
    /// of [`CHECKS`](crate::explain::CHECKS) up to the first that fails.
    pub fn explain_at(
        &self,
        token: &str,
        now: i64,
    ) -> (Vec<Check>, Result<TokenCredential, TokenError>) {
        let mut steps = Steps::default();
        let r = self.verify_steps(token, now, &mut steps);
        (steps.0, r)
    }

    fn verify_steps(
        &self,
        token: &str,
        now: i64,
        steps: &mut Steps,
    ) -> Result<TokenCredential, TokenError> {
        let (parts, alg, kid, payload) = steps.run("format", || {
            let max = self.config.max_token_size;
            if token.len() > max {
                return Err(TokenError::TooLarge {
                    len: token.len(),
                    max,
                });
            }
            let token = token.trim();
            let parts: Vec<&str> = token.split('.').collect();
            if parts.len() != 3 {
                return Err(TokenError::Malformed(format!(
                    "{} parts, expected header.payload.signature",
                    parts.len()
                )));
            }
            let Header { alg, kid } = parse_header(parts[0])?;
            if parts[2].is_empty() {
                return Err(TokenError::Malformed("empty signature".into()));
            }
            let payload = b64_json(parts[1], "payload")?;
            let detail = format!("{} bytes, {alg:?}, key id {kid}", token.len());
            Ok(((parts, alg, kid, payload), detail))
        })?;
        let token = token.trim();
        let (iss, issuer) = steps.run("issuer", || {
            let (iss, issuer) = self.issuer_of(&payload)?;
            let d = format!("{iss} ([Issuer {}])", issuer.name);
            Ok(((iss, issuer), d))
        })?;
        steps.run("signature", || {
            // Local keys first; then the keys fetched from the issuer, when
            // configured (refreshed here when stale or lacking `kid`).
            let remote;
            let (key, whence) = match issuer.keys.keys.get(&kid) {
                Some(k) => (k, "local"),
                None => {
                    remote = issuer
                        .refresh
                        .as_ref()
                        .and_then(|r| r.keys_for(&iss, &kid, now));
                    match remote.as_ref().and_then(|s| s.keys.get(&kid)) {
                        Some(k) => (k, "fetched"),
                        None => {
                            return Err(TokenError::UnknownKey {
                                kid: kid.clone(),
                                issuer: iss.clone(),
                            })
                        }
                    }
                }
            };
            if key.alg != alg {
                return Err(TokenError::KeyAlgorithmMismatch {
                    kid: kid.clone(),
                    issuer: iss.clone(),
                    key_alg: format!("{:?}", key.alg),
                    alg: format!("{alg:?}"),
                });
            }
            let signed = &token[..parts[0].len() + 1 + parts[1].len()];
            let ok = jsonwebtoken::crypto::verify(parts[2], signed.as_bytes(), &key.decoding, alg)
                .unwrap_or(false);
            if !ok {
                return Err(TokenError::BadSignature {
                    kid: kid.clone(),
                    issuer: iss.clone(),
                });
            }
            Ok(((), format!("verified with {whence} key {kid} ({alg:?})")))
        })?;
        let claims = self.claims(&payload, iss, issuer, now, steps)?;
        Ok(TokenCredential {
            raw: token.to_string(),
            kid,
            alg,
            claims,
            issuer_name: issuer.name.clone(),
            mode: issuer.mode,
        })
    }

    /// The `iss` of a decoded payload and its configured issuer.
    fn issuer_of(&self, payload: &Map<String, Value>) -> Result<(String, &Issuer), TokenError> {
        let iss = match opt_str(payload, "iss")? {
            Some(i) => i,
            None => return Err(TokenError::NoIssuer),
        };
        let Some(issuer) = self.config.issuers.get(&iss) else {
            return Err(TokenError::UnknownIssuer(iss));
        };
        Ok((iss, issuer))
    }

    /// The checks [`Verifier::verify_at`] makes of a token's payload (its
    /// second part, base64url JSON) once the signature verified: issuer,
    /// then the claims at unix time `now`. No key is looked at; for tests
    /// and fuzzing (`fuzz/fuzz_targets/parse_jwt.rs`) of the claim checks
    /// on their own.
    pub fn check_claims(&self, payload: &str, now: i64) -> Result<Claims, TokenError> {
        let payload = b64_json(payload, "payload")?;
        let (iss, issuer) = self.issuer_of(&payload)?;
        self.claims(&payload, iss, issuer, now, &mut Steps::default())
    }

    fn claims(
        &self,
        m: &Map<String, Value>,
        iss: String,
        issuer: &Issuer,
        now: i64,
        steps: &mut Steps,
    ) -> Result<Claims, TokenError> {
        let skew = self.config.clock_skew;
        let gc = issuer.identity.groups_claim.as_str();
        let (sub, groups) = steps.run("claims", || {
            let sub = opt_str(m, "sub")?
                .filter(|s| !s.is_empty())
                .ok_or_else(|| TokenError::BadClaim("sub is missing".into()))?;
            let groups = match m.get(gc) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(_)) => str_list(m, gc)?,
                // wlcg.groups is a list; another group claim may be one string.
                Some(Value::String(_)) if gc != DEFAULT_GROUPS_CLAIM => str_list(m, gc)?,
                Some(_) => {
                    return Err(TokenError::BadClaim(format!(
                        "{gc} is not a list of strings"
                    )))
                }
            };
            let d = format!("sub {sub}, {} group(s) in {gc}", groups.len());
            Ok(((sub, groups), d))
        })?;
        let (exp, nbf, iat) = steps.run("time", || {
            let exp =
                opt_time(m, "exp")?.ok_or_else(|| TokenError::BadClaim("exp is missing".into()))?;
            let nbf = opt_time(m, "nbf")?;
            let iat = opt_time(m, "iat")?;
            if now > exp.saturating_add(skew) {
                return Err(TokenError::Expired(rfc3339(exp)));
            }
            if let Some(nbf) = nbf {
                if nbf.saturating_sub(skew) > now {
                    return Err(TokenError::NotYetValid(rfc3339(nbf)));
                }
            }
            if let Some(iat) = iat {
                if iat.saturating_sub(skew) > now {
                    return Err(TokenError::IssuedInFuture(rfc3339(iat)));
                }
            }
            let d = format!(
                "valid until {} (now {}, skew {skew} s)",
                rfc3339(exp),
                rfc3339(now)
            );
            Ok(((exp, nbf, iat), d))
        })?;
        let aud = steps.run("audience", || {
            let aud = str_list(m, "aud")?;
            if aud.is_empty() {
                return Err(TokenError::BadClaim("aud is missing".into()));
            }
            let Some(hit) = aud.iter().find(|a| issuer.audiences.contains(a)) else {
                return Err(TokenError::WrongAudience {
                    got: aud.join(" "),
                    want: issuer.audiences.join(" "),
                    issuer: iss.clone(),
                });
            };
            let d = format!("{hit} is accepted");
            Ok((aud, d))
        })?;
        let scope = steps.run("scopes", || {
            let scope: Vec<String> = opt_str(m, "scope")?
                .map(|s| s.split_ascii_whitespace().map(String::from).collect())
                .unwrap_or_default();
            if issuer.mode == Mode::Map {
                return Ok((scope, "mode map: no scope required".into()));
            }
            for want in &issuer.required_scopes {
                if !scope.iter().any(|h| scope_grants(h, want)) {
                    return Err(TokenError::MissingScope {
                        scope: want.clone(),
                        issuer: iss.clone(),
                    });
                }
            }
            let d = format!("has {}", issuer.required_scopes.join(" "));
            Ok((scope, d))
        })?;
        steps.run("profile", || {
            profile::check(m, &scope, &aud, &issuer.audiences, issuer.identity.profile)
                .map(|d| ((), d))
                .map_err(TokenError::Profile)
        })?;
        Ok(Claims {
            iss,
            sub,
            aud,
            exp,
            nbf,
            iat,
            scope,
            groups,
            wlcg_ver: opt_str(m, "wlcg.ver")?,
            ver: opt_str(m, "ver")?,
            jti: opt_str(m, "jti")?,
            payload: m.clone(),
        })
    }
}

/// The checks made so far.
#[derive(Debug, Default)]
struct Steps(Vec<Check>);

impl Steps {
    /// Run check `name`: `f` gives a value and what was found, or the error
    /// refusing the token.
    fn run<T>(
        &mut self,
        name: &'static str,
        f: impl FnOnce() -> Result<(T, String), TokenError>,
    ) -> Result<T, TokenError> {
        match f() {
            Ok((t, detail)) => {
                self.0.push(Check {
                    check: name.into(),
                    passed: true,
                    detail,
                });
                Ok(t)
            }
            Err(e) => {
                self.0.push(Check {
                    check: name.into(),
                    passed: false,
                    detail: e.to_string(),
                });
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert!(scope_grants("compute.create", "compute.create"));
        assert!(!scope_grants("compute.read", "compute.create"));
        assert!(!scope_grants("compute.create:/x", "compute.create"));
        assert!(scope_grants("storage.read:/", "storage.read:/cms"));
        assert!(scope_grants("storage.read:/cms", "storage.read:/cms/data"));
        assert!(scope_grants("storage.read:/cms/", "storage.read:/cms"));
        assert!(!scope_grants("storage.read:/cms", "storage.read:/cmsx"));
        assert!(!scope_grants("storage.read:/cms/data", "storage.read:/cms"));
        assert!(!scope_grants("compute", "compute.create"));
    }
}
