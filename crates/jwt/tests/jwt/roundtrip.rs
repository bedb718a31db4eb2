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

/// `decode_seed` hands the claims to a seed (here: one picking a claim whose name is known
/// only at run time), after the same checks as `decode`.
#[test]
fn a_seed_builds_the_claims_after_the_same_checks() {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    /// The string value of the claim `self.0`, if any.
    struct Pick<'n>(&'n str);

    impl<'de> DeserializeSeed<'de> for Pick<'_> {
        type Value = Option<String>;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for Pick<'_> {
        type Value = Option<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("claims")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<String>()? {
                if key == self.0 {
                    found = Some(map.next_value::<String>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    let key = signing_key(Algorithm::HS256);
    let keys = KeySet::from(key.clone());
    let name = String::from("role");
    let token = encode(
        &key,
        &json!({"exp": NOW + 60, "role": "admin", "n": [1, {}]}),
    )
    .unwrap();
    let data = tessera_jwt::decode_seed(&token, &keys, &Validation::new(), NOW, Pick(&name));
    assert_eq!(data.unwrap().claims.as_deref(), Some("admin"));
    // Checked first, as by `decode`: an expired token never reaches the seed.
    let late = tessera_jwt::decode_seed(&token, &keys, &Validation::new(), NOW + 61, Pick(&name));
    assert_eq!(late.unwrap_err().kind(), &ErrorKind::Expired);
    // A claim the seed cannot read is a malformed token, as for `decode`.
    let wrong = encode(&key, &json!({"exp": NOW + 60, "role": 7})).unwrap();
    let err = tessera_jwt::decode_seed(&wrong, &keys, &Validation::new(), NOW, Pick(&name));
    assert_eq!(err.unwrap_err().kind(), &ErrorKind::Malformed);
}
