//! The per-issuer configuration file (INI, close to XRootD's
//! `scitokens.cfg`):
//!
//! ```text
//! [Global]
//! clock_skew = 60                 # seconds, 0..=300; default 60
//! max_token_size = 65536          # bytes, 1024..=1048576; default 65536
//! audience = https://ce.example.org   # default for issuers without one
//!
//! [Issuer CMS]
//! issuer = https://cms-auth.web.cern.ch/
//! jwks = /etc/grid-security/jwks/cms.json    # a file or a directory of them
//! audience = https://ce.example.org, https://wlcg.cern.ch/jwt/v1/any
//! mode = authorize-and-map        # or: map
//! required_scopes = compute.create
//!
//! [Issuer WLCG]                   # keys also fetched from the issuer
//! issuer = https://wlcg.cloud.cnaf.infn.it/
//! jwks_refresh = discovery        # or the https:// URL of the JWKS
//! jwks_ttl = 3600                 # seconds, 60..=86400; default 3600
//! jwks_grace = 21600              # seconds, 0..=86400; default 21600
//! ca_file = /etc/pki/tls/certs/ca-bundle.crt   # default: system CAs
//! audience = https://ce.example.org
//! mode = map
//!
//! [Issuer EGI]                    # who the user is, from other claims
//! issuer = https://aai.egi.eu/auth/realms/egi
//! jwks = /etc/grid-security/jwks/egi.json
//! mode = map
//! groups_claim = eduperson_entitlement     # default wlcg.groups
//! username_claim = preferred_username      # map to the account of that name
//! username_pattern = [a-z][a-z0-9]{2,15}   # whole value; default [a-z_][a-z0-9_.-]{0,31}
//! username_min_uid = 1000                  # default 1000
//! profile = wlcg                  # wlcg, scitokens or any (default)
//! ```
//!
//! See [`crate::identity`] and [`crate::profile`] for the last five.
//! `jwks` (local keys) is required unless `jwks_refresh` is given; see
//! [`crate::remote`] for the refresh rules. `[Global]` may name
//! `jwks_cache_dir`, a directory (owned by the effective user, mode 0700,
//! created when missing) where fetched keys survive a restart.
//!
//! Lists are separated by commas and/or blanks. `#` and `;` start comments
//! (at the start of a line, or after a blank). Every error names
//! `file:line`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::https::{Client, Trust};
use crate::identity::Identity;
use crate::jwks::{read_site_file, KeySet};
use crate::remote::{self, Refresh, Source};

/// Default clock skew.
pub const DEFAULT_SKEW: i64 = 60;
/// Default largest token.
pub const DEFAULT_MAX_TOKEN: usize = 64 * 1024;
/// Largest configuration or mapfile read.
pub const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// What a valid token of an issuer is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Map the identity; scopes are not looked at (the token proves who,
    /// not what: some other part of the site decides).
    Map,
    /// The token must carry every required scope, then it is mapped.
    AuthorizeAndMap,
}

/// One trusted issuer.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// Section name (`[Issuer NAME]`).
    pub name: String,
    /// The `iss` value, compared byte for byte.
    pub issuer: String,
    /// Where the local keys came from (`None`: keys from the issuer only).
    pub jwks_path: Option<PathBuf>,
    /// The local keys.
    pub keys: KeySet,
    /// Refresh of keys from the issuer (`jwks_refresh`), if configured.
    pub refresh: Option<Refresh>,
    /// Accepted audiences: `aud` must contain one of them.
    pub audiences: Vec<String>,
    /// Map or authorize and map.
    pub mode: Mode,
    /// Scopes the token must carry (authorize-and-map).
    pub required_scopes: Vec<String>,
    /// Group and username claims, profile.
    pub identity: Identity,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Allowed clock skew, seconds.
    pub clock_skew: i64,
    /// Largest token, bytes.
    pub max_token_size: usize,
    /// Issuers by `iss`.
    pub issuers: BTreeMap<String, Issuer>,
    /// Where fetched keys are cached on disk (`jwks_cache_dir`).
    pub cache_dir: Option<PathBuf>,
}

