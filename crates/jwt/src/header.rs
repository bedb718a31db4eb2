//! The JOSE header (RFC 7515 §4) as Tessera reads and writes it.

use std::borrow::Cow;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::json;

/// The header members of a verified token that Tessera understands.
///
/// `jwk`, `jku`, `x5u` and `x5c` are never read: keys come only from the configured
/// [`KeySet`](crate::KeySet) (RFC 8725 §3.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The signature algorithm; always equal to the verifying key's algorithm.
    pub alg: Algorithm,
    /// The `typ` member, e.g. `"JWT"`; borrowed when the header is byte-for-byte one Tessera
    /// writes, so verifying such a token allocates nothing for it.
    pub typ: Option<Cow<'static, str>>,
    /// The key id used to select the verifying key.
    pub kid: Option<String>,
    /// The `cty` member.
    pub cty: Option<String>,
}

/// Parses a decoded header strictly.
pub(crate) fn parse(bytes: &[u8], max_depth: usize) -> Result<Header, Error> {
    let obj = json::parse_object(bytes, max_depth)?;
    // `crit` lists extensions the recipient must understand (RFC 7515 §4.1.11); Tessera
    // implements none, so any `crit` makes the token unacceptable.
    if obj.get("crit").is_some() {
        return Err(Error::malformed("unsupported critical header extension"));
    }
    // `b64: false` (RFC 7797) changes what is signed; only the default is accepted.
    if obj.get("b64").is_some_and(|b64| b64 != b"true") {
        return Err(Error::malformed("unencoded payload (b64) is not supported"));
    }
    let alg = obj
        .get("alg")
        .ok_or_else(|| Error::malformed("header has no alg"))?;
    let alg = json::as_str(alg).ok_or_else(|| Error::malformed("header alg is not a string"))?;
    let alg = Algorithm::from_bytes(alg.as_bytes()).ok_or_else(|| {
        Error::new(
            ErrorKind::UnsupportedAlgorithm,
            "unknown or unsupported algorithm",
        )
    })?;
    Ok(Header {
        alg,
        typ: optional_string(&obj, "typ")?.map(Cow::Owned),
        kid: optional_string(&obj, "kid")?,
        cty: optional_string(&obj, "cty")?,
    })
}

fn optional_string(obj: &json::Object<'_>, name: &str) -> Result<Option<String>, Error> {
    match obj.get(name) {
        None => Ok(None),
        Some(v) => json::as_str(v)
            .map(|s| Some(s.into_owned()))
            .ok_or_else(|| Error::malformed("header member is not a string")),
    }
}

/// Serializes the header Tessera writes: members sorted by name like PyJWT
/// (`{"alg":…,"kid":…,"typ":"JWT"}`), so HS256 tokens are byte-identical to PyJWT's.
pub(crate) fn write(alg: Algorithm, kid: Option<&str>) -> String {
    let mut out = String::with_capacity(48);
    out.push_str("{\"alg\":\"");
    out.push_str(alg.as_str());
    out.push('"');
    if let Some(kid) = kid {
        out.push_str(",\"kid\":");
        // serde_json escapes exactly as PyJWT's json.dumps does for ASCII kids.
        out.push_str(&serde_json::to_string(kid).unwrap_or_default());
    }
    out.push_str(",\"typ\":\"JWT\"}");
    out
}
