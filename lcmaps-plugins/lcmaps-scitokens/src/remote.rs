//! Optional refresh of an issuer's keys from the keys it publishes
//! (`jwks_refresh` in the issuer configuration; off by default).
//!
//! * Source: the issuer's OpenID discovery document
//!   (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be
//!   the configured one, then its `jwks_uri`), or a JWKS URL given
//!   directly. HTTPS only ([`crate::https`]): host name checked, 5 s
//!   connect and 10 s total deadlines, at most 1 MiB.
//! * The remote keys are consulted only for a key id the local JWKS does
//!   not have (local keys win).
//! * They are kept per process with their fetch time, and optionally in a
//!   cache directory (`jwks_cache_dir`). They are refetched when older
//!   than `jwks_ttl`, or when a token names a key id they lack, but never
//!   more than once per [`MIN_INTERVAL`] per issuer (failed attempts
//!   included), so garbage tokens cannot make us hammer the issuer.
//! * When a refresh fails, the previous keys stay in use until
//!   `jwks_ttl + jwks_grace` after their fetch; then only the local keys
//!   remain. Each failed refresh logs one line saying why.
//!
//! All decisions take the time as an argument (the verifier's `now`), so
//! tests drive them with a fixed clock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::https::{Client, Url, MAX_BODY, TOTAL_TIMEOUT};
use crate::jwks::KeySet;
use crate::time::rfc3339;

/// Default `jwks_ttl`, seconds.
pub const DEFAULT_TTL: i64 = 3600;
/// Smallest `jwks_ttl`.
pub const MIN_TTL: i64 = 60;
/// Largest `jwks_ttl` (one day).
pub const MAX_TTL: i64 = 86_400;
/// Default `jwks_grace`, seconds: how long past the TTL keys whose refresh
/// fails stay in use.
pub const DEFAULT_GRACE: i64 = 21_600;
/// Largest `jwks_grace` (one day).
pub const MAX_GRACE: i64 = 86_400;
/// Fewest seconds between two fetch attempts for one issuer.
pub const MIN_INTERVAL: i64 = 60;

/// Whether this process may fetch keys over the network at all.
static NETWORK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Forbids every key refresh over the network in this process, for good:
/// the setuid glexec calls it, so that no HTTPS client ever runs with root
/// privileges on behalf of a caller's token. Keys already in the cache
/// directory (within `jwks_ttl + jwks_grace`) and the local keys are still
/// used.
pub fn forbid_network() {
    NETWORK.store(false, std::sync::atomic::Ordering::SeqCst);
}

fn network_allowed() -> bool {
    NETWORK.load(std::sync::atomic::Ordering::SeqCst)
}

/// Where an issuer's keys are fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The discovery document at this URL; its `jwks_uri` names the keys.
    Discovery(Url),
    /// The JWKS at this URL.
    Jwks(Url),
}

impl Source {
    /// From a `jwks_refresh` value for issuer `iss`: `discovery` or an
    /// `https://` URL of the JWKS.
    pub fn parse(value: &str, iss: &str) -> Result<Source, String> {
        if value == "discovery" {
            let url = format!(
                "{}/.well-known/openid-configuration",
                iss.trim_end_matches('/')
            );
            let url =
                Url::parse(&url).map_err(|e| format!("discovery needs an https:// issuer: {e}"))?;
            return Ok(Source::Discovery(url));
        }
        Url::parse(value)
            .map(Source::Jwks)
            .map_err(|e| format!("expected discovery or the https:// URL of the JWKS: {e}"))
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Discovery(u) => write!(f, "discovery {u}"),
            Source::Jwks(u) => write!(f, "{u}"),
        }
    }
}

/// Keys fetched from the issuer, with their fetch time.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The keys.
    pub keys: Arc<KeySet>,
    /// Unix time of the fetch.
    pub at: i64,
}

