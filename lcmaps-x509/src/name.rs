//! Distinguished names in OpenSSL's `X509_NAME_oneline` form, the form
//! LCMAPS uses everywhere (`/DC=org/DC=example/CN=Jane Doe`).

use openssl::x509::X509NameRef;

/// Renders `name` as `X509_NAME_oneline` does: each entry as
/// `/<short name>=<value>` (dotted OID for unknown attribute types), bytes
/// outside printable ASCII written as `\xHH`.
pub fn oneline(name: &X509NameRef) -> String {
    let mut out = String::new();
    for entry in name.entries() {
        out.push('/');
        let nid = entry.object().nid();
        match nid.short_name() {
            Ok(sn) if nid.as_raw() != 0 => out.push_str(sn),
            _ => out.push_str(&entry.object().to_string()),
        }
        out.push('=');
        for &b in entry.data().as_slice() {
            if (b' '..=b'~').contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("\\x{b:02X}"));
            }
        }
    }
    out
}
