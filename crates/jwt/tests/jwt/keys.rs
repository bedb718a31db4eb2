//! Key construction from every supported encoding, export, JWK/JWKS and selection.

use serde_json::{Value, json};
use tessera_jwt::{Algorithm, ErrorKind, Jwk, JwkSet, Key, KeySet, Validation, decode, encode};

use crate::common::{NOW, data};

#[test]
fn pem_export_reimports_to_the_same_key() {
    for alg in Algorithm::ALL.into_iter().filter(|a| !a.is_hmac()) {
        let key = Key::generate(alg).unwrap();
        let private = Key::from_pem(alg, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
        let public = Key::from_pem(alg, key.to_public_pem().unwrap().as_bytes()).unwrap();
        assert_eq!(private.thumbprint(), key.thumbprint(), "{alg}");
        assert_eq!(public.thumbprint(), key.thumbprint(), "{alg}");
        assert_eq!(key.kid(), key.thumbprint().as_deref());
        assert!(private.can_sign());
        assert!(!public.can_sign());
        assert!(
            key.to_pkcs8_pem()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            key.to_public_pem()
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        assert_eq!(
            public.to_pkcs8_pem().unwrap_err().kind(),
            &ErrorKind::InvalidKey
        );
    }
}

#[test]
fn every_supported_pem_and_der_encoding_loads_as_the_same_key() {
    let rsa: Vec<Key> = [
        "rsa2048.pkcs8.pem",
        "rsa2048.pkcs1.pem",
        "rsa2048.pub.pem",
        "rsa2048.pub.pkcs1.pem",
    ]
    .iter()
    .map(|f| Key::from_pem(Algorithm::RS256, &data(f)).unwrap())
    .chain(
        ["rsa2048.pkcs8.der", "rsa2048.pub.der"]
            .iter()
            .map(|f| Key::from_der(Algorithm::PS256, &data(f)).unwrap()),
    )
    .collect();
    assert!(
        rsa.windows(2)
            .all(|w| w[0].thumbprint() == w[1].thumbprint())
    );
    assert!(rsa[0].can_sign() && rsa[1].can_sign() && !rsa[2].can_sign());

    let ec: Vec<Key> = ["ec256.sec1.pem", "ec256.pkcs8.pem", "ec256.pub.pem"]
        .iter()
        .map(|f| Key::from_pem(Algorithm::ES256, &data(f)).unwrap())
        .chain([Key::from_der(Algorithm::ES256, &data("ec256.pub.der")).unwrap()])
        .collect();
    assert!(
        ec.windows(2)
            .all(|w| w[0].thumbprint() == w[1].thumbprint())
    );
    assert!(ec[0].can_sign() && !ec[3].can_sign());

    Key::from_pem(Algorithm::ES384, &data("ec384.pkcs8.pem")).unwrap();
    let p521 = Key::from_pem(Algorithm::ES512, &data("ec521.pkcs8.pem")).unwrap();
    let p521_pub = Key::from_pem(Algorithm::ES512, &data("ec521.pub.pem")).unwrap();
    assert_eq!(p521.thumbprint(), p521_pub.thumbprint());
    let ed = Key::from_pem(Algorithm::EdDSA, &data("ed25519.pkcs8.pem")).unwrap();
    let ed_pub = Key::from_pem(Algorithm::EdDSA, &data("ed25519.pub.pem")).unwrap();
    assert_eq!(ed.thumbprint(), ed_pub.thumbprint());
}

#[test]
fn garbage_pem_and_der_are_invalid_keys() {
    for input in [
        &b""[..],
        b"not a pem",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ] {
        let err = Key::from_pem(Algorithm::RS256, input).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidKey);
        let err = Key::from_der(Algorithm::ES256, input).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidKey);
    }
    // Two keys in one PEM are ambiguous.
    let mut two = data("ec256.pub.pem");
    two.extend(data("ec256.pub.pem"));
    assert_eq!(
        Key::from_pem(Algorithm::ES256, &two).unwrap_err().kind(),
        &ErrorKind::InvalidKey
    );
}

#[test]
fn tokens_signed_by_openssl_verify_and_are_reproduced_byte_for_byte() {
    for (alg, key_file, pub_file, token_file) in [
        (
            Algorithm::RS256,
            "rsa2048.pkcs8.pem",
            "rsa2048.pub.pem",
            "rs256.openssl.jwt",
        ),
        (
            Algorithm::EdDSA,
            "ed25519.pkcs8.pem",
            "ed25519.pub.pem",
            "eddsa.openssl.jwt",
        ),
    ] {
        let token = String::from_utf8(data(token_file))
            .unwrap()
            .trim()
            .to_owned();
        let public = Key::from_pem(alg, &data(pub_file)).unwrap().without_kid();
        let data_ =
            decode::<Value>(&token, &KeySet::from(public), &Validation::new(), NOW).unwrap();
        assert_eq!(data_.claims["sub"], "openssl");
        let private = Key::from_pem(alg, &data(key_file)).unwrap().without_kid();
        let ours = encode(
            &private,
            &json!({"sub": "openssl", "exp": 4_102_444_800_u64}),
        )
        .unwrap();
        assert_eq!(ours, token, "{alg}");
    }
}

