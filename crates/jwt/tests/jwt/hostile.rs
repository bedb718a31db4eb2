//! Hostile inputs: one case (at least) per rejection rule. Tokens are correctly signed where the
//! rule is not about the signature, so each rejection is due to the rule under test.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tessera_jwt::{Algorithm, ErrorKind, Key, KeySet, Validation, danger, decode, encode};

use crate::common::{NOW, SECRET_64, data};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hs256() -> Key {
    Key::hmac(Algorithm::HS256, SECRET_64).unwrap()
}

/// A token with exactly these header and payload bytes, signed by `key`.
fn forge(header: &str, payload: &str, key: &Key) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&sig))
}

fn valid_payload() -> String {
    format!(r#"{{"sub":"alice","exp":{}}}"#, NOW + 60)
}

fn kind_of(token: &str, keys: &KeySet, validation: &Validation) -> ErrorKind {
    decode::<Value>(token, keys, validation, NOW)
        .expect_err("hostile token must be rejected")
        .kind()
        .clone()
}

fn kind(token: &str) -> ErrorKind {
    kind_of(token, &KeySet::from(hs256()), &Validation::new())
}

#[test]
fn control_a_forged_valid_token_is_accepted() {
    // Guards the helpers: the cases below fail only because of what they change.
    let token = forge(r#"{"alg":"HS256","typ":"JWT"}"#, &valid_payload(), &hs256());
    let keys = KeySet::from(hs256());
    assert!(decode::<Value>(&token, &keys, &Validation::new(), NOW).is_ok());
}

#[test]
fn alg_none_in_any_casing_is_unsupported() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let unsigned = format!(
            "{}.{}.",
            b64(header.as_bytes()),
            b64(valid_payload().as_bytes())
        );
        assert_eq!(kind(&unsigned), ErrorKind::UnsupportedAlgorithm, "{alg}");
        let signed = forge(&header, &valid_payload(), &hs256());
        assert_eq!(kind(&signed), ErrorKind::UnsupportedAlgorithm, "{alg}");
        assert!(alg.parse::<Algorithm>().is_err());
    }
}

