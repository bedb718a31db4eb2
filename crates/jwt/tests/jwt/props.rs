//! Property tests: encode → decode round trips for every algorithm family, and no input makes
//! the parsers panic.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_jwt::{Algorithm, Jwk, Key, KeySet, Validation, danger, decode, encode};

use crate::common::{NOW, signing_key, verifying_key};

/// One signing key and its verifying half per algorithm, made once (RSA generation is slow).
fn keys() -> &'static Vec<(Key, KeySet)> {
    static KEYS: OnceLock<Vec<(Key, KeySet)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        Algorithm::ALL
            .into_iter()
            .map(|alg| {
                let key = signing_key(alg);
                let public = KeySet::from(verifying_key(&key));
                (key, public)
            })
            .collect()
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    aud: Vec<String>,
    extra: BTreeMap<String, i64>,
    note: Option<String>,
}

fn claims() -> impl Strategy<Value = Claims> {
    (
        any::<String>(),
        (NOW + 1)..253_402_300_799_u64,
        proptest::option::of(0..=NOW),
        proptest::collection::vec(any::<String>(), 0..3),
        proptest::collection::btree_map("[a-z_]{1,12}", any::<i64>(), 0..6),
        proptest::option::of(".*"),
    )
        .prop_map(|(sub, exp, nbf, aud, extra, note)| Claims {
            sub,
            exp,
            nbf,
            aud,
            extra,
            note,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encode_then_decode_returns_the_claims(claims in claims(), which in 0..13_usize) {
        let (key, public) = &keys()[which];
        let token = encode(key, &claims).unwrap();
        let data = decode::<Claims>(&token, public, &Validation::new(), NOW).unwrap();
        prop_assert_eq!(data.claims, claims);
        prop_assert_eq!(data.header.alg, key.algorithm());
    }

    #[test]
    fn one_changed_character_never_verifies(claims in claims(), which in 0..13_usize, pos in any::<prop::sample::Index>()) {
        let (key, public) = &keys()[which];
        let token = encode(key, &claims).unwrap();
        let mut bytes = token.into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(bytes).unwrap();
        prop_assert!(decode::<Value>(&forged, public, &Validation::new(), NOW).is_err());
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,300}") {
        let keys = &keys()[0].1;
        let _ = decode::<Value>(&s, keys, &Validation::new(), NOW);
        let _ = danger::decode_unverified(&s);
        let _ = Jwk::from_json(&s);
        let _ = KeySet::from_jwks(&s);
        let _ = Key::from_pem(Algorithm::ES256, s.as_bytes());
    }

    #[test]
    fn arbitrary_segments_never_panic(header in proptest::collection::vec(any::<u8>(), 0..64),
                                      payload in proptest::collection::vec(any::<u8>(), 0..128),
                                      sig in proptest::collection::vec(any::<u8>(), 0..80)) {
        use base64::Engine;
        let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let token = format!("{}.{}.{}", b(&header), b(&payload), b(&sig));
        for (_, keys) in keys() {
            let _ = decode::<Value>(&token, keys, &Validation::new(), NOW);
        }
        let _ = danger::decode_unverified(&token);
    }

    #[test]
    fn arbitrary_json_shaped_inputs_never_panic(json in json_text()) {
        use base64::Engine;
        let b = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let header = r#"{"alg":"HS256"}"#;
        let input = format!("{}.{}", b(header), b(&json));
        let (key, keys) = &keys()[0];
        let sig = key.sign(input.as_bytes()).unwrap();
        let token = format!("{input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig));
        let _ = decode::<Value>(&token, keys, &Validation::new(), NOW);
        let _ = danger::decode_unverified(&token);
        let _ = Jwk::from_json(&json);
        let _ = KeySet::from_jwks(&json);
    }

    #[test]
    fn arbitrary_der_never_panics(der in proptest::collection::vec(any::<u8>(), 0..200), which in 0..13_usize) {
        let _ = Key::from_der(Algorithm::ALL[which], &der);
    }
}

/// JSON-like text: valid JSON values (often with duplicate or odd members) and near misses.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        "[a-z\\\\\"]{0,6}".prop_map(|s| format!("\"{s}\"")),
        Just("\"\\u0065xp\"".to_owned()),
    ];
    let value = leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|v| format!("[{}]", v.join(","))),
            proptest::collection::vec(("(exp|nbf|iat|aud|iss|sub|kty|keys|[a-c])", inner), 0..6)
                .prop_map(|m| {
                    let members: Vec<String> =
                        m.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
        ]
    });
    (value, proptest::option::of("[\\]\\[{},: ]{1,3}")).prop_map(|(v, junk)| match junk {
        Some(j) => format!("{v}{j}"),
        None => v,
    })
}
