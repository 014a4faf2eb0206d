//! Issuer keys from local JWKS files (RFC 7517): RSA keys for RS256 and
//! EC P-256 keys for ES256. Other keys in a set are skipped (with a log
//! line); a key with an `alg` or `use` we do not verify with is skipped too.

use std::collections::BTreeMap;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// Largest JWKS file read (keys sets are a few KiB).
pub const MAX_JWKS_BYTES: u64 = 1 << 20;

/// One verification key.
#[derive(Clone)]
pub struct Key {
    /// The only algorithm this key verifies.
    pub alg: Algorithm,
    /// The key.
    pub decoding: DecodingKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The keys of one issuer, by key id.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    /// `kid` to key.
    pub keys: BTreeMap<String, Key>,
}

fn str_field<'a>(k: &'a Value, name: &str) -> Option<&'a str> {
    k.get(name).and_then(Value::as_str)
}

/// The key of one JWK, `Ok(None)` for a key we do not use.
fn parse_key(k: &Value) -> Result<Option<(String, Key)>, String> {
    let Some(kid) = str_field(k, "kid") else {
        return Err("a key has no kid".into());
    };
    if let Some(u) = str_field(k, "use") {
        if u != "sig" {
            log::debug!("JWKS key {kid}: use {u}, skipped");
            return Ok(None);
        }
    }
    let kty = str_field(k, "kty").ok_or_else(|| format!("key {kid} has no kty"))?;
    let (alg, decoding) = match kty {
        "RSA" => {
            let n = str_field(k, "n").ok_or_else(|| format!("RSA key {kid} has no n"))?;
            let e = str_field(k, "e").ok_or_else(|| format!("RSA key {kid} has no e"))?;
            let key = DecodingKey::from_rsa_components(n, e)
                .map_err(|e| format!("RSA key {kid}: {e}"))?;
            (Algorithm::RS256, key)
        }
        "EC" => {
            let crv = str_field(k, "crv").unwrap_or("");
            if crv != "P-256" {
                log::debug!("JWKS key {kid}: curve {crv:?}, skipped");
                return Ok(None);
            }
            let x = str_field(k, "x").ok_or_else(|| format!("EC key {kid} has no x"))?;
            let y = str_field(k, "y").ok_or_else(|| format!("EC key {kid} has no y"))?;
            let key =
                DecodingKey::from_ec_components(x, y).map_err(|e| format!("EC key {kid}: {e}"))?;
            (Algorithm::ES256, key)
        }
        other => {
            log::debug!("JWKS key {kid}: kty {other}, skipped");
            return Ok(None);
        }
    };
    if let Some(a) = str_field(k, "alg") {
        let want = match alg {
            Algorithm::ES256 => "ES256",
            _ => "RS256",
        };
        if a != want {
            log::debug!("JWKS key {kid}: alg {a} with kty {kty}, skipped");
            return Ok(None);
        }
    }
    Ok(Some((kid.to_string(), Key { alg, decoding })))
}

impl KeySet {
    /// Parse a JWKS document (`{"keys": [...]}`).
    pub fn parse(text: &[u8]) -> Result<KeySet, String> {
        let v: Value = serde_json::from_slice(text).map_err(|e| format!("not JSON: {e}"))?;
        KeySet::from_value(&v)
    }

    /// The keys of a parsed JWKS document (`{"keys": [...]}`).
    pub fn from_value(v: &Value) -> Result<KeySet, String> {
        let keys = v
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("no \"keys\" array")?;
        let mut set = KeySet::default();
        for k in keys {
            if let Some((kid, key)) = parse_key(k)? {
                if set.keys.insert(kid.clone(), key).is_some() {
                    return Err(format!("key id {kid} appears twice"));
                }
            }
        }
        Ok(set)
    }

    /// Load a JWKS file, or every `*.json` / `*.jwks` file of a directory
    /// (key rotation: the old and the new set side by side). A key id
    /// found twice is an error. No usable key at all is an error.
    pub fn load(path: &Path) -> Result<KeySet, String> {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut files = Vec::new();
        if meta.is_dir() {
            lcmaps_core::trust::check(path).map_err(|e| e.to_string())?;
            let rd = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
            for ent in rd {
                let ent = ent.map_err(|e| format!("{}: {e}", path.display()))?;
                let p = ent.path();
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                if (ext == "json" || ext == "jwks") && p.is_file() {
                    files.push(p);
                }
            }
            files.sort();
        } else {
            files.push(path.to_path_buf());
        }
        let mut set = KeySet::default();
        for f in &files {
            let text = read_site_file(f, MAX_JWKS_BYTES)?;
            let one = KeySet::parse(&text).map_err(|e| format!("{}: {e}", f.display()))?;
            for (kid, key) in one.keys {
                if set.keys.insert(kid.clone(), key).is_some() {
                    return Err(format!("{}: key id {kid} appears twice", f.display()));
                }
            }
        }
        if set.keys.is_empty() {
            return Err(format!(
                "{}: no RS256 or ES256 signing key found",
                path.display()
            ));
        }
        Ok(set)
    }
}

/// [`read_bounded`] for a site file (configuration, mapfile, keys): in a
/// privileged process one only root can change ([`lcmaps_core::trust`]).
pub(crate) fn read_site_file(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    if std::fs::symlink_metadata(path).is_ok() {
        lcmaps_core::trust::check(path).map_err(|e| e.to_string())?;
    }
    read_bounded(path, max)
}

/// Read at most `max` bytes; more is an error.
pub(crate) fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = lcmaps_core::site_file::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if buf.len() as u64 > max {
        return Err(format!("{}: larger than {max} bytes", path.display()));
    }
    Ok(buf)
}
