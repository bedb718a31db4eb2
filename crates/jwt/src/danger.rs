//! Decoding **without verification**.
//!
//! # Warning
//!
//! Nothing returned from here is authenticated: anyone can write any header and claims. Use it
//! to display or debug a token (as `tessera token decode` does), never to make an access
//! decision or to pick a key. For that use [`decode`](crate::decode).

use serde_json::{Map, Value};

use crate::base64url;
use crate::de;
use crate::decode::split;
use crate::error::{Error, ErrorKind};
use crate::json;

/// Largest token `decode_unverified` looks at (64 KiB): inspection may see tokens larger than
/// the verifier's default limit, but the work stays bounded.
pub const MAX_UNVERIFIED_TOKEN_SIZE: usize = 64 * 1024;

/// The unauthenticated contents of a token.
#[derive(Clone, Debug, PartialEq)]
pub struct UnverifiedToken {
    /// The header object, as written (including `alg: none`, `jwk`, ... — nothing is trusted).
    pub header: Map<String, Value>,
    /// The payload object, as written.
    pub claims: Map<String, Value>,
    /// The decoded signature bytes (possibly empty).
    pub signature: Vec<u8>,
}

/// Decodes a token **without verifying anything**. For inspection only.
///
/// The parsing is as strict as [`decode`](crate::decode)'s (three canonical base64url segments,
/// JSON objects, no duplicate members, bounded depth), but the signature is not checked, no
/// claim is validated and the header is not interpreted.
pub fn decode_unverified(token: &str) -> Result<UnverifiedToken, Error> {
    let token = token.as_bytes();
    if token.len() > MAX_UNVERIFIED_TOKEN_SIZE {
        return Err(Error::new(ErrorKind::TooLarge, ""));
    }
    let seg = split(token)?;
    let header = object(&base64url::decode(seg.header)?)?;
    let claims = object(&base64url::decode(seg.payload)?)?;
    let signature = base64url::decode(seg.signature)?;
    Ok(UnverifiedToken {
        header,
        claims,
        signature,
    })
}

fn object(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    let members = json::parse_object(bytes, json::DEFAULT_MAX_DEPTH)?;
    de::from_object(bytes, &members)
}
