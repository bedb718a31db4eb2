//! A set of configured keys, selected by algorithm and `kid`.

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::jwk::{Jwk, JwkSet};
use crate::key::Key;

/// The keys a verifier trusts.
///
/// Selection (RFC 8725 §3.1): a token's `alg` only *selects among* these keys — candidates
/// are keys whose algorithm equals the header `alg`; when the header has a `kid`, a candidate
/// with a `kid` must have the same one (a key without `kid` matches any). The `jwk`, `jku`,
/// `x5u` and `x5c` headers are never used.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> KeySet {
        KeySet::default()
    }

    /// Adds a key.
    pub fn push(&mut self, key: Key) {
        self.keys.push(key);
    }

    /// Adds a key, builder style.
    pub fn with(mut self, key: Key) -> KeySet {
        self.keys.push(key);
        self
    }

    /// Reads an RFC 7517 JWK Set. Members Tessera cannot use are skipped: unknown `kty` or
    /// `alg`, `use` other than `sig`, and RSA/`oct` keys without `alg` (a key must be bound to
    /// one algorithm). A usable-looking key whose material is invalid is an error.
    pub fn from_jwks(json: &str) -> Result<KeySet, Error> {
        let set = JwkSet::from_json(json)?;
        let mut keys = KeySet::new();
        for jwk in &set.keys {
            if let Some(alg) = usable_algorithm(jwk) {
                keys.push(Key::from_jwk_with_alg(jwk, alg)?);
            }
        }
        Ok(keys)
    }

    /// The public JWKs of the asymmetric keys (HMAC keys are omitted).
    pub fn to_public_jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().filter_map(Key::to_public_jwk).collect(),
        }
    }

    /// The keys, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The first key whose own encoded header segment (what [`encode`](crate::encode) writes
    /// with it) is byte-equal to `segment`. Such a header decodes to exactly that key's `alg`
    /// and `kid` with `typ` `"JWT"` and nothing else, so parsing it can be skipped.
    pub(crate) fn by_header_segment(&self, segment: &[u8]) -> Option<&Key> {
        self.keys
            .iter()
            .find(|k| k.header_segment().as_bytes() == segment)
    }

    /// Candidate keys for a token header, in insertion order.
    pub(crate) fn candidates<'a>(
        &'a self,
        alg: Algorithm,
        kid: Option<&'a [u8]>,
    ) -> impl Iterator<Item = &'a Key> + 'a {
        self.keys.iter().filter(move |k| {
            k.algorithm() == alg
                && match (kid, k.kid()) {
                    (Some(want), Some(have)) => want == have.as_bytes(),
                    _ => true,
                }
        })
    }
}

impl From<Key> for KeySet {
    fn from(key: Key) -> KeySet {
        KeySet { keys: vec![key] }
    }
}

fn usable_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if jwk.key_use().is_some_and(|u| u != "sig") {
        return None;
    }
    // Curves Tessera has no algorithm for (X25519, Ed448, secp256k1, ...) are skipped too.
    let implied = match (jwk.kty(), jwk.crv()) {
        ("OKP", Some("Ed25519")) => Some(Algorithm::EdDSA),
        ("EC", Some("P-256")) => Some(Algorithm::ES256),
        ("EC", Some("P-384")) => Some(Algorithm::ES384),
        ("EC", Some("P-521")) => Some(Algorithm::ES512),
        ("RSA" | "oct", _) => None,
        _ => return None,
    };
    match (jwk.alg(), implied) {
        (Some(name), _) => name.parse().ok(),
        (None, implied) => implied,
    }
}
