//! Which claims of an issuer's tokens say who the user is: the group claim
//! (`groups_claim`, default `wlcg.groups`) and, optionally, a claim naming
//! the local account itself (`username_claim`), with the checks that keep a
//! token from naming an account it must not have.
//!
//! A `username_claim` value maps only when it
//! 1. matches `username_pattern` (whole value; default
//!    [`DEFAULT_USERNAME_PATTERN`]),
//! 2. is not `root`,
//! 3. names an existing account (NSS), and
//! 4. that account's uid is not 0 and at least `username_min_uid`
//!    (default [`DEFAULT_MIN_UID`]).

use serde_json::Value;

use crate::pattern::Pattern;
use crate::profile::Profile;
use lcmaps_plugin_common::accounts::AccountDb;

/// The default group claim.
pub const DEFAULT_GROUPS_CLAIM: &str = "wlcg.groups";
/// The default allow-list of account names a username claim may give.
pub const DEFAULT_USERNAME_PATTERN: &str = "[a-z_][a-z0-9_.-]{0,31}";
/// The default lowest uid a username claim may map to.
pub const DEFAULT_MIN_UID: u32 = 1000;

/// `username_claim` and its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernameClaim {
    /// The claim (e.g. `preferred_username`).
    pub claim: String,
    /// `username_pattern`.
    pub pattern: Pattern,
    /// `username_min_uid`.
    pub min_uid: u32,
}

/// The identity settings of one issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `groups_claim`.
    pub groups_claim: String,
    /// `username_claim`, when configured.
    pub username: Option<UsernameClaim>,
    /// `profile`.
    pub profile: Profile,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            groups_claim: DEFAULT_GROUPS_CLAIM.into(),
            username: None,
            profile: Profile::Any,
        }
    }
}

/// A claim name as the configuration may give one: printable ASCII, no
/// blanks, 1 to 255 bytes.
pub fn valid_claim_name(c: &str) -> bool {
    !c.is_empty() && c.len() <= 255 && c.bytes().all(|b| b.is_ascii_graphic())
}

/// The string values of a claim: a string, the strings of a list, a
/// number or a boolean as JSON writes it. Objects (and nested lists) give
/// nothing.
pub fn claim_values(v: Option<&Value>) -> Vec<String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(scalar).collect(),
        Some(v) => scalar(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// A group as it goes to the credential store and as mapfile `group` rules
/// see it: FQAN-like, so `/cms/production` stays and `cms` (or an
/// `eduperson_entitlement` URN) gets a leading `/`.
pub fn fqan_like_group(g: &str) -> String {
    if g.starts_with('/') {
        g.to_string()
    } else {
        format!("/{g}")
    }
}

impl Identity {
    /// The identity settings of an issuer section: `get(key)` gives a
    /// key's value and where it is (`file:line:column`, for errors).
    pub fn from_keys<'a>(
        get: &dyn Fn(&str) -> Option<(&'a str, String)>,
    ) -> Result<Identity, String> {
        let claim = |k: &str| -> Result<Option<String>, String> {
            match get(k) {
                None => Ok(None),
                Some((v, _)) if valid_claim_name(v) => Ok(Some(v.to_string())),
                Some((v, at)) => Err(format!(
                    "{at}: {k} {v:?}: a claim name is 1 to 255 printable characters without blanks \
                     (e.g. eduperson_entitlement)"
                )),
            }
        };
        let groups_claim =
            claim("groups_claim")?.unwrap_or_else(|| DEFAULT_GROUPS_CLAIM.to_string());
        let username = match claim("username_claim")? {
            None => {
                for k in ["username_pattern", "username_min_uid"] {
                    if let Some((_, at)) = get(k) {
                        return Err(format!("{at}: {k} is only used with username_claim"));
                    }
                }
                None
            }
            Some(claim) => {
                let pattern = match get("username_pattern") {
                    None => Pattern::new(DEFAULT_USERNAME_PATTERN)?,
                    Some((src, at)) => {
                        Pattern::new(src).map_err(|e| format!("{at}: username_pattern: {e}"))?
                    }
                };
                let min_uid = match get("username_min_uid") {
                    None => DEFAULT_MIN_UID,
                    Some((v, at)) => v.parse::<u32>().ok().filter(|u| *u >= 1).ok_or_else(|| {
                        format!(
                            "{at}: username_min_uid must be a uid from 1 to {} (root is never mapped)",
                            u32::MAX
                        )
                    })?,
                };
                Some(UsernameClaim {
                    claim,
                    pattern,
                    min_uid,
                })
            }
        };
        let profile = match get("profile") {
            None => Profile::Any,
            Some((v, at)) => Profile::parse(v).ok_or_else(|| {
                format!(
                    "{at}: profile {v:?}: expected wlcg (WLCG common JWT profile 1.0), \
                     scitokens (SciTokens 2.0) or any"
                )
            })?,
        };
        Ok(Identity {
            groups_claim,
            username,
            profile,
        })
    }
}

impl UsernameClaim {
    /// The account the token's claim `value` names, after every check; or
    /// why not.
    pub fn account(&self, value: Option<&str>, accounts: &dyn AccountDb) -> Result<String, String> {
        let c = &self.claim;
        let Some(v) = value else {
            return Err(format!("the token has no string claim {c}"));
        };
        if !self.pattern.matches(v) {
            return Err(format!(
                "{c} {v:?} does not match username_pattern {}",
                self.pattern.as_str()
            ));
        }
        if v == "root" {
            return Err(format!("{c} names root: never mapped"));
        }
        let acc = match accounts.by_name(v) {
            Ok(Some(a)) => a,
            Ok(None) => return Err(format!("{c} {v:?}: no such local account")),
            Err(e) => return Err(format!("{c} {v:?}: account lookup failed: {e}")),
        };
        if acc.uid == 0 || acc.uid < self.min_uid {
            return Err(format!(
                "{c} {v:?}: uid {} is below username_min_uid {}",
                acc.uid, self.min_uid
            ));
        }
        Ok(acc.name)
    }
}
