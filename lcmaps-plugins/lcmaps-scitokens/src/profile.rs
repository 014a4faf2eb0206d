//! The token profiles: WLCG common JWT profile 1.0 (`"wlcg.ver": "1.0"`)
//! and SciTokens 2.0 (`"ver": "scitoken:2.0"`).
//!
//! A token naming its profile is held to that profile's rules; an issuer
//! with `profile = wlcg` or `profile = scitokens` also refuses tokens that
//! do not name that profile. Rules (on top of the checks every token gets:
//! `sub`, `exp`, `aud` required):
//!
//! | | WLCG 1.0 | SciTokens 2.0 |
//! | --- | --- | --- |
//! | version claim | `wlcg.ver` = `1.0` | `ver` = `scitoken:2.0` |
//! | the other version claim | refused | refused |
//! | `iat` | required | optional |
//! | "any" audience (only where configured) | `https://wlcg.cern.ch/jwt/v1/any` | `ANY` |
//! | storage scopes | `storage.{read,create,modify,stage}:/path` | `read:/path`, `write:/path` |
//! | compute scopes | `compute.{read,modify,create,cancel}`, no path | the same |

use serde_json::{Map, Value};

/// The WLCG "any" audience.
pub const WLCG_ANY: &str = "https://wlcg.cern.ch/jwt/v1/any";
/// The SciTokens "any" audience.
pub const SCITOKENS_ANY: &str = "ANY";

/// Which profile an issuer's tokens must follow (`profile` in the issuer
/// section).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Whichever the token names (or none): the default.
    #[default]
    Any,
    /// WLCG common JWT profile 1.0 only.
    Wlcg,
    /// SciTokens 2.0 only.
    SciTokens,
}

impl Profile {
    /// From the configuration value `any`, `wlcg` or `scitokens`.
    pub fn parse(v: &str) -> Option<Profile> {
        match v {
            "any" => Some(Profile::Any),
            "wlcg" => Some(Profile::Wlcg),
            "scitokens" => Some(Profile::SciTokens),
            _ => None,
        }
    }

    /// The configuration value.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Any => "any",
            Profile::Wlcg => "wlcg",
            Profile::SciTokens => "scitokens",
        }
    }
}

const WLCG_STORAGE: &[&str] = &[
    "storage.read",
    "storage.create",
    "storage.modify",
    "storage.stage",
];
const COMPUTE: &[&str] = &[
    "compute.read",
    "compute.modify",
    "compute.create",
    "compute.cancel",
];
const SCITOKENS_STORAGE: &[&str] = &["read", "write"];

fn version(m: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{k} is not a string")),
    }
}

fn check_scopes(scope: &[String], storage: &[&str]) -> Result<(), String> {
    for s in scope {
        let (name, path) = match s.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (s.as_str(), None),
        };
        if storage.contains(&name) && !path.is_some_and(|p| p.starts_with('/')) {
            return Err(format!(
                "scope {s} needs a path starting with / ({name}:/path)"
            ));
        }
        if COMPUTE.contains(&name) && path.is_some() {
            return Err(format!("scope {s}: compute scopes take no path"));
        }
    }
    Ok(())
}