#[derive(Debug, Default)]
struct State {
    current: Option<Fetched>,
    last_attempt: Option<i64>,
    disk_read: bool,
}

/// The refresh settings and the per-process cache of one issuer. Clones
/// share the cache.
#[derive(Debug, Clone)]
pub struct Refresh {
    /// Where the keys come from.
    pub source: Source,
    /// Seconds fetched keys are used before they are refetched.
    pub ttl: i64,
    /// Seconds past the TTL they stay in use while refreshes fail.
    pub grace: i64,
    /// The on-disk cache file, if any.
    pub cache_file: Option<PathBuf>,
    client: Client,
    state: Arc<Mutex<State>>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: Option<String>,
    jwks_uri: String,
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    issuer: String,
    source: String,
    fetched: i64,
    jwks: serde_json::Value,
}

impl Refresh {
    /// Refresh from `source` over `client`, caching in `cache_dir` (see
    /// [`check_cache_dir`]) when given.
    pub fn new(
        iss: &str,
        source: Source,
        ttl: i64,
        grace: i64,
        client: Client,
        cache_dir: Option<&Path>,
    ) -> Refresh {
        let cache_file = cache_dir.map(|d| {
            let h = openssl::sha::sha256(iss.as_bytes());
            let hex: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
            d.join(format!("{hex}.json"))
        });
        Refresh {
            source,
            ttl,
            grace,
            cache_file,
            client,
            state: Arc::default(),
        }
    }

    /// The keys fetched last, if still within TTL + grace at `now`.
    pub fn current(&self, now: i64) -> Option<Fetched> {
        let st = self.lock();
        st.current
            .clone()
            .filter(|f| now < f.at.saturating_add(self.ttl + self.grace))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The remote keys of issuer `iss` to look `kid` up in at `now`,
    /// refreshing them first when they are older than the TTL or lack
    /// `kid` (at most once per [`MIN_INTERVAL`]). `None`: no usable
    /// remote keys.
    pub fn keys_for(&self, iss: &str, kid: &str, now: i64) -> Option<Arc<KeySet>> {
        let mut st = self.lock();
        if !st.disk_read {
            st.disk_read = true;
            if let Some(f) = self.read_cache(iss, now) {
                st.current = Some(f);
            }
        }
        let usable = st
            .current
            .clone()
            .filter(|f| now < f.at.saturating_add(self.ttl + self.grace));
        let stale = !usable
            .as_ref()
            .is_some_and(|f| f.at <= now && now < f.at.saturating_add(self.ttl));
        let miss = !usable
            .as_ref()
            .is_some_and(|f| f.keys.keys.contains_key(kid));
        // A clock that went back does not block refreshes.
        let may = !st
            .last_attempt
            .is_some_and(|t| t <= now && now < t.saturating_add(MIN_INTERVAL));
        if !(stale || miss) || !may {
            return usable.map(|f| f.keys);
        }
        if !network_allowed() {
            log::info!(
                "scitokens: issuer {iss}: no key refresh from {} in this process (glexec never fetches keys); using cached and local keys",
                self.source
            );
            return usable.map(|f| f.keys);
        }
        // Fetch without holding the lock: other threads meanwhile see the
        // attempt and use what there is.
        st.last_attempt = Some(now);
        drop(st);
        let why = if stale && usable.is_some() {
            "keys older than jwks_ttl".to_string()
        } else if usable.is_none() {
            "no keys fetched yet".to_string()
        } else {
            format!("key id {kid} not among the fetched keys")
        };
        let result = self.fetch(iss);
        let mut st = self.lock();
        match result {
            Ok((keys, doc)) => {
                log::info!(
                    "scitokens: issuer {iss}: fetched {} key(s) from {} ({why})",
                    keys.keys.len(),
                    self.source
                );
                let f = Fetched {
                    keys: Arc::new(keys),
                    at: now,
                };
                st.current = Some(f.clone());
                drop(st);
                self.write_cache(iss, now, doc);
                Some(f.keys)
            }
            Err(e) => {
                let keep = match &usable {
                    Some(f) => format!(
                        "keeping the keys fetched at {} until {}",
                        rfc3339(f.at),
                        rfc3339(f.at.saturating_add(self.ttl + self.grace))
                    ),
                    None => match &st.current {
                        Some(f) => format!(
                            "the keys fetched at {} are past jwks_ttl + jwks_grace, \
                             using local keys only",
                            rfc3339(f.at)
                        ),
                        None => "using local keys only".to_string(),
                    },
                };
                log::warn!(
                    "scitokens: issuer {iss}: key refresh from {} failed ({why}): {e}; {keep}; \
                     next attempt not before {}",
                    self.source,
                    rfc3339(now.saturating_add(MIN_INTERVAL))
                );
                usable.map(|f| f.keys)
            }
        }
    }

    /// Fetch the key set (and the JWKS document, for the disk cache).
    fn fetch(&self, iss: &str) -> Result<(KeySet, serde_json::Value), String> {
        let deadline = Instant::now() + TOTAL_TIMEOUT;
        let jwks_url = match &self.source {
            Source::Jwks(u) => u.clone(),
            Source::Discovery(u) => {
                let body = self
                    .client
                    .get(u, deadline)
                    .map_err(|e| format!("{u}: {e}"))?;
                let d: Discovery = serde_json::from_slice(&body)
                    .map_err(|e| format!("{u}: not an OpenID configuration: {e}"))?;
                if let Some(i) = &d.issuer {
                    if i.trim_end_matches('/') != iss.trim_end_matches('/') {
                        return Err(format!("{u}: names issuer {i}, not {iss}"));
                    }
                }
                Url::parse(&d.jwks_uri).map_err(|e| format!("{u}: jwks_uri: {e}"))?
            }
        };
        let body = self
            .client
            .get(&jwks_url, deadline)
            .map_err(|e| format!("{jwks_url}: {e}"))?;
        let doc: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("{jwks_url}: not JSON: {e}"))?;
        let keys = KeySet::from_value(&doc).map_err(|e| format!("{jwks_url}: {e}"))?;
        if keys.keys.is_empty() {
            return Err(format!("{jwks_url}: no RS256 or ES256 signing key"));
        }
        Ok((keys, doc))
    }

