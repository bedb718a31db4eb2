//! Compact JWS serialization (RFC 7515 §7.1) of a JWT.

use serde::Serialize;

use crate::base64url;
use crate::error::Error;
use crate::key::Key;

/// Signs `claims` with `key` and returns the compact token.
///
/// The header is `{"alg":…,"kid":…,"typ":"JWT"}` (members sorted like PyJWT; `kid` only when
/// the key has one). The payload is `serde_json`'s compact serialization of `claims` in field
/// (or, for maps, insertion) order, so an HS256 token is byte-identical to PyJWT's for the same
/// ASCII payload. `claims` must serialize to a JSON object.
pub fn encode<C: Serialize + ?Sized>(key: &Key, claims: &C) -> Result<String, Error> {
    if !key.can_sign() {
        return Err(Error::invalid_key("a public key cannot sign"));
    }
    let payload =
        serde_json::to_vec(claims).map_err(|_| Error::malformed("claims cannot be serialized"))?;
    if payload.first() != Some(&b'{') {
        return Err(Error::malformed("claims must serialize to a JSON object"));
    }
    // The header segment is computed once per key (`header::write`, then base64url).
    let header = key.header_segment();
    // 4/3 expansion of the payload, plus dots; a little slack for the signature.
    let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 700);
    token.push_str(header);
    token.push('.');
    base64url::encode_into(&payload, &mut token);
    let signature = key.signature(token.as_bytes())?;
    token.push('.');
    base64url::encode_into(signature.as_slice(), &mut token);
    Ok(token)
}
