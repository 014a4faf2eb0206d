//! Pool accounts for tokens: a mapfile rule whose account is `.POOL` leases
//! an account of pool `POOL` to the token's issuer + subject, in the
//! gridmapdir, through the same protocol (and the same code:
//! [`gridmapdir::lease`]) as `lcmaps_poolaccount.mod` uses for DNs. Every
//! node sharing the gridmapdir gives the same person the same account.
//!
//! The lease name is
//!
//! ```text
//! %token:<issuer>:<subject>
//! ```
//!
//! with issuer and subject percent-encoded: ASCII letters (case kept),
//! digits, `-`, `.` and `_` stay, every other byte is `%` and two
//! upper-case hex digits (so `:` and `/` are always encoded and the name
//! splits unambiguously). E.g. issuer `https://wlcg.example/` and subject
//! `a1b2` lease `%token:https%3A%2F%2Fwlcg.example%2F:a1b2`. When that
//! would exceed 255 bytes (a file name's limit), the name is
//! `%token:sha256:<64 hex digits>`, the SHA-256 of issuer, a NUL byte and
//! subject.
//!
//! A DN's lease name never collides: it is upstream's `urlencode()` of a
//! DN starting with `/`, so it starts with `%2f`, and that encoder writes
//! `%` only before two hex digits, never before `t`
//! ([`gridmapdir::TOKEN_LEASE_PREFIX`]). The subject is leased, whichever
//! rule (on `sub`, a group or another claim) chose the pool: one person,
//! one account.

use std::path::Path;

use lcmaps_plugin_common::gridmapdir::{self, Lease, Options, TOKEN_LEASE_PREFIX};

/// Longest file name.
const NAME_MAX: usize = 255;

fn percent(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The lease name of `subject` of `issuer` (see the module documentation).
pub fn lease_name(issuer: &str, subject: &str) -> String {
    let mut name = String::from(TOKEN_LEASE_PREFIX);
    percent(issuer, &mut name);
    name.push(':');
    percent(subject, &mut name);
    if name.len() <= NAME_MAX {
        return name;
    }
    let mut h = openssl::sha::Sha256::new();
    h.update(issuer.as_bytes());
    h.update(&[0]);
    h.update(subject.as_bytes());
    let hex: String = h.finish().iter().map(|b| format!("{b:02x}")).collect();
    format!("{TOKEN_LEASE_PREFIX}sha256:{hex}")
}

/// Lease (or find the lease of) an account of `pool` in `dir` for the
/// subject of the issuer: to `requested` when given, which must be of the
/// pool. `verify`: only an existing lease to `requested` counts.
/// `Ok(None)`: no free account (or, verifying, no such lease).
pub fn lease(
    dir: &Path,
    issuer: &str,
    subject: &str,
    pool: &str,
    requested: Option<&str>,
    verify: bool,
) -> Result<Option<Lease>, String> {
    let options = Options {
        strict_prefix: true,
        only_existing: verify,
        ..Options::default()
    };
    gridmapdir::lease(dir, &lease_name(issuer, subject), pool, requested, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lcmaps_plugin_common::urlencode::{lease_name as dn_lease, urlencode};

    #[test]
    fn names() {
        assert_eq!(
            lease_name("https://wlcg.example/", "a1b2"),
            "%token:https%3A%2F%2Fwlcg.example%2F:a1b2"
        );
        // Case is kept: two subjects differing in case are two people.
        assert_ne!(lease_name("i", "Alice"), lease_name("i", "alice"));
        // The separator cannot be forged by a subject or an issuer.
        assert_ne!(lease_name("a:b", "c"), lease_name("a", "b:c"));
        let long = lease_name("https://i", &"x".repeat(300));
        assert!(long.starts_with("%token:sha256:") && long.len() == 14 + 64);
        // A DN's lease name, even of a DN made to look like one.
        for dn in ["/token:x", "/DC=org/CN=%token:x", "token:x"] {
            let enc = String::from_utf8(urlencode(&dn_lease(dn.as_bytes(), 0))).unwrap();
            assert!(!enc.starts_with(TOKEN_LEASE_PREFIX), "{enc}");
        }
    }
}
