//! `tessera token verify`: success, each rejection (exit 1), usage errors (exit 2).

use serde_json::json;

use crate::util::{
    Dir, RFC7515_A1_EXP, RFC7515_A1_JWK, RFC7515_A1_TOKEN, b64, now, unsigned_token,
};

/// Long enough (64 bytes) for HS256, HS384 and HS512 alike (RFC 7518 §3.2).
const SECRET: &str = "a-test-secret-long-enough-for-every-hmac-algorithm-0123456789abc";
const OTHER_SECRET: &str = "another-32-byte-or-longer-secret-9876543210";

fn hs256(dir: &Dir, secret: &str, claims: &str) -> String {
    dir.encode(&["--alg", "HS256", "--secret", secret, "--claims", claims])
}

fn verify(dir: &Dir, token: &str, flags: &[&str]) -> crate::util::Run {
    let mut args = vec!["token", "verify", token];
    args.extend_from_slice(flags);
    dir.run(&args)
}

fn future() -> i64 {
    now() + 3600
}

#[test]
fn a_token_made_elsewhere_verifies_with_its_jwk_and_enough_leeway() {
    let dir = Dir::new();
    let jwk = dir.write("a1.jwk.json", RFC7515_A1_JWK);
    // The RFC token expired in 2011; a leeway reaching back past that accepts it.
    let leeway = (now() - RFC7515_A1_EXP + 1_000_000).to_string();
    let run = verify(
        &dir,
        RFC7515_A1_TOKEN,
        &["--key", &jwk, "--alg", "HS256", "--leeway", &leeway],
    );
    assert_eq!(
        run.ok(),
        "{\"iss\":\"joe\",\"exp\":1300819380,\"http://example.com/is_root\":true}\n"
    );
    assert_eq!(run.stderr, "");

    let err = verify(&dir, RFC7515_A1_TOKEN, &["--key", &jwk, "--alg", "HS256"])
        .fails(1)
        .to_owned();
    assert_eq!(err.lines().next().unwrap(), "error: token expired", "{err}");
}