    fn read_cache(&self, iss: &str, now: i64) -> Option<Fetched> {
        let path = self.cache_file.as_ref()?;
        let text = match read_private(path) {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(e) => {
                log::warn!("scitokens: issuer {iss}: key cache {e}: ignored");
                return None;
            }
        };
        let entry: CacheEntry = match serde_json::from_slice(&text) {
            Ok(e) => e,
            Err(e) => {
                log::warn!(
                    "scitokens: issuer {iss}: key cache {}: {e}: ignored",
                    path.display()
                );
                return None;
            }
        };
        if entry.issuer != iss || entry.source != self.source.to_string() {
            log::info!(
                "scitokens: issuer {iss}: key cache {} is for another issuer or source, ignored",
                path.display()
            );
            return None;
        }
        if now >= entry.fetched.saturating_add(self.ttl + self.grace) || entry.fetched > now {
            log::info!(
                "scitokens: issuer {iss}: key cache {} (fetched {}) is too old, ignored",
                path.display(),
                rfc3339(entry.fetched)
            );
            return None;
        }
        match KeySet::from_value(&entry.jwks) {
            Ok(k) if !k.keys.is_empty() => {
                log::debug!(
                    "scitokens: issuer {iss}: {} key(s) from the cache {} (fetched {})",
                    k.keys.len(),
                    path.display(),
                    rfc3339(entry.fetched)
                );
                Some(Fetched {
                    keys: Arc::new(k),
                    at: entry.fetched,
                })
            }
            _ => {
                log::warn!(
                    "scitokens: issuer {iss}: key cache {} has no usable key, ignored",
                    path.display()
                );
                None
            }
        }
    }

