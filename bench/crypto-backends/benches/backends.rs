//! ring 0.17 vs aws-lc-rs 1.19 (and RustCrypto `hmac`+`sha2` for HMAC) on the exact work a JWS
//! library does per token: one MAC, sign or verify over a ~300-byte signing input, with keys parsed
//! once beforehand. The figures and the decision they led to are in `docs/PERFORMANCE.md`.
//!
//! Both backends sign and verify with the *same* keys (generated once, exchanged as PKCS#8), so
//! the only difference between two lines of a group is the backend.

use std::hint::black_box;

use aws_lc_rs::encoding::AsDer;
use criterion::{Criterion, criterion_group, criterion_main};

/// About the size of a simplejwt access token's signing input (`base64url(header).base64url(payload)`).
fn signing_input() -> Vec<u8> {
    let mut input = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.".to_vec();
    while input.len() < 300 {
        input.extend_from_slice(b"eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMDAwfQ");
    }
    input.truncate(300);
    input
}

fn hmac(c: &mut Criterion) {
    use hmac::{KeyInit, Mac};
    let msg = signing_input();

    macro_rules! hmac_group {
        ($name:literal, $ring:expr, $aws:expr, $rc:ty, $len:literal) => {{
            let secret = [0x5au8; $len];
            let mut g = c.benchmark_group($name);
            let ring_key = ring::hmac::Key::new($ring, &secret);
            let aws_key = aws_lc_rs::hmac::Key::new($aws, &secret);
            let rc_key = <hmac::Hmac<$rc> as KeyInit>::new_from_slice(&secret).unwrap();
            // All three must agree before their speed means anything.
            let expected = ring::hmac::sign(&ring_key, &msg);
            assert_eq!(
                aws_lc_rs::hmac::sign(&aws_key, &msg).as_ref(),
                expected.as_ref()
            );
            let mut m = rc_key.clone();
            m.update(&msg);
            assert_eq!(m.finalize().into_bytes().as_slice(), expected.as_ref());

            g.bench_function("ring", |b| {
                b.iter(|| ring::hmac::sign(&ring_key, black_box(&msg)))
            });
            g.bench_function("aws-lc-rs", |b| {
                b.iter(|| aws_lc_rs::hmac::sign(&aws_key, black_box(&msg)))
            });
            // The pre-keyed state (ipad/opad already absorbed) is cloned per call, which is what
            // a library holding a parsed key does.
            g.bench_function("rustcrypto", |b| {
                b.iter(|| {
                    let mut m = rc_key.clone();
                    m.update(black_box(&msg));
                    m.finalize().into_bytes()
                })
            });
            g.finish();
        }};
    }
    hmac_group!(
        "HS256",
        ring::hmac::HMAC_SHA256,
        aws_lc_rs::hmac::HMAC_SHA256,
        sha2::Sha256,
        32
    );
    hmac_group!(
        "HS384",
        ring::hmac::HMAC_SHA384,
        aws_lc_rs::hmac::HMAC_SHA384,
        sha2::Sha384,
        48
    );
    hmac_group!(
        "HS512",
        ring::hmac::HMAC_SHA512,
        aws_lc_rs::hmac::HMAC_SHA512,
        sha2::Sha512,
        64
    );
}

