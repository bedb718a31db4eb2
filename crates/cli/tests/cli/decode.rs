//! `tessera token decode`.

use serde_json::json;

use crate::util::{Dir, RFC7515_A1_TOKEN, now, unsigned_token};

#[test]
fn pretty_output_shows_header_payload_dates_and_warns_it_is_unverified() {
    let dir = Dir::new();
    let run = dir.run(&["token", "decode", RFC7515_A1_TOKEN]);
    let out = run.ok();
    assert!(out.contains("NOT VERIFIED"), "{out}");
    assert!(
        out.contains("Header:\n{\n  \"typ\": \"JWT\",\n  \"alg\": \"HS256\"\n}"),
        "{out}"
    );
    assert!(out.contains("  \"iss\": \"joe\",\n"), "{out}");
    assert!(
        out.contains("  \"http://example.com/is_root\": true\n"),
        "{out}"
    );
    assert!(
        out.contains("Expires:          2011-03-22 18:43:00 UTC (expired "),
        "{out}"
    );
    assert!(
        !out.contains("Issued at:"),
        "no iat claim, no iat line: {out}"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn pretty_output_gives_relative_times() {
    let dir = Dir::new();
    let now = now();
    // Offsets leave half an hour of slack before the printed phrase could change.
    let exp = now + 10 * 86_400 + 12 * 3600 + 30 * 60;
    let iat = now - (5 * 86_400 + 12 * 3600);
    let nbf = now + 3 * 86_400 + 6 * 3600 + 30 * 60;
    let token = unsigned_token(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &format!(r#"{{"sub":"42","exp":{exp},"iat":{iat},"nbf":{nbf}}}"#),
    );
    let run = dir.run(&["token", "decode", &token]);
    let out = run.ok();
    assert!(out.contains("(expires in 10d 12h)"), "{out}");
    assert!(out.contains("(issued 5d 12h ago)"), "{out}");
    assert!(out.contains("Not valid before: "), "{out}");
    assert!(out.contains("UTC (in 3d 6h)"), "{out}");
}

#[test]
fn pretty_output_names_claims_that_are_not_dates() {
    let dir = Dir::new();
    let token = unsigned_token(r#"{"alg":"HS256"}"#, r#"{"exp":"tomorrow","iat":1e300}"#);
    let run = dir.run(&["token", "decode", &token]);
    let out = run.ok();
    assert!(out.contains("\"tomorrow\" (not a NumericDate)"), "{out}");
    assert!(out.contains("1e+300 (out of range)"), "{out}");
}

#[test]
fn json_prints_one_compact_object_in_token_order() {
    let dir = Dir::new();
    let run = dir.run(&["token", "decode", "--json", RFC7515_A1_TOKEN]);
    assert_eq!(
        run.ok(),
        concat!(
            r#"{"header":{"typ":"JWT","alg":"HS256"},"#,
            r#""payload":{"iss":"joe","exp":1300819380,"http://example.com/is_root":true}}"#,
            "\n"
        )
    );
    let value: serde_json::Value = serde_json::from_str(run.line()).unwrap();
    assert_eq!(value["payload"]["exp"], json!(1_300_819_380));
}

#[test]
fn dash_reads_the_token_from_stdin_and_trims_it() {
    let dir = Dir::new();
    let input = format!("  {RFC7515_A1_TOKEN}\n\n");
    let from_stdin = dir.run_with_stdin(&["token", "decode", "--json", "-"], &input);
    let from_arg = dir.run(&["token", "decode", "--json", RFC7515_A1_TOKEN]);
    assert_eq!(from_stdin.ok(), from_arg.ok());
}

#[test]
fn malformed_tokens_exit_1_with_a_reason() {
    let dir = Dir::new();
    for bad in [
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.???.###",
        &unsigned_token("[]", "{}"),
        &unsigned_token(r#"{"alg":"HS256"}"#, "not json"),
    ] {
        let err = dir.run(&["token", "decode", bad]).fails(1).to_owned();
        assert!(err.starts_with("error: malformed token"), "{bad}: {err}");
        assert!(!err.contains(bad), "the token must not be echoed: {err}");
    }
}

#[test]
fn empty_stdin_is_an_error() {
    let dir = Dir::new();
    let err = dir
        .run_with_stdin(&["token", "decode", "-"], " \n")
        .fails(1)
        .to_owned();
    assert!(err.contains("no token"), "{err}");
}

#[test]
fn missing_token_argument_is_a_usage_error() {
    let dir = Dir::new();
    dir.run(&["token", "decode"]).fails(2);
}
