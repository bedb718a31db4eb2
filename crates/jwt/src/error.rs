//! The crate's one error type.

use std::fmt;

/// What went wrong, coarse enough to act on and to compare in tests.
///
/// The server maps these to simplejwt's messages, so new variants may be added but existing
/// ones keep their meaning.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The token is longer than [`Validation::max_token_size`](crate::Validation::max_token_size).
    TooLarge,
    /// Not three canonical base64url segments, invalid or duplicate-member JSON, too deeply
    /// nested, a header that is not acceptable (`crit`, `b64: false`, not an object, ...).
    Malformed,
    /// The header `alg` is unknown, `none` (in any casing), or not supported.
    UnsupportedAlgorithm,
    /// No configured key matches the token's `alg` (and `kid`, when both have one).
    NoMatchingKey,
    /// The signature does not verify with any matching key.
    InvalidSignature,
    /// `exp` is at or before `now - leeway` (RFC 7519 §4.1.4).
    Expired,
    /// `nbf` is after `now + leeway` (RFC 7519 §4.1.5).
    NotYetValid,
    /// `iat` is after `now + leeway`.
    IssuedInFuture,
    /// A registered claim has the wrong type or is out of range; the string names the claim.
    InvalidClaim(String),
    /// A required claim is absent; the string names the claim.
    MissingClaim(String),
    /// `iss`, `aud`, `sub` or an expected claim has another value; the string names the claim.
    ClaimMismatch(String),
    /// A key could not be parsed or used: too short, wrong curve, RSA under 2048 bits, a public
    /// key asked to sign, ...
    InvalidKey,
}

/// The error type of every fallible operation in this crate.
///
/// Two errors compare equal when their [`ErrorKind`]s are equal; the detail text is
/// informational. Messages never contain key material or token contents.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    detail: &'static str,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, detail: &'static str) -> Error {
        Error { kind, detail }
    }

    pub(crate) fn malformed(detail: &'static str) -> Error {
        Error::new(ErrorKind::Malformed, detail)
    }

    pub(crate) fn invalid_key(detail: &'static str) -> Error {
        Error::new(ErrorKind::InvalidKey, detail)
    }

    /// What kind of error this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error { kind, detail: "" }
    }
}

impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.kind == other.kind
    }
}

impl Eq for Error {}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("detail", &self.detail)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::TooLarge => f.write_str("token is too large")?,
            ErrorKind::Malformed => f.write_str("malformed token")?,
            ErrorKind::UnsupportedAlgorithm => f.write_str("unsupported algorithm")?,
            ErrorKind::NoMatchingKey => f.write_str("no matching key")?,
            ErrorKind::InvalidSignature => f.write_str("invalid signature")?,
            ErrorKind::Expired => f.write_str("token is expired")?,
            ErrorKind::NotYetValid => f.write_str("token is not yet valid")?,
            ErrorKind::IssuedInFuture => f.write_str("token is issued in the future")?,
            ErrorKind::InvalidClaim(name) => write!(f, "invalid '{name}' claim")?,
            ErrorKind::MissingClaim(name) => write!(f, "missing '{name}' claim")?,
            ErrorKind::ClaimMismatch(name) => write!(f, "'{name}' claim does not match")?,
            ErrorKind::InvalidKey => f.write_str("invalid key")?,
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
