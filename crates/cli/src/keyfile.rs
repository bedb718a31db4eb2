//! Loading `--key FILE` for `token verify` and `token encode`: PEM, DER or JWK, private or public.
//!
//! The algorithm a key is used with comes from `--alg` or from the key itself, never from the
//! token (RFC 8725 §3.1): an Ed25519 key can only be EdDSA, a P-256 key only ES256, and so on.
//! RSA keys fit six algorithms, so they need `--alg`; only `verify` may fall back to the token's
//! `alg`, and only when that is itself an RSA algorithm — a token can never turn an RSA public
//! key into an HMAC secret (the classic algorithm-confusion attack).

use std::path::Path;

use anyhow::{Context as _, bail};
use tessera_jwt::{Algorithm, Jwk, Key};

use crate::commands::is_rsa;

/// The contents of a key file, by format.
enum KeyFile {
    Pem(Vec<u8>),
    Der(Vec<u8>),
    Jwk(Box<Jwk>),
}

/// Algorithms that a non-RSA key determines by itself: a curve fits exactly one of them.
const SELF_DESCRIBING: [Algorithm; 4] = [
    Algorithm::EdDSA,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::ES512,
];

fn read(path: &Path) -> anyhow::Result<KeyFile> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading key file {}", path.display()))?;
    let text = bytes.trim_ascii_start();
    if text.starts_with(b"{") {
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        if value.get("keys").is_some() {
            bail!(
                "{} is a JWK set; pass it with --jwks (--key takes one key)",
                path.display()
            );
        }
        // The library's strict parser: duplicate members and deep nesting are refused, as in
        // every JWK the library reads.
        let text = std::str::from_utf8(&bytes)
            .with_context(|| format!("{} is not UTF-8", path.display()))?;
        let jwk =
            Jwk::from_json(text).with_context(|| format!("{} is not a JWK", path.display()))?;
        Ok(KeyFile::Jwk(Box::new(jwk)))
    } else if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        Ok(KeyFile::Pem(bytes))
    } else {
        Ok(KeyFile::Der(bytes))
    }
}

fn parse(file: &KeyFile, alg: Algorithm) -> Result<Key, tessera_jwt::Error> {
    match file {
        KeyFile::Pem(pem) => Key::from_pem(alg, pem),
        KeyFile::Der(der) => Key::from_der(alg, der),
        KeyFile::Jwk(jwk) => Key::from_jwk_with_alg(jwk, alg),
    }
}

/// Loads the key in `path`.
///
/// `alg` is `--alg`. Without it the key decides; for RSA keys `rsa_fallback` is asked for an
/// algorithm (verify passes the token header's `alg`, and it is used only if it is an RSA one).
pub(crate) fn load(
    path: &Path,
    alg: Option<Algorithm>,
    rsa_fallback: impl FnOnce() -> Option<Algorithm>,
) -> anyhow::Result<Key> {
    let file = read(path)?;
    let shown = path.display();
    if let Some(alg) = alg {
        if alg.is_hmac() && !matches!(file, KeyFile::Jwk(_)) {
            bail!(
                "{shown} is a PEM/DER key, not an HMAC secret; use --secret-file for {alg} \
                 (or a JWK with \"kty\":\"oct\")"
            );
        }
        return parse(&file, alg).with_context(|| format!("cannot use {shown} as an {alg} key"));
    }

    // A JWK usually names its algorithm, and the library knows the unambiguous curves.
    if let KeyFile::Jwk(jwk) = &file {
        match Key::from_jwk(jwk) {
            Ok(key) => return Ok(key),
            Err(err) if jwk.kty() != "RSA" => {
                return Err(anyhow::Error::new(err)
                    .context(format!("cannot use the JWK in {shown} (try --alg)")));
            }
            Err(_) => {}
        }
    } else if let Some(key) = SELF_DESCRIBING
        .iter()
        .find_map(|&alg| parse(&file, alg).ok())
    {
        return Ok(key);
    }

    // RSA, or nothing usable. Parsing as RS256 tells which, with the library's reason.
    if let Err(err) = parse(&file, Algorithm::RS256) {
        return Err(anyhow::Error::new(err).context(format!(
            "cannot use {shown}: not an Ed25519, P-256, P-384, P-521 or RSA (2048 bits or more) key"
        )));
    }
    match rsa_fallback().filter(|&alg| is_rsa(alg)) {
        Some(alg) => {
            parse(&file, alg).with_context(|| format!("cannot use {shown} as an {alg} key"))
        }
        None => bail!(
            "{shown} is an RSA key, which fits several algorithms: pass --alg \
             (RS256, RS384, RS512, PS256, PS384 or PS512)"
        ),
    }
}
