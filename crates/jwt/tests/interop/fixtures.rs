//! Keys, claims and token surgery shared by both interop suites.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tessera_jwt::{Algorithm, Key};

/// A simplejwt access token's payload (reference simplejwt-5.5 §3.1), field order included:
/// byte-identity with PyJWT depends on serializing members in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub(crate) token_type: String,
    pub(crate) exp: u64,
    pub(crate) iat: u64,
    pub(crate) jti: String,
    pub(crate) user_id: String,
}

/// Wall-clock seconds: the other implementations validate `exp` against the real clock, so our
/// tokens must be valid *now*.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

pub(crate) fn access_claims() -> AccessClaims {
    let iat = now();
    AccessClaims {
        token_type: "access".to_owned(),
        exp: iat + 300,
        iat,
        jti: "4f1c2e9a7b3d48e6a0c5d2f1e8b7a693".to_owned(),
        user_id: "1".to_owned(),
    }
}

/// One algorithm's key material in every form the other implementations take.
pub(crate) struct Fixture {
    /// Signing key (private, or the HMAC secret), bound to the algorithm.
    pub(crate) key: Key,
    /// Verification key re-imported from the exported public PEM (the secret for HMAC).
    pub(crate) verify_key: Key,
    /// HMAC secret bytes, from our private JWK's `k`.
    pub(crate) secret: Option<Vec<u8>>,
    /// PKCS#8 private key PEM (asymmetric only).
    pub(crate) private_pem: Option<String>,
    /// SPKI public key PEM (asymmetric only).
    pub(crate) public_pem: Option<String>,
}

fn hmac_secret(key: &Key) -> Vec<u8> {
    let jwk = serde_json::to_value(key.to_private_jwk().expect("HMAC key exports as JWK"))
        .expect("JWK serializes");
    assert_eq!(jwk["kty"], "oct", "HMAC private JWK: {}", jwk["kty"]);
    let k = jwk["k"].as_str().expect("oct JWK has a string k");
    URL_SAFE_NO_PAD.decode(k).expect("k is base64url")
}

fn fixture_from(alg: Algorithm, key: Key) -> Fixture {
    assert_eq!(key.algorithm(), alg);
    assert!(key.can_sign(), "{alg}: generated key must sign");
    if alg.is_hmac() {
        let secret = hmac_secret(&key);
        let verify_key = Key::hmac(alg, &secret).expect("exported secret re-imports");
        return Fixture {
            key,
            verify_key,
            secret: Some(secret),
            private_pem: None,
            public_pem: None,
        };
    }
    let private_pem = key
        .to_pkcs8_pem()
        .expect("private key exports as PKCS#8 PEM");
    let public_pem = key.to_public_pem().expect("public key exports as SPKI PEM");
    let verify_key = Key::from_pem(alg, public_pem.as_bytes()).expect("public PEM re-imports");
    assert!(!verify_key.can_sign(), "{alg}: a public key must not sign");
    assert_eq!(
        verify_key.kid(),
        key.kid(),
        "{alg}: kid (thumbprint) survives PEM"
    );
    Fixture {
        key,
        verify_key,
        secret: None,
        private_pem: Some(private_pem),
        public_pem: Some(public_pem),
    }
}

/// Generates a fresh key for `alg`. RSA generation is slow, so one RSA key pair is generated
/// and re-imported (PKCS#8 PEM) for each RS/PS algorithm.
fn generate(alg: Algorithm, rsa_pem: &str) -> Key {
    match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => Key::from_pem(alg, rsa_pem.as_bytes()).expect("RSA PKCS#8 PEM"),
        _ => Key::generate(alg).expect("key generation"),
    }
}

fn fixtures() -> HashMap<Algorithm, Fixture> {
    let rsa = Key::generate(Algorithm::RS256).expect("RSA generation");
    let rsa_pem = rsa.to_pkcs8_pem().expect("RSA PKCS#8 export");
    Algorithm::ALL
        .into_iter()
        .map(|alg| (alg, fixture_from(alg, generate(alg, &rsa_pem))))
        .collect()
}

static FIXTURES: LazyLock<HashMap<Algorithm, Fixture>> = LazyLock::new(fixtures);
/// A second, unrelated key per algorithm: what it signs must not verify under `FIXTURES`.
static OTHER: LazyLock<HashMap<Algorithm, Fixture>> = LazyLock::new(fixtures);

pub(crate) fn fixture(alg: Algorithm) -> &'static Fixture {
    &FIXTURES[&alg]
}

pub(crate) fn other_fixture(alg: Algorithm) -> &'static Fixture {
    &OTHER[&alg]
}

/// Changes the first character of the signature segment: the decoded signature differs in its
/// first byte while the encoding stays canonical base64url.
pub(crate) fn tamper_signature(token: &str) -> String {
    let at = token.rfind('.').expect("compact JWS") + 1;
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII stays ASCII")
}
