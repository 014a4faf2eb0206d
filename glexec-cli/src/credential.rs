//! Read the credential as the caller (steps 6 and 7 of the run): the proxy
//! named by `GLEXEC_CLIENT_CERT` (else `X509_USER_PROXY`, else the PEM text
//! of `SSL_CLIENT_CERT`) and the proxy to copy (`GLEXEC_SOURCE_PROXY`), or
//! else a bearer token. Files are read with the caller's privileges and
//! checked on the open descriptor ([`proxy::read_input`]); what they say
//! is the mapping helper's business (`glexec-mapper`): the root part never
//! parses them.

use std::path::PathBuf;

use lcmaps_plugin_common::bearer_token::{self, TokenSource};

use crate::config::Config;
use crate::env::CallerEnv;
use crate::privs::{self, Ids};
use crate::{proxy, Failure};

/// The payload user's credential, as read (nothing parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A proxy (PEM): its bytes, and where they came from (a path, or
    /// `SSL_CLIENT_CERT`) for messages.
    Proxy { pem: Vec<u8>, source: String },
    /// A bearer token's bytes (when no proxy was given), and where they
    /// came from.
    Token { bytes: Vec<u8>, source: String },
}

/// The credential as read, before anyone looked inside.
pub struct Input {
    /// What the mapping gets.
    pub credential: Credential,
    /// The proxy to copy to the target account (`GLEXEC_SOURCE_PROXY`, by
    /// default the client's); `None` for a bearer token.
    pub source_pem: Option<Vec<u8>>,
}

/// Read the payload's credential: a proxy when one is named, else a bearer
/// token; a 201 when there is neither.
pub fn read_as_caller(
    caller_env: &CallerEnv,
    caller: &Ids,
    cfg: &Config,
) -> Result<Input, Failure> {
    // With a proxy, the proxy is the credential; without one, a bearer token.
    if let Some(proxies) = read_proxies(caller_env, caller, cfg)? {
        return Ok(Input {
            credential: Credential::Proxy {
                pem: proxies.client_pem,
                source: proxies.client_name,
            },
            source_pem: Some(proxies.source_pem),
        });
    }
    match read_token(caller_env, caller, cfg)? {
        Some((bytes, source)) => Ok(Input {
            credential: Credential::Token { bytes, source },
            source_pem: None,
        }),
        None => Err(Failure::client(
            "no credential given (no proxy in GLEXEC_CLIENT_CERT or X509_USER_PROXY, and no bearer token)",
            "point GLEXEC_CLIENT_CERT at the payload's proxy, or BEARER_TOKEN_FILE at its token",
        )),
    }
}

/// The client proxy and the proxy to copy.
struct Proxies {
    client_pem: Vec<u8>,
    source_pem: Vec<u8>,
    client_name: String,
}

/// The proxy inputs, or `None` when no proxy is given at all.
fn read_proxies(
    caller_env: &CallerEnv,
    caller: &Ids,
    cfg: &Config,
) -> Result<Option<Proxies>, Failure> {
    let fix =
        "point GLEXEC_CLIENT_CERT at the payload's proxy: absolute path, owned by you, mode 600";
    let client_path = caller_env
        .get("GLEXEC_CLIENT_CERT")
        .filter(|v| !v.is_empty())
        .or_else(|| caller_env.get("X509_USER_PROXY").filter(|v| !v.is_empty()))
        .map(PathBuf::from);
    let (client_pem, client_name) = match (&client_path, caller_env.get("SSL_CLIENT_CERT")) {
        (Some(p), _) => (
            proxy::read_input(p, caller, cfg.input_lock_mechanism)
                .map_err(|e| Failure::client(e, fix))?,
            p.display().to_string(),
        ),
        (None, Some(pem)) if !pem.is_empty() => {
            let b = std::os::unix::ffi::OsStrExt::as_bytes(pem).to_vec();
            if b.len() as u64 > proxy::MAX_PROXY_SIZE {
                return Err(Failure::client("SSL_CLIENT_CERT is too large", fix));
            }
            (b, "SSL_CLIENT_CERT".to_string())
        }
        _ => return Ok(None),
    };
    let source_pem = match caller_env.get("GLEXEC_SOURCE_PROXY") {
        None => client_pem.clone(),
        Some(v) if v.is_empty() => {
            return Err(Failure::client(
                "GLEXEC_SOURCE_PROXY is set but empty",
                "unset it or name the proxy to copy",
            ))
        }
        Some(v) => {
            let p = PathBuf::from(v);
            if client_path.as_deref() == Some(p.as_path()) {
                client_pem.clone()
            } else {
                proxy::read_input(&p, caller, cfg.input_lock_mechanism).map_err(|e| {
                    Failure::client(
                        e,
                        "fix GLEXEC_SOURCE_PROXY: absolute path, owned by you, mode 600",
                    )
                })?
            }
        }
    };
    Ok(Some(Proxies {
        client_pem,
        source_pem,
        client_name,
    }))
}

/// A bearer token's bytes and source: `GLEXEC_BEARER_TOKEN_FILE`, else
/// the WLCG discovery (`BEARER_TOKEN`, `BEARER_TOKEN_FILE`,
/// `$XDG_RUNTIME_DIR/bt_u<uid>`, `/tmp/bt_u<uid>`). Files are read like
/// proxies: as the caller, with the same ownership, mode, link and size
/// checks.
fn read_token(
    caller_env: &CallerEnv,
    caller: &Ids,
    cfg: &Config,
) -> Result<Option<(Vec<u8>, String)>, Failure> {
    let fix = "point GLEXEC_BEARER_TOKEN_FILE (or BEARER_TOKEN_FILE) at the token: absolute path, owned by you, mode 600";
    let var = |k: &str| caller_env.get(k).and_then(|v| v.to_str()).map(String::from);
    let source = match var("GLEXEC_BEARER_TOKEN_FILE").filter(|v| !v.is_empty()) {
        Some(f) => Some(TokenSource::File(f.into())),
        None => bearer_token::discover(var, caller.uid, |p| {
            privs::as_user(caller, || p.exists()).unwrap_or(false)
        }),
    };
    match source {
        None => Ok(None),
        Some(TokenSource::Inline(t)) => Ok(Some((t.into_bytes(), "BEARER_TOKEN".into()))),
        Some(TokenSource::File(p)) => {
            let bytes = proxy::read_input(&p, caller, cfg.input_lock_mechanism)
                .map_err(|e| Failure::client(e, fix))?;
            Ok(Some((bytes, p.display().to_string())))
        }
    }
}
