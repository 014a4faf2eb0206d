//! Warming OpenSSL up in a process that will verify one credential later
//! (glexec's mapping service starts its workers ahead of time): OpenSSL 3
//! loads its configuration, providers, decoders and algorithm methods on
//! first use, which costs a fresh process a few milliseconds. [`warm_up`]
//! takes that first use on two self-signed certificates built into the
//! program (EC P-256 and RSA 2048, the key types of grid proxies; trusted
//! nowhere, their keys thrown away when they were made), so that the
//! caller's credential meets a warm library. It does what a verification
//! does and nothing else: no key generation, no signature, no random
//! numbers, no encoders (each costs a worker CPU time its request would
//! not spend).

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcPoint};
use openssl::nid::Nid;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509StoreContext;

use crate::Credential;

const EC_CERT: &str = "\
-----BEGIN CERTIFICATE-----
MIIBcjCCARmgAwIBAgIUIViDjJbj/RSzAH096EascBY3lPAwCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUbGNtYXBzLXJzIHdhcm0tdXAgRUMwIBcNMjYxMjAzMTMxNzI5
WhgPMjEyNjExMDkxMzE3MjlaMB8xHTAbBgNVBAMMFGxjbWFwcy1ycyB3YXJtLXVw
IEVDMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENpioYuU1rh0xf37GnsGSk+NV
hC89Nx3cqBVgkmRJbpUga44Mw+81rwKwXyLZSqhHO1wR4GZttn6HeOm9T0a2bqMx
MC8wDgYDVR0PAQH/BAQDAgeAMB0GA1UdDgQWBBQiLGNe7P4ufoAIw6MFA0n2mGo2
BjAKBggqhkjOPQQDAgNHADBEAiAbn1zJ6dgv6jodmGmQzYotRQfG+wMYuh6DhjFO
EDE23gIgIEfxOmxdKiElEu5B8JJzX3Fi4TSHBq8uF8MAW/F5XW4=
-----END CERTIFICATE-----
";

const RSA_CERT: &str = "\
-----BEGIN CERTIFICATE-----
MIIDATCCAemgAwIBAgIUVwpFI3jFDyCLGRz5YeZ/Kjn3svMwDQYJKoZIhvcNAQEL
BQAwIDEeMBwGA1UEAwwVbGNtYXBzLXJzIHdhcm0tdXAgUlNBMCAXDTI2MTIwMzEz
MTczMFoYDzIxMjYxMTA5MTMxNzMwWjAgMR4wHAYDVQQDDBVsY21hcHMtcnMgd2Fy
bS11cCBSU0EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDL8e4kqdKp
dJfJViS3Mfq88uSBj61NWksSeRgpQx0mfYej3Doy7fWnMtoI5KYlLuiEB4/Useal
k9MouFHYhr0jdmICgh0tykFNc/BFmZGPI/Kx+PgCpkODfBFEacgNSe2ulyb15WUB
HB1szzcsTU4/yL8RvPK6QiKhQJRo7lUVF8CxQ6Y05XUMoERbKHValzSA/j4uw1hb
B/R2L8d2fgEbZMuxkIld8WU8tNgYtH5qDEqakhQiHHYkEbULZ6iRlBesskdrg+zm
EHFMJCpTuTDrjLzxyVw1IL+g2bIKZK2yJ9kjKogzJH+KW12HKzVvWs87T38Xd4nV
+vOLrownGmDfAgMBAAGjMTAvMA4GA1UdDwEB/wQEAwIHgDAdBgNVHQ4EFgQUEE5F
/OKP1fSP6xx1xUNmympxk6kwDQYJKoZIhvcNAQELBQADggEBAD02No092RCShegR
O2ohBP3onO5lKyIneSXGJf50S0TpKurDhcHMNdeINPQcfHP0tEP2V4ZC0qnQiP1T
2pOba336IhzsPQXqIdUlamDh9dCPGAtoH03gyPAGOXbvChkXMaQ8z2/rrmzcx/Sd
4o0Rf+gW53gifZgj8/ZMXXPIrJ8dxryH97CZrg7tw9LYERoE9lb431I4RVH3GnQm
h5JZfJ/N2jClk2WzxHpycy8Zw0F1pW1DBj0SHjyyD2s8gXoai6MfpNaleaItfnV/
CaaOaCRc5I39z7RcniYDBWUja/Wcc5oiZsKte+n2x9l78E5xpNHBkfccn+OCucbI
WqmTIBI=
-----END CERTIFICATE-----
";

/// Parse each built-in certificate as a credential and verify it against
/// itself; one scalar multiplication on P-256 (a proof of possession of an
/// EC key). Nothing is kept; failures are ignored (the real credential
/// meets them again).
pub fn warm_up() {
    for pem in [EC_CERT, RSA_CERT] {
        let _ = verify_against_itself(pem);
    }
    let _ = scalar_multiplication();
}

fn verify_against_itself(pem: &str) -> Result<bool, Box<dyn std::error::Error>> {
    let cred = Credential::from_pem(pem)?;
    let cert = cred.leaf().cert.clone();
    let mut store = X509StoreBuilder::new()?;
    store.add_cert(cert.clone())?;
    let store = store.build();
    let chain = openssl::stack::Stack::new()?;
    let mut ctx = X509StoreContext::new()?;
    Ok(ctx.init(&store, &cert, &chain, |c| c.verify_cert())?)
}

fn scalar_multiplication() -> Result<(), openssl::error::ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let mut ctx = BigNumContext::new()?;
    let mut q = EcPoint::new(&group)?;
    let d = BigNum::from_u32(7)?;
    q.mul_generator2(&group, &d, &mut ctx)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_certificates_verify() {
        for pem in [EC_CERT, RSA_CERT] {
            assert!(verify_against_itself(pem).unwrap(), "{pem}");
        }
        assert!(scalar_multiplication().is_ok());
        warm_up();
    }
}
