//! Shared helpers.

use tessera_jwt::{Algorithm, Key};

/// A fixed "now" for tests: 2023-11-14T22:13:20Z.
pub(crate) const NOW: u64 = 1_700_000_000;

pub(crate) const SECRET_64: &[u8] =
    b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Reads a fixture from tests/data.
pub(crate) fn data(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A signing key for `alg`: HMAC from a fixed secret, RSA from the fixture (generating RSA keys
/// in a debug build is slow), EC and Ed25519 freshly generated.
pub(crate) fn signing_key(alg: Algorithm) -> Key {
    if alg.is_hmac() {
        Key::hmac(alg, SECRET_64).expect("hmac key")
    } else if alg.as_str().starts_with("RS") || alg.as_str().starts_with("PS") {
        Key::from_pem(alg, &data("rsa2048.pkcs8.pem")).expect("rsa fixture")
    } else {
        Key::generate(alg).expect("generate")
    }
}

/// The verifying half of `key`: the same key for HMAC, the public key otherwise.
pub(crate) fn verifying_key(key: &Key) -> Key {
    if key.algorithm().is_hmac() {
        key.clone()
    } else {
        let pem = key.to_public_pem().expect("public pem");
        Key::from_pem(key.algorithm(), pem.as_bytes()).expect("public key")
    }
}