/// Check the payload `m` (with its `scope` split and `aud` list, and the
/// issuer's configured audiences `accepted`) against the issuer's
/// `profile`. Returns what was checked, or why the token is refused.
pub fn check(
    m: &Map<String, Value>,
    scope: &[String],
    aud: &[String],
    accepted: &[String],
    want: Profile,
) -> Result<String, String> {
    let wlcg = version(m, "wlcg.ver")?;
    let sci = version(m, "ver")?;
    let (name, any, other_any, storage) = match (&wlcg, &sci) {
        (Some(_), Some(_)) => {
            return Err("the token has both wlcg.ver and ver: which profile is it?".into())
        }
        (Some(v), None) => {
            if v != "1.0" {
                return Err(format!("wlcg.ver {v:?} is not 1.0"));
            }
            if want == Profile::SciTokens {
                return Err("a WLCG token, but the issuer's profile is scitokens".into());
            }
            if matches!(m.get("iat"), None | Some(Value::Null)) {
                return Err("WLCG 1.0 requires iat".into());
            }
            ("WLCG 1.0", WLCG_ANY, SCITOKENS_ANY, WLCG_STORAGE)
        }
        (None, Some(v)) => {
            if v != "scitoken:2.0" {
                return Err(format!("ver {v:?} is not scitoken:2.0"));
            }
            if want == Profile::Wlcg {
                return Err("a SciTokens token, but the issuer's profile is wlcg".into());
            }
            ("SciTokens 2.0", SCITOKENS_ANY, WLCG_ANY, SCITOKENS_STORAGE)
        }
        (None, None) => {
            return match want {
                Profile::Any => Ok("no wlcg.ver or ver: no profile rules apply".into()),
                p => Err(format!(
                    "no {} claim, but the issuer's profile is {}",
                    if p == Profile::Wlcg {
                        "wlcg.ver"
                    } else {
                        "ver"
                    },
                    p.name()
                )),
            };
        }
    };
    // The audience that let the token in must not be only the other
    // profile's "any".
    let ok_aud = |a: &String| accepted.contains(a) && a != other_any;
    if !aud.iter().any(ok_aud) {
        return Err(format!(
            "{name}: the audience {other_any} is not {name}'s any-audience ({any})"
        ));
    }
    check_scopes(scope, storage).map_err(|e| format!("{name}: {e}"))?;
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(p: Value, scope: &str, want: Profile) -> Result<String, String> {
        let m = p.as_object().unwrap().clone();
        let scope: Vec<String> = scope.split_whitespace().map(String::from).collect();
        let acc = vec!["https://ce".to_string(), WLCG_ANY.to_string()];
        let aud = match m.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            _ => vec!["https://ce".into()],
        };
        check(&m, &scope, &aud, &acc, want)
    }

    #[test]
    fn profiles() {
        let w = json!({"wlcg.ver": "1.0", "iat": 1});
        let s = json!({"ver": "scitoken:2.0"});
        assert_eq!(
            run(w.clone(), "storage.read:/x compute.create", Profile::Any).unwrap(),
            "WLCG 1.0"
        );
        assert!(run(w.clone(), "storage.read", Profile::Any)
            .unwrap_err()
            .contains("path"));
        assert!(run(w.clone(), "compute.create:/x", Profile::Any)
            .unwrap_err()
            .contains("no path"));
        assert!(run(w.clone(), "", Profile::SciTokens)
            .unwrap_err()
            .contains("profile is scitokens"));
        assert!(run(json!({"wlcg.ver": "1.0"}), "", Profile::Any)
            .unwrap_err()
            .contains("iat"));
        assert!(run(json!({"wlcg.ver": "2.0", "iat": 1}), "", Profile::Any).is_err());
        assert_eq!(
            run(s.clone(), "read:/x write:/y", Profile::SciTokens).unwrap(),
            "SciTokens 2.0"
        );
        assert!(run(s.clone(), "read", Profile::Any)
            .unwrap_err()
            .contains("path"));
        assert!(run(s.clone(), "", Profile::Wlcg)
            .unwrap_err()
            .contains("profile is wlcg"));
        assert!(run(json!({"ver": "scitokens:1.0"}), "", Profile::Any).is_err());
        assert!(run(
            json!({"ver": "scitoken:2.0", "wlcg.ver": "1.0"}),
            "",
            Profile::Any
        )
        .is_err());
        assert!(run(json!({}), "", Profile::Any).is_ok());
        assert!(run(json!({}), "", Profile::Wlcg)
            .unwrap_err()
            .contains("no wlcg.ver"));
        // A SciTokens token let in only by the WLCG any-audience.
        let e = run(
            json!({"ver": "scitoken:2.0", "aud": WLCG_ANY}),
            "",
            Profile::Any,
        );
        assert!(e.unwrap_err().contains("any-audience"));
    }
}
