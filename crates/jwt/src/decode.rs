//! Verifying and decoding a compact JWS/JWT.

use serde::de::DeserializeOwned;

use crate::base64url::Decoded;
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
    let first = token.iter().position(|&b| b == b'.').ok_or_else(bad)?;
    let rest = &token[first + 1..];
    let second = first + 1 + rest.iter().position(|&b| b == b'.').ok_or_else(bad)?;
    let signature = &token[second + 1..];
    if signature.contains(&b'.') || first == 0 || second == first + 1 {
        return Err(bad());
    }
    Ok(Segments {
        header: &token[..first],
        payload: &token[first + 1..second],
        signature,
        signing_input: &token[..second],
    })
}

/// Verifies `token` with one of `keys` and validates its claims at time `now` (Unix seconds).
///
/// Order: size and format → header → key selection → signature → strict payload parse →
/// registered claims (`exp`, `nbf`, `iat`, `aud`, `iss`, `sub`) → required claims in the order
/// given → expected claim values → deserialization into `C`. The signature is verified before
/// the payload is parsed, and the payload is scanned once (duplicates, depth, registered claims)
/// before `serde_json` builds `C`.
pub fn decode<C: DeserializeOwned>(
    token: &str,
    keys: &KeySet,
    validation: &Validation,
    now: u64,
) -> Result<TokenData<C>, Error> {
    let token = token.as_bytes();
    // RFC 8725 §3.11-style bound first, so no later step grows with an oversized input.
    if token.len() > validation.max_token_size {
        return Err(Error::new(ErrorKind::TooLarge, ""));
    }
    let seg = split(token)?;

    let header_json = Decoded::<512>::new(seg.header)?;
    let header = header::parse(header_json.as_slice(), validation.max_depth)?;
    if seg.signature.is_empty() {
        return Err(Error::malformed("empty signature"));
    }

    {
        let kid = header.kid.as_deref().map(str::as_bytes);
        let mut candidates = keys.candidates(header.alg, kid).peekable();
        if candidates.peek().is_none() {
            return Err(Error::new(ErrorKind::NoMatchingKey, ""));
        }
        // 512 bytes holds an RSA-4096 signature; larger ones go to the heap.
        let signature = Decoded::<512>::new(seg.signature)?;
        if !candidates.any(|key| key.verify(seg.signing_input, signature.as_slice())) {
            return Err(Error::new(ErrorKind::InvalidSignature, ""));
        }
    }

    let payload = Decoded::<1024>::new(seg.payload)?;
    let payload = payload.as_slice();
    let members = json::parse_object(payload, validation.max_depth)?;
    validation.check(&members, now)?;
    let claims = serde_json::from_slice(payload)
        .map_err(|_| Error::malformed("claims do not fit the expected type"))?;
    Ok(TokenData { header, claims })
}
