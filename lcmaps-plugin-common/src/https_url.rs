//! `https://host[:port]/path` URLs, as the plugins that make HTTPS
//! requests take them (the XACML callout's endpoints, a token issuer's key
//! set): nothing but `https`, no user information, no fragment, no blanks
//! or control characters (no header injection), a checked port and IPv6
//! literal, the host in lower case.

/// A parsed `https://host[:port]/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Host name or address literal (brackets removed).
    pub host: String,
    /// Port (443 when absent).
    pub port: u16,
    /// Path with query, starting with `/` (no fragment).
    pub path: String,
}

impl Url {
    /// Parse an `https://` URL; anything else (`http://` included) is refused.
    pub fn parse(s: &str) -> Result<Url, String> {
        let rest = s
            .strip_prefix("https://")
            .ok_or_else(|| format!("{s:?} is not an https:// URL"))?;
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#')
        {
            return Err(format!("{s:?}: blanks, control characters or '#' in URL"));
        }
        let (auth, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        if auth.contains('@') {
            return Err(format!("{s:?}: user information in URL"));
        }
        let (host, port) = if let Some(r) = auth.strip_prefix('[') {
            let (h, p) = r
                .split_once(']')
                .ok_or_else(|| format!("{s:?}: bad IPv6 literal"))?;
            if h.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!("{s:?}: bad IPv6 literal"));
            }
            match p {
                "" => (h, None),
                p => (
                    h,
                    Some(
                        p.strip_prefix(':')
                            .ok_or_else(|| format!("{s:?}: bad port"))?,
                    ),
                ),
            }
        } else {
            match auth.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (auth, None),
            }
        };
        let port = match port {
            None => 443,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("{s:?}: bad port"))?,
        };
        if host.is_empty() {
            return Err(format!("{s:?}: no host"));
        }
        Ok(Url {
            host: host.to_ascii_lowercase(),
            port,
            path,
        })
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "https://[{}]:{}{}", self.host, self.port, self.path)
        } else {
            write!(f, "https://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("https://Auth.Example.org:8443/jwk?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("auth.example.org", 8443, "/jwk?x=1")
        );
        assert_eq!(u.to_string(), "https://auth.example.org:8443/jwk?x=1");
        let u = Url::parse("https://[::1]").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 443, "/")
        );
        assert_eq!(u.to_string(), "https://[::1]:443/");
        assert_eq!(Url::parse("https://a?q").unwrap().path, "/?q");
        for bad in [
            "http://a/",
            "HTTPS://a/",
            "https://",
            "https:///x",
            "https://u@a/",
            "https://a:0/",
            "https://a:x/",
            "https://a:1:2/",
            "https://[zz]/",
            "https://a/b c",
            "https://a/\r\nX: y",
            "https://a/#f",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoint_urls() {
        let u = Url::parse("https://gums.example.org:8443/gums/services/X").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("gums.example.org", 8443, "/gums/services/X")
        );
        let u = Url::parse("https://[::1]/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 443));
        assert!(Url::parse("http://x/").is_err());
        assert!(Url::parse("https://u@x/").is_err());
        assert!(Url::parse("https://x:0/").is_err());
        assert!(Url::parse("https://x/a b").is_err());
        assert!(Url::parse("https://x\r\nEvil: 1/").is_err());
    }
}
