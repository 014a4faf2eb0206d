//! `fnmatch(pattern, string, FNM_NOESCAPE)` as glibc does it in the C
//! locale, on bytes: `*` matches any run of bytes (including `/` and a
//! leading `.`, since neither `FNM_PATHNAME` nor `FNM_PERIOD` is set), `?`
//! any one byte, `[...]` a bracket expression (`!` or `^` negates, ranges,
//! `[:class:]`), and `\` is an ordinary character. An unterminated `[` is a
//! literal `[`.
//!
//! Hand-written because no well-kept crate has these exact semantics: the
//! `glob` crate has no `[^...]`, no character classes and rejects patterns
//! that fnmatch treats literally; `globset` compiles to regexes with its own
//! escaping rules.

/// Whether `subject` matches `pattern`.
pub fn fnmatch(pattern: &[u8], subject: &[u8]) -> bool {
    let (mut p, mut s) = (0usize, 0usize);
    // Position after the last `*` and the subject position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    if p == pattern.len() {
                        return true;
                    }
                    star = Some((p, s));
                    continue;
                }
                c => {
                    if s < subject.len() {
                        let step = match c {
                            b'?' => Some(1),
                            b'[' => match bracket(&pattern[p + 1..], subject[s]) {
                                Bracket::Match(len) => Some(len + 1),
                                Bracket::NoMatch => None,
                                Bracket::Literal => (subject[s] == b'[').then_some(1),
                                Bracket::Invalid => return false,
                            },
                            c => (subject[s] == c).then_some(1),
                        };
                        if let Some(len) = step {
                            p += len;
                            s += 1;
                            continue;
                        }
                    }
                }
            }
        } else if s == subject.len() {
            return true;
        }
        // Mismatch: let the last star swallow one more byte.
        match star {
            Some((sp, ss)) if ss < subject.len() => {
                star = Some((sp, ss + 1));
                p = sp;
                s = ss + 1;
            }
            _ => return false,
        }
    }
}

enum Bracket {
    /// Matched; the expression after `[` is this many bytes long.
    Match(usize),
    NoMatch,
    /// No closing `]`: the `[` is an ordinary character.
    Literal,
    /// An unknown character class: fnmatch returns an error (no match).
    Invalid,
}

/// Evaluate the bracket expression starting just after `[` against `c`.
fn bracket(pat: &[u8], c: u8) -> Bracket {
    let mut i = 0;
    let negate = matches!(pat.first(), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let Some(&b) = pat.get(i) else {
            return Bracket::Literal;
        };
        if b == b']' && !first {
            i += 1;
            break;
        }
        first = false;
        if b == b'[' && pat.get(i + 1) == Some(&b':') {
            let rest = &pat[i + 2..];
            if let Some(end) = rest.windows(2).position(|w| w == b":]") {
                let Some(class) = class_match(&rest[..end], c) else {
                    return Bracket::Invalid;
                };
                matched |= class;
                i += 2 + end + 2;
                continue;
            }
        }
        if pat.get(i + 1) == Some(&b'-') && pat.get(i + 2).is_some_and(|&e| e != b']') {
            let hi = pat[i + 2];
            matched |= b <= c && c <= hi;
            i += 3;
        } else {
            matched |= b == c;
            i += 1;
        }
    }
    if matched != negate {
        Bracket::Match(i)
    } else {
        Bracket::NoMatch
    }
}

fn class_match(name: &[u8], c: u8) -> Option<bool> {
    Some(match name {
        b"alnum" => c.is_ascii_alphanumeric(),
        b"alpha" => c.is_ascii_alphabetic(),
        b"blank" => c == b' ' || c == b'\t',
        b"cntrl" => c.is_ascii_control(),
        b"digit" => c.is_ascii_digit(),
        b"graph" => c.is_ascii_graphic(),
        b"lower" => c.is_ascii_lowercase(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        b"punct" => c.is_ascii_punctuation(),
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b"upper" => c.is_ascii_uppercase(),
        b"xdigit" => c.is_ascii_hexdigit(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    fn m(p: &str, s: &str) -> bool {
        fnmatch(p.as_bytes(), s.as_bytes())
    }

    #[test]
    fn stars_cross_slashes_and_dots() {
        assert!(m("/DC=org/*", "/DC=org/DC=x/CN=Jane Doe"));
        assert!(m("*", ""));
        assert!(m("*", ".hidden/x"));
        assert!(m("/CN=*Doe", "/CN=Jane Doe"));
        assert!(!m("/CN=*Doe", "/CN=Jane Does"));
        assert!(m("a*b*c", "aXXbYYbZc"));
        assert!(!m("a*b*c", "aXXbYYbZ"));
        assert!(m("**x", "abx"));
    }

    #[test]
    fn question_and_literal() {
        assert!(m("/CN=?", "/CN=a"));
        assert!(!m("/CN=?", "/CN="));
        assert!(m("exact", "exact"));
        assert!(!m("exact", "exactly"));
        assert!(!m("", "x"));
        assert!(m("", ""));
    }

    #[test]
    fn backslash_is_literal() {
        // FNM_NOESCAPE: `\*` is a backslash followed by a star.
        assert!(m("a\\*", "a\\xyz"));
        assert!(!m("a\\*", "a*"));
        assert!(m("a\\?", "a\\b"));
    }

    #[test]
    fn brackets() {
        assert!(m("[abc]x", "bx"));
        assert!(!m("[abc]x", "dx"));
        assert!(m("[!abc]x", "dx"));
        assert!(m("[^abc]x", "dx"));
        assert!(!m("[^abc]x", "ax"));
        assert!(m("[a-c]", "b"));
        assert!(!m("[a-c]", "d"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(m("[a-]", "-"));
        assert!(m("[[:digit:]][[:upper:]]", "7Q"));
        assert!(!m("[[:digit:]]", "x"));
        assert!(!m("[[:bogus:]]", "x"));
        // Unterminated bracket: literal `[`.
        assert!(m("[abc", "[abc"));
        assert!(!m("[abc", "a"));
        assert!(m("*[0-9]", "dteam007"));
    }
}
