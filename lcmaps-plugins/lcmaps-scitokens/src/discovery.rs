//! WLCG bearer token discovery and bounded token reads, for front ends
//! (`lcmaps map --token`, glexec).
//!
//! Discovery order (WLCG Bearer Token Discovery): the `BEARER_TOKEN`
//! variable holds the token; else `BEARER_TOKEN_FILE` names a file; else
//! `$XDG_RUNTIME_DIR/bt_u$UID`; else `/tmp/bt_u$UID`. Files are only
//! named here: the caller reads them with its own privilege rules.

use std::path::Path;

use crate::config::DEFAULT_MAX_TOKEN;
use crate::error::TokenError;

pub use lcmaps_plugin_common::bearer_token::{discover, TokenSource};

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