    fn write_cache(&self, iss: &str, now: i64, jwks: serde_json::Value) {
        let Some(path) = &self.cache_file else {
            return;
        };
        let entry = CacheEntry {
            issuer: iss.to_string(),
            source: self.source.to_string(),
            fetched: now,
            jwks,
        };
        let text = match serde_json::to_vec(&entry) {
            Ok(t) => t,
            Err(e) => {
                log::warn!("scitokens: issuer {iss}: key cache: {e}");
                return;
            }
        };
        if let Err(e) = write_private(path, &text) {
            log::warn!(
                "scitokens: issuer {iss}: cannot write key cache {}: {e}",
                path.display()
            );
        }
    }
}

/// Check (creating it, mode 0700, when its parent exists) the cache
/// directory: a real directory, owned by the effective user, no access
/// for group or others.
pub fn check_cache_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let d = dir.display();
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("{d}: cannot create: {e}"))?;
            std::fs::symlink_metadata(dir).map_err(|e| format!("{d}: {e}"))?
        }
        Err(e) => return Err(format!("{d}: {e}")),
    };
    if !meta.is_dir() {
        return Err(format!("{d}: not a directory (symbolic links are refused)"));
    }
    let euid = nix::unistd::geteuid().as_raw();
    if meta.uid() != euid {
        return Err(format!("{d}: owned by uid {}, not {euid}", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{d}: mode {:04o}, must give no access to group or others (0700)",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Read a cache file: not a symbolic link, owned by us, not writable by
/// others, at most [`MAX_BODY`] + 4 KiB. `Ok(None)`: there is none.
fn read_private(path: &Path) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let p = path.display();
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{p}: {e}")),
    };
    let meta = f.metadata().map_err(|e| format!("{p}: {e}"))?;
    let euid = nix::unistd::geteuid().as_raw();
    if !meta.is_file() || meta.uid() != euid || meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{p}: not a regular file of uid {euid} writable only by it"
        ));
    }
    let max = (MAX_BODY + 4096) as u64;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{p}: {e}"))?;
    if buf.len() as u64 > max {
        return Err(format!("{p}: larger than {max} bytes"));
    }
    Ok(Some(buf))
}

/// Write a cache file atomically (a new 0600 file beside it, renamed over it).
fn write_private(path: &Path, text: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("keys");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(&tmp)
        .map_err(|e| e.to_string())?;
    let r = f
        .write_all(text)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            Source::parse("discovery", "https://iam.example.org/").unwrap(),
            Source::Discovery(
                Url::parse("https://iam.example.org/.well-known/openid-configuration").unwrap()
            )
        );
        assert_eq!(
            Source::parse("discovery", "https://x.example/osg").unwrap(),
            Source::Discovery(
                Url::parse("https://x.example/osg/.well-known/openid-configuration").unwrap()
            )
        );
        assert!(Source::parse("discovery", "http://iam.example.org")
            .unwrap_err()
            .contains("discovery needs an https:// issuer"));
        assert!(matches!(
            Source::parse("https://iam.example.org/jwk", "x").unwrap(),
            Source::Jwks(_)
        ));
        assert!(Source::parse("http://iam.example.org/jwk", "x").is_err());
        assert!(Source::parse("yes", "https://x").is_err());
    }

    #[test]
    fn cache_dir_checks() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("cache");
        check_cache_dir(&d).unwrap();
        let m = std::fs::metadata(&d).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o700);
        check_cache_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_cache_dir(&d).unwrap_err().contains("mode 0755"));
        std::os::unix::fs::symlink(t.path(), t.path().join("link")).unwrap();
        assert!(check_cache_dir(&t.path().join("link"))
            .unwrap_err()
            .contains("not a directory"));
        assert!(check_cache_dir(&t.path().join("no/such")).is_err());
    }
}
