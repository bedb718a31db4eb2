//! Canonical base64url without padding (RFC 7515 §2, RFC 4648 §5).
//!
//! The decoder rejects padding, the standard alphabet's `+` and `/`, and non-zero trailing bits,
//! so every token has exactly one encoding (RFC 8725 §3.12 on canonical forms).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

/// Encodes without padding.
pub(crate) fn encode(input: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(input)
}

/// Appends the encoding of `input` to `out`.
pub(crate) fn encode_into(input: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(input, out);
}

/// Decodes into a fresh vector.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(input)
        .map_err(|_| Error::malformed("invalid base64url"))
}

/// Decodes into `buf` (which must be large enough) and returns the written prefix.
pub(crate) fn decode_into<'b>(input: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], Error> {
    let n = URL_SAFE_NO_PAD
        .decode_slice(input, buf)
        .map_err(|_| Error::malformed("invalid base64url"))?;
    Ok(&buf[..n])
}

/// Decodes `input` into `stack` when it fits (no allocation per token for typical headers,
/// signatures and payloads), else into `heap`; returns the decoded bytes.
pub(crate) fn decode_segment<'b>(
    input: &[u8],
    stack: &'b mut [u8],
    heap: &'b mut Vec<u8>,
) -> Result<&'b [u8], Error> {
    // The decoder wants room for its rounded-up estimate, not the exact length.
    if input.len().div_ceil(4) * 3 <= stack.len() {
        decode_into(input, stack)
    } else {
        *heap = decode(input)?;
        Ok(heap.as_slice())
    }
}
