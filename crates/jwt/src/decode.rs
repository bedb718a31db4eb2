//! Verifying and decoding a compact JWS/JWT.

use std::marker::PhantomData;

use serde::de::{DeserializeOwned, DeserializeSeed};

use crate::base64url::decode_segment;
use crate::de;
use crate::error::{Error, ErrorKind};
use crate::header::{self, Header};
use crate::json;
use crate::keyset::KeySet;
use crate::validation::Validation;

/// A verified token: its header and its claims.
#[derive(Clone, Debug)]
pub struct TokenData<C> {
    /// The header members Tessera understands.
    pub header: Header,
    /// The claims, deserialized into the caller's type.
    pub claims: C,
}

/// The three segments of a compact serialization, still encoded.
pub(crate) struct Segments<'a> {
    pub(crate) header: &'a [u8],
    pub(crate) payload: &'a [u8],
    pub(crate) signature: &'a [u8],
    /// `header.payload`, the JWS Signing Input (RFC 7515 §5.1).
    pub(crate) signing_input: &'a [u8],
}

/// Splits into exactly three segments (RFC 7515 §7.1); header and payload must be non-empty.
pub(crate) fn split(token: &[u8]) -> Result<Segments<'_>, Error> {
    let bad = || Error::malformed("a token is three base64url segments separated by dots");
    // The header and signature are short; searching from both ends avoids scanning the
    // payload. A dot inside the payload is not base64url, so decoding it fails later.
    let first = first_dot(token).ok_or_else(bad)?;
    let second = last_dot(token).ok_or_else(bad)?;
    if second == first || first == 0 || second == first + 1 {
        return Err(bad());
    }
    let signature = &token[second + 1..];
    Ok(Segments {
        header: &token[..first],
        payload: &token[first + 1..second],
        signature,
        signing_input: &token[..second],
    })
}

const HI: u64 = u64::from_ne_bytes([0x80; 8]);
const DOTS: u64 = u64::from_ne_bytes([b'.'; 8]);

/// The high bit of each byte of a little-endian word that is `.`, exactly (no carries
/// between bytes), so both the lowest and the highest set bit are meaningful.
fn dot_bits(chunk: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    let w = u64::from_le_bytes(word) ^ DOTS;
    !(((w & !HI) + !HI) | w | !HI)
}

/// The index of the first `.`, eight bytes at a time.
fn first_dot(s: &[u8]) -> Option<usize> {
    let mut chunks = s.chunks_exact(8);
    for (i, chunk) in (&mut chunks).enumerate() {
        let bits = dot_bits(chunk);
        if bits != 0 {
            return Some(i * 8 + (bits.trailing_zeros() / 8) as usize);
        }
    }
    let done = s.len() - chunks.remainder().len();
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'.')
        .map(|i| done + i)
}

/// The index of the last `.`, eight bytes at a time from the end.
fn last_dot(s: &[u8]) -> Option<usize> {
    let mut chunks = s.rchunks_exact(8);
    for (i, chunk) in (&mut chunks).enumerate() {
        let bits = dot_bits(chunk);
        if bits != 0 {
            let start = s.len() - (i + 1) * 8;
            return Some(start + 7 - (bits.leading_zeros() / 8) as usize);
        }
    }
    chunks.remainder().iter().rposition(|&b| b == b'.')
}

/// Verifies `token` with one of `keys` and validates its claims at time `now` (Unix seconds).
///
/// Order: size and format → header → key selection → signature → strict payload parse →
/// registered claims (`exp`, `nbf`, `iat`, `aud`, `iss`, `sub`) → required claims in the order
/// given → expected claim values → deserialization into `C`. The signature is verified before
/// the payload is parsed, and the payload is scanned once (duplicates, depth, registered claims);
/// `C` is then built from the members that scan found, not by parsing the payload again.
pub fn decode<C: DeserializeOwned>(
    token: &str,
    keys: &KeySet,
    validation: &Validation,
    now: u64,
) -> Result<TokenData<C>, Error> {
    decode_seed(token, keys, validation, now, PhantomData::<C>)
}