#[test]
fn unknown_or_non_string_alg_is_rejected() {
    let t = forge(r#"{"alg":"HS1024"}"#, &valid_payload(), &hs256());
    assert_eq!(kind(&t), ErrorKind::UnsupportedAlgorithm);
    let t = forge(r#"{"alg":"hs256"}"#, &valid_payload(), &hs256());
    assert_eq!(kind(&t), ErrorKind::UnsupportedAlgorithm);
    let t = forge(r#"{"alg":256}"#, &valid_payload(), &hs256());
    assert_eq!(kind(&t), ErrorKind::Malformed);
    let t = forge(r#"{"typ":"JWT"}"#, &valid_payload(), &hs256());
    assert_eq!(kind(&t), ErrorKind::Malformed);
}

#[test]
fn rs256_key_confusion_with_the_public_pem_as_hmac_secret_fails() {
    let public_pem = data("rsa2048.pub.pem");
    let rsa_public = Key::from_pem(Algorithm::RS256, &public_pem).unwrap();
    let keys = KeySet::from(rsa_public);
    // The attacker HMAC-signs with the public key's PEM bytes as the secret.
    let attacker = Key::hmac(Algorithm::HS256, &public_pem).unwrap();
    let as_hs256 = forge(r#"{"alg":"HS256"}"#, &valid_payload(), &attacker);
    assert_eq!(
        kind_of(&as_hs256, &keys, &Validation::new()),
        ErrorKind::NoMatchingKey
    );
    // Claiming RS256 while carrying an HMAC tag fails the RSA verification.
    let as_rs256 = forge(r#"{"alg":"RS256"}"#, &valid_payload(), &attacker);
    assert_eq!(
        kind_of(&as_rs256, &keys, &Validation::new()),
        ErrorKind::InvalidSignature
    );
    // And a PEM can never become an HMAC key through the PEM API.
    let err = Key::from_pem(Algorithm::HS256, &public_pem).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidKey);
}

/// P-256 group order n (SEC 2, §2.4.2).
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

#[test]
fn es256_all_zero_and_curve_order_signatures_fail_cve_2022_21449() {
    let key = Key::from_pem(Algorithm::ES256, &data("ec256.pkcs8.pem")).unwrap();
    let keys = KeySet::from(key.clone());
    let good = encode(&key, &json!({"exp": NOW + 60})).unwrap();
    let input = good.rsplit_once('.').unwrap().0;
    let mut order_twice = P256_ORDER.to_vec();
    order_twice.extend_from_slice(&P256_ORDER);
    let real_sig = URL_SAFE_NO_PAD
        .decode(good.rsplit_once('.').unwrap().1)
        .unwrap();
    let mut zero_r = vec![0u8; 32];
    zero_r.extend_from_slice(&real_sig[32..]);
    for sig in [vec![0u8; 64], order_twice, zero_r, vec![0u8; 0x40 + 8]] {
        let token = format!("{input}.{}", b64(&sig));
        assert_eq!(
            kind_of(&token, &keys, &Validation::new()),
            ErrorKind::InvalidSignature
        );
    }
}

#[test]
fn padding_and_standard_alphabet_are_malformed() {
    let token = forge(r#"{"alg":"HS256"}"#, &valid_payload(), &hs256());
    let (input, sig) = token.rsplit_once('.').unwrap();
    // 32-byte tag: 43 characters; the padded form adds one '='.
    assert_eq!(kind(&format!("{input}.{sig}=")), ErrorKind::Malformed);
    let (header, payload) = input.split_once('.').unwrap();
    assert_eq!(
        kind(&format!("{header}=.{payload}.{sig}")),
        ErrorKind::Malformed
    );
    let std_alphabet = sig.replace('-', "+").replace('_', "/");
    let with_plus = format!(
        "{input}.{}",
        if std_alphabet == sig {
            "+".to_owned() + &sig[1..]
        } else {
            std_alphabet
        }
    );
    assert_eq!(kind(&with_plus), ErrorKind::Malformed);
    assert_eq!(
        kind(&format!("{input}./{}", &sig[1..])),
        ErrorKind::Malformed
    );
    assert_eq!(kind(&format!("{input}.{} ", sig)), ErrorKind::Malformed);
}

#[test]
fn non_zero_trailing_bits_are_malformed() {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let token = forge(r#"{"alg":"HS256"}"#, &valid_payload(), &hs256());
    let (input, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(sig.len() % 4, 3, "a 32-byte tag leaves two unused bits");
    let last = sig.as_bytes()[sig.len() - 1];
    let index = ALPHABET.iter().position(|&c| c == last).unwrap();
    let flipped = ALPHABET[index ^ 1] as char;
    let token = format!("{input}.{}{flipped}", &sig[..sig.len() - 1]);
    // A lenient decoder would read the same 32 bytes and accept the token.
    assert_eq!(kind(&token), ErrorKind::Malformed);
}

#[test]
fn wrong_segment_counts_and_empty_segments_are_malformed() {
    let token = forge(r#"{"alg":"HS256"}"#, &valid_payload(), &hs256());
    let parts: Vec<&str> = token.split('.').collect();
    let cases = [
        format!("{}.{}", parts[0], parts[1]),
        format!("{token}.{}", parts[2]),
        format!("{token}."),
        format!(".{}.{}", parts[1], parts[2]),
        format!("{}..{}", parts[0], parts[2]),
        format!("{}.{}.", parts[0], parts[1]),
        "..".to_owned(),
        String::new(),
        parts[0].to_owned(),
    ];
    for t in cases {
        assert_eq!(kind(&t), ErrorKind::Malformed, "{t:?}");
    }
}

#[test]
fn non_object_header_or_payload_is_malformed() {
    for header in ["[]", r#""HS256""#, "1", "null", r#"{"alg":"HS256"} x"#, "{"] {
        let t = forge(header, &valid_payload(), &hs256());
        assert_eq!(kind(&t), ErrorKind::Malformed, "{header}");
    }
    for payload in [
        "[1]",
        "null",
        "42",
        r#""sub""#,
        "",
        "{\"exp\":1,}",
        "\u{feff}{}",
    ] {
        let t = forge(r#"{"alg":"HS256"}"#, payload, &hs256());
        assert_eq!(kind(&t), ErrorKind::Malformed, "{payload:?}");
    }
    let not_utf8 = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256"}"#),
        b64(b"{\"sub\":\"\xff\"}")
    );
    let sig = hs256().sign(not_utf8.as_bytes()).unwrap();
    assert_eq!(
        kind(&format!("{not_utf8}.{}", b64(&sig))),
        ErrorKind::Malformed
    );
}

#[test]
fn duplicate_member_names_are_malformed_at_every_level() {
    let exp = NOW + 60;
    let headers = [
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","kid":"a","kid":"b"}"#,
        r#"{"alg":"HS256","x":{"y":1,"y":2}}"#,
    ];
    for h in headers {
        let t = forge(h, &valid_payload(), &hs256());
        assert_eq!(kind(&t), ErrorKind::Malformed, "{h}");
    }
    let payloads = [
        format!(r#"{{"exp":{exp},"exp":{exp}}}"#),
        format!(r#"{{"exp":{exp},"sub":"a","sub":"b"}}"#),
        format!(r#"{{"exp":{exp},"sub":"a","\u0073ub":"b"}}"#),
        format!(r#"{{"exp":{exp},"n":{{"a":1,"b":{{"c":1,"c":1}}}}}}"#),
        format!(r#"{{"exp":{exp},"n":[{{"a":1}},{{"a":1,"a":2}}]}}"#),
    ];
    for p in &payloads {
        let t = forge(r#"{"alg":"HS256"}"#, p, &hs256());
        assert_eq!(kind(&t), ErrorKind::Malformed, "{p}");
    }
    // The same name in sibling objects is fine.
    let siblings =
        format!(r#"{{"exp":{exp},"a":{{"x":1}},"b":{{"x":1}},"c":[{{"x":1}},{{"x":2}}]}}"#);
    let t = forge(r#"{"alg":"HS256"}"#, &siblings, &hs256());
    assert!(decode::<Value>(&t, &KeySet::from(hs256()), &Validation::new(), NOW).is_ok());
}

#[test]
fn depth_bombs_are_malformed() {
    let exp = NOW + 60;
    let deep_array = format!(
        r#"{{"exp":{exp},"a":{}{}}}"#,
        "[".repeat(500),
        "]".repeat(500)
    );
    let t = forge(r#"{"alg":"HS256"}"#, &deep_array, &hs256());
    assert_eq!(kind(&t), ErrorKind::Malformed);
    let deep_object = format!(
        r#"{{"exp":{exp},"a":{}1{}}}"#,
        r#"{"a":"#.repeat(40),
        "}".repeat(40)
    );
    let t = forge(r#"{"alg":"HS256"}"#, &deep_object, &hs256());
    assert_eq!(kind(&t), ErrorKind::Malformed);
    let deep_header = format!(
        r#"{{"alg":"HS256","x":{}{}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let t = forge(&deep_header, &valid_payload(), &hs256());
    assert_eq!(kind(&t), ErrorKind::Malformed);
    // Just within the configured depth passes; one more level does not.
    let nested = |levels: usize| {
        format!(
            r#"{{"exp":{exp},"a":{}{}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    let keys = KeySet::from(hs256());
    let v = Validation::new().max_depth(4);
    let ok = forge(r#"{"alg":"HS256"}"#, &nested(3), &hs256());
    assert!(decode::<Value>(&ok, &keys, &v, NOW).is_ok());
    let too_deep = forge(r#"{"alg":"HS256"}"#, &nested(4), &hs256());
    assert_eq!(kind_of(&too_deep, &keys, &v), ErrorKind::Malformed);
}

#[test]
fn oversized_tokens_are_too_large() {
    let filler = "x".repeat(7000);
    let payload = format!(r#"{{"exp":{},"f":"{filler}"}}"#, NOW + 60);
    let t = forge(r#"{"alg":"HS256"}"#, &payload, &hs256());
    assert!(t.len() > 8192);
    assert_eq!(kind(&t), ErrorKind::TooLarge);
    // Anything over the limit, even garbage, is TooLarge before it is parsed.
    assert_eq!(kind(&"A".repeat(100_000)), ErrorKind::TooLarge);
    let small = forge(r#"{"alg":"HS256"}"#, &valid_payload(), &hs256());
    let v = Validation::new().max_token_size(small.len() - 1);
    assert_eq!(
        kind_of(&small, &KeySet::from(hs256()), &v),
        ErrorKind::TooLarge
    );
}

#[test]
fn crit_and_unencoded_payload_headers_are_malformed() {
    for header in [
        r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
        r#"{"alg":"HS256","crit":["http://example.com/UNDEFINED"]}"#,
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
        r#"{"alg":"HS256","b64":false}"#,
        r#"{"alg":"HS256","b64":"false"}"#,
    ] {
        let t = forge(header, &valid_payload(), &hs256());
        assert_eq!(kind(&t), ErrorKind::Malformed, "{header}");
    }
}

#[test]
fn jwk_and_jku_headers_are_never_used_to_find_keys() {
    // The attacker signs with their own key and embeds its public JWK (or a URL to it).
    let attacker = Key::generate(Algorithm::ES256).unwrap().without_kid();
    let embedded = serde_json::to_string(&attacker.to_public_jwk().unwrap()).unwrap();
    let header = format!(r#"{{"alg":"ES256","jwk":{embedded}}}"#);
    let t = forge(&header, &valid_payload(), &attacker);
    let trusted = Key::from_pem(Algorithm::ES256, &data("ec256.pub.pem"))
        .unwrap()
        .without_kid();
    let keys = KeySet::from(trusted);
    assert_eq!(
        kind_of(&t, &keys, &Validation::new()),
        ErrorKind::InvalidSignature
    );
    // An empty key set stays empty whatever the header offers.
    assert_eq!(
        kind_of(&t, &KeySet::new(), &Validation::new()),
        ErrorKind::NoMatchingKey
    );

    let attacker_hmac = Key::hmac(Algorithm::HS256, &[9u8; 32]).unwrap();
    for h in [
        r#"{"alg":"HS256","jku":"https://attacker.example/jwks.json"}"#,
        r#"{"alg":"HS256","x5u":"https://attacker.example/cert.pem"}"#,
        r#"{"alg":"HS256","x5c":["MIIB"]}"#,
    ] {
        let t = forge(h, &valid_payload(), &attacker_hmac);
        assert_eq!(kind(&t), ErrorKind::InvalidSignature, "{h}");
    }
}

#[test]
fn a_kid_that_matches_no_key_is_no_matching_key() {
    let key = hs256().with_kid("current");
    let keys = KeySet::from(key.clone());
    let t = forge(r#"{"alg":"HS256","kid":"other"}"#, &valid_payload(), &key);
    assert_eq!(
        kind_of(&t, &keys, &Validation::new()),
        ErrorKind::NoMatchingKey
    );
    let t = forge(r#"{"alg":"HS256","kid":"current"}"#, &valid_payload(), &key);
    assert!(decode::<Value>(&t, &keys, &Validation::new(), NOW).is_ok());
    let t = forge(r#"{"alg":"HS256","kid":7}"#, &valid_payload(), &key);
    assert_eq!(kind_of(&t, &keys, &Validation::new()), ErrorKind::Malformed);
}

fn claims_kind(payload: Value, validation: &Validation) -> ErrorKind {
    let t = encode(&hs256(), &payload).unwrap();
    kind_of(&t, &KeySet::from(hs256()), validation)
}

#[test]
fn expired_not_yet_valid_and_future_iat_are_rejected() {
    let v = Validation::new();
    assert_eq!(claims_kind(json!({"exp": NOW}), &v), ErrorKind::Expired);
    assert_eq!(claims_kind(json!({"exp": NOW - 1}), &v), ErrorKind::Expired);
    assert_eq!(
        claims_kind(json!({"exp": NOW + 60, "nbf": NOW + 1}), &v),
        ErrorKind::NotYetValid
    );
    assert_eq!(
        claims_kind(json!({"exp": NOW + 60, "iat": NOW + 1}), &v),
        ErrorKind::IssuedInFuture
    );
    assert_eq!(
        claims_kind(json!({"sub": "a"}), &v),
        ErrorKind::MissingClaim("exp".into())
    );
    // Leeway moves each boundary by exactly its amount.
    let lee = Validation::new().leeway(10);
    assert_eq!(
        claims_kind(json!({"exp": NOW - 10}), &lee),
        ErrorKind::Expired
    );
    assert_eq!(
        claims_kind(json!({"exp": NOW + 60, "nbf": NOW + 11}), &lee),
        ErrorKind::NotYetValid
    );
    assert_eq!(
        claims_kind(json!({"exp": NOW + 60, "iat": NOW + 11}), &lee),
        ErrorKind::IssuedInFuture
    );
    let keys = KeySet::from(hs256());
    let t = encode(
        &hs256(),
        &json!({"exp": NOW - 9, "nbf": NOW + 10, "iat": NOW + 10}),
    )
    .unwrap();
    assert!(decode::<Value>(&t, &keys, &lee, NOW).is_ok());
}

#[test]
fn numeric_dates_of_the_wrong_type_or_range_are_invalid_claims() {
    let v = Validation::new();
    let exp = |value: Value| claims_kind(json!({ "exp": value }), &v);
    let invalid = ErrorKind::InvalidClaim("exp".into());
    assert_eq!(exp(json!("1900000000")), invalid);
    assert_eq!(exp(json!("NaN")), invalid);
    assert_eq!(exp(json!(-1)), invalid);
    assert_eq!(exp(json!(-0.5)), invalid);
    assert_eq!(exp(json!(true)), invalid);
    assert_eq!(exp(json!(null)), invalid);
    assert_eq!(exp(json!([NOW + 60])), invalid);
    assert_eq!(exp(json!(253_402_300_800_u64)), invalid);
    assert_eq!(exp(json!(u64::MAX)), invalid);
    assert_eq!(exp(json!(1e300)), invalid);
    for (name, payload) in [
        ("nbf", json!({"exp": NOW + 60, "nbf": "0"})),
        ("iat", json!({"exp": NOW + 60, "iat": -5})),
    ] {
        assert_eq!(
            claims_kind(payload, &v),
            ErrorKind::InvalidClaim(name.into())
        );
    }
    // NaN and Infinity are not JSON at all.
    let t = forge(r#"{"alg":"HS256"}"#, r#"{"exp":NaN}"#, &hs256());
    assert_eq!(kind(&t), ErrorKind::Malformed);
    let t = forge(r#"{"alg":"HS256"}"#, r#"{"exp":1e999}"#, &hs256());
    assert_eq!(kind(&t), ErrorKind::InvalidClaim("exp".into()));
    // Finite fractions and exponents in range are NumericDates (RFC 7519 §2).
    let keys = KeySet::from(hs256());
    for payload in [
        format!(r#"{{"exp":{}.5}}"#, NOW),
        format!(r#"{{"exp":{}e0}}"#, NOW + 1),
        r#"{"exp":1.7e10}"#.to_owned(),
    ] {
        let t = forge(r#"{"alg":"HS256"}"#, &payload, &hs256());
        assert!(decode::<Value>(&t, &keys, &v, NOW).is_ok(), "{payload}");
    }
}

#[test]
fn audience_issuer_and_subject_mismatches_are_rejected() {
    let exp = NOW + 60;
    let v = Validation::new().audience("api").audience("web");
    assert_eq!(
        claims_kind(json!({"exp": exp, "aud": "other"}), &v),
        ErrorKind::ClaimMismatch("aud".into())
    );
    assert_eq!(
        claims_kind(json!({"exp": exp, "aud": ["x", "y"]}), &v),
        ErrorKind::ClaimMismatch("aud".into())
    );
    assert_eq!(
        claims_kind(json!({"exp": exp}), &v),
        ErrorKind::MissingClaim("aud".into())
    );
    assert_eq!(
        claims_kind(json!({"exp": exp, "aud": ["web", 3]}), &v),
        ErrorKind::InvalidClaim("aud".into())
    );
    assert_eq!(
        claims_kind(
            json!({"exp": exp, "aud": {"api": true}}),
            &Validation::new()
        ),
        ErrorKind::InvalidClaim("aud".into())
    );
    let keys = KeySet::from(hs256());
    for aud in [json!("web"), json!(["x", "api"])] {
        let t = encode(&hs256(), &json!({"exp": exp, "aud": aud})).unwrap();
        assert!(decode::<Value>(&t, &keys, &v, NOW).is_ok());
    }

    let iss = Validation::new().issuer("https://issuer.example");
    assert_eq!(
        claims_kind(json!({"exp": exp, "iss": "https://evil.example"}), &iss),
        ErrorKind::ClaimMismatch("iss".into())
    );
    assert_eq!(
        claims_kind(json!({"exp": exp}), &iss),
        ErrorKind::MissingClaim("iss".into())
    );
    assert_eq!(
        claims_kind(json!({"exp": exp, "iss": 1}), &Validation::new()),
        ErrorKind::InvalidClaim("iss".into())
    );
    let sub = Validation::new().subject("alice");
    assert_eq!(
        claims_kind(json!({"exp": exp, "sub": "mallory"}), &sub),
        ErrorKind::ClaimMismatch("sub".into())
    );
    assert_eq!(
        claims_kind(json!({"exp": exp, "sub": ["alice"]}), &sub),
        ErrorKind::InvalidClaim("sub".into())
    );
}

#[test]
fn required_claims_are_checked_in_the_order_given() {
    let v = Validation::new().required_claims(&["token_type", "jti", "user_id"]);
    let exp = NOW + 60;
    assert_eq!(
        claims_kind(json!({"exp": exp, "user_id": "1"}), &v),
        ErrorKind::MissingClaim("token_type".into())
    );
    assert_eq!(
        claims_kind(
            json!({"exp": exp, "token_type": "access", "user_id": "1"}),
            &v
        ),
        ErrorKind::MissingClaim("jti".into())
    );
}

#[test]
fn wrong_or_missing_token_type_is_rejected() {
    let v = Validation::new().expect_claim("token_type", "access");
    let exp = NOW + 60;
    assert_eq!(
        claims_kind(json!({"exp": exp, "token_type": "refresh"}), &v),
        ErrorKind::ClaimMismatch("token_type".into())
    );
    assert_eq!(
        claims_kind(json!({"exp": exp, "token_type": ["access"]}), &v),
        ErrorKind::ClaimMismatch("token_type".into())
    );
    assert_eq!(
        claims_kind(json!({"exp": exp}), &v),
        ErrorKind::MissingClaim("token_type".into())
    );
    let t = encode(&hs256(), &json!({"exp": exp, "token_type": "access"})).unwrap();
    assert!(decode::<Value>(&t, &KeySet::from(hs256()), &v, NOW).is_ok());
}

#[test]
fn short_hmac_secrets_are_refused() {
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        assert_eq!(
            Key::hmac(alg, b"secret").unwrap_err().kind(),
            &ErrorKind::InvalidKey
        );
        assert_eq!(
            Key::hmac(alg, b"").unwrap_err().kind(),
            &ErrorKind::InvalidKey
        );
    }
    let short_jwk =
        tessera_jwt::Jwk::from_json(r#"{"kty":"oct","alg":"HS256","k":"c2VjcmV0"}"#).unwrap();
    assert_eq!(
        Key::from_jwk(&short_jwk).unwrap_err().kind(),
        &ErrorKind::InvalidKey
    );
}

#[test]
fn rsa_1024_keys_are_refused() {
    for file in ["rsa1024.pkcs8.pem", "rsa1024.pub.pem"] {
        for alg in [Algorithm::RS256, Algorithm::PS512] {
            let err = Key::from_pem(alg, &data(file)).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidKey, "{file} {alg}");
        }
    }
}

/// The 2048-bit floor holds whatever the key's encoding: DER as well as PEM, and a JWK.
#[test]
fn rsa_keys_under_2048_bits_are_refused_in_every_format() {
    for file in ["rsa1024.pkcs8.pem", "rsa1024.pub.pem"] {
        let pem = String::from_utf8(data(file)).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let err = Key::from_der(Algorithm::RS256, &der).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidKey, "{file} as DER");
    }
    // Public JWKs whose modulus is odd with its top bit set: 2048 bits are taken, 2047 and 1024
    // are refused, so the refusal is the size.
    let jwk = |bits: usize| {
        let mut n = vec![0xc5u8; bits.div_ceil(8)];
        if !bits.is_multiple_of(8) {
            n[0] = 0xff >> (8 - bits % 8);
        }
        let last = n.len() - 1;
        n[last] |= 1;
        tessera_jwt::Jwk::from_json(
            &json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB"}).to_string(),
        )
        .unwrap()
    };
    Key::from_jwk_with_alg(&jwk(2048), Algorithm::RS256).unwrap();
    for bits in [2047, 1024] {
        for alg in [Algorithm::RS256, Algorithm::PS256] {
            let err = Key::from_jwk_with_alg(&jwk(bits), alg).unwrap_err();
            assert_eq!(
                err.kind(),
                &ErrorKind::InvalidKey,
                "{bits}-bit JWK as {alg}"
            );
        }
    }
}

#[test]
fn ec_keys_on_another_curve_than_the_algorithm_are_refused() {
    let cases = [
        ("ec384.pkcs8.pem", Algorithm::ES256),
        ("ec256.pkcs8.pem", Algorithm::ES384),
        ("ec256.sec1.pem", Algorithm::ES512),
        ("ec256.pub.pem", Algorithm::ES512),
        ("ec521.pub.pem", Algorithm::ES256),
        ("secp256k1.pkcs8.pem", Algorithm::ES256),
        ("ed25519.pkcs8.pem", Algorithm::ES256),
        ("rsa2048.pkcs8.pem", Algorithm::ES256),
        ("ec256.pkcs8.pem", Algorithm::RS256),
        ("ec256.pub.pem", Algorithm::EdDSA),
    ];
    for (file, alg) in cases {
        let err = Key::from_pem(alg, &data(file)).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidKey, "{file} as {alg}");
    }
    let p256 = Key::from_pem(Algorithm::ES256, &data("ec256.pub.pem")).unwrap();
    let mut jwk = serde_json::to_value(p256.to_public_jwk().unwrap()).unwrap();
    jwk["alg"] = json!("ES384");
    let jwk = tessera_jwt::Jwk::from_json(&jwk.to_string()).unwrap();
    assert_eq!(
        Key::from_jwk(&jwk).unwrap_err().kind(),
        &ErrorKind::InvalidKey
    );
}

#[test]
fn danger_decode_unverified_is_strict_about_format_but_trusts_nothing() {
    let t = forge(r#"{"alg":"none"}"#, &valid_payload(), &hs256());
    let u = danger::decode_unverified(&t).unwrap();
    assert_eq!(u.header["alg"], "none");
    assert_eq!(u.claims["sub"], "alice");
    let dup = forge(r#"{"alg":"HS256"}"#, r#"{"a":1,"a":2}"#, &hs256());
    assert_eq!(
        danger::decode_unverified(&dup).unwrap_err().kind(),
        &ErrorKind::Malformed
    );
    let padded = format!("{t}=");
    assert_eq!(
        danger::decode_unverified(&padded).unwrap_err().kind(),
        &ErrorKind::Malformed
    );
}
