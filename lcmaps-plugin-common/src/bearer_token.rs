//! WLCG Bearer Token Discovery: where a bearer token is, for front ends
//! (glexec's root part, `lcmaps map --token`). Pure logic: the caller reads
//! what it names with its own privilege rules.
//!
//! The order: the `BEARER_TOKEN` variable holds the token; else
//! `BEARER_TOKEN_FILE` names a file; else `$XDG_RUNTIME_DIR/bt_u$UID`;
//! else `/tmp/bt_u$UID`.

use std::path::{Path, PathBuf};

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
}
