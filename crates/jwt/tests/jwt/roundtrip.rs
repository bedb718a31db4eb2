//! encode → decode for every algorithm, with public halves and exported formats.

use serde_json::{Value, json};
use tessera_jwt::{Algorithm, ErrorKind, KeySet, Validation, decode, encode};

use crate::common::{NOW, signing_key, verifying_key};

#[test]
fn every_algorithm_round_trips_through_its_public_key() {
    for alg in Algorithm::ALL {
        let key = signing_key(alg);
        let claims = json!({"sub": "alice", "exp": NOW + 60, "n": [1, 2, {"a": null}]});
        let token = encode(&key, &claims).unwrap();
        let keys = KeySet::from(verifying_key(&key));
        let data = decode::<Value>(&token, &keys, &Validation::new(), NOW)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.claims, claims, "{alg}");
        assert_eq!(data.header.alg, alg);
        assert_eq!(data.header.typ.as_deref(), Some("JWT"));
        assert_eq!(data.header.kid.as_deref(), key.kid());
    }
}

#[test]
fn a_token_of_one_algorithm_does_not_verify_with_a_key_of_another() {
    for alg in Algorithm::ALL {
        let key = signing_key(alg);
        let token = encode(&key, &json!({"exp": NOW + 60})).unwrap();
        for other in Algorithm::ALL.into_iter().filter(|o| *o != alg) {
            let keys = KeySet::from(signing_key(other).without_kid());
            let err = decode::<Value>(&token, &keys, &Validation::new(), NOW).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::NoMatchingKey, "{alg} vs {other}");
        }
    }
}

#[test]
fn a_tampered_payload_fails_the_signature_for_every_algorithm() {
    for alg in Algorithm::ALL {
        let key = signing_key(alg);
        let token = encode(&key, &json!({"exp": NOW + 60, "admin": false})).unwrap();
        let forged_payload = tessera_b64(br#"{"exp":1700000060,"admin":true}"#);
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = &forged_payload;
        let forged = parts.join(".");
        let keys = KeySet::from(verifying_key(&key));
        let err = decode::<Value>(&forged, &keys, &Validation::new(), NOW).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidSignature, "{alg}");
    }
}

fn tessera_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
