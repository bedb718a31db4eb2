//! Known-answer vectors from the RFCs (tests/data/rfc-vectors.json, see tests/data/README.md).

use serde_json::Value;
use tessera_jwt::{Algorithm, ErrorKind, Jwk, Key, KeySet, Validation, decode};

use crate::common::data;

fn vector(name: &str) -> Value {
    let all: Value = serde_json::from_slice(&data("rfc-vectors.json")).unwrap();
    all[name].clone()
}

fn key_of(v: &Value) -> Key {
    let jwk: Jwk = Jwk::from_json(&v["key"].to_string()).unwrap();
    let alg: Algorithm = v["alg"].as_str().unwrap().parse().unwrap();
    Key::from_jwk_with_alg(&jwk, alg).unwrap()
}

fn public_of(key: &Key) -> Key {
    Key::from_jwk(&key.to_public_jwk().unwrap()).unwrap()
}

fn compact(v: &Value) -> String {
    v["compact"].as_str().unwrap().to_owned()
}

fn signing_input_and_signature(token: &str) -> (&str, Vec<u8>) {
    use base64::Engine;
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap();
    (input, sig)
}

/// Flips one bit of the signature segment's first character's value.
fn tamper(token: &str) -> String {
    let (input, sig) = token.rsplit_once('.').unwrap();
    let first = if sig.starts_with('A') { 'B' } else { 'A' };
    format!("{input}.{first}{}", &sig[1..])
}

/// Before 2011-03-22T18:43:00Z, the `exp` of the RFC 7515 A.1 payload.
const BEFORE_A1_EXP: u64 = 1_300_819_379;

#[test]
fn rfc7515_a1_hs256_decodes_and_signs_byte_exact() {
    // Also RFC 7519 §3.1, which uses the same JWT. The payload has CRLFs: decode only.
    let v = vector("rfc7515_a1");
    let key = key_of(&v);
    let token = compact(&v);
    let keys = KeySet::from(key.clone());
    let data = decode::<Value>(&token, &keys, &Validation::new(), BEFORE_A1_EXP).unwrap();
    assert_eq!(data.claims["iss"], "joe");
    assert_eq!(data.claims["exp"], 1_300_819_380);
    assert_eq!(data.claims["http://example.com/is_root"], true);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    let (input, sig) = signing_input_and_signature(&token);
    assert_eq!(key.sign(input.as_bytes()).unwrap(), sig);
    // At exp the token is expired (RFC 7519 §4.1.4).
    let err = decode::<Value>(&token, &keys, &Validation::new(), 1_300_819_380).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Expired);
}

#[test]
fn rfc7515_a2_rs256_decodes_and_signs_byte_exact() {
    let v = vector("rfc7515_a2");
    let key = key_of(&v);
    let token = compact(&v);
    let keys = KeySet::from(public_of(&key));
    let data = decode::<Value>(&token, &keys, &Validation::new(), BEFORE_A1_EXP).unwrap();
    assert_eq!(data.claims["iss"], "joe");
    let (input, sig) = signing_input_and_signature(&token);
    assert_eq!(key.sign(input.as_bytes()).unwrap(), sig);
    let err = decode::<Value>(&tamper(&token), &keys, &Validation::new(), BEFORE_A1_EXP);
    assert_eq!(err.unwrap_err().kind(), &ErrorKind::InvalidSignature);
}

#[test]
fn rfc7515_a3_es256_given_token_verifies() {
    let v = vector("rfc7515_a3");
    let key = key_of(&v);
    let token = compact(&v);
    let keys = KeySet::from(public_of(&key));
    let data = decode::<Value>(&token, &keys, &Validation::new(), BEFORE_A1_EXP).unwrap();
    assert_eq!(data.claims["iss"], "joe");
    assert_eq!(data.header.alg, Algorithm::ES256);
    let err = decode::<Value>(&tamper(&token), &keys, &Validation::new(), BEFORE_A1_EXP);
    assert_eq!(err.unwrap_err().kind(), &ErrorKind::InvalidSignature);
}

#[test]
fn rfc7515_a4_es512_given_signature_verifies() {
    // The payload is the text "Payload", not a JWT: the signature verifies, then decode
    // rejects the payload as not a JSON object.
    let v = vector("rfc7515_a4");
    let key = public_of(&key_of(&v));
    let token = compact(&v);
    let (input, sig) = signing_input_and_signature(&token);
    assert!(key.verify(input.as_bytes(), &sig));
    let keys = KeySet::from(key);
    let err = decode::<Value>(&token, &keys, &Validation::new(), 0).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Malformed);
    let err = decode::<Value>(&tamper(&token), &keys, &Validation::new(), 0).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature);
}

#[test]
fn rfc8037_a4_ed25519_signs_byte_exact_and_thumbprint_matches() {
    let v = vector("rfc8037_a4");
    let key = key_of(&v);
    let token = compact(&v);
    let (input, sig) = signing_input_and_signature(&token);
    assert_eq!(key.sign(input.as_bytes()).unwrap(), sig);
    assert!(public_of(&key).verify(input.as_bytes(), &sig));
    // RFC 8037 A.3: the thumbprint of the public key.
    assert_eq!(key.thumbprint().unwrap(), v["thumbprint"].as_str().unwrap());
    assert_eq!(key.kid(), v["thumbprint"].as_str());
}

#[test]
fn rfc7520_4_1_rs256_signs_byte_exact() {
    let v = vector("rfc7520_4_1");
    let key = key_of(&v);
    assert_eq!(key.kid(), Some("bilbo.baggins@hobbiton.example"));
    let token = compact(&v);
    let (input, sig) = signing_input_and_signature(&token);
    assert_eq!(key.sign(input.as_bytes()).unwrap(), sig);
    assert!(public_of(&key).verify(input.as_bytes(), &sig));
}

#[test]
fn rfc7520_4_2_ps384_given_signature_verifies() {
    let v = vector("rfc7520_4_2");
    let key = public_of(&key_of(&v));
    let token = compact(&v);
    let (input, sig) = signing_input_and_signature(&token);
    assert!(key.verify(input.as_bytes(), &sig));
    assert!(!key.verify(b"another input", &sig));
    // Not a JWT payload, but the kid-selected key verifies before the payload is rejected.
    let err = decode::<Value>(&token, &KeySet::from(key), &Validation::new(), 0).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Malformed);
}

#[test]
fn rfc7520_4_3_es512_given_signature_verifies() {
    let v = vector("rfc7520_4_3");
    let key = public_of(&key_of(&v));
    let token = compact(&v);
    let (input, sig) = signing_input_and_signature(&token);
    assert!(key.verify(input.as_bytes(), &sig));
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert!(!key.verify(input.as_bytes(), &bad));
}

#[test]
fn rfc7520_4_4_hs256_signs_byte_exact() {
    let v = vector("rfc7520_4_4");
    let key = key_of(&v);
    let token = compact(&v);
    let (input, sig) = signing_input_and_signature(&token);
    assert_eq!(key.sign(input.as_bytes()).unwrap(), sig);
}

#[test]
fn rfc7638_3_1_thumbprint() {
    let v = vector("rfc7638_3_1");
    let jwk = Jwk::from_json(&v["key"].to_string()).unwrap();
    let key = Key::from_jwk(&jwk).unwrap();
    assert_eq!(key.thumbprint().unwrap(), v["thumbprint"].as_str().unwrap());
    // The JWK's own kid wins over the thumbprint as the default kid.
    assert_eq!(key.kid(), Some("2011-04-29"));
}