#[test]
fn hs256_encoding_is_byte_identical_to_pyjwt() {
    let expected = String::from_utf8(data("pyjwt-hs256.txt")).unwrap();
    let mut lines = expected.lines();
    let secret = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let key = Key::hmac(Algorithm::HS256, secret).unwrap();
    let claims = json!({
        "token_type": "access",
        "exp": 1_700_000_300,
        "iat": 1_700_000_000,
        "jti": "0123456789abcdef0123456789abcdef",
        "user_id": "42",
    });
    assert_eq!(encode(&key, &claims).unwrap(), lines.next().unwrap());
    // Struct field order is the serialization order, as with a Python dict.
    #[derive(serde::Serialize)]
    struct Access<'a> {
        token_type: &'a str,
        exp: u64,
        user_id: &'a str,
    }
    let claims = Access {
        token_type: "access",
        exp: 1_700_000_300,
        user_id: "42",
    };
    let with_kid = key.with_kid("k1");
    assert_eq!(encode(&with_kid, &claims).unwrap(), lines.next().unwrap());
}

#[test]
fn private_jwks_round_trip_for_every_algorithm() {
    for alg in Algorithm::ALL {
        let key = crate::common::signing_key(alg).with_kid("k");
        let jwk = key.to_private_jwk().unwrap();
        assert!(jwk.is_private());
        let text = serde_json::to_string(&jwk).unwrap();
        let back = Key::from_jwk(&Jwk::from_json(&text).unwrap()).unwrap();
        assert_eq!(back.algorithm(), alg);
        assert_eq!(back.kid(), Some("k"));
        assert_eq!(back.thumbprint(), key.thumbprint());
        // The re-imported key signs tokens the original verifies, and the reverse.
        let token = encode(&back, &json!({"exp": NOW + 1})).unwrap();
        assert!(
            decode::<Value>(&token, &KeySet::from(key.clone()), &Validation::new(), NOW).is_ok()
        );
        // Debug output never shows the secret members.
        let shown = format!("{jwk:?}");
        for member in ["\"d\"", "\"k\":", "\"p\""] {
            assert!(!shown.contains(member), "{alg}: {shown}");
        }
    }
}

#[test]
fn public_jwks_have_the_registered_members() {
    let key = Key::from_pem(Algorithm::ES256, &data("ec256.pub.pem")).unwrap();
    let jwk: Value = serde_json::to_value(key.to_public_jwk().unwrap()).unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kid"].as_str(), key.thumbprint().as_deref());
    assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
    assert!(jwk.get("d").is_none());
    assert!(
        Key::hmac(Algorithm::HS256, &[1; 32])
            .unwrap()
            .to_public_jwk()
            .is_none()
    );
    assert_eq!(
        key.to_private_jwk().unwrap_err().kind(),
        &ErrorKind::InvalidKey
    );
}

#[test]
fn jwk_alg_is_required_unless_the_key_type_implies_it() {
    let ed = Key::from_pem(Algorithm::EdDSA, &data("ed25519.pub.pem")).unwrap();
    let mut jwk = serde_json::to_value(ed.to_public_jwk().unwrap()).unwrap();
    jwk.as_object_mut().unwrap().remove("alg");
    let key = Key::from_jwk(&serde_json::from_value(jwk).unwrap()).unwrap();
    assert_eq!(key.algorithm(), Algorithm::EdDSA);

    let rsa = Key::from_pem(Algorithm::RS256, &data("rsa2048.pub.pem")).unwrap();
    let mut jwk = serde_json::to_value(rsa.to_public_jwk().unwrap()).unwrap();
    jwk.as_object_mut().unwrap().remove("alg");
    let jwk: Jwk = serde_json::from_value(jwk).unwrap();
    assert_eq!(
        Key::from_jwk(&jwk).unwrap_err().kind(),
        &ErrorKind::InvalidKey
    );
    assert_eq!(
        Key::from_jwk_with_alg(&jwk, Algorithm::PS384)
            .unwrap()
            .algorithm(),
        Algorithm::PS384
    );
    // A JWK alg that disagrees with the requested one is refused.
    let with_alg = rsa.to_public_jwk().unwrap();
    assert_eq!(
        Key::from_jwk_with_alg(&with_alg, Algorithm::RS512)
            .unwrap_err()
            .kind(),
        &ErrorKind::InvalidKey
    );
}

