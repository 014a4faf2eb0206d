//! WLCG bearer token discovery and bounded token reads, for front ends
//! (`lcmaps map --token`, glexec).
//!
//! Discovery order (WLCG Bearer Token Discovery): the `BEARER_TOKEN`
//! variable holds the token; else `BEARER_TOKEN_FILE` names a file; else
//! `$XDG_RUNTIME_DIR/bt_u$UID`; else `/tmp/bt_u$UID`. Files are only
//! named here: the caller reads them with its own privilege rules.

use std::path::{Path, PathBuf};

use crate::config::DEFAULT_MAX_TOKEN;
use crate::error::TokenError;

/// Where a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// The token itself (from `BEARER_TOKEN`).
    Inline(String),
    /// A file to read (the file need not exist).
    File(PathBuf),
}

/// The WLCG discovery order for user `uid`, with environment lookups by
/// `var` (e.g. `|k| std::env::var(k).ok()`). `file_exists` says whether a
/// default location is there (only `BEARER_TOKEN_FILE` is returned
/// without checking). `None`: no token anywhere.
pub fn discover(
    var: impl Fn(&str) -> Option<String>,
    uid: u32,
    file_exists: impl Fn(&Path) -> bool,
) -> Option<TokenSource> {
    if let Some(t) = var("BEARER_TOKEN").filter(|t| !t.trim().is_empty()) {
        return Some(TokenSource::Inline(t.trim().to_string()));
    }
    if let Some(f) = var("BEARER_TOKEN_FILE").filter(|f| !f.is_empty()) {
        return Some(TokenSource::File(PathBuf::from(f)));
    }
    let name = format!("bt_u{uid}");
    if let Some(d) = var("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        let p = Path::new(&d).join(&name);
        if file_exists(&p) {
            return Some(TokenSource::File(p));
        }
    }
    let p = Path::new("/tmp").join(&name);
    file_exists(&p).then_some(TokenSource::File(p))
}

/// The token in `bytes` read from `what`: at most `max` bytes, UTF-8,
/// surrounding blanks removed, not empty.
pub fn token_from_bytes(bytes: &[u8], what: &str, max: usize) -> Result<String, TokenError> {
    let err = |reason: String| TokenError::Read {
        path: what.to_string(),
        reason,
    };
    if bytes.len() > max {
        return Err(err(format!("more than {max} bytes")));
    }
    let s = std::str::from_utf8(bytes).map_err(|_| err("not UTF-8".into()))?;
    let t = s.trim();
    if t.is_empty() {
        return Err(err("empty".into()));
    }
    Ok(t.to_string())
}

/// Read a token file (at most [`DEFAULT_MAX_TOKEN`] bytes).
pub fn read_token_file(path: &Path) -> Result<String, TokenError> {
    let bytes = crate::jwks::read_bounded(path, DEFAULT_MAX_TOKEN as u64).map_err(|e| {
        TokenError::Read {
            path: path.display().to_string(),
            reason: e,
        }
    })?;
    token_from_bytes(&bytes, &path.display().to_string(), DEFAULT_MAX_TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn discovery_order() {
        let env = |pairs: &[(&str, &str)]| {
            let m: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |k: &str| m.get(k).cloned()
        };
        let all = [
            ("BEARER_TOKEN", " tok \n"),
            ("BEARER_TOKEN_FILE", "/f"),
            ("XDG_RUNTIME_DIR", "/run/user/5"),
        ];
        assert_eq!(
            discover(env(&all), 5, |_| true),
            Some(TokenSource::Inline("tok".into()))
        );
        assert_eq!(
            discover(env(&all[1..]), 5, |_| false),
            Some(TokenSource::File("/f".into()))
        );
        assert_eq!(
            discover(env(&all[2..]), 5, |_| true),
            Some(TokenSource::File("/run/user/5/bt_u5".into()))
        );
        assert_eq!(
            discover(env(&all[2..]), 5, |p| p.starts_with("/tmp")),
            Some(TokenSource::File("/tmp/bt_u5".into()))
        );
        assert_eq!(discover(env(&[]), 5, |_| false), None);
    }

    #[test]
    fn reads() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("t");
        std::fs::write(&f, "abc.def.ghi\n").unwrap();
        assert_eq!(read_token_file(&f).unwrap(), "abc.def.ghi");
        std::fs::write(&f, vec![b'a'; DEFAULT_MAX_TOKEN + 1]).unwrap();
        assert!(read_token_file(&f)
            .unwrap_err()
            .to_string()
            .contains("larger than"));
        std::fs::write(&f, "  \n").unwrap();
        assert!(read_token_file(&f)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(read_token_file(&d.path().join("none")).is_err());
    }
}
