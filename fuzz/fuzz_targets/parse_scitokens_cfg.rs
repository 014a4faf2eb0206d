//! Fuzz the SciTokens issuer configuration (`scitokens.cfg`) parser
//! (`lcmaps_scitokens::config::Settings::parse`, everything
//! `Config::parse` checks before it reads the files the configuration
//! names): any text gives settings or an error, never a panic; an error
//! naming a line names one that exists; accepted settings keep the rules
//! (numbers in range, an issuer at most once, keys or a refresh, an
//! audience, scopes exactly for authorize-and-map, a valid group claim,
//! a username claim with a pattern and a uid of at least 1) and, written
//! back out (with `groups_claim`, `username_*` and `profile`), parse to
//! the same settings.
#![no_main]

use std::path::Path;

use lcmaps_scitokens::config::{Mode, Settings};
use lcmaps_scitokens::identity::valid_claim_name;
use lcmaps_scitokens::remote;
use libfuzzer_sys::fuzz_target;

const NAME: &str = "/etc/lcmaps/scitokens.cfg";

/// `s` as a configuration file: `key=value` without blanks around `=`, so
/// that a value starting with `#` or `;` is not taken for a comment.
fn render(s: &Settings) -> String {
    let mut out = String::from("[Global]\n");
    out.push_str(&format!("clock_skew={}\n", s.clock_skew));
    out.push_str(&format!("max_token_size={}\n", s.max_token_size));
    if let Some(a) = &s.audience {
        out.push_str(&format!("audience={}\n", a.join(",")));
    }
    if let Some((d, _)) = &s.jwks_cache_dir {
        out.push_str(&format!("jwks_cache_dir={d}\n"));
    }
    for i in &s.issuers {
        out.push_str(&format!("[Issuer {}]\n", i.name));
        out.push_str(&format!("issuer={}\n", i.issuer));
        if let Some((j, _)) = &i.jwks {
            out.push_str(&format!("jwks={j}\n"));
        }
        if let Some(r) = &i.refresh {
            out.push_str(&format!("jwks_refresh={}\n", r.value));
            out.push_str(&format!("jwks_ttl={}\n", r.ttl));
            out.push_str(&format!("jwks_grace={}\n", r.grace));
            if let Some(f) = &r.ca_file {
                out.push_str(&format!("ca_file={f}\n"));
            }
            if let Some(d) = &r.capath {
                out.push_str(&format!("capath={d}\n"));
            }
        }
        out.push_str(&format!("audience={}\n", i.audiences.join(",")));
        let id = &i.identity;
        out.push_str(&format!("groups_claim={}\n", id.groups_claim));
        out.push_str(&format!("profile={}\n", id.profile.name()));
        if let Some(u) = &id.username {
            out.push_str(&format!("username_claim={}\n", u.claim));
            out.push_str(&format!("username_pattern={}\n", u.pattern.as_str()));
            out.push_str(&format!("username_min_uid={}\n", u.min_uid));
        }
        match i.mode {
            Mode::Map => out.push_str("mode=map\n"),
            Mode::AuthorizeAndMap => {
                out.push_str("mode=authorize-and-map\n");
                out.push_str(&format!(
                    "required_scopes={}\n",
                    i.required_scopes.join(",")
                ));
            }
        }
    }
    out
}

/// `s` without its line numbers.
fn unlined(mut s: Settings) -> Settings {
    if let Some((_, n)) = &mut s.jwks_cache_dir {
        *n = 0;
    }
    for i in &mut s.issuers {
        i.line = 0;
        if let Some((_, n)) = &mut i.jwks {
            *n = 0;
        }
        if let Some(r) = &mut i.refresh {
            r.trust_line = 0;
        }
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count();
    let s = match Settings::parse(Path::new(NAME), text) {
        Err(e) => {
            let rest = e
                .strip_prefix(NAME)
                .and_then(|r| r.strip_prefix(':'))
                .unwrap_or_else(|| panic!("{e:?} does not name the file"));
            if !rest.starts_with(' ') {
                // `line: ` or (the identity keys) `line:column: `.
                let n: usize = rest
                    .split_once(": ")
                    .and_then(|(n, _)| n.split(':').next()?.parse().ok())
                    .unwrap_or_else(|| panic!("{e:?}: bad line number"));
                assert!(n >= 1 && n <= lines, "line {n} of {lines}: {e}");
            }
            return;
        }
        Ok(s) => s,
    };
    assert!((0..=300).contains(&s.clock_skew));
    assert!((1024..=1 << 20).contains(&s.max_token_size));
    assert!(!s.issuers.is_empty());
    for (k, i) in s.issuers.iter().enumerate() {
        assert!(!i.issuer.is_empty() && !i.name.is_empty());
        assert!(i.line >= 1 && i.line <= lines);
        assert!(s.issuers[..k].iter().all(|o| o.issuer != i.issuer));
        assert!(i.jwks.is_some() || i.refresh.is_some());
        assert!(!i.audiences.is_empty());
        assert!(valid_claim_name(&i.identity.groups_claim));
        if let Some(u) = &i.identity.username {
            assert!(valid_claim_name(&u.claim) && u.min_uid >= 1);
        }
        assert_eq!(
            i.mode == Mode::AuthorizeAndMap,
            !i.required_scopes.is_empty()
        );
        if let Some(r) = &i.refresh {
            assert!((remote::MIN_TTL..=remote::MAX_TTL).contains(&r.ttl));
            assert!((0..=remote::MAX_GRACE).contains(&r.grace));
        }
    }
    let again = render(&s);
    let s2 = Settings::parse(Path::new(NAME), &again)
        .unwrap_or_else(|e| panic!("{again}\n(written from accepted settings) is refused: {e}"));
    assert_eq!(unlined(s), unlined(s2), "{again}");
});
