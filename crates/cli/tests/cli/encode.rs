//! `tessera token encode`, and encode → verify round trips with keys from `keys generate`.

use serde_json::json;

use crate::util::{Dir, now};

/// Every algorithm family, with keys made by `tessera keys generate`.
#[test]
fn round_trip_with_generated_keys() {
    for alg in ["HS256", "RS256", "ES256", "EdDSA"] {
        let dir = Dir::new();
        let kid = dir.generate(alg);
        let lower = alg.to_ascii_lowercase();
        let claims = format!(r#"{{"sub":"alice","scope":"read","exp":{}}}"#, now() + 3600);

        let (sign, verify_with): (Vec<String>, Vec<Vec<String>>) = if alg == "HS256" {
            let secret = format!("{lower}-secret.txt");
            (
                vec!["--secret-file".into(), secret.clone()],
                vec![vec!["--secret-file".into(), secret]],
            )
        } else {
            (
                vec!["--key".into(), format!("{lower}-private.pem")],
                vec![
                    vec!["--key".into(), format!("{lower}-public.pem")],
                    vec!["--key".into(), format!("{lower}-public.jwk.json")],
                    // The private key verifies too.
                    vec!["--key".into(), format!("{lower}-private.pem")],
                ],
            )
        };
        let mut args = vec!["--alg", alg, "--claims", &claims];
        args.extend(sign.iter().map(String::as_str));
        let token = dir.encode(&args);

        let header = &dir.decode_json(&token)["header"];
        assert_eq!(header["alg"], json!(alg));
        assert_eq!(header["typ"], json!("JWT"));
        match &kid {
            Some(kid) => assert_eq!(header["kid"], json!(kid), "{alg}"),
            None => assert!(header.get("kid").is_none(), "{alg}: {header}"),
        }

        for flags in &verify_with {
            let mut verify = vec!["token", "verify", &token, "--alg", alg];
            verify.extend(flags.iter().map(String::as_str));
            assert_eq!(dir.run(&verify).line(), claims, "{alg} {flags:?}");
            // Also without --alg: HMAC defaults to HS256, other keys name their algorithm.
            let mut verify = vec!["token", "verify", &token];
            verify.extend(flags.iter().map(String::as_str));
            if alg != "RS256" || !flags[1].ends_with(".pem") {
                assert_eq!(
                    dir.run(&verify).line(),
                    claims,
                    "{alg} {flags:?} (no --alg)"
                );
            }
        }
    }
}

#[test]
fn exp_sets_exp_and_iat_from_now() {
    let dir = Dir::new();
    let secret = "a-32-byte-or-longer-test-secret-0123456789";
    let before = now();
    let token = dir.encode(&["--alg", "HS256", "--secret", secret, "--exp", "5m"]);
    let after = now();
    let payload = &dir.decode_json(&token)["payload"];
    let iat = payload["iat"].as_i64().unwrap();
    assert!(
        (before..=after).contains(&iat),
        "iat {iat} not in [{before}, {after}]"
    );
    assert_eq!(payload["exp"].as_i64().unwrap(), iat + 300);
    // exp comes before iat, as simplejwt orders them.
    let keys: Vec<&String> = payload.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["exp", "iat"]);

    let token = dir.encode(&["--alg", "HS256", "--secret", secret, "--exp", "1h30m"]);
    let payload = &dir.decode_json(&token)["payload"];
    assert_eq!(
        payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
        5400
    );
}

#[test]
fn exp_keeps_a_given_iat_and_replaces_a_given_exp_in_place() {
    let dir = Dir::new();
    let secret = "a-32-byte-or-longer-test-secret-0123456789";
    let token = dir.encode(&[
        "--alg",
        "HS256",
        "--secret",
        secret,
        "--claims",
        r#"{"exp":1,"sub":"x","iat":1000}"#,
        "--exp",
        "1d",
    ]);
    let payload = &dir.decode_json(&token)["payload"];
    let keys: Vec<&String> = payload.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["exp", "sub", "iat"]);
    assert_eq!(payload["iat"], json!(1000));
    assert!(payload["exp"].as_i64().unwrap() >= now() + 86_400 - 3600);
}