#[test]
fn valid_token_prints_its_payload_in_order() {
    let dir = Dir::new();
    let exp = future();
    let claims = format!(r#"{{"z":1,"sub":"alice","a":[1,2],"exp":{exp}}}"#);
    let token = hs256(&dir, SECRET, &claims);
    let run = verify(&dir, &token, &["--secret", SECRET]);
    assert_eq!(run.line(), claims);
}

#[test]
fn secret_file_and_stdin_token() {
    let dir = Dir::new();
    let file = dir.write("secret.txt", &format!("{SECRET}\n"));
    let token = hs256(&dir, SECRET, &format!(r#"{{"exp":{}}}"#, future()));
    let run = dir.run_with_stdin(
        &["token", "verify", "-", "--secret-file", &file],
        &format!("{token}\n"),
    );
    run.ok();
}

#[test]
fn wrong_secret_is_an_invalid_signature() {
    let dir = Dir::new();
    let token = hs256(&dir, SECRET, &format!(r#"{{"exp":{}}}"#, future()));
    let err = verify(&dir, &token, &["--secret", OTHER_SECRET])
        .fails(1)
        .to_owned();
    assert!(err.starts_with("error: invalid signature"), "{err}");
    assert!(
        !err.contains(OTHER_SECRET) && !err.contains(&token),
        "{err}"
    );
}

#[test]
fn tampered_payload_is_an_invalid_signature() {
    let dir = Dir::new();
    let token = hs256(
        &dir,
        SECRET,
        &format!(r#"{{"admin":false,"exp":{}}}"#, future()),
    );
    let parts: Vec<&str> = token.split('.').collect();
    let forged_payload = b64(format!(r#"{{"admin":true,"exp":{}}}"#, future()).as_bytes());
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    let err = verify(&dir, &forged, &["--secret", SECRET])
        .fails(1)
        .to_owned();
    assert!(err.starts_with("error: invalid signature"), "{err}");
}

#[test]
fn expired_token_exits_1() {
    let dir = Dir::new();
    let token = hs256(&dir, SECRET, &format!(r#"{{"exp":{}}}"#, now() - 7200));
    let err = verify(&dir, &token, &["--secret", SECRET])
        .fails(1)
        .to_owned();
    assert!(err.starts_with("error: token expired"), "{err}");
    // Leeway larger than the lateness accepts it.
    verify(&dir, &token, &["--secret", SECRET, "--leeway", "86400"]).ok();
}

#[test]
fn token_without_exp_is_rejected() {
    let dir = Dir::new();
    let token = hs256(&dir, SECRET, r#"{"sub":"x"}"#);
    let err = verify(&dir, &token, &["--secret", SECRET])
        .fails(1)
        .to_owned();
    assert!(err.contains("missing required \"exp\" claim"), "{err}");
}

#[test]
fn not_yet_valid_token_exits_1() {
    let dir = Dir::new();
    let claims = format!(r#"{{"exp":{},"nbf":{}}}"#, now() + 7200, now() + 3600);
    let token = hs256(&dir, SECRET, &claims);
    let err = verify(&dir, &token, &["--secret", SECRET])
        .fails(1)
        .to_owned();
    assert!(err.starts_with("error: token not valid yet"), "{err}");
}

#[test]
fn audience_and_issuer_are_checked() {
    let dir = Dir::new();
    let claims = format!(r#"{{"iss":"tessera","aud":"api","exp":{}}}"#, future());
    let token = hs256(&dir, SECRET, &claims);
    verify(
        &dir,
        &token,
        &["--secret", SECRET, "--aud", "api", "--iss", "tessera"],
    )
    .ok();
    verify(
        &dir,
        &token,
        &["--secret", SECRET, "--aud", "other", "--aud", "api"],
    )
    .ok();
    let err = verify(&dir, &token, &["--secret", SECRET, "--aud", "web"])
        .fails(1)
        .to_owned();
    assert!(err.contains("\"aud\""), "{err}");
    let err = verify(&dir, &token, &["--secret", SECRET, "--iss", "evil"])
        .fails(1)
        .to_owned();
    assert!(err.contains("\"iss\""), "{err}");
}

#[test]
fn wrong_algorithm_exits_1() {
    let dir = Dir::new();
    let token = hs256(&dir, SECRET, &format!(r#"{{"exp":{}}}"#, future()));
    // The same secret bound to HS384 must not accept an HS256 token.
    let err = verify(&dir, &token, &["--secret", SECRET, "--alg", "HS384"])
        .fails(1)
        .to_owned();
    assert!(err.starts_with("error: wrong algorithm"), "{err}");
    assert!(err.contains("HS256") && err.contains("HS384"), "{err}");

    // An ES256 key does not verify an HS256 token.
    dir.generate("ES256");
    let err = verify(&dir, &token, &["--key", "es256-public.pem"])
        .fails(1)
        .to_owned();
    assert!(err.starts_with("error: wrong algorithm"), "{err}");
}

#[test]
fn alg_none_never_verifies() {
    let dir = Dir::new();
    let token = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(format!(r#"{{"exp":{}}}"#, future()).as_bytes())
    );
    let err = verify(&dir, &token, &["--secret", SECRET])
        .fails(1)
        .to_owned();
    assert!(err.starts_with("error: unsupported algorithm"), "{err}");
}

/// RFC 8725 §2.1: an attacker signs HS256 with the RSA *public* key as the HMAC secret. The
/// CLI must never let the token's header turn `--key rsa-public.pem` into an HMAC key.
#[test]
fn rsa_public_key_is_never_used_as_an_hmac_secret() {
    let dir = Dir::new();
    dir.generate("RS256");
    let public_pem = dir.read("rs256-public.pem");
    let secret_file = dir.write("pem-as-secret", &public_pem);
    let forged = dir.encode(&[
        "--alg",
        "HS256",
        "--secret-file",
        &secret_file,
        "--claims",
        &format!(r#"{{"admin":true,"exp":{}}}"#, future()),
    ]);
    let err = verify(&dir, &forged, &["--key", "rs256-public.pem"])
        .fails(1)
        .to_owned();
    assert!(err.contains("RSA key") && err.contains("--alg"), "{err}");
    verify(
        &dir,
        &forged,
        &["--key", "rs256-public.pem", "--alg", "RS256"],
    )
    .fails(1);
    // Even asking for HS256 explicitly does not read the PEM as a secret.
    let err = verify(
        &dir,
        &forged,
        &["--key", "rs256-public.pem", "--alg", "HS256"],
    )
    .fails(1)
    .to_owned();
    assert!(err.contains("not an HMAC secret"), "{err}");
}

#[test]
fn rsa_key_without_alg_takes_an_rsa_alg_from_the_token() {
    let dir = Dir::new();
    dir.generate("RS256");
    let claims = format!(r#"{{"exp":{}}}"#, future());
    for alg in ["RS256", "PS384"] {
        let token = dir.encode(&[
            "--alg",
            alg,
            "--key",
            "rs256-private.pem",
            "--claims",
            &claims,
        ]);
        verify(&dir, &token, &["--key", "rs256-public.pem"]).ok();
        // With --alg, only that algorithm is accepted.
        let other = if alg == "RS256" { "PS384" } else { "RS256" };
        verify(&dir, &token, &["--key", "rs256-public.pem", "--alg", other]).fails(1);
    }
}

#[test]
fn jwks_selects_the_key_by_kid() {
    let dir = Dir::new();
    let es_kid = dir.generate("ES256").unwrap();
    let ed_kid = dir.generate("EdDSA").unwrap();
    let es: serde_json::Value = serde_json::from_str(&dir.read("es256-public.jwk.json")).unwrap();
    let ed: serde_json::Value = serde_json::from_str(&dir.read("eddsa-public.jwk.json")).unwrap();
    let jwks = dir.write("jwks.json", &json!({ "keys": [es, ed] }).to_string());
    let claims = format!(r#"{{"sub":"s","exp":{}}}"#, future());

    let es_token = dir.encode(&[
        "--alg",
        "ES256",
        "--key",
        "es256-private.pem",
        "--claims",
        &claims,
    ]);
    let ed_token = dir.encode(&[
        "--alg",
        "EdDSA",
        "--key",
        "eddsa-private.pem",
        "--claims",
        &claims,
    ]);
    assert_eq!(dir.decode_json(&es_token)["header"]["kid"], json!(es_kid));
    assert_eq!(dir.decode_json(&ed_token)["header"]["kid"], json!(ed_kid));
    assert_eq!(verify(&dir, &es_token, &["--jwks", &jwks]).line(), claims);
    assert_eq!(verify(&dir, &ed_token, &["--jwks", &jwks]).line(), claims);
    // --alg narrows the set.
    verify(&dir, &ed_token, &["--jwks", &jwks, "--alg", "ES256"]).fails(1);

    // A key that is not in the set is refused.
    let other = Dir::new();
    other.generate("ES256");
    let stranger = other.encode(&[
        "--alg",
        "ES256",
        "--key",
        "es256-private.pem",
        "--claims",
        &claims,
    ]);
    verify(&dir, &stranger, &["--jwks", &jwks]).fails(1);
}

#[test]
fn jwks_flag_rejects_a_single_jwk_and_key_flag_rejects_a_set() {
    let dir = Dir::new();
    dir.generate("EdDSA");
    let token = unsigned_token(r#"{"alg":"EdDSA"}"#, "{}");
    let err = verify(&dir, &token, &["--jwks", "eddsa-public.jwk.json"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("eddsa-public.jwk.json") && err.contains("--key"),
        "{err}"
    );
    let set = dir.write(
        "set.json",
        &format!(r#"{{"keys":[{}]}}"#, dir.read("eddsa-public.jwk.json")),
    );
    let err = verify(&dir, &token, &["--key", &set]).fails(1).to_owned();
    assert!(err.contains("--jwks"), "{err}");
}

/// `--key` reads a JWK as strictly as the library does: with `x` given twice, taking the last
/// (the real key) would verify, so refusing the file is what shows the strict parser is used.
#[test]
fn key_flag_refuses_a_jwk_with_a_repeated_member() {
    let dir = Dir::new();
    dir.generate("EdDSA");
    let claims = format!(r#"{{"sub":"s","exp":{}}}"#, future());
    let token = dir.encode(&[
        "--alg",
        "EdDSA",
        "--key",
        "eddsa-private.pem",
        "--claims",
        &claims,
    ]);
    assert_eq!(
        verify(&dir, &token, &["--key", "eddsa-public.jwk.json"]).line(),
        claims
    );
    let jwk = dir.read("eddsa-public.jwk.json");
    let doubled = jwk.replacen(
        '{',
        r#"{"x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","#,
        1,
    );
    let file = dir.write("doubled.jwk.json", &doubled);
    let err = verify(&dir, &token, &["--key", &file]).fails(1).to_owned();
    assert!(err.contains("not a JWK"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new();
    let token = unsigned_token(r#"{"alg":"HS256"}"#, "{}");
    // No key source.
    verify(&dir, &token, &[]).fails(2);
    // Two key sources.
    verify(&dir, &token, &["--secret", SECRET, "--jwks", "x.json"]).fails(2);
    // Unknown algorithm names, including "none".
    verify(&dir, &token, &["--secret", SECRET, "--alg", "none"]).fails(2);
    verify(&dir, &token, &["--secret", SECRET, "--alg", "hs256"]).fails(2);
    // An HMAC secret with an asymmetric algorithm.
    let err = verify(&dir, &token, &["--secret", SECRET, "--alg", "RS256"])
        .fails(2)
        .to_owned();
    assert!(!err.contains(SECRET), "{err}");
    // A non-numeric leeway.
    verify(&dir, &token, &["--secret", SECRET, "--leeway", "soon"]).fails(2);
}

#[test]
fn unreadable_key_file_exits_1() {
    let dir = Dir::new();
    let token = unsigned_token(r#"{"alg":"ES256"}"#, "{}");
    let err = verify(&dir, &token, &["--key", "missing.pem"])
        .fails(1)
        .to_owned();
    assert!(err.contains("missing.pem"), "{err}");
    let junk = dir.write(
        "junk.pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
    let err = verify(&dir, &token, &["--key", &junk]).fails(1).to_owned();
    assert!(err.contains("cannot use"), "{err}");
}

#[test]
fn der_keys_work_like_pem() {
    use base64::Engine as _;
    let dir = Dir::new();
    dir.generate("ES384");
    let pem = dir.read("es384-public.pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    std::fs::write(dir.path().join("es384-public.der"), der).unwrap();
    let claims = format!(r#"{{"exp":{}}}"#, future());
    let token = dir.encode(&[
        "--alg",
        "ES384",
        "--key",
        "es384-private.pem",
        "--claims",
        &claims,
    ]);
    // The curve names the algorithm, for DER as for PEM.
    assert_eq!(
        verify(&dir, &token, &["--key", "es384-public.der"]).line(),
        claims
    );
}

#[test]
fn rsa_jwk_without_alg_follows_the_same_rule_as_rsa_pem() {
    let dir = Dir::new();
    dir.generate("RS256");
    let mut jwk: serde_json::Value =
        serde_json::from_str(&dir.read("rs256-public.jwk.json")).unwrap();
    jwk.as_object_mut().unwrap().remove("alg");
    let jwk_file = dir.write("no-alg.jwk.json", &jwk.to_string());
    let claims = format!(r#"{{"exp":{}}}"#, future());

    let token = dir.encode(&[
        "--alg",
        "PS256",
        "--key",
        "rs256-private.pem",
        "--claims",
        &claims,
    ]);
    verify(&dir, &token, &["--key", &jwk_file]).ok();

    let hs = hs256(&dir, SECRET, &claims);
    let err = verify(&dir, &hs, &["--key", &jwk_file]).fails(1).to_owned();
    assert!(err.contains("RSA key") && err.contains("--alg"), "{err}");
}
