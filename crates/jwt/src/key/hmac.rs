//! HMAC keys (RFC 7518 §3.2).
//!
//! RustCrypto's `hmac` + `sha2` measured faster than aws-lc-rs's HMAC on this class of machine
//! (SHA-NI; see docs/PERFORMANCE.md). The keyed inner/outer hash states are computed once here;
//! each signature clones that state instead of re-keying.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::error::Error;

#[derive(Clone)]
enum State {
    S256(Hmac<Sha256>),
    S384(Hmac<Sha384>),
    S512(Hmac<Sha512>),
}

/// A keyed HMAC with its secret (kept only for JWK export, zeroed on drop).
pub(crate) struct HmacKey {
    state: State,
    secret: Zeroizing<Vec<u8>>,
}

/// Largest HMAC output (SHA-512).
pub(crate) const MAX_TAG_LEN: usize = 64;

impl HmacKey {
    /// RFC 7518 §3.2: "A key of the same size as the hash output ... or larger MUST be used".
    pub(crate) fn new(alg: Algorithm, secret: &[u8]) -> Result<HmacKey, Error> {
        let min = hash_len(alg)?;
        if secret.len() < min {
            return Err(Error::invalid_key(
                "HMAC secret is shorter than the hash output (RFC 7518 §3.2)",
            ));
        }
        let bad = |_| Error::invalid_key("HMAC key setup failed");
        let state = match alg {
            Algorithm::HS256 => State::S256(Hmac::new_from_slice(secret).map_err(bad)?),
            Algorithm::HS384 => State::S384(Hmac::new_from_slice(secret).map_err(bad)?),
            _ => State::S512(Hmac::new_from_slice(secret).map_err(bad)?),
        };
        Ok(HmacKey {
            state,
            secret: Zeroizing::new(secret.to_vec()),
        })
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// Computes the tag into `out` and returns its length.
    pub(crate) fn sign(&self, msg: &[u8], out: &mut [u8; MAX_TAG_LEN]) -> usize {
        fn run<M: Mac + Clone>(state: &M, msg: &[u8], out: &mut [u8]) -> usize {
            let mut mac = state.clone();
            mac.update(msg);
            let tag = mac.finalize().into_bytes();
            out[..tag.len()].copy_from_slice(&tag);
            tag.len()
        }
        match &self.state {
            State::S256(s) => run(s, msg, out),
            State::S384(s) => run(s, msg, out),
            State::S512(s) => run(s, msg, out),
        }
    }

    /// Constant-time comparison of the full-length tag (no truncated tags).
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        fn run<M: Mac + Clone>(state: &M, msg: &[u8], sig: &[u8]) -> bool {
            let mut mac = state.clone();
            mac.update(msg);
            mac.verify_slice(sig).is_ok()
        }
        match &self.state {
            State::S256(s) => run(s, msg, sig),
            State::S384(s) => run(s, msg, sig),
            State::S512(s) => run(s, msg, sig),
        }
    }
}

/// Output length of the hash, which is also the minimum secret length.
pub(crate) fn hash_len(alg: Algorithm) -> Result<usize, Error> {
    match alg {
        Algorithm::HS256 => Ok(32),
        Algorithm::HS384 => Ok(48),
        Algorithm::HS512 => Ok(64),
        _ => Err(Error::invalid_key("not an HMAC algorithm")),
    }
}