#[test]
fn claims_keep_their_order_and_come_from_files_or_stdin() {
    let dir = Dir::new();
    let secret = "a-32-byte-or-longer-test-secret-0123456789";
    let claims = r#"{"zeta":1,"alpha":{"b":2,"a":1},"mid":[3,2,1],"user_id":"7"}"#;
    let inline = dir.encode(&["--alg", "HS256", "--secret", secret, "--claims", claims]);
    let file = dir.write("claims.json", &format!("{claims}\n"));
    let from_file = dir.encode(&[
        "--alg",
        "HS256",
        "--secret",
        secret,
        "--claims",
        &format!("@{file}"),
    ]);
    let from_stdin = dir
        .run_with_stdin(
            &[
                "token", "encode", "--alg", "HS256", "--secret", secret, "--claims", "@-",
            ],
            claims,
        )
        .line()
        .to_owned();
    // HMAC is deterministic: the same claims give the same token.
    assert_eq!(inline, from_file);
    assert_eq!(inline, from_stdin);
    let payload = dir.decode_json(&inline)["payload"].to_string();
    assert_eq!(payload, claims);
}

#[test]
fn kid_flag_sets_the_header_kid() {
    let dir = Dir::new();
    dir.generate("EdDSA");
    let token = dir.encode(&[
        "--alg",
        "EdDSA",
        "--key",
        "eddsa-private.pem",
        "--kid",
        "2026-12",
    ]);
    assert_eq!(dir.decode_json(&token)["header"]["kid"], json!("2026-12"));
}

#[test]
fn bad_claims_exit_1() {
    let dir = Dir::new();
    let secret = "a-32-byte-or-longer-test-secret-0123456789";
    for (claims, reason) in [
        ("[1,2]", "must be a JSON object"),
        ("{", "not valid JSON"),
        ("@missing.json", "missing.json"),
        // Repeated member names, at the top or nested: the library would refuse the token.
        (r#"{"sub":"a","sub":"b"}"#, r#"duplicate member "sub""#),
        (
            r#"{"ctx":{"x":[{"k":1,"k":2}]}}"#,
            r#"duplicate member "k""#,
        ),
    ] {
        let run = dir.run(&[
            "token", "encode", "--alg", "HS256", "--secret", secret, "--claims", claims,
        ]);
        let err = run.fails(1);
        assert!(err.contains(reason), "{claims}: {err}");
    }
}

#[test]
fn key_problems_exit_1_without_printing_secrets() {
    let dir = Dir::new();
    // RFC 7518 §3.2: an HS256 secret shorter than 32 bytes is refused.
    let err = dir
        .run(&[
            "token",
            "encode",
            "--alg",
            "HS256",
            "--secret",
            "short-secret",
        ])
        .fails(1)
        .to_owned();
    assert!(!err.contains("short-secret"), "{err}");

    // A public key cannot sign.
    dir.generate("ES256");
    let err = dir
        .run(&[
            "token",
            "encode",
            "--alg",
            "ES256",
            "--key",
            "es256-public.pem",
        ])
        .fails(1)
        .to_owned();
    assert!(err.contains("public key"), "{err}");

    // A key of another curve than --alg says.
    dir.run(&[
        "token",
        "encode",
        "--alg",
        "ES384",
        "--key",
        "es256-private.pem",
    ])
    .fails(1);
}

#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new();
    let secret = "a-32-byte-or-longer-test-secret-0123456789";
    // --alg is required, and so is a key.
    dir.run(&["token", "encode", "--secret", secret]).fails(2);
    dir.run(&["token", "encode", "--alg", "HS256"]).fails(2);
    // A secret for an asymmetric algorithm.
    dir.run(&["token", "encode", "--alg", "ES256", "--secret", secret])
        .fails(2);
    // Durations must parse.
    dir.run(&[
        "token", "encode", "--alg", "HS256", "--secret", secret, "--exp", "soon",
    ])
    .fails(2);
    dir.run(&[
        "token", "encode", "--alg", "HS256", "--secret", secret, "--exp", "-5m",
    ])
    .fails(2);
}
