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
    let mut out = vec![0u8; decoded_len(input)?];
    decode_exact(input, &mut out)?;
    Ok(out)
}

/// Decodes `input` into `stack` when it fits (no allocation per token for typical headers,
/// signatures and payloads), else into `heap`; returns the decoded bytes.
pub(crate) fn decode_segment<'b>(
    input: &[u8],
    stack: &'b mut [u8],
    heap: &'b mut Vec<u8>,
) -> Result<&'b [u8], Error> {
    let len = decoded_len(input)?;
    let out = if len <= stack.len() {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        heap.as_mut_slice()
    };
    decode_exact(input, out)?;
    Ok(out)
}

fn invalid() -> Error {
    Error::malformed("invalid base64url")
}

/// The decoded length; a length of 1 mod 4 cannot come from any byte string.
fn decoded_len(input: &[u8]) -> Result<usize, Error> {
    match input.len() % 4 {
        1 => Err(invalid()),
        rem => Ok(input.len() / 4 * 3 + rem.saturating_sub(1)),
    }
}

/// Marks bytes outside the URL-safe alphabet (RFC 4648 §5): `=`, `+`, `/` and everything else.
/// Valid entries use the low 24 bits only, so one bit test over all of them finds any.
const INVALID: u32 = 1 << 31;

/// `DECODE[k][b]`: the 6-bit value of input byte `b` shifted to the position of the `k`-th
/// character of a 4-character group, or [`INVALID`]. Pre-shifted tables make a group four
/// lookups and three ORs.
const DECODE: [[u32; 256]; 4] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut tables = [[INVALID; 256]; 4];
    let mut i = 0;
    while i < 64 {
        let c = alphabet[i] as usize;
        let v = i as u32;
        tables[0][c] = v << 18;
        tables[1][c] = v << 12;
        tables[2][c] = v << 6;
        tables[3][c] = v;
        i += 1;
    }
    tables
};

/// Decodes `input` into `out`, which has exactly [`decoded_len`] bytes.
///
/// Table lookups per character, with the validity of all of them accumulated in one value
/// and checked once at the end; about half the instructions per character of the `base64`
/// crate's general decoder, which matters for 342-character RSA signatures. Strictness is the
/// same: only the 64 URL-safe characters, no padding, and the unused low bits of the last
/// character must be zero (RFC 4648 §3.5), so every byte string has one encoding.
fn decode_exact(input: &[u8], out: &mut [u8]) -> Result<(), Error> {
    let [t0, t1, t2, t3] = &DECODE;
    let sextet = |b: u8| t3[usize::from(b)];
    let mut seen = 0u32;
    let quads = input.chunks_exact(4);
    let tail = quads.remainder();
    let mut triples = out.chunks_exact_mut(3);
    for (quad, triple) in quads.zip(&mut triples) {
        let n = t0[usize::from(quad[0])]
            | t1[usize::from(quad[1])]
            | t2[usize::from(quad[2])]
            | t3[usize::from(quad[3])];
        seen |= n;
        triple.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    let rest = triples.into_remainder();
    match *tail {
        [] => {}
        [a, b] => {
            let (a, b) = (sextet(a), sextet(b));
            seen |= a | b;
            // 12 bits carry 8: the low 4 bits of the last character must be zero.
            if b & 0x0f != 0 {
                return Err(invalid());
            }
            rest[0] = ((a << 2) | (b >> 4)) as u8;
        }
        [a, b, c] => {
            let (a, b, c) = (sextet(a), sextet(b), sextet(c));
            seen |= a | b | c;
            // 18 bits carry 16: the low 2 bits of the last character must be zero.
            if c & 0x03 != 0 {
                return Err(invalid());
            }
            let n = (a << 10) | (b << 4) | (c >> 2);
            rest[0] = (n >> 8) as u8;
            rest[1] = n as u8;
        }
        _ => return Err(invalid()),
    }
    if seen & INVALID != 0 {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Differential check against the `base64` crate's strict URL-safe, no-padding engine:
    /// every string of up to 3 characters over the alphabet plus the characters a
    /// non-canonical or standard encoding would use, and round trips of every length to 64.
    #[test]
    fn agrees_with_the_base64_crate() {
        let mut chars: Vec<u8> =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".to_vec();
        chars.extend_from_slice(b"=+/. \n\0\x80\xff");
        let mut inputs = vec![Vec::new()];
        for len in 1..=3 {
            let mut next = Vec::new();
            for prefix in inputs.iter().filter(|p| p.len() == len - 1) {
                for &c in &chars {
                    let mut s = prefix.clone();
                    s.push(c);
                    next.push(s);
                }
            }
            inputs.extend(next);
        }
        for body in [&b""[..], b"AAAA", b"_-9z"] {
            for tail in &inputs {
                let input = [body, tail.as_slice()].concat();
                let ours = decode(&input).ok();
                let theirs = URL_SAFE_NO_PAD.decode(&input).ok();
                assert_eq!(ours, theirs, "{input:?}");
            }
        }
        let bytes: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for len in 0..=bytes.len() {
            let text = encode(&bytes[..len]);
            assert_eq!(decode(text.as_bytes()).unwrap(), &bytes[..len]);
            let (mut stack, mut heap) = ([0u8; 16], Vec::new());
            let out = decode_segment(text.as_bytes(), &mut stack, &mut heap).unwrap();
            assert_eq!(out, &bytes[..len]);
        }
    }
}
