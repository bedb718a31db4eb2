//! Tessera's JOSE core: strict, fast JSON Web Tokens (RFC 7519) in the JWS compact
//! serialization (RFC 7515).
//!
//! - Algorithms: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA (Ed25519),
//!   with primitives from aws-lc-rs (HMAC from RustCrypto, measured faster).
//! - A [`Key`] is parsed once and bound to exactly one [`Algorithm`]. A token's `alg` header
//!   only selects among the keys of a [`KeySet`]; `none`, RS/ES→HS confusion and the
//!   all-zero ECDSA signature (CVE-2022-21449) cannot verify by construction (RFC 8725).
//! - Strict parsing: canonical base64url, JSON objects without duplicate members, bounded size
//!   and depth, unknown `crit` and `b64: false` rejected, `jwk`/`jku`/`x5u`/`x5c` never used.
//! - Claims: `exp` required by default, `nbf`, `iat`, leeway, `iss`, `aud`, `sub`, required
//!   claims and expected values via [`Validation`]; time is a parameter.
//!
//! # Example
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tessera_jwt::{decode, encode, Algorithm, Key, KeySet, Validation};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Claims {
//!     sub: String,
//!     exp: u64,
//! }
//!
//! # fn main() -> Result<(), tessera_jwt::Error> {
//! let key = Key::hmac(Algorithm::HS256, b"a secret of at least thirty-two bytes!")?;
//! let now = 1_700_000_000;
//! let token = encode(&key, &Claims { sub: "alice".into(), exp: now + 300 })?;
//!
//! let keys = KeySet::from(key);
//! let data = decode::<Claims>(&token, &keys, &Validation::new().subject("alice"), now)?;
//! assert_eq!(data.claims.sub, "alice");
//! assert_eq!(data.header.alg, Algorithm::HS256);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod algorithm;
mod base64url;
mod claims;
pub mod danger;
mod de;
mod decode;
mod encode;
mod error;
mod header;
mod json;
mod jwk;
mod key;
mod keyset;
mod validation;

pub use crate::algorithm::Algorithm;
pub use crate::decode::{TokenData, decode, decode_seed};
pub use crate::encode::encode;
pub use crate::error::{Error, ErrorKind};
pub use crate::header::Header;
pub use crate::jwk::{Jwk, JwkSet};
pub use crate::key::Key;
pub use crate::keyset::KeySet;
pub use crate::validation::{DEFAULT_MAX_TOKEN_SIZE, Validation};
