//! Why a token was rejected: one line each.

/// A token was rejected (or could not be read). The `Display` text is one
/// line meant for logs and for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Larger than the configured bound.
    #[error("token is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// Not `header.payload.signature` in base64url, or not JSON inside.
    #[error("token is malformed: {0}")]
    Malformed(String),
    /// `alg` is not one this verifier accepts at all (`none`, HS*, ...).
    #[error("token algorithm {0} is not allowed (only RS256 and ES256)")]
    AlgorithmNotAllowed(String),
    /// No `kid` in the header.
    #[error("token has no key id (kid) in its header")]
    NoKeyId,
    /// No `iss` claim.
    #[error("token has no issuer (iss) claim")]
    NoIssuer,
    /// Issuer not in the configuration.
    #[error("issuer {0} is not configured")]
    UnknownIssuer(String),
    /// No key with that id for that issuer.
    #[error("key id {kid} not found for issuer {issuer}")]
    UnknownKey {
        /// Key id.
        kid: String,
        /// Issuer.
        issuer: String,
    },
    /// The key is for another algorithm than the header says.
    #[error("key id {kid} of issuer {issuer} is for {key_alg}, token says {alg}")]
    KeyAlgorithmMismatch {
        /// Key id.
        kid: String,
        /// Issuer.
        issuer: String,
        /// The key's algorithm.
        key_alg: String,
        /// The header's.
        alg: String,
    },
    /// The signature does not verify.
    #[error("token signature does not verify with key id {kid} of issuer {issuer}")]
    BadSignature {
        /// Key id.
        kid: String,
        /// Issuer.
        issuer: String,
    },
    /// A required claim is absent or has the wrong type.
    #[error("token claim {0}")]
    BadClaim(String),
    /// `exp` (plus skew) is in the past.
    #[error("token expired at {0}")]
    Expired(String),
    /// `nbf` (minus skew) is in the future.
    #[error("token not valid before {0}")]
    NotYetValid(String),
    /// `iat` (minus skew) is in the future.
    #[error("token issued in the future, at {0}")]
    IssuedInFuture(String),
    /// No accepted audience in `aud`.
    #[error("token audience {got} does not include any of {want} required for issuer {issuer}")]
    WrongAudience {
        /// The token's audiences.
        got: String,
        /// The required ones.
        want: String,
        /// Issuer.
        issuer: String,
    },
    /// A required scope is missing (authorize-and-map issuers).
    #[error("token lacks scope {scope} required for issuer {issuer}")]
    MissingScope {
        /// The scope.
        scope: String,
        /// Issuer.
        issuer: String,
    },
    /// The token breaks the rules of its profile, or is not of the
    /// issuer's profile.
    #[error("token profile: {0}")]
    Profile(String),
    /// Reading a token file failed.
    #[error("cannot read token from {path}: {reason}")]
    Read {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
}