fn list(v: &str) -> Vec<String> {
    v.split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if (c == b'#' || c == b';') && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

#[derive(Default)]
struct Section {
    name: String,
    line: usize,
    kv: BTreeMap<String, (String, usize)>,
    /// Column (1-based) of each value.
    cols: BTreeMap<String, usize>,
}

impl Config {
    /// Read and check `path`, loading each issuer's keys. In a privileged
    /// process the file, the keys, the key cache directory and the CA
    /// files named must be ones only root can change
    /// ([`lcmaps_core::trust`]).
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = read_site_file(path, MAX_CONFIG_BYTES)?;
        let text = String::from_utf8(text).map_err(|_| format!("{}: not UTF-8", path.display()))?;
        Config::parse(path, &text)
    }

    /// Check `text` (read from `path`, which relative `jwks` paths are
    /// relative to), loading each issuer's keys: [`Settings::parse`], then
    /// [`Config::from_settings`].
    pub fn parse(path: &Path, text: &str) -> Result<Config, String> {
        Config::from_settings(path, Settings::parse(path, text)?)
    }

    /// Load what `settings` (of the file at `path`) name: check the key
    /// cache directory, build each issuer's HTTPS client, read its keys.
    pub fn from_settings(path: &Path, settings: Settings) -> Result<Config, String> {
        let file = path.display();
        let base = path.parent().unwrap_or(Path::new("/"));
        let cache_dir = match &settings.jwks_cache_dir {
            None => None,
            Some((v, n)) => {
                let d = base.join(v);
                remote::check_cache_dir(&d)
                    .map_err(|e| format!("{file}:{n}: jwks_cache_dir: {e}"))?;
                lcmaps_core::trust::check(&d)
                    .map_err(|e| format!("{file}:{n}: jwks_cache_dir: {e}"))?;
                Some(d)
            }
        };
        let mut out = BTreeMap::new();
        for sec in settings.issuers {
            let iss = sec.issuer;
            let refresh = match sec.refresh {
                None => None,
                Some(r) => {
                    let trust = Trust {
                        ca_file: r.ca_file.as_ref().map(|v| base.join(v)),
                        capath: r.capath.as_ref().map(|v| base.join(v)),
                    };
                    let client =
                        Client::new(&trust).map_err(|e| format!("{file}:{}: {e}", r.trust_line))?;
                    Some(Refresh::new(
                        &iss,
                        r.source,
                        r.ttl,
                        r.grace,
                        client,
                        cache_dir.as_deref(),
                    ))
                }
            };
            let (jwks_path, keys) = match &sec.jwks {
                Some((jwks, jwks_line)) => {
                    let p = base.join(jwks);
                    let keys =
                        KeySet::load(&p).map_err(|e| format!("{file}:{jwks_line}: jwks: {e}"))?;
                    (Some(p), keys)
                }
                None => (None, KeySet::default()),
            };
            out.insert(
                iss.clone(),
                Issuer {
                    name: sec.name,
                    issuer: iss,
                    jwks_path,
                    keys,
                    refresh,
                    audiences: sec.audiences,
                    mode: sec.mode,
                    required_scopes: sec.required_scopes,
                    identity: sec.identity,
                },
            );
        }
        Ok(Config {
            clock_skew: settings.clock_skew,
            max_token_size: settings.max_token_size,
            issuers: out,
            cache_dir,
        })
    }
}

/// What the configuration file says, checked without reading any other
/// file: every rule of the format but the files and directories it names.
/// Values are as written (paths not yet joined to the file's directory);
/// `line` fields say where (1-based), for the errors of
/// [`Config::from_settings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `clock_skew` (default [`DEFAULT_SKEW`]).
    pub clock_skew: i64,
    /// `max_token_size` (default [`DEFAULT_MAX_TOKEN`]).
    pub max_token_size: usize,
    /// `[Global]` `audience`, the default of issuers without one.
    pub audience: Option<Vec<String>>,
    /// `jwks_cache_dir` and its line.
    pub jwks_cache_dir: Option<(String, usize)>,
    /// The issuers in file order; no `iss` twice.
    pub issuers: Vec<IssuerSettings>,
}

/// One `[Issuer NAME]` section of [`Settings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerSettings {
    /// `NAME`.
    pub name: String,
    /// Line of the section header.
    pub line: usize,
    /// `issuer`, not empty.
    pub issuer: String,
    /// `jwks` and its line; required without `refresh`.
    pub jwks: Option<(String, usize)>,
    /// `jwks_refresh` and what goes with it.
    pub refresh: Option<RefreshSettings>,
    /// `audience`, or the `[Global]` one; not empty.
    pub audiences: Vec<String>,
    /// `mode`.
    pub mode: Mode,
    /// `required_scopes`: not empty for authorize-and-map, empty for map.
    pub required_scopes: Vec<String>,
    /// `groups_claim`, `username_claim` (with `username_pattern` and
    /// `username_min_uid`) and `profile`.
    pub identity: Identity,
}

