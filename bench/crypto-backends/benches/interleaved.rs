//! The close calls of `backends.rs` (HMAC, RSA/ECDSA/Ed25519 verify, where the backends are
//! within ~20 % of each other), measured so that load from other processes cannot decide them:
//! the contestants take turns in ~1 ms slices, 300 rounds, rotating who goes first, and each
//! ratio is the median over rounds of the ratio within a round.
//!
//! `cargo bench --bench interleaved`

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use hmac::{KeyInit, Mac};

const ROUNDS: usize = 300;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs each contestant in turn; prints median ns per call and each one's ratio to the first.
fn race(name: &str, contestants: &mut [(&str, &mut dyn FnMut())]) {
    let per_slice: Vec<u32> = contestants
        .iter_mut()
        .map(|(_, f)| {
            let start = Instant::now();
            let mut n = 0u32;
            while start.elapsed() < Duration::from_millis(20) {
                f();
                n += 1;
            }
            (n / 20).max(1)
        })
        .collect();
    let mut ns = vec![Vec::with_capacity(ROUNDS); contestants.len()];
    for round in 0..ROUNDS {
        for turn in 0..contestants.len() {
            let i = (round + turn) % contestants.len();
            let start = Instant::now();
            for _ in 0..per_slice[i] {
                (contestants[i].1)();
            }
            ns[i].push(start.elapsed().as_nanos() as f64 / f64::from(per_slice[i]));
        }
    }
    for (i, (who, _)) in contestants.iter().enumerate() {
        let ratio = median((0..ROUNDS).map(|r| ns[i][r] / ns[0][r]).collect());
        println!(
            "| {name} | {who} | {:.0} ns | {ratio:.2}x |",
            median(ns[i].clone())
        );
    }
}

fn main() {
    let mut msg = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.".to_vec();
    msg.resize(300, b'x');
    let msg = msg.as_slice();
    println!("| Operation | Backend | median per call | ratio to first line |");
    println!("|---|---|---|---|");

    macro_rules! hmac_race {
        ($name:literal, $ring:expr, $aws:expr, $rc:ty, $len:literal) => {{
            let secret = [0x5au8; $len];
            let ring_key = ring::hmac::Key::new($ring, &secret);
            let aws_key = aws_lc_rs::hmac::Key::new($aws, &secret);
            let rc_key = <hmac::Hmac<$rc> as KeyInit>::new_from_slice(&secret).unwrap();
            race(
                $name,
                &mut [
                    ("rustcrypto", &mut || {
                        let mut m = rc_key.clone();
                        m.update(black_box(msg));
                        black_box(m.finalize().into_bytes());
                    }),
                    ("ring", &mut || {
                        black_box(ring::hmac::sign(&ring_key, black_box(msg)));
                    }),
                    ("aws-lc-rs", &mut || {
                        black_box(aws_lc_rs::hmac::sign(&aws_key, black_box(msg)));
                    }),
                ],
            );
        }};
    }
    hmac_race!(
        "HS256",
        ring::hmac::HMAC_SHA256,
        aws_lc_rs::hmac::HMAC_SHA256,
        sha2::Sha256,
        32
    );
    hmac_race!(
        "HS384",
        ring::hmac::HMAC_SHA384,
        aws_lc_rs::hmac::HMAC_SHA384,
        sha2::Sha384,
        48
    );
    hmac_race!(
        "HS512",
        ring::hmac::HMAC_SHA512,
        aws_lc_rs::hmac::HMAC_SHA512,
        sha2::Sha512,
        64
    );

    let rng = ring::rand::SystemRandom::new();

    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let rsa_pkcs8: aws_lc_rs::encoding::Pkcs8V1Der = rsa.as_der().unwrap();
    let ring_rsa = ring::signature::RsaKeyPair::from_pkcs8(rsa_pkcs8.as_ref()).unwrap();
    let rsa_public = ring::signature::KeyPair::public_key(&ring_rsa)
        .as_ref()
        .to_vec();
    let mut sig = vec![0u8; ring_rsa.public().modulus_len()];
    ring_rsa
        .sign(&ring::signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
        .unwrap();
    let ring_pk = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &rsa_public,
    );
    let aws_pk = aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        &rsa_public,
    )
    .unwrap();
    race(
        "RS256 verify",
        &mut [
            ("aws-lc-rs", &mut || {
                aws_pk.verify_sig(black_box(msg), &sig).unwrap()
            }),
            ("ring", &mut || {
                ring_pk.verify(black_box(msg), &sig).unwrap()
            }),
        ],
    );

    let p256 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    let ring_ec = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        p256.as_ref(),
        &rng,
    )
    .unwrap();
    let ec_public = ring::signature::KeyPair::public_key(&ring_ec)
        .as_ref()
        .to_vec();
    let ec_sig = ring_ec.sign(&rng, msg).unwrap();
    let ring_ec_pk = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_FIXED,
        &ec_public,
    );
    let aws_ec_pk = aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        &ec_public,
    )
    .unwrap();
    race(
        "ES256 verify",
        &mut [
            ("aws-lc-rs", &mut || {
                aws_ec_pk
                    .verify_sig(black_box(msg), ec_sig.as_ref())
                    .unwrap()
            }),
            ("ring", &mut || {
                ring_ec_pk.verify(black_box(msg), ec_sig.as_ref()).unwrap()
            }),
        ],
    );

    let ed = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ring_ed = ring::signature::Ed25519KeyPair::from_pkcs8(ed.as_ref()).unwrap();
    let ed_public = ring::signature::KeyPair::public_key(&ring_ed)
        .as_ref()
        .to_vec();
    let ed_sig = ring_ed.sign(msg);
    let ring_ed_pk = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &ed_public);
    let aws_ed_pk =
        aws_lc_rs::signature::ParsedPublicKey::new(&aws_lc_rs::signature::ED25519, &ed_public)
            .unwrap();
    race(
        "EdDSA verify",
        &mut [
            ("aws-lc-rs", &mut || {
                aws_ed_pk
                    .verify_sig(black_box(msg), ed_sig.as_ref())
                    .unwrap()
            }),
            ("ring", &mut || {
                ring_ed_pk.verify(black_box(msg), ed_sig.as_ref()).unwrap()
            }),
        ],
    );
}
