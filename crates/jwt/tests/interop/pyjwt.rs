//! Interop with PyJWT (the library under django-rest-framework-simplejwt), every algorithm, both
//! directions, through `pyjwt_interop.py`; plus byte-identical output for deterministic
//! algorithms, which is what lets Tessera and a simplejwt server share an HS256 secret.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tessera_jwt::{Algorithm, ErrorKind, Key, KeySet, Validation};

use crate::fixtures::{AccessClaims, Fixture, access_claims, fixture, now, tamper_signature};

/// `TESSERA_PYTHON`, else `<repo>/.venv/bin/python`. Missing both is a failure, not a skip:
/// interop is a required test.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("TESSERA_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "PyJWT interop needs Python with PyJWT[crypto]: run scripts/test.sh (it creates .venv \
         from requirements-test.txt), or set TESSERA_PYTHON to such an interpreter; {} does not \
         exist",
        venv.display()
    );
    venv
}

/// Runs the ops through PyJWT in one Python process and returns one result per op.
fn pyjwt(ops: &[Value]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pyjwt_interop.py");
    let python = python();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e}; run scripts/test.sh",
                python.display()
            )
        });
    let request = serde_json::to_vec(&json!({ "ops": ops })).expect("request serializes");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(&request)
        .expect("write request");
    let output = child.wait_with_output().expect("python runs");
    assert!(
        output.status.success(),
        "pyjwt_interop.py failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let response: Value = serde_json::from_slice(&output.stdout).expect("response is JSON");
    let results = response["results"]
        .as_array()
        .expect("results array")
        .clone();
    assert_eq!(results.len(), ops.len());
    results
}

/// What PyJWT signs with: the HMAC secret or our PKCS#8 private key PEM.
fn signing_key(f: &Fixture) -> Value {
    match (&f.secret, &f.private_pem) {
        (Some(secret), _) => json!({ "secret_hex": hex(secret) }),
        (None, Some(pem)) => json!({ "pem": pem }),
        (None, None) => unreachable!("fixtures have a secret or a PEM"),
    }
}

/// What PyJWT verifies with: the HMAC secret or our SPKI public key PEM.
fn verifying_key(f: &Fixture) -> Value {
    match (&f.secret, &f.public_pem) {
        (Some(secret), _) => json!({ "secret_hex": hex(secret) }),
        (None, Some(pem)) => json!({ "pem": pem }),
        (None, None) => unreachable!("fixtures have a secret or a PEM"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_op(alg: Algorithm, f: &Fixture, token: &str) -> Value {
    json!({ "op": "decode", "alg": alg.as_str(), "key": verifying_key(f), "token": token })
}

fn encode_op(alg: Algorithm, f: &Fixture, claims: &AccessClaims) -> Value {
    // PyJWT adds `typ: JWT` itself; `kid` only when our key has one (HMAC keys do not).
    let headers = match f.key.kid() {
        Some(kid) => json!({ "kid": kid }),
        None => json!({}),
    };
    json!({
        "op": "encode",
        "alg": alg.as_str(),
        "key": signing_key(f),
        "claims": claims,
        "headers": headers,
    })
}

fn ours_to_pyjwt(alg: Algorithm) {
    let f = fixture(alg);
    let claims = access_claims();
    let token = tessera_jwt::encode(&f.key, &claims).expect("encode");
    let tampered = tamper_signature(&token);
    let results = pyjwt(&[decode_op(alg, f, &token), decode_op(alg, f, &tampered)]);

    assert_eq!(
        results[0]["ok"], true,
        "{alg}: PyJWT rejects {token}: {}",
        results[0]
    );
    assert_eq!(results[0]["claims"], json!(claims));
    assert_eq!(results[0]["header"]["alg"], alg.as_str());
    assert_eq!(results[0]["header"]["typ"], "JWT");
    assert_eq!(results[0]["header"]["kid"].as_str(), f.key.kid());
    assert_eq!(
        results[1]["ok"], false,
        "{alg}: PyJWT accepts a tampered signature"
    );
}

fn pyjwt_to_ours(alg: Algorithm) {
    let f = fixture(alg);
    let claims = access_claims();
    let results = pyjwt(&[encode_op(alg, f, &claims)]);
    let token = results[0]["token"].as_str().expect("PyJWT returns a token");

    let keys = KeySet::from(f.verify_key.clone());
    let data = tessera_jwt::decode::<AccessClaims>(token, &keys, &Validation::new(), now())
        .unwrap_or_else(|e| panic!("{alg}: we reject PyJWT's token {token}: {e}"));
    assert_eq!(data.claims, claims);
    assert_eq!(data.header.alg, alg);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    assert_eq!(data.header.kid.as_deref(), f.key.kid());

    let err = tessera_jwt::decode::<AccessClaims>(
        &tamper_signature(token),
        &keys,
        &Validation::new(),
        now(),
    )
    .expect_err("tampered signature");
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature, "{alg}: {err}");
}

macro_rules! both_directions {
    ($($module:ident => $alg:ident),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn ours_verified_by_pyjwt() {
                ours_to_pyjwt(Algorithm::$alg);
            }

            #[test]
            fn pyjwt_verified_by_ours() {
                pyjwt_to_ours(Algorithm::$alg);
            }
        }
    )*};
}

both_directions! {
    hs256 => HS256, hs384 => HS384, hs512 => HS512,
    rs256 => RS256, rs384 => RS384, rs512 => RS512,
    ps256 => PS256, ps384 => PS384, ps512 => PS512,
    es256 => ES256, es384 => ES384, es512 => ES512,
    eddsa => EdDSA,
}

/// The compatibility promise with simplejwt (reference simplejwt-5.5 §3): for the same secret
/// and payload, `tessera_jwt::encode` and PyJWT's `jwt.encode` produce the same bytes, so a
/// simplejwt server and Tessera can share one HS256 secret.
#[test]
fn hs256_simplejwt_access_token_is_byte_identical() {
    let secret = b"django-insecure-shared-secret-for-interop-test-0123456789";
    let key = Key::hmac(Algorithm::HS256, secret).expect("HS256 key");
    let claims = AccessClaims {
        token_type: "access".to_owned(),
        exp: 1_767_225_900,
        iat: 1_767_225_600,
        jti: "9b2f6c1d0e8a47f3b5c4d2e1f0a9b8c7".to_owned(),
        user_id: "1".to_owned(),
    };
    let ours = tessera_jwt::encode(&key, &claims).expect("encode");
    let theirs = pyjwt(&[json!({
        "op": "encode",
        "alg": "HS256",
        "key": { "secret_hex": hex(secret) },
        "claims": claims,
    })]);
    assert_eq!(theirs[0]["token"].as_str(), Some(ours.as_str()));
    // Pin the header too, so a change on both sides at once is still noticed.
    assert!(
        ours.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."),
        "{ours}"
    );
}

/// Every deterministic algorithm (HMAC, RSASSA-PKCS1-v1_5, Ed25519) gives byte-identical tokens
/// too, `kid` header included: header members sorted as PyJWT sorts them.
#[test]
fn deterministic_algorithms_are_byte_identical() {
    let claims = access_claims();
    let algs = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::EdDSA,
    ];
    let ops: Vec<Value> = algs
        .iter()
        .map(|&alg| encode_op(alg, fixture(alg), &claims))
        .collect();
    let theirs = pyjwt(&ops);
    for (alg, result) in algs.into_iter().zip(theirs) {
        let ours = tessera_jwt::encode(&fixture(alg).key, &claims).expect("encode");
        assert_eq!(result["token"].as_str(), Some(ours.as_str()), "{alg}");
    }
}