#[test]
fn jwks_skip_unusable_members_and_select_by_kid_and_alg() {
    let a = Key::from_pem(Algorithm::ES256, &data("ec256.pkcs8.pem"))
        .unwrap()
        .with_kid("a");
    let b = Key::from_pem(Algorithm::RS256, &data("rsa2048.pkcs8.pem"))
        .unwrap()
        .with_kid("b");
    let published = KeySet::new()
        .with(a.clone())
        .with(b.clone())
        .with(Key::generate(Algorithm::HS256).unwrap());
    let set = published.to_public_jwks();
    assert_eq!(set.keys.len(), 2, "HMAC keys are not published");
    let mut doc = serde_json::to_value(&set).unwrap();
    let keys = doc["keys"].as_array_mut().unwrap();
    keys.push(json!({"kty": "RSA", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"}));
    keys.push(json!({"kty": "OKP", "crv": "X25519", "x": "AAAA"}));
    keys.push(json!({"kty": "EC", "crv": "P-256", "use": "enc", "x": "AAAA", "y": "AAAA"}));
    keys.push(json!({"kty": "oct", "alg": "A128KW", "k": "GawgguFyGrWKav7AX4VKUg"}));
    keys.push(json!({"kty": "unknown"}));
    let parsed = KeySet::from_jwks(&doc.to_string()).unwrap();
    assert_eq!(parsed.len(), 2);
    assert!(parsed.iter().all(|k| !k.can_sign()));

    let token_a = encode(&a, &json!({"exp": NOW + 1})).unwrap();
    let token_b = encode(&b, &json!({"exp": NOW + 1})).unwrap();
    let v = Validation::new();
    assert!(decode::<Value>(&token_a, &parsed, &v, NOW).is_ok());
    assert!(decode::<Value>(&token_b, &parsed, &v, NOW).is_ok());
    // A token with b's kid but a's algorithm finds no key.
    let wrong = encode(&a.clone().with_kid("b"), &json!({"exp": NOW + 1})).unwrap();
    assert_eq!(
        decode::<Value>(&wrong, &parsed, &v, NOW)
            .unwrap_err()
            .kind(),
        &ErrorKind::NoMatchingKey
    );

    // Strict JSON applies to JWKS documents too.
    let dup = r#"{"keys":[],"keys":[]}"#;
    assert_eq!(
        KeySet::from_jwks(dup).unwrap_err().kind(),
        &ErrorKind::Malformed
    );
    assert!(JwkSet::from_json("[]").is_err());
}

#[test]
fn key_rotation_without_kid_tries_every_matching_key() {
    let old = Key::hmac(Algorithm::HS256, &[1; 32]).unwrap();
    let new = Key::hmac(Algorithm::HS256, &[2; 32]).unwrap();
    let keys = KeySet::new().with(new.clone()).with(old.clone());
    for key in [old, new] {
        let token = encode(&key, &json!({"exp": NOW + 1})).unwrap();
        assert!(decode::<Value>(&token, &keys, &Validation::new(), NOW).is_ok());
    }
}

#[test]
fn hmac_secret_shorter_than_the_hash_is_refused() {
    for (alg, len) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let err = Key::hmac(alg, &vec![7u8; len - 1]).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidKey);
        assert!(Key::hmac(alg, &vec![7u8; len]).is_ok());
    }
    assert_eq!(
        Key::hmac(Algorithm::RS256, &[0; 64]).unwrap_err().kind(),
        &ErrorKind::InvalidKey
    );
}

#[test]
fn public_keys_cannot_sign() {
    let public = Key::from_pem(Algorithm::ES256, &data("ec256.pub.pem")).unwrap();
    assert_eq!(
        encode(&public, &json!({})).unwrap_err().kind(),
        &ErrorKind::InvalidKey
    );
    assert_eq!(
        public.sign(b"x").unwrap_err().kind(),
        &ErrorKind::InvalidKey
    );
}

#[test]
fn debug_never_shows_key_material() {
    let key = Key::hmac(Algorithm::HS256, b"super-secret-value-super-secret-value").unwrap();
    let shown = format!("{key:?}");
    assert!(!shown.contains("super-secret"), "{shown}");
    assert!(shown.contains("HS256"));
    let ed = Key::from_pem(Algorithm::EdDSA, &data("ed25519.pkcs8.pem")).unwrap();
    let seed = ed.to_private_jwk().unwrap();
    let d = serde_json::to_value(&seed).unwrap()["d"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!format!("{ed:?}").contains(&d));
}

#[test]
fn algorithm_names_round_trip_exactly() {
    for alg in Algorithm::ALL {
        assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
        assert_eq!(alg.to_string(), alg.as_str());
        assert_eq!(serde_json::to_string(&alg).unwrap(), format!("\"{alg}\""));
        assert_eq!(
            serde_json::from_str::<Algorithm>(&format!("\"{alg}\"")).unwrap(),
            alg
        );
        assert!(alg.as_str().to_lowercase().parse::<Algorithm>().is_err());
    }
    assert!("eddsa".parse::<Algorithm>().is_err());
    assert!(Algorithm::HS384.is_hmac() && !Algorithm::ES256.is_hmac());
}

#[test]
fn keys_and_key_sets_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Key>();
    assert_send_sync::<KeySet>();
    assert_send_sync::<Validation>();
    let keys = KeySet::from(Key::from_pem(Algorithm::ES256, &data("ec256.pkcs8.pem")).unwrap());
    let token = encode(keys.iter().next().unwrap(), &json!({"exp": NOW + 1})).unwrap();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| assert!(decode::<Value>(&token, &keys, &Validation::new(), NOW).is_ok()));
        }
    });
}
