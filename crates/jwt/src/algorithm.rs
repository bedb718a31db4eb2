//! The JWS algorithms Tessera supports (RFC 7518 §3, RFC 8037 §3.1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind};

/// A JWS signature algorithm.
///
/// A [`Key`](crate::Key) is bound to exactly one `Algorithm`; the `alg` header of a token only
/// ever selects among configured keys (RFC 8725 §3.1). `none` is deliberately not representable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// HMAC with SHA-256 (RFC 7518 §3.2).
    HS256,
    /// HMAC with SHA-384 (RFC 7518 §3.2).
    HS384,
    /// HMAC with SHA-512 (RFC 7518 §3.2).
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (RFC 7518 §3.3).
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (RFC 7518 §3.3).
    RS512,
    /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256 (RFC 7518 §3.5).
    PS256,
    /// RSASSA-PSS with SHA-384 and MGF1 with SHA-384 (RFC 7518 §3.5).
    PS384,
    /// RSASSA-PSS with SHA-512 and MGF1 with SHA-512 (RFC 7518 §3.5).
    PS512,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
    ES256,
    /// ECDSA on P-384 with SHA-384 (RFC 7518 §3.4).
    ES384,
    /// ECDSA on P-521 with SHA-512 (RFC 7518 §3.4).
    ES512,
    /// EdDSA with Ed25519 (RFC 8037 §3.1).
    EdDSA,
}

/// The broad kind of key an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Hmac,
    Rsa,
    Ecdsa,
    EdDsa,
}

impl Algorithm {
    /// Every supported algorithm, in a stable order.
    pub const ALL: [Algorithm; 13] = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::EdDSA,
    ];

    /// The JOSE name of the algorithm (`"HS256"`, `"EdDSA"`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// Whether this is one of the HMAC algorithms (a shared secret, not a key pair).
    pub fn is_hmac(&self) -> bool {
        self.family() == Family::Hmac
    }

    pub(crate) fn family(&self) -> Family {
        match self {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Family::Hmac,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => Family::Rsa,
            Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512 => Family::Ecdsa,
            Algorithm::EdDSA => Family::EdDsa,
        }
    }

    /// Parses the exact JOSE name from raw header bytes without allocating.
    pub(crate) fn from_bytes(name: &[u8]) -> Option<Algorithm> {
        Algorithm::ALL
            .iter()
            .copied()
            .find(|alg| alg.as_str().as_bytes() == name)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Case-sensitive, as JOSE names are (RFC 7515 §4.1.1); `none` in any casing is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::from_bytes(s.as_bytes()).ok_or_else(|| {
            Error::new(
                ErrorKind::UnsupportedAlgorithm,
                "unknown or unsupported algorithm name",
            )
        })
    }
}

impl Serialize for Algorithm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Algorithm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom("unsupported JWS algorithm"))
    }
}