/// `jwks_refresh` of an [`IssuerSettings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshSettings {
    /// `jwks_refresh` as written.
    pub value: String,
    /// What it means.
    pub source: Source,
    /// `jwks_ttl`.
    pub ttl: i64,
    /// `jwks_grace`.
    pub grace: i64,
    /// `ca_file` as written.
    pub ca_file: Option<String>,
    /// `capath` as written.
    pub capath: Option<String>,
    /// The line of `ca_file`, else of `capath`, else of `jwks_refresh`.
    pub trust_line: usize,
}

impl Settings {
    /// Check `text`, the configuration file `path` (named in errors as
    /// `file:line: ...`), reading nothing else.
    pub fn parse(path: &Path, text: &str) -> Result<Settings, String> {
        let file = path.display();
        let mut global = Section::default();
        let mut issuers: Vec<Section> = Vec::new();
        let mut current: Option<Section> = None;
        let mut in_global = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let Some(head) = rest.strip_suffix(']') else {
                    return Err(format!("{file}:{n}: section header without ']'"));
                };
                let head = head.trim();
                if let Some(c) = current.take() {
                    issuers.push(c);
                }
                if head == "Global" {
                    in_global = true;
                } else if let Some(name) = head.strip_prefix("Issuer ") {
                    in_global = false;
                    let name = name.trim();
                    if name.is_empty() {
                        return Err(format!("{file}:{n}: [Issuer] needs a name"));
                    }
                    current = Some(Section {
                        name: name.to_string(),
                        line: n,
                        ..Section::default()
                    });
                } else {
                    return Err(format!(
                        "{file}:{n}: unknown section [{head}] (expected [Global] or [Issuer NAME])"
                    ));
                }
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!("{file}:{n}: expected key = value"));
            };
            let lead = raw.len() - raw.trim_start().len();
            let col = lead + line.len() - v.trim_start().len() + 1;
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            let allowed: &[&str] = if in_global {
                &["clock_skew", "max_token_size", "audience", "jwks_cache_dir"]
            } else if current.is_some() {
                &[
                    "issuer",
                    "jwks",
                    "audience",
                    "mode",
                    "required_scopes",
                    "jwks_refresh",
                    "jwks_ttl",
                    "jwks_grace",
                    "ca_file",
                    "capath",
                    "groups_claim",
                    "username_claim",
                    "username_pattern",
                    "username_min_uid",
                    "profile",
                ]
            } else {
                return Err(format!("{file}:{n}: {k} outside of a section"));
            };
            if !allowed.contains(&k.as_str()) {
                return Err(format!(
                    "{file}:{n}: unknown key {k} (expected one of {})",
                    allowed.join(", ")
                ));
            }
            let sec = if in_global {
                &mut global
            } else {
                current.as_mut().expect("checked above")
            };
            sec.cols.insert(k.clone(), col);
            if sec.kv.insert(k.clone(), (v, n)).is_some() {
                return Err(format!("{file}:{n}: {k} given twice"));
            }
        }
        if let Some(c) = current.take() {
            issuers.push(c);
        }

        let num = |sec: &Section, k: &str, def: i64, lo: i64, hi: i64| -> Result<i64, String> {
            match sec.kv.get(k) {
                None => Ok(def),
                Some((v, n)) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|x| (lo..=hi).contains(x))
                    .ok_or_else(|| format!("{file}:{n}: {k} must be a number from {lo} to {hi}")),
            }
        };
        let clock_skew = num(&global, "clock_skew", DEFAULT_SKEW, 0, 300)?;
        let max_token_size = num(
            &global,
            "max_token_size",
            DEFAULT_MAX_TOKEN as i64,
            1024,
            1 << 20,
        )? as usize;
        let default_aud = global.kv.get("audience").map(|(v, _)| list(v));
        let jwks_cache_dir = global.kv.get("jwks_cache_dir").cloned();

        let mut out: Vec<IssuerSettings> = Vec::new();
        for sec in issuers {
            let at = sec.line;
            let name = &sec.name;
            let get = |k: &str| sec.kv.get(k).map(|(v, n)| (v.as_str(), *n));
            let Some((iss, iss_line)) = get("issuer") else {
                return Err(format!("{file}:{at}: [Issuer {name}] has no issuer"));
            };
            if iss.is_empty() {
                return Err(format!("{file}:{iss_line}: empty issuer"));
            }
            let refresh = match get("jwks_refresh") {
                None => {
                    for k in ["jwks_ttl", "jwks_grace", "ca_file", "capath"] {
                        if let Some((_, n)) = get(k) {
                            return Err(format!("{file}:{n}: {k} is only used with jwks_refresh"));
                        }
                    }
                    None
                }
                Some((v, n)) => {
                    let source = Source::parse(v, iss)
                        .map_err(|e| format!("{file}:{n}: jwks_refresh: {e}"))?;
                    let ttl = num(
                        &sec,
                        "jwks_ttl",
                        remote::DEFAULT_TTL,
                        remote::MIN_TTL,
                        remote::MAX_TTL,
                    )?;
                    let grace = num(
                        &sec,
                        "jwks_grace",
                        remote::DEFAULT_GRACE,
                        0,
                        remote::MAX_GRACE,
                    )?;
                    Some(RefreshSettings {
                        value: v.to_string(),
                        source,
                        ttl,
                        grace,
                        ca_file: get("ca_file").map(|(v, _)| v.to_string()),
                        capath: get("capath").map(|(v, _)| v.to_string()),
                        trust_line: get("ca_file").or(get("capath")).map_or(n, |(_, n)| n),
                    })
                }
            };
            let jwks = match get("jwks") {
                Some((jwks, jwks_line)) => Some((jwks.to_string(), jwks_line)),
                None if refresh.is_some() => None,
                None => {
                    return Err(format!(
                        "{file}:{at}: [Issuer {name}] has no jwks (a JWKS file or directory) \
                         and no jwks_refresh"
                    ))
                }
            };
            let audiences = match get("audience") {
                Some((v, _)) => list(v),
                None => default_aud.clone().unwrap_or_default(),
            };
            if audiences.is_empty() {
                return Err(format!(
                    "{file}:{at}: [Issuer {name}] has no audience (here or in [Global])"
                ));
            }
            let (mode, mode_line) = match get("mode") {
                None => (Mode::AuthorizeAndMap, at),
                Some(("map", n)) => (Mode::Map, n),
                Some(("authorize-and-map", n)) => (Mode::AuthorizeAndMap, n),
                Some((other, n)) => {
                    return Err(format!(
                        "{file}:{n}: mode {other:?}: expected map or authorize-and-map"
                    ))
                }
            };
            let required_scopes = get("required_scopes").map(|(v, _)| list(v));
            let required_scopes = match (mode, required_scopes) {
                (Mode::Map, Some(_)) => {
                    let n = sec.kv["required_scopes"].1;
                    return Err(format!(
                        "{file}:{n}: required_scopes is only used with mode = authorize-and-map"
                    ));
                }
                (Mode::Map, None) => Vec::new(),
                (Mode::AuthorizeAndMap, Some(s)) if !s.is_empty() => s,
                (Mode::AuthorizeAndMap, _) => {
                    return Err(format!(
                        "{file}:{mode_line}: [Issuer {name}] is authorize-and-map but has no required_scopes"
                    ))
                }
            };
            let identity = Identity::from_keys(&|k: &str| {
                let (v, n) = sec.kv.get(k)?;
                let c = sec.cols.get(k).copied().unwrap_or(1);
                Some((v.as_str(), format!("{file}:{n}:{c}")))
            })?;
            if out.iter().any(|o| o.issuer == iss) {
                return Err(format!("{file}:{iss_line}: issuer {iss} configured twice"));
            }
            out.push(IssuerSettings {
                name: name.clone(),
                line: at,
                issuer: iss.to_string(),
                jwks,
                refresh,
                audiences,
                mode,
                required_scopes,
                identity,
            });
        }
        if out.is_empty() {
            return Err(format!("{file}: no [Issuer NAME] section"));
        }
        Ok(Settings {
            clock_skew,
            max_token_size,
            audience: default_aud,
            jwks_cache_dir,
            issuers: out,
        })
    }
}
