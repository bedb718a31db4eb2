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

/// A decoded segment that lives on the stack when it is small (no allocation per token for
/// typical headers, signatures and payloads), and on the heap otherwise.
pub(crate) enum Decoded<const N: usize> {
    Stack([u8; N], usize),
    Heap(Vec<u8>),
}

impl<const N: usize> Decoded<N> {
    pub(crate) fn new(input: &[u8]) -> Result<Self, Error> {
        // The decoder wants room for its rounded-up estimate, not the exact length.
        if input.len().div_ceil(4) * 3 <= N {
            let mut buf = [0u8; N];
            let n = decode_into(input, &mut buf)?.len();
            Ok(Decoded::Stack(buf, n))
        } else {
            decode(input).map(Decoded::Heap)
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Decoded::Stack(buf, n) => &buf[..*n],
            Decoded::Heap(v) => v,
        }
    }
}
