//! Interop with the `jsonwebtoken` crate (v12, aws-lc-rs provider): our tokens verify there and
//! theirs verify here, for every algorithm it implements. It has no ES512 (P-521).

use std::sync::Once;

use jsonwebtoken::{DecodingKey, EncodingKey, Header};
use tessera_jwt::{Algorithm, ErrorKind, KeySet, Validation};

use crate::fixtures::{
    AccessClaims, Fixture, access_claims, fixture, now, other_fixture, tamper_signature,
};

fn their_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    alg.as_str()
        .parse()
        .unwrap_or_else(|e| panic!("jsonwebtoken lacks {alg}: {e}"))
}

/// The crate is built with both of its crypto providers (the benchmark compares them), so one
/// must be installed before use.
fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err only means another provider is already installed: irrelevant to what we test.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    });
}

fn their_encoding_key(alg: Algorithm, f: &Fixture) -> EncodingKey {
    if let Some(secret) = &f.secret {
        return EncodingKey::from_secret(secret).expect("HMAC secret");
    }
    let pem = f
        .private_pem
        .as_deref()
        .expect("asymmetric fixture")
        .as_bytes();
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => EncodingKey::from_rsa_pem(pem),
    }
    .unwrap_or_else(|e| panic!("{alg}: jsonwebtoken rejects our PKCS#8 PEM: {e}"))
}

fn their_decoding_key(alg: Algorithm, f: &Fixture) -> DecodingKey {
    if let Some(secret) = &f.secret {
        return DecodingKey::from_secret(secret).expect("HMAC secret");
    }
    let pem = f
        .public_pem
        .as_deref()
        .expect("asymmetric fixture")
        .as_bytes();
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
        _ => DecodingKey::from_rsa_pem(pem),
    }
    .unwrap_or_else(|e| panic!("{alg}: jsonwebtoken rejects our SPKI PEM: {e}"))
}

fn their_decode(
    alg: Algorithm,
    token: &str,
    f: &Fixture,
) -> jsonwebtoken::errors::Result<jsonwebtoken::TokenData<AccessClaims>> {
    let validation = jsonwebtoken::Validation::new(their_alg(alg));
    jsonwebtoken::decode::<AccessClaims>(token, &their_decoding_key(alg, f), &validation)
}

fn ours_to_theirs(alg: Algorithm) {
    install_provider();
    let f = fixture(alg);
    let claims = access_claims();
    let token = tessera_jwt::encode(&f.key, &claims).expect("encode");

    let data = their_decode(alg, &token, f)
        .unwrap_or_else(|e| panic!("{alg}: jsonwebtoken rejects our token {token}: {e}"));
    assert_eq!(data.claims, claims);
    assert_eq!(data.header.alg, their_alg(alg));
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    assert_eq!(data.header.kid.as_deref(), f.key.kid());

    // Their acceptance means something only if they also reject what they should.
    let tampered = tamper_signature(&token);
    assert!(their_decode(alg, &tampered, f).is_err(), "{alg}: tampered");
    let foreign = tessera_jwt::encode(&other_fixture(alg).key, &claims).expect("encode");
    assert!(their_decode(alg, &foreign, f).is_err(), "{alg}: other key");
}

fn theirs_to_ours(alg: Algorithm) {
    install_provider();
    let f = fixture(alg);
    let claims = access_claims();
    let mut header = Header::new(their_alg(alg));
    header.kid = f.key.kid().map(str::to_owned);
    let token = jsonwebtoken::encode(&header, &claims, &their_encoding_key(alg, f))
        .unwrap_or_else(|e| panic!("{alg}: jsonwebtoken encode: {e}"));

    let keys = KeySet::from(f.verify_key.clone());
    let validation = Validation::new();
    let data = tessera_jwt::decode::<AccessClaims>(&token, &keys, &validation, now())
        .unwrap_or_else(|e| panic!("{alg}: we reject jsonwebtoken's token {token}: {e}"));
    assert_eq!(data.claims, claims);
    assert_eq!(data.header.alg, alg);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    assert_eq!(data.header.kid.as_deref(), f.key.kid());

    let tampered = tamper_signature(&token);
    let err = tessera_jwt::decode::<AccessClaims>(&tampered, &keys, &validation, now())
        .expect_err("tampered signature");
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature, "{alg}: {err}");

    let foreign = jsonwebtoken::encode(
        &header,
        &claims,
        &their_encoding_key(alg, other_fixture(alg)),
    )
    .expect("encode");
    let err = tessera_jwt::decode::<AccessClaims>(&foreign, &keys, &validation, now())
        .expect_err("token signed by another key");
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature, "{alg}: {err}");
}

macro_rules! both_directions {
    ($($module:ident => $alg:ident),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn ours_verified_by_jsonwebtoken() {
                ours_to_theirs(Algorithm::$alg);
            }

            #[test]
            fn jsonwebtoken_verified_by_ours() {
                theirs_to_ours(Algorithm::$alg);
            }
        }
    )*};
}

both_directions! {
    hs256 => HS256, hs384 => HS384, hs512 => HS512,
    rs256 => RS256, rs384 => RS384, rs512 => RS512,
    ps256 => PS256, ps384 => PS384, ps512 => PS512,
    es256 => ES256, es384 => ES384,
    eddsa => EdDSA,
}

/// ES512 is the one algorithm we cannot cross-check against this crate. When a release adds it,
/// this fails: add `es512 => ES512` above and the matching key constructors.
#[test]
fn jsonwebtoken_still_lacks_es512() {
    assert!("ES512".parse::<jsonwebtoken::Algorithm>().is_err());
    for alg in Algorithm::ALL {
        if alg != Algorithm::ES512 {
            their_alg(alg);
        }
    }
}
