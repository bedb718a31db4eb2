//! Sign and verify+validate of a simplejwt-sized access token for every algorithm, side by side
//! with (a) the bare primitive and (b) the `jsonwebtoken` crate, in one run. Targets, figures and
//! the machine are in `docs/PERFORMANCE.md`; run with
//! `cargo bench -p tessera-jwt --bench jwt -- --warm-up-time 1 --measurement-time 3`.
//!
//! Each group is one algorithm and one direction, with up to three lines:
//! - `tessera`: `tessera_jwt::encode` / `tessera_jwt::decode` (strict parsing, key selection,
//!   signature, claims validation against the clock);
//! - `primitive`: the least any JWS library must do. HS*: HMAC (pre-keyed RustCrypto state, the
//!   fastest HMAC measured in `bench/crypto-backends`) over the signing input, plus, for verify,
//!   base64url-decoding the three segments. Others: the bare aws-lc-rs sign, or verify with a
//!   pre-parsed public key, over the signing input;
//! - `jsonwebtoken`: `jsonwebtoken::encode` / `jsonwebtoken::decode` (with its default
//!   validation, `exp` checked) on the provider given by `TESSERA_BENCH_JSONWEBTOKEN`
//!   (`aws_lc` by default, the faster of its two here; `rust_crypto` to compare). It has no ES512.

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{self as aws, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use tessera_jwt::{Algorithm, Key, KeySet, Validation};

/// A simplejwt access token's payload (its size and shape: ~180 bytes of JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AccessClaims {
    token_type: String,
    exp: u64,
    iat: u64,
    jti: String,
    user_id: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn claims() -> AccessClaims {
    let iat = now();
    AccessClaims {
        token_type: "access".to_owned(),
        // Far enough ahead that a long benchmark run never sees it expire.
        exp: iat + 86_400,
        iat,
        jti: "4f1c2e9a7b3d48e6a0c5d2f1e8b7a693".to_owned(),
        user_id: "1".to_owned(),
    }
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("PEM body is base64")
}

/// The bare primitive, keys parsed once.
enum Primitive {
    Hs256(hmac::Hmac<sha2::Sha256>),
    Hs384(hmac::Hmac<sha2::Sha384>),
    Hs512(hmac::Hmac<sha2::Sha512>),
    Rsa(
        aws::RsaKeyPair,
        &'static dyn aws::RsaEncoding,
        aws::ParsedPublicKey,
    ),
    Ecdsa(aws::EcdsaKeyPair, aws::ParsedPublicKey),
    Ed25519(aws::Ed25519KeyPair, aws::ParsedPublicKey),
}

fn mac<M: Mac + Clone>(state: &M, msg: &[u8]) -> Vec<u8> {
    let mut m = state.clone();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn mac_verify<M: Mac + Clone>(state: &M, msg: &[u8], tag: &[u8]) -> bool {
    let mut m = state.clone();
    m.update(msg);
    m.verify_slice(tag).is_ok()
}

impl Primitive {
    fn new(alg: Algorithm, secret: Option<&[u8]>, private_pem: Option<&str>) -> Primitive {
        if let Some(s) = secret {
            return match alg {
                Algorithm::HS256 => Primitive::Hs256(KeyInit::new_from_slice(s).unwrap()),
                Algorithm::HS384 => Primitive::Hs384(KeyInit::new_from_slice(s).unwrap()),
                _ => Primitive::Hs512(KeyInit::new_from_slice(s).unwrap()),
            };
        }
        let der = pem_to_der(private_pem.expect("asymmetric key has a PEM"));
        let rsa = |enc: &'static dyn aws::RsaEncoding, params: &'static aws::RsaParameters| {
            let kp = aws::RsaKeyPair::from_pkcs8(&der).expect("RSA PKCS#8");
            let public = aws::ParsedPublicKey::new(params, kp.public_key().as_ref()).unwrap();
            Primitive::Rsa(kp, enc, public)
        };
        let ec = |sign: &'static aws::EcdsaSigningAlgorithm,
                  verify: &'static aws::EcdsaVerificationAlgorithm| {
            let kp = aws::EcdsaKeyPair::from_pkcs8(sign, &der).expect("EC PKCS#8");
            let public = aws::ParsedPublicKey::new(verify, kp.public_key().as_ref()).unwrap();
            Primitive::Ecdsa(kp, public)
        };
        match alg {
            Algorithm::RS256 => rsa(&aws::RSA_PKCS1_SHA256, &aws::RSA_PKCS1_2048_8192_SHA256),
            Algorithm::RS384 => rsa(&aws::RSA_PKCS1_SHA384, &aws::RSA_PKCS1_2048_8192_SHA384),
            Algorithm::RS512 => rsa(&aws::RSA_PKCS1_SHA512, &aws::RSA_PKCS1_2048_8192_SHA512),
            Algorithm::PS256 => rsa(&aws::RSA_PSS_SHA256, &aws::RSA_PSS_2048_8192_SHA256),
            Algorithm::PS384 => rsa(&aws::RSA_PSS_SHA384, &aws::RSA_PSS_2048_8192_SHA384),
            Algorithm::PS512 => rsa(&aws::RSA_PSS_SHA512, &aws::RSA_PSS_2048_8192_SHA512),
            Algorithm::ES256 => ec(
                &aws::ECDSA_P256_SHA256_FIXED_SIGNING,
                &aws::ECDSA_P256_SHA256_FIXED,
            ),
            Algorithm::ES384 => ec(
                &aws::ECDSA_P384_SHA384_FIXED_SIGNING,
                &aws::ECDSA_P384_SHA384_FIXED,
            ),
            Algorithm::ES512 => ec(
                &aws::ECDSA_P521_SHA512_FIXED_SIGNING,
                &aws::ECDSA_P521_SHA512_FIXED,
            ),
            _ => {
                let kp = aws::Ed25519KeyPair::from_pkcs8(&der).expect("Ed25519 PKCS#8");
                let public =
                    aws::ParsedPublicKey::new(&aws::ED25519, kp.public_key().as_ref()).unwrap();
                Primitive::Ed25519(kp, public)
            }
        }
    }

    fn sign(&self, rng: &aws_lc_rs::rand::SystemRandom, msg: &[u8]) -> Vec<u8> {
        match self {
            Primitive::Hs256(m) => mac(m, msg),
            Primitive::Hs384(m) => mac(m, msg),
            Primitive::Hs512(m) => mac(m, msg),
            Primitive::Rsa(kp, enc, _) => {
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(*enc, rng, msg, &mut sig).expect("RSA sign");
                sig
            }
            Primitive::Ecdsa(kp, _) => kp.sign(rng, msg).expect("ECDSA sign").as_ref().to_vec(),
            Primitive::Ed25519(kp, _) => kp.sign(msg).as_ref().to_vec(),
        }
    }

    /// HS*: base64url-decode all three segments and check the tag, the floor for any HS verify.
    /// Others: the bare signature check with a pre-parsed key (signature decoded beforehand).
    fn verify(&self, token: &str, msg: &[u8], sig: &[u8]) -> bool {
        let hs = |check: &dyn Fn(&[u8], &[u8]) -> bool| {
            let mut parts = token.split('.');
            let (h, p, s) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            let _header = URL_SAFE_NO_PAD.decode(h).unwrap();
            let _payload = URL_SAFE_NO_PAD.decode(p).unwrap();
            let tag = URL_SAFE_NO_PAD.decode(s).unwrap();
            check(&token.as_bytes()[..h.len() + 1 + p.len()], &tag)
        };
        match self {
            Primitive::Hs256(m) => hs(&|msg, tag| mac_verify(m, msg, tag)),
            Primitive::Hs384(m) => hs(&|msg, tag| mac_verify(m, msg, tag)),
            Primitive::Hs512(m) => hs(&|msg, tag| mac_verify(m, msg, tag)),
            Primitive::Rsa(_, _, public)
            | Primitive::Ecdsa(_, public)
            | Primitive::Ed25519(_, public) => public.verify_sig(msg, sig).is_ok(),
        }
    }
}

/// The `jsonwebtoken` side, keys made from the same material once.
struct Theirs {
    alg: jsonwebtoken::Algorithm,
    encoding: jsonwebtoken::EncodingKey,
    decoding: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

fn theirs(alg: Algorithm, secret: Option<&[u8]>, key: &Key) -> Option<Theirs> {
    use jsonwebtoken::{DecodingKey, EncodingKey};
    let their_alg: jsonwebtoken::Algorithm = alg.as_str().parse().ok()?;
    let (encoding, decoding) = match secret {
        Some(s) => (
            EncodingKey::from_secret(s).unwrap(),
            DecodingKey::from_secret(s).unwrap(),
        ),
        None => {
            let private = key.to_pkcs8_pem().unwrap();
            let public = key.to_public_pem().unwrap();
            let (private, public) = (private.as_bytes(), public.as_bytes());
            match alg {
                Algorithm::ES256 | Algorithm::ES384 => (
                    EncodingKey::from_ec_pem(private).unwrap(),
                    DecodingKey::from_ec_pem(public).unwrap(),
                ),
                Algorithm::EdDSA => (
                    EncodingKey::from_ed_pem(private).unwrap(),
                    DecodingKey::from_ed_pem(public).unwrap(),
                ),
                _ => (
                    EncodingKey::from_rsa_pem(private).unwrap(),
                    DecodingKey::from_rsa_pem(public).unwrap(),
                ),
            }
        }
    };
    Some(Theirs {
        alg: their_alg,
        encoding,
        decoding,
        validation: jsonwebtoken::Validation::new(their_alg),
    })
}

fn install_jsonwebtoken_provider() -> &'static str {
    use jsonwebtoken::crypto;
    let choice = std::env::var("TESSERA_BENCH_JSONWEBTOKEN").unwrap_or_default();
    let (name, provider) = match choice.as_str() {
        "rust_crypto" => ("rust_crypto", &crypto::rust_crypto::DEFAULT_PROVIDER),
        "" | "aws_lc" => ("aws_lc", &crypto::aws_lc::DEFAULT_PROVIDER),
        other => panic!("TESSERA_BENCH_JSONWEBTOKEN={other}: expected aws_lc or rust_crypto"),
    };
    provider
        .install_default()
        .expect("first and only provider install");
    name
}

fn bench(c: &mut Criterion) {
    let provider = install_jsonwebtoken_provider();
    eprintln!("jsonwebtoken provider: {provider}");
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let claims = claims();
    // One RSA key for the six RS/PS algorithms: generation is slow and the size is what matters.
    let rsa_pem = Key::generate(Algorithm::RS256)
        .unwrap()
        .to_pkcs8_pem()
        .unwrap();

    for alg in Algorithm::ALL {
        let (key, secret) = if alg.is_hmac() {
            let secret = vec![0x5a; alg_hash_len(alg)];
            (Key::hmac(alg, &secret).unwrap(), Some(secret))
        } else if matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ) {
            (Key::from_pem(alg, rsa_pem.as_bytes()).unwrap(), None)
        } else {
            (Key::generate(alg).unwrap(), None)
        };
        let private_pem = (!alg.is_hmac()).then(|| key.to_pkcs8_pem().unwrap());
        let primitive = Primitive::new(alg, secret.as_deref(), private_pem.as_deref());
        let keys = KeySet::from(key.clone());
        let validation = Validation::new();
        let theirs = theirs(alg, secret.as_deref(), &key);

        let token = tessera_jwt::encode(&key, &claims).unwrap();
        let dot = token.rfind('.').unwrap();
        let signing_input = token.as_bytes()[..dot].to_vec();
        let signature = URL_SAFE_NO_PAD.decode(&token[dot + 1..]).unwrap();
        // Every contestant must accept the token it is timed on.
        let ours = tessera_jwt::decode::<AccessClaims>(&token, &keys, &validation, now()).unwrap();
        assert_eq!(ours.claims, claims);
        assert!(primitive.verify(&token, &signing_input, &signature));
        if let Some(t) = &theirs {
            let data =
                jsonwebtoken::decode::<AccessClaims>(&token, &t.decoding, &t.validation).unwrap();
            assert_eq!(data.claims, claims);
        }

        let mut g = c.benchmark_group(format!("{alg} verify"));
        g.bench_function("tessera", |b| {
            b.iter(|| {
                tessera_jwt::decode::<AccessClaims>(black_box(&token), &keys, &validation, now())
                    .unwrap()
            })
        });
        g.bench_function("primitive", |b| {
            b.iter(|| {
                assert!(primitive.verify(black_box(&token), black_box(&signing_input), &signature))
            })
        });
        if let Some(t) = &theirs {
            g.bench_function("jsonwebtoken", |b| {
                b.iter(|| {
                    jsonwebtoken::decode::<AccessClaims>(
                        black_box(&token),
                        &t.decoding,
                        &t.validation,
                    )
                    .unwrap()
                })
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("{alg} sign"));
        g.bench_function("tessera", |b| {
            b.iter(|| tessera_jwt::encode(&key, black_box(&claims)).unwrap())
        });
        g.bench_function("primitive", |b| {
            b.iter(|| primitive.sign(&rng, black_box(&signing_input)))
        });
        if let Some(t) = &theirs {
            // Same header content as ours (kid included) so both sign the same amount of data.
            let mut header = jsonwebtoken::Header::new(t.alg);
            header.kid = key.kid().map(str::to_owned);
            g.bench_function("jsonwebtoken", |b| {
                b.iter(|| jsonwebtoken::encode(&header, black_box(&claims), &t.encoding).unwrap())
            });
        }
        g.finish();
    }
}

fn alg_hash_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS256 => 32,
        Algorithm::HS384 => 48,
        _ => 64,
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