/// As [`decode`], with the claims built by a [`DeserializeSeed`]: for a claims type that needs
/// state to deserialize, such as claim names chosen at run time. Everything is checked exactly
/// as by [`decode`] before the seed sees the claims.
pub fn decode_seed<S, T>(
    token: &str,
    keys: &KeySet,
    validation: &Validation,
    now: u64,
    seed: S,
) -> Result<TokenData<T>, Error>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    let token = token.as_bytes();
    // RFC 8725 §3.11-style bound first, so no later step grows with an oversized input.
    if token.len() > validation.max_token_size {
        return Err(Error::new(ErrorKind::TooLarge, ""));
    }
    let seg = split(token)?;

    let header = match keys.by_header_segment(seg.header) {
        // Fast path: the header segment is byte-for-byte what `encode` writes for a configured
        // key, `{"alg":…[,"kid":…],"typ":"JWT"}`; parsing it would give exactly this.
        Some(key) => Header {
            alg: key.algorithm(),
            typ: Some(std::borrow::Cow::Borrowed("JWT")),
            kid: key.kid().map(str::to_owned),
            cty: None,
        },
        None => {
            // Stack buffer sized for typical headers; larger ones fall back to the heap.
            let (mut header_buf, mut header_heap) = ([0u8; 256], Vec::new());
            let header_json = decode_segment(seg.header, &mut header_buf, &mut header_heap)?;
            header::parse(header_json, validation.max_depth)?
        }
    };
    if seg.signature.is_empty() {
        return Err(Error::malformed("empty signature"));
    }

    // Decoding (not parsing) the payload first also rejects a dot inside it, i.e. more than
    // three segments, as malformed rather than as a bad signature.
    // Stack buffers are zeroed on every call, so they are sized for what session tokens need;
    // a larger payload takes one allocation instead.
    let (mut payload_buf, mut payload_heap) = ([0u8; 512], Vec::new());
    let payload = decode_segment(seg.payload, &mut payload_buf, &mut payload_heap)?;
    {
        let kid = header.kid.as_deref().map(str::as_bytes);
        let mut candidates = keys.candidates(header.alg, kid).peekable();
        if candidates.peek().is_none() {
            return Err(Error::new(ErrorKind::NoMatchingKey, ""));
        }
        let mut verify = |buf: &mut [u8]| -> Result<bool, Error> {
            let mut heap = Vec::new();
            let signature = decode_segment(seg.signature, buf, &mut heap)?;
            Ok(candidates.any(|key| key.verify(seg.signing_input, signature)))
        };
        // 64 bytes hold HS*, ES256 and EdDSA signatures (86 characters); 512 an RSA-4096 one.
        let verified = if seg.signature.len() <= 86 {
            verify(&mut [0u8; 64])?
        } else {
            verify(&mut [0u8; 512])?
        };
        if !verified {
            return Err(Error::new(ErrorKind::InvalidSignature, ""));
        }
    }

    let members = json::parse_object(payload, validation.max_depth)?;
    validation.check(&members, now)?;
    let claims = de::from_object_seed(payload, &members, seed)?;
    Ok(TokenData { header, claims })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, Key};

    /// The header fast path must give what parsing the same header gives, with and without
    /// `kid`, including a `kid` that JSON has to escape.
    #[test]
    fn header_fast_path_equals_parsing() {
        let secret = [7u8; 64];
        for kid in [None, Some("k1"), Some("a \"quoted\" \\ kid\u{e9}")] {
            let mut key = Key::hmac(Algorithm::HS384, &secret).unwrap();
            if let Some(kid) = kid {
                key = key.with_kid(kid);
            }
            let keys = KeySet::from(key.clone());
            let token = crate::encode(&key, &serde_json::json!({"exp": 2_000_000_000u64})).unwrap();
            let seg = split(token.as_bytes()).unwrap();
            assert!(keys.by_header_segment(seg.header).is_some());
            let json = crate::base64url::decode(seg.header).unwrap();
            let parsed = header::parse(&json, 32).unwrap();
            let data: TokenData<serde_json::Value> =
                decode(&token, &keys, &Validation::new(), 1_000).unwrap();
            assert_eq!(data.header, parsed);
            assert_eq!(data.header.kid.as_deref(), kid);
        }
    }

    /// A header that differs from the key's own (here: members reordered) takes the strict
    /// path and still verifies.
    #[test]
    fn other_header_spellings_take_the_strict_path() {
        let key = Key::hmac(Algorithm::HS256, &[9u8; 32]).unwrap();
        let keys = KeySet::from(key.clone());
        let header = crate::base64url::encode(br#"{"typ":"JWT","alg":"HS256"}"#);
        assert!(keys.by_header_segment(header.as_bytes()).is_none());
        let payload = crate::base64url::encode(br#"{"exp":2000000000}"#);
        let input = format!("{header}.{payload}");
        let sig = crate::base64url::encode(&key.sign(input.as_bytes()).unwrap());
        let token = format!("{input}.{sig}");
        let data: TokenData<serde_json::Value> =
            decode(&token, &keys, &Validation::new(), 1_000).unwrap();
        assert_eq!(data.header.alg, Algorithm::HS256);
        assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    }

    /// The word-at-a-time dot search agrees with a byte-at-a-time one.
    #[test]
    fn dots_are_found_like_bytewise() {
        for len in 0..40 {
            for a in 0..=len {
                for b in a..=len {
                    let mut s = vec![b'x'; len];
                    for i in [a, b] {
                        if i < len {
                            s[i] = b'.';
                        }
                    }
                    s.iter_mut().step_by(3).for_each(|c| {
                        if *c != b'.' {
                            *c = 0xae; // '.' | 0x80: must not match
                        }
                    });
                    let first = s.iter().position(|&c| c == b'.');
                    let last = s.iter().rposition(|&c| c == b'.');
                    assert_eq!(first_dot(&s), first, "{s:?}");
                    assert_eq!(last_dot(&s), last, "{s:?}");
                }
            }
        }
    }
}
