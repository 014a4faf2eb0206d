//! Regular expressions of the configuration and the mapfile: the `regex`
//! crate (finite automata, no backtracking: matching is linear in the
//! input whatever the expression), anchored at both ends, with a bound on
//! the compiled size.

use std::fmt;

use regex::{Regex, RegexBuilder};

/// Largest compiled program of one expression (bytes): far more than any
/// sensible rule, small enough that a mapfile cannot eat the memory.
pub const SIZE_LIMIT: usize = 1 << 20;
/// Longest expression accepted (bytes of source).
pub const MAX_SOURCE: usize = 4096;

/// A regular expression that must match the whole value: `abc` is compiled
/// as `^(?:abc)$`, so `cms` never matches `cms-admin`.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    re: Regex,
}

impl Pattern {
    /// Compile `source` (as written, without the anchors added here).
    pub fn new(source: &str) -> Result<Pattern, String> {
        if source.len() > MAX_SOURCE {
            return Err(format!("regular expression longer than {MAX_SOURCE} bytes"));
        }
        let re = RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => format!(
                    "regular expression {source:?} compiles to more than {SIZE_LIMIT} bytes: simplify it"
                ),
                e => format!(
                    "invalid regular expression {source:?}: {}",
                    e.to_string().replace('\n', " ")
                ),
            })?;
        Ok(Pattern {
            source: source.to_string(),
            re,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        self.re.is_match(value)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_and_bounded() {
        let p = Pattern::new("cms|atlas").unwrap();
        assert!(p.matches("cms") && p.matches("atlas"));
        assert!(!p.matches("cms-admin") && !p.matches("xatlas"));
        assert!(Pattern::new("(")
            .unwrap_err()
            .contains("invalid regular expression"));
        assert!(Pattern::new("a{100000}").unwrap_err().contains("simplify"));
        assert!(Pattern::new(&"a".repeat(MAX_SOURCE + 1)).is_err());
    }

    #[test]
    fn no_catastrophic_backtracking() {
        // Exponential in a backtracking engine; linear here.
        let p = Pattern::new("(a+)+$").unwrap();
        let long = format!("{}b", "a".repeat(100_000));
        assert!(!p.matches(&long));
        assert!(p.matches(&"a".repeat(100_000)));
    }
}
