//! Arbitrary bytes into `tessera_jwt::decode` and `danger::decode_unverified`: must never panic,
//! hang or grow work beyond the size limit.
//!
//! The first byte picks a mode, so the fuzzer reaches the code on *both* sides of the signature
//! check (which it could never forge by itself):
//! - 0: the rest is the token text, verified against a fixed key set;
//! - 1: the rest is `header 0x00 payload`, each base64url-encoded and HS256-signed with the
//!   set's HMAC secret, so header parsing, key selection, payload parsing and claim validation
//!   all see fuzzer-chosen JSON;
//! - 2: as 1 with a fixed valid header, all bytes go to the payload.
#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use tessera_jwt::{Algorithm, Key, KeySet, Validation, danger, decode};

const SECRET: &[u8] = b"tessera-fuzz-hs256-secret-32byte";
/// Fixed "now" so a crash reproduces regardless of the day.
const NOW: u64 = 1_700_000_000;

/// One key per family, with short kids the fuzzer can find, plus a kid-less HMAC key.
static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let mut set = KeySet::new();
    set.push(Key::hmac(Algorithm::HS256, SECRET).expect("HS256 key"));
    set.push(
        Key::hmac(Algorithm::HS512, &[0x42; 64])
            .expect("HS512 key")
            .with_kid("h5"),
    );
    for (alg, kid) in [
        (Algorithm::RS256, "r"),
        (Algorithm::PS384, "p"),
        (Algorithm::ES256, "e"),
        (Algorithm::ES512, "e5"),
        (Algorithm::EdDSA, "ed"),
    ] {
        set.push(Key::generate(alg).expect("key generation").with_kid(kid));
    }
    set
});

static VALIDATIONS: LazyLock<[Validation; 2]> = LazyLock::new(|| {
    [
        Validation::new(),
        Validation::new()
            .leeway(30)
            .issuer("iss")
            .audience("a")
            .audience("b")
            .subject("s")
            .required_claims(&["jti", "token_type"])
            .expect_claim("token_type", "access"),
    ]
});

fn signed(header: &[u8], payload: &[u8]) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET).expect("any key length");
    mac.update(token.as_bytes());
    let tag = mac.finalize().into_bytes();
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(tag));
    token
}

fn check(token: &str) {
    let unverified = danger::decode_unverified(token);
    for validation in VALIDATIONS.iter() {
        let verified = decode::<serde_json::Value>(token, &KEYS, validation, NOW);
        // Whatever passes full verification must at least be inspectable.
        if verified.is_ok() {
            assert!(
                unverified.is_ok(),
                "decode accepted a token that decode_unverified rejects: {:?}",
                unverified.err()
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => check(&String::from_utf8_lossy(rest)),
        1 => {
            let (header, payload) = match rest.iter().position(|&b| b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            check(&signed(header, payload));
        }
        _ => check(&signed(br#"{"alg":"HS256","typ":"JWT"}"#, rest)),
    }
});
