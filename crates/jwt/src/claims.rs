//! Reading registered claims (RFC 7519 §4.1) from the raw payload members.

use crate::error::{Error, ErrorKind};
use crate::json;

/// The largest NumericDate accepted: 9999-12-31T23:59:59Z. Anything later is not a date a
/// real issuer writes, and keeping the range small keeps arithmetic on it exact.
pub(crate) const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

fn invalid(name: &str) -> Error {
    Error::new(ErrorKind::InvalidClaim(name.to_owned()), "")
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds since the epoch, integer or finite
/// fraction, in `0..=MAX_NUMERIC_DATE`. Strings, booleans, negative and absurd values are
/// rejected rather than coerced (simplejwt answers 500 on a string `exp`).
pub(crate) fn numeric_date(name: &str, raw: &[u8]) -> Result<f64, Error> {
    match raw.first() {
        Some(b'0'..=b'9') => {}
        _ => return Err(invalid(name)),
    }
    // Integers are the common case; JSON has no leading zeros, so more than 19 digits would be
    // far beyond the maximum, and the float path below rejects those.
    let value = if let Some(n) = crate::de::small_uint(raw) {
        n as f64
    } else {
        // The scanner has validated the number grammar, so this is plain ASCII.
        let text = std::str::from_utf8(raw).map_err(|_| invalid(name))?;
        text.parse::<f64>().map_err(|_| invalid(name))?
    };
    if value.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(name))
    }
}

/// A StringOrURI claim such as `iss` or `sub`: must be a JSON string when present.
pub(crate) fn string<'a>(name: &str, raw: &'a [u8]) -> Result<std::borrow::Cow<'a, str>, Error> {
    json::as_str(raw).ok_or_else(|| invalid(name))
}

/// `aud` (RFC 7519 §4.1.3): a string or an array of strings. Returns whether any audience is
/// in `accepted`; checks the type even when `accepted` is empty.
pub(crate) fn audience_matches(raw: &[u8], accepted: &[String]) -> Result<bool, Error> {
    if json::is_string(raw) {
        let aud = string("aud", raw)?;
        return Ok(accepted.iter().any(|a| *a == aud));
    }
    if raw.first() != Some(&b'[') {
        return Err(invalid("aud"));
    }
    let list: Vec<serde_json::Value> = serde_json::from_slice(raw).map_err(|_| invalid("aud"))?;
    let mut matched = false;
    for item in &list {
        match item {
            serde_json::Value::String(s) => matched |= accepted.iter().any(|a| a == s),
            _ => return Err(invalid("aud")),
        }
    }
    Ok(matched)
}
