//! How LCMAPS turns string literals into a variable's value, and a value into
//! a module name plus `plugin_initialize` arguments.

/// Most option tokens a plugin can get: `argv` holds at most 50 entries
/// (`LCMAPS_MAXARGS - 1`), the first being the module path.
pub const MAX_OPTION_TOKENS: usize = 49;
/// Longest argument string LCMAPS copies (`LCMAPS_MAXARGSTRING`).
pub const MAX_ARG_STRING: usize = 2000;
/// Longest module name LCMAPS copies (`LCMAPS_MAXPATHLEN`, exclusive).
pub const MAX_MODULE_NAME: usize = 500;

/// A string literal's body contains `\"` an odd number of times. LCMAPS's
/// scanner handles `\"` in pairs and fails with "Unbalanced quotes." otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OddEscapes {
    /// How many `\"` the body has.
    pub count: usize,
}

/// The flex tokens one string literal becomes. `"a \"b\" c"` is lexed by
/// LCMAPS as three strings: `a "`, `b "`... precisely: each `\"` ends a token
/// whose last character is `"`, and the remainder starts the next one.
pub fn literal_tokens(body: &str) -> Result<Vec<String>, OddEscapes> {
    let parts: Vec<&str> = body.split("\\\"").collect();
    let count = parts.len() - 1;
    if count % 2 == 1 {
        return Err(OddEscapes { count });
    }
    let last = parts.len() - 1;
    Ok(parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i < last {
                format!("{p}\"")
            } else {
                (*p).to_string()
            }
        })
        .collect())
}

/// Join the tokens of all string literals of a declaration the way LCMAPS
/// does: an empty token adds nothing; two tokens that both end in `"` are
/// glued; otherwise a single space separates them.
pub fn join_tokens<I: IntoIterator<Item = String>>(tokens: I) -> String {
    let mut it = tokens.into_iter();
    let mut acc = it.next().unwrap_or_default();
    for t in it {
        if t.is_empty() {
            continue;
        }
        if !acc.is_empty() && acc.ends_with('"') && t.ends_with('"') {
            acc.push_str(&t);
        } else {
            acc.push(' ');
            acc.push_str(&t);
        }
    }
    acc
}

/// Split a plugin value at its first space into module name and argument
/// string (absent when nothing follows the space).
pub fn split_module(value: &str) -> (&str, Option<&str>) {
    match value.find(' ') {
        Some(i) if i + 1 < value.len() => (&value[..i], Some(&value[i + 1..])),
        Some(i) => (&value[..i], None),
        None => (value, None),
    }
}

/// Why an argument string cannot be tokenized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizeError {
    /// A token opens a `"` that never closes (LCMAPS error -3).
    UnmatchedQuote {
        /// Byte offset of the opening quote in the argument string.
        at: usize,
    },
    /// More than `max` tokens (LCMAPS error -2).
    TooMany {
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// Split an argument string into tokens as `lcmaps_tokenize` does: tokens are
/// separated by any of `seps`; a token that starts with `"` runs to the next
/// `"` (quotes removed, separators kept); a quote inside an unquoted token is
/// an ordinary character.
pub fn tokenize(s: &str, seps: &[char], max: usize) -> Result<Vec<String>, TokenizeError> {
    let mut out = Vec::new();
    let mut rest = s;
    let mut offset = 0;
    loop {
        let skipped = rest.len() - rest.trim_start_matches(seps).len();
        rest = &rest[skipped..];
        offset += skipped;
        if rest.is_empty() {
            break;
        }
        let (token, used) = if let Some(body) = rest.strip_prefix('"') {
            match body.find('"') {
                Some(end) => (&body[..end], end + 2),
                None => return Err(TokenizeError::UnmatchedQuote { at: offset }),
            }
        } else {
            let end = rest.find(seps).unwrap_or(rest.len());
            (&rest[..end], end)
        };
        out.push(token.to_string());
        if out.len() > max {
            return Err(TokenizeError::TooMany {
                count: count_tokens(s, seps),
                max,
            });
        }
        rest = &rest[used..];
        offset += used;
    }
    Ok(out)
}

/// How many tokens `s` has, counting a final token with an unmatched quote
/// (which may follow the token that went over the limit).
fn count_tokens(s: &str, seps: &[char]) -> usize {
    match tokenize(s, seps, usize::MAX) {
        Ok(v) => v.len(),
        Err(TokenizeError::UnmatchedQuote { at }) => {
            // `at` is the byte offset of an ASCII `"`, so a char boundary.
            tokenize(&s[..at], seps, usize::MAX).map_or(0, |v| v.len()) + 1
        }
        Err(TokenizeError::TooMany { count, .. }) => count,
    }
}

/// The separators LCMAPS uses for plugin arguments.
pub const ARG_SEPARATORS: &[char] = &[' ', '\t', '\n'];

#[cfg(test)]
mod tests {
    use super::*;

    fn value(bodies: &[&str]) -> String {
        join_tokens(bodies.iter().flat_map(|b| literal_tokens(b).unwrap()))
    }

    #[test]
    fn strings_join_with_one_space() {
        assert_eq!(
            value(&["lcmaps_x.mod", "-a b", "-c"]),
            "lcmaps_x.mod -a b -c"
        );
        assert_eq!(value(&["a", "", "b"]), "a b");
    }

    #[test]
    fn the_backslash_quote_hack() {
        // The upstream example: "-dn \"cn=Manager,dc=x\"" is `-dn "cn=Manager,dc=x"`.
        assert_eq!(
            value(&["-dn \\\"cn=Manager,dc=x\\\""]),
            "-dn \"cn=Manager,dc=x\""
        );
        // A space follows the second quote when more text comes after it.
        assert_eq!(value(&["a \\\"b c\\\" d"]), "a \"b c\"  d");
        assert_eq!(literal_tokens("x \\\" y"), Err(OddEscapes { count: 1 }));
    }

    #[test]
    fn split_at_first_space() {
        assert_eq!(split_module("m.mod -a b"), ("m.mod", Some("-a b")));
        assert_eq!(split_module("m.mod"), ("m.mod", None));
        assert_eq!(split_module("m.mod "), ("m.mod", None));
    }

    #[test]
    fn tokenize_like_lcmaps() {
        let t = |s| tokenize(s, ARG_SEPARATORS, MAX_OPTION_TOKENS);
        assert_eq!(t("-a  b\t-c").unwrap(), ["-a", "b", "-c"]);
        assert_eq!(t("-dn \"cn=a b\" x").unwrap(), ["-dn", "cn=a b", "x"]);
        assert_eq!(t("\"a\"b").unwrap(), ["a", "b"]);
        assert_eq!(t("a\"b c\"").unwrap(), ["a\"b", "c\""]);
        assert_eq!(t("-x \"open"), Err(TokenizeError::UnmatchedQuote { at: 3 }));
        assert_eq!(t("").unwrap(), Vec::<String>::new());
        let many = vec!["x"; 50].join(" ");
        assert_eq!(t(&many), Err(TokenizeError::TooMany { count: 50, max: 49 }));
        let ok = vec!["x"; 49].join(" ");
        assert_eq!(t(&ok).unwrap().len(), 49);
        // Too many tokens, then a quote that never closes: the count is
        // still the number of tokens, not 0.
        let open = format!("{many} \"x");
        assert_eq!(t(&open), Err(TokenizeError::TooMany { count: 51, max: 49 }));
    }
}
