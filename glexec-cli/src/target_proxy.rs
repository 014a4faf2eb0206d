//! Target proxy (step 11 of the run): the source proxy copied for the
//! target account (`GLEXEC_TARGET_PROXY`, by default
//! `/tmp/x509up_u<uid>`) when `create_target_proxy`, or the bearer token
//! (`GLEXEC_TARGET_TOKEN`, by default `/tmp/bt_u<uid>`); written as the
//! target ([`proxy::write_target`]).

use std::path::PathBuf;

use crate::checks::Target;
use crate::config::Config;
use crate::credential::{Credential, Input};
use crate::env::CallerEnv;
use crate::{proxy, Failure};

/// The files written for the target.
pub struct Copies {
    /// The target proxy.
    pub proxy: Option<PathBuf>,
    /// The target's copy of the bearer token.
    pub token: Option<PathBuf>,
}

/// Write the target's copy of the credential.
pub fn write(
    caller_env: &CallerEnv,
    input: &Input,
    target: &Target,
    cfg: &Config,
) -> Result<Copies, Failure> {
    let proxy = match (cfg.create_target_proxy, &input.source_pem) {
        (true, Some(pem)) => Some(copy(
            caller_env,
            (
                "GLEXEC_TARGET_PROXY",
                format!("/tmp/x509up_u{}", target.ids.uid),
            ),
            pem,
            target,
            cfg,
        )?),
        _ => None,
    };
    let token = match &input.credential {
        // The helper has checked it is a token; the copy has no blanks
        // around it, as the mapping saw it.
        Credential::Token { bytes, .. } => Some(copy(
            caller_env,
            (
                "GLEXEC_TARGET_TOKEN",
                format!("/tmp/bt_u{}", target.ids.uid),
            ),
            bytes.trim_ascii(),
            target,
            cfg,
        )?),
        Credential::Proxy { .. } => None,
    };
    Ok(Copies { proxy, token })
}

/// Write `bytes` where the caller's variable `var` says, else at `default`
/// (where a sticky directory such as /tmp is accepted).
fn copy(
    caller_env: &CallerEnv,
    (var, default): (&str, String),
    bytes: &[u8],
    target: &Target,
    cfg: &Config,
) -> Result<PathBuf, Failure> {
    let (path, is_default) = match caller_env.get(var).filter(|v| !v.is_empty()) {
        Some(p) => (PathBuf::from(p), false),
        None => (PathBuf::from(default), true),
    };
    proxy::write_target(
        &path,
        bytes,
        &target.ids,
        cfg.target_lock_mechanism,
        is_default,
    )
    .map_err(|e| {
        Failure::client(
            e,
            format!("set {var} to a file in a directory of the target account"),
        )
    })?;
    Ok(path)
}
