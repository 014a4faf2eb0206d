//! Lease names: upstream's `add_mapcount_to_leasename()` and `urlencode()`,
//! byte for byte, so one gridmapdir can serve C LCMAPS and lcmaps-rs nodes.

/// The separator upstream puts between the DN and `mapcount=NNNN`; the
/// encoder turns the first one into `:`.
pub const MAPCOUNT_SEPARATOR: u8 = 0x01;

/// The lease name before encoding: the DN, followed (for `mapcounter >= 1`)
/// by a separator and `mapcount=%04d`. The separator is `\001` unless the DN
/// already contains one, then `:`.
pub fn lease_name(dn: &[u8], mapcounter: i32) -> Vec<u8> {
    let mut lease = dn.to_vec();
    if mapcounter >= 1 {
        lease.push(if dn.contains(&MAPCOUNT_SEPARATOR) {
            b':'
        } else {
            MAPCOUNT_SEPARATOR
        });
        lease.extend_from_slice(format!("mapcount={mapcounter:04}").as_bytes());
    }
    lease
}

/// Upstream's `urlencode()`: ASCII alphanumerics are lowercased, every other
/// byte becomes `%` and two lowercase hex digits, and at the first `\001`
/// a `:` is written and the rest is copied unchanged.
///
/// Bytes >= 0x80 reproduce upstream's C behaviour exactly: it formats a
/// signed `char` with `%02x` into a buffer of `3 * len + 1` bytes, so such a
/// byte prints as `%ffffffXX`, truncated at the end of the buffer and
/// partly overwritten by what follows. The result is the same lease name a
/// C node writes for that DN (but it cannot be decoded).
pub fn urlencode(input: &[u8]) -> Vec<u8> {
    let len = 3 * input.len() + 1;
    let mut buf = vec![0u8; len];
    let mut j = 0usize;
    // snprintf(buf + j, len - j, s): at most len-j-1 bytes and a NUL.
    let snprintf = |buf: &mut [u8], j: usize, s: &[u8]| {
        let room = len - j;
        let n = s.len().min(room - 1);
        buf[j..j + n].copy_from_slice(&s[..n]);
        buf[j + n] = 0;
    };
    for (i, &b) in input.iter().enumerate() {
        if b.is_ascii_alphanumeric() {
            buf[j] = b.to_ascii_lowercase();
        } else if b == MAPCOUNT_SEPARATOR {
            buf[j] = b':';
            j += 1;
            // strncpy(buf + j, input + i + 1, len - j): copy and NUL-pad.
            let rest = &input[i + 1..];
            let n = rest.len().min(len - j);
            buf[j..j + n].copy_from_slice(&rest[..n]);
            buf[j + n..].fill(0);
            break;
        } else {
            let text = if b >= 0x80 {
                format!("%{:08x}", b as i8 as i32 as u32)
            } else {
                format!("%{b:02x}")
            };
            snprintf(&mut buf, j, text.as_bytes());
            j += 2;
        }
        j += 1;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(len);
    buf.truncate(end);
    buf
}

/// The inverse of [`urlencode`] for names it can produce from ASCII input:
/// `%hh` is decoded, the first bare `:` becomes `\001` followed by the rest
/// verbatim. Returns `None` for a name that is not such an encoding.
pub fn urldecode(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        match encoded[i] {
            b'%' => {
                let hex = encoded.get(i + 1..i + 3)?;
                let s = std::str::from_utf8(hex).ok()?;
                if !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                    return None;
                }
                out.push(u8::from_str_radix(s, 16).ok()?);
                i += 3;
            }
            b':' => {
                out.push(MAPCOUNT_SEPARATOR);
                out.extend_from_slice(&encoded[i + 1..]);
                return Some(out);
            }
            c if c.is_ascii_digit() || c.is_ascii_lowercase() => {
                out.push(c);
                i += 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(s: &[u8]) -> String {
        String::from_utf8(urlencode(s)).unwrap()
    }

    #[test]
    fn spec_example() {
        assert_eq!(enc(b"/DC=org/CN=Jane Doe"), "%2fdc%3dorg%2fcn%3djane%20doe");
    }

    #[test]
    fn mapcount_lease_names() {
        let l = lease_name(b"/CN=Jane", 3);
        assert_eq!(l, b"/CN=Jane\x01mapcount=0003");
        assert_eq!(enc(&l), "%2fcn%3djane:mapcount=0003");
        assert_eq!(lease_name(b"/CN=Jane", 0), b"/CN=Jane");
        assert_eq!(lease_name(b"/CN=Jane", -1), b"/CN=Jane");
        // A lease that already holds \001 (voms_poolaccount's DN\001FQANs)
        // gets `:` and everything after the first \001 is verbatim.
        let l = lease_name(b"/CN=J\x01/vo/Role=x", 12);
        assert_eq!(l, b"/CN=J\x01/vo/Role=x:mapcount=0012");
        assert_eq!(enc(&l), "%2fcn%3dj:/vo/Role=x:mapcount=0012");
    }

    #[test]
    fn non_ascii_is_what_c_writes() {
        // Worked out from upstream's snprintf("%%%02x", (char)b) into a
        // 3*len+1 buffer: "é" is c3 a9, then "x".
        assert_eq!(enc("éx".as_bytes()), "%ff%ffxff");
        assert_eq!(enc("é".as_bytes()), "%ff%ff");
        assert_eq!(enc(b"\xff"), "%ff");
    }

    #[test]
    fn every_printable_special_character() {
        let specials = " !\"#$%&'()*+,-.:;<=>?@[\\]^_`{|}~\t";
        let dn = format!("/CN=x{specials}");
        let e = enc(dn.as_bytes());
        let want: String = "%2fcn%3dx"
            .chars()
            .chain(
                specials
                    .bytes()
                    .flat_map(|b| format!("%{b:02x}").chars().collect::<Vec<_>>()),
            )
            .collect();
        assert_eq!(e, want);
        assert_eq!(
            urldecode(e.as_bytes()),
            Some(dn.to_ascii_lowercase().into_bytes())
        );
    }

    #[test]
    fn non_ascii_names_can_collide_like_upstream() {
        // The mangled `%ffffffXX` of the last non-ASCII byte is cut at the
        // end of the buffer and partly survives after shorter tails, so
        // these two DNs share a lease (and a pool account) in upstream;
        // ours writes the same names (docs/compatibility.md).
        assert_eq!(
            enc("/CN=名前 3".as_bytes()),
            "%2fcn%3d%ff%ff%ff%ff%ff%ff%2038d"
        );
        assert_eq!(enc("/CN=名前 38".as_bytes()), enc("/CN=名前 3".as_bytes()));
        assert_ne!(enc("/CN=名前 39".as_bytes()), enc("/CN=名前 3".as_bytes()));
    }

    proptest! {
        #[test]
        fn ascii_round_trip(dn in "[ -~]{0,80}", mapcounter in -1i32..30) {
            let lease = lease_name(dn.as_bytes(), mapcounter);
            let e = urlencode(&lease);
            prop_assert_eq!(urldecode(&e), Some(lease.to_ascii_lowercase_outside_sep()));
        }

        #[test]
        fn encoding_has_no_slash_before_separator(dn in "[ -~]{0,80}") {
            let e = urlencode(dn.as_bytes());
            prop_assert!(!e.contains(&b'/'));
            prop_assert!(!e.contains(&b'.'));
        }
    }

    trait LowerOutsideSep {
        fn to_ascii_lowercase_outside_sep(&self) -> Vec<u8>;
    }

    impl LowerOutsideSep for Vec<u8> {
        /// Encoding lowercases letters before the first \001 only.
        fn to_ascii_lowercase_outside_sep(&self) -> Vec<u8> {
            match self.iter().position(|&b| b == MAPCOUNT_SEPARATOR) {
                Some(p) => {
                    let mut v = self[..p].to_ascii_lowercase();
                    v.extend_from_slice(&self[p..]);
                    v
                }
                None => self.to_ascii_lowercase(),
            }
        }
    }
}