fn rsa(c: &mut Criterion) {
    let msg = signing_input();
    let rng = ring::rand::SystemRandom::new();
    let aws_rng = aws_lc_rs::rand::SystemRandom::new();
    // ring cannot generate RSA keys; generate with aws-lc-rs and hand ring the same PKCS#8.
    let generated = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8: aws_lc_rs::encoding::Pkcs8V1Der = generated.as_der().unwrap();
    let ring_kp = ring::signature::RsaKeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let aws_kp = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    // PKCS#1 RSAPublicKey, the form both backends' RSA verification algorithms take.
    let public = ring::signature::KeyPair::public_key(&ring_kp)
        .as_ref()
        .to_vec();

    let cases: [(
        &str,
        &'static dyn ring::signature::RsaEncoding,
        &'static ring::signature::RsaParameters,
        &'static dyn aws_lc_rs::signature::RsaEncoding,
        &'static aws_lc_rs::signature::RsaParameters,
    ); 2] = [
        (
            "RS256",
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        ),
        (
            "PS256",
            &ring::signature::RSA_PSS_SHA256,
            &ring::signature::RSA_PSS_2048_8192_SHA256,
            &aws_lc_rs::signature::RSA_PSS_SHA256,
            &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256,
        ),
    ];
    for (name, ring_pad, ring_verify, aws_pad, aws_verify) in cases {
        let mut sig = vec![0u8; ring_kp.public().modulus_len()];
        ring_kp.sign(ring_pad, &rng, &msg, &mut sig).unwrap();
        let ring_pk = ring::signature::UnparsedPublicKey::new(ring_verify, &public);
        let aws_pk = aws_lc_rs::signature::UnparsedPublicKey::new(aws_verify, &public);
        let aws_parsed = aws_lc_rs::signature::ParsedPublicKey::new(aws_verify, &public).unwrap();
        // Cross-check: each backend verifies what the other signed.
        aws_pk.verify(&msg, &sig).unwrap();
        let mut aws_sig = vec![0u8; aws_kp.public_modulus_len()];
        aws_kp.sign(aws_pad, &aws_rng, &msg, &mut aws_sig).unwrap();
        ring_pk.verify(&msg, &aws_sig).unwrap();

        let mut g = c.benchmark_group(format!("{name} sign"));
        g.bench_function("ring", |b| {
            b.iter(|| {
                ring_kp
                    .sign(ring_pad, &rng, black_box(&msg), &mut sig)
                    .unwrap()
            })
        });
        g.bench_function("aws-lc-rs", |b| {
            b.iter(|| {
                aws_kp
                    .sign(aws_pad, &aws_rng, black_box(&msg), &mut aws_sig)
                    .unwrap()
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("{name} verify"));
        // ring has no parsed-public-key type: every verify parses the key.
        g.bench_function("ring", |b| {
            b.iter(|| ring_pk.verify(black_box(&msg), &sig).unwrap())
        });
        g.bench_function("aws-lc-rs unparsed", |b| {
            b.iter(|| aws_pk.verify(black_box(&msg), &sig).unwrap())
        });
        g.bench_function("aws-lc-rs", |b| {
            b.iter(|| aws_parsed.verify_sig(black_box(&msg), &sig).unwrap())
        });
        g.finish();
    }
}

fn ecdsa(c: &mut Criterion) {
    let msg = signing_input();
    let rng = ring::rand::SystemRandom::new();
    let aws_rng = aws_lc_rs::rand::SystemRandom::new();
    let cases: [(
        &str,
        &'static ring::signature::EcdsaSigningAlgorithm,
        &'static ring::signature::EcdsaVerificationAlgorithm,
        &'static aws_lc_rs::signature::EcdsaSigningAlgorithm,
        &'static aws_lc_rs::signature::EcdsaVerificationAlgorithm,
    ); 2] = [
        (
            "ES256",
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        ),
        (
            "ES384",
            &ring::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            &ring::signature::ECDSA_P384_SHA384_FIXED,
            &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED,
        ),
    ];
    for (name, ring_sign, ring_verify, aws_sign, aws_verify) in cases {
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(ring_sign, &rng).unwrap();
        let ring_kp =
            ring::signature::EcdsaKeyPair::from_pkcs8(ring_sign, pkcs8.as_ref(), &rng).unwrap();
        let aws_kp =
            aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(aws_sign, pkcs8.as_ref()).unwrap();
        let public = ring::signature::KeyPair::public_key(&ring_kp)
            .as_ref()
            .to_vec();
        let ring_pk = ring::signature::UnparsedPublicKey::new(ring_verify, &public);
        let aws_parsed = aws_lc_rs::signature::ParsedPublicKey::new(aws_verify, &public).unwrap();
        let ring_sig = ring_kp.sign(&rng, &msg).unwrap();
        let aws_sig = aws_kp.sign(&aws_rng, &msg).unwrap();
        aws_parsed.verify_sig(&msg, ring_sig.as_ref()).unwrap();
        ring_pk.verify(&msg, aws_sig.as_ref()).unwrap();

        let mut g = c.benchmark_group(format!("{name} sign"));
        g.bench_function("ring", |b| {
            b.iter(|| ring_kp.sign(&rng, black_box(&msg)).unwrap())
        });
        g.bench_function("aws-lc-rs", |b| {
            b.iter(|| aws_kp.sign(&aws_rng, black_box(&msg)).unwrap())
        });
        g.finish();
        let mut g = c.benchmark_group(format!("{name} verify"));
        g.bench_function("ring", |b| {
            b.iter(|| ring_pk.verify(black_box(&msg), ring_sig.as_ref()).unwrap())
        });
        g.bench_function("aws-lc-rs", |b| {
            b.iter(|| {
                aws_parsed
                    .verify_sig(black_box(&msg), ring_sig.as_ref())
                    .unwrap()
            })
        });
        g.finish();
    }

    // P-521: aws-lc-rs only (ring 0.17 has no P-521), measured so the table is complete.
    let aws_kp = aws_lc_rs::signature::EcdsaKeyPair::generate(
        &aws_lc_rs::signature::ECDSA_P521_SHA512_FIXED_SIGNING,
    )
    .unwrap();
    let public = aws_lc_rs::signature::KeyPair::public_key(&aws_kp)
        .as_ref()
        .to_vec();
    let aws_parsed = aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P521_SHA512_FIXED,
        &public,
    )
    .unwrap();
    let sig = aws_kp.sign(&aws_rng, &msg).unwrap();
    aws_parsed.verify_sig(&msg, sig.as_ref()).unwrap();
    c.bench_function("ES512 sign/aws-lc-rs", |b| {
        b.iter(|| aws_kp.sign(&aws_rng, black_box(&msg)).unwrap())
    });
    c.bench_function("ES512 verify/aws-lc-rs", |b| {
        b.iter(|| {
            aws_parsed
                .verify_sig(black_box(&msg), sig.as_ref())
                .unwrap()
        })
    });
}

fn ed25519(c: &mut Criterion) {
    let msg = signing_input();
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ring_kp = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let aws_kp = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let public = ring::signature::KeyPair::public_key(&ring_kp)
        .as_ref()
        .to_vec();
    let ring_pk = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public);
    let aws_parsed =
        aws_lc_rs::signature::ParsedPublicKey::new(&aws_lc_rs::signature::ED25519, &public)
            .unwrap();
    let sig = ring_kp.sign(&msg);
    // Ed25519 is deterministic: both backends must produce the same bytes.
    assert_eq!(aws_kp.sign(&msg).as_ref(), sig.as_ref());
    aws_parsed.verify_sig(&msg, sig.as_ref()).unwrap();

    let mut g = c.benchmark_group("EdDSA sign");
    g.bench_function("ring", |b| b.iter(|| ring_kp.sign(black_box(&msg))));
    g.bench_function("aws-lc-rs", |b| b.iter(|| aws_kp.sign(black_box(&msg))));
    g.finish();
    let mut g = c.benchmark_group("EdDSA verify");
    g.bench_function("ring", |b| {
        b.iter(|| ring_pk.verify(black_box(&msg), sig.as_ref()).unwrap())
    });
    g.bench_function("aws-lc-rs", |b| {
        b.iter(|| {
            aws_parsed
                .verify_sig(black_box(&msg), sig.as_ref())
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, hmac, rsa, ecdsa, ed25519);
criterion_main!(benches);
