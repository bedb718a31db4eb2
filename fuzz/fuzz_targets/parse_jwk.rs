//! Arbitrary bytes as a JWK (RFC 7517 §4) and as a JWK Set (§5): parsing must never panic, and a
//! key that parses must export a public JWK that parses back to the same RFC 7638 thumbprint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_jwt::{Algorithm, Jwk, Key, KeySet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The strict parser every caller uses (duplicate members, depth), then the key checks.
    if let Ok(jwk) = Jwk::from_json(text) {
        let _ = (jwk.kty(), jwk.kid(), jwk.alg());
        if let Ok(key) = Key::from_jwk(&jwk) {
            let _ = key.to_private_jwk();
            if let Some(public) = key.to_public_jwk() {
                let again = Key::from_jwk(&public).expect("our own public JWK must parse");
                assert_eq!(again.thumbprint(), key.thumbprint());
                assert_eq!(again.algorithm(), key.algorithm());
            }
        }
        for alg in Algorithm::ALL {
            if let Ok(key) = Key::from_jwk_with_alg(&jwk, alg) {
                assert_eq!(key.algorithm(), alg);
            }
        }
    }
    if let Ok(set) = KeySet::from_jwks(text) {
        let public = set.to_public_jwks();
        assert!(public.keys.len() <= set.len());
    }
});
