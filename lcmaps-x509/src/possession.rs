//! Whether a private key's secret half is the one its public half belongs
//! to ([`holds`]), as cheaply as each key type allows:
//!
//! * EC: the private scalar times the curve's generator is the public
//!   point (one scalar multiplication);
//! * RSA with its primes: p and q are above 1 and p * q = n (whoever knows
//!   the factors of n holds the key; one multiplication);
//! * anything else (RSA without primes, Ed25519, DSA, ...): a signature
//!   made with the key verifies with its public half.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::EcPoint;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Private};
use openssl::sign::{Signer, Verifier};

/// See the module documentation; any failure is `false`.
pub fn holds(k: &PKey<Private>) -> bool {
    match k.id() {
        Id::EC => ec(k).unwrap_or(false),
        Id::RSA => rsa(k).unwrap_or_else(|| signs(k).unwrap_or(false)),
        _ => signs(k).unwrap_or(false),
    }
}

fn ec(k: &PKey<Private>) -> Result<bool, openssl::error::ErrorStack> {
    let ec = k.ec_key()?;
    let group = ec.group();
    let mut ctx = BigNumContext::new()?;
    let mut q = EcPoint::new(group)?;
    q.mul_generator2(group, ec.private_key(), &mut ctx)?;
    q.eq(group, ec.public_key(), &mut ctx)
}

/// `None`: the key has no primes to check.
fn rsa(k: &PKey<Private>) -> Option<bool> {
    let rsa = k.rsa().ok()?;
    let (p, q) = (rsa.p()?, rsa.q()?);
    let one = BigNum::from_u32(1).ok()?;
    let mut ctx = BigNumContext::new().ok()?;
    let mut n = BigNum::new().ok()?;
    n.checked_mul(p, q, &mut ctx).ok()?;
    Some(*p > *one && *q > *one && n == *rsa.n())
}

fn signs(k: &PKey<Private>) -> Result<bool, openssl::error::ErrorStack> {
    const CHALLENGE: &[u8] = b"lcmaps-rs proof of possession";
    // Ed25519 and Ed448 sign the message itself, with no digest.
    let digest = match k.id() {
        Id::ED25519 | Id::ED448 => None,
        _ => Some(MessageDigest::sha256()),
    };
    let mut signer = match digest {
        Some(d) => Signer::new(d, k)?,
        None => Signer::new_without_digest(k)?,
    };
    let sig = signer.sign_oneshot_to_vec(CHALLENGE)?;
    let mut verifier = match digest {
        Some(d) => Verifier::new(d, k)?,
        None => Verifier::new_without_digest(k)?,
    };
    verifier.verify_oneshot(&sig, CHALLENGE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::EcKey;
    use openssl::rsa::Rsa;

    #[test]
    fn real_keys_hold() {
        assert!(holds(&crate::fixtures::key()));
        assert!(holds(&crate::fixtures::rsa_key()));
        assert!(holds(&PKey::generate_ed25519().unwrap()));
    }

    #[test]
    fn a_borrowed_public_half_does_not_hold() {
        let (mine, theirs) = (crate::fixtures::key(), crate::fixtures::key());
        let (m, t) = (mine.ec_key().unwrap(), theirs.ec_key().unwrap());
        let forged =
            EcKey::from_private_components(m.group(), m.private_key(), t.public_key()).unwrap();
        assert!(!holds(&PKey::from_ec_key(forged).unwrap()));

        // RSA: the victim's n and e, someone else's secret numbers.
        let (victim, other) = (crate::fixtures::rsa_key(), crate::fixtures::rsa_key());
        let (v, o) = (victim.rsa().unwrap(), other.rsa().unwrap());
        let c = |b: &openssl::bn::BigNumRef| b.to_owned().unwrap();
        let forged = Rsa::from_private_components(
            c(v.n()),
            c(v.e()),
            c(o.d()),
            c(o.p().unwrap()),
            c(o.q().unwrap()),
            c(o.dmp1().unwrap()),
            c(o.dmq1().unwrap()),
            c(o.iqmp().unwrap()),
        )
        .unwrap();
        assert!(!holds(&PKey::from_rsa(forged).unwrap()));
    }
}
