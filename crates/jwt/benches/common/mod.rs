//! What `jwt.rs` (criterion) and `jwt_ops.rs` (instruction counts) measure: per algorithm, the
//! same token, keys and claims for the three contestants. See `jwt.rs` for what each one does.

// Each bench binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{self as aws, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use tessera_jwt::{Algorithm, Key, KeySet, TokenData, Validation};

/// A simplejwt access token's payload (its size and shape: ~180 bytes of JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub(crate) token_type: String,
    pub(crate) exp: u64,
    pub(crate) iat: u64,
    pub(crate) jti: String,
    pub(crate) user_id: String,
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

fn is_rsa(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    )
}

fn alg_hash_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS256 => 32,
        Algorithm::HS384 => 48,
        _ => 64,
    }
}

/// Installs the `jsonwebtoken` provider named by `TESSERA_BENCH_JSONWEBTOKEN` (default `aws_lc`).
pub(crate) fn install_jsonwebtoken_provider() -> &'static str {
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

/// One algorithm's contestants, all set up (keys parsed) before anything is timed.
pub(crate) struct Contestants {
    pub(crate) alg: Algorithm,
    key: Key,
    keys: KeySet,
    validation: Validation,
    primitive: Primitive,
    theirs: Option<Theirs>,
    their_header: Option<jsonwebtoken::Header>,
    claims: AccessClaims,
    token: String,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    rng: aws_lc_rs::rand::SystemRandom,
}

impl Contestants {
    /// Every algorithm, in `Algorithm::ALL` order. Call `install_jsonwebtoken_provider` first.
    pub(crate) fn all() -> Vec<Contestants> {
        // One RSA key for the six RS/PS algorithms: generation is slow and size is what matters.
        let rsa_pem = Key::generate(Algorithm::RS256)
            .unwrap()
            .to_pkcs8_pem()
            .unwrap();
        Algorithm::ALL
            .into_iter()
            .map(|alg| Contestants::new(alg, &rsa_pem))
            .collect()
    }

    /// One algorithm (an RSA key is generated only for RS/PS).
    pub(crate) fn one(alg: Algorithm) -> Contestants {
        let rsa_pem = if is_rsa(alg) {
            Key::generate(alg).unwrap().to_pkcs8_pem().unwrap()
        } else {
            String::new()
        };
        Contestants::new(alg, &rsa_pem)
    }

    fn new(alg: Algorithm, rsa_pem: &str) -> Contestants {
        let claims = claims();
        let (key, secret) = if alg.is_hmac() {
            let secret = vec![0x5a; alg_hash_len(alg)];
            (Key::hmac(alg, &secret).unwrap(), Some(secret))
        } else if is_rsa(alg) {
            (Key::from_pem(alg, rsa_pem.as_bytes()).unwrap(), None)
        } else {
            (Key::generate(alg).unwrap(), None)
        };
        let private_pem = (!alg.is_hmac()).then(|| key.to_pkcs8_pem().unwrap());
        let primitive = Primitive::new(alg, secret.as_deref(), private_pem.as_deref());
        let theirs = theirs(alg, secret.as_deref(), &key);
        let their_header = theirs.as_ref().map(|t| {
            // Same header content as ours (kid included) so both sign the same amount of data.
            let mut header = jsonwebtoken::Header::new(t.alg);
            header.kid = key.kid().map(str::to_owned);
            header
        });
        let token = tessera_jwt::encode(&key, &claims).unwrap();
        let dot = token.rfind('.').unwrap();
        let c = Contestants {
            alg,
            keys: KeySet::from(key.clone()),
            key,
            validation: Validation::new(),
            primitive,
            theirs,
            their_header,
            signing_input: token.as_bytes()[..dot].to_vec(),
            signature: URL_SAFE_NO_PAD.decode(&token[dot + 1..]).unwrap(),
            token,
            claims,
            rng: aws_lc_rs::rand::SystemRandom::new(),
        };
        // Every contestant must accept the token it is timed on, and produce what the others
        // accept.
        assert_eq!(c.verify_tessera().claims, c.claims);
        c.verify_primitive();
        if c.has_theirs() {
            assert_eq!(c.verify_theirs().claims, c.claims);
            let theirs = c.sign_theirs();
            let ours = tessera_jwt::decode::<AccessClaims>(&theirs, &c.keys, &c.validation, now());
            assert_eq!(ours.unwrap().claims, c.claims);
        }
        c
    }

    pub(crate) fn has_theirs(&self) -> bool {
        self.theirs.is_some()
    }

    pub(crate) fn verify_tessera(&self) -> TokenData<AccessClaims> {
        tessera_jwt::decode(black_box(&self.token), &self.keys, &self.validation, now()).unwrap()
    }

    pub(crate) fn verify_primitive(&self) {
        assert!(self.primitive.verify(
            black_box(&self.token),
            black_box(&self.signing_input),
            &self.signature
        ));
    }

    pub(crate) fn verify_theirs(&self) -> jsonwebtoken::TokenData<AccessClaims> {
        let t = self
            .theirs
            .as_ref()
            .expect("jsonwebtoken has this algorithm");
        jsonwebtoken::decode(black_box(&self.token), &t.decoding, &t.validation).unwrap()
    }

    pub(crate) fn sign_tessera(&self) -> String {
        tessera_jwt::encode(&self.key, black_box(&self.claims)).unwrap()
    }

    pub(crate) fn sign_primitive(&self) -> Vec<u8> {
        self.primitive
            .sign(&self.rng, black_box(&self.signing_input))
    }

    pub(crate) fn sign_theirs(&self) -> String {
        let t = self
            .theirs
            .as_ref()
            .expect("jsonwebtoken has this algorithm");
        let header = self.their_header.as_ref().expect("header with theirs");
        jsonwebtoken::encode(header, black_box(&self.claims), &t.encoding).unwrap()
    }
}
