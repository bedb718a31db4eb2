//! Hostile and malformed client input, beyond `bad_input`: every field with every wrong JSON
//! type, number coercion, size limits at their boundary, 100 KB tokens, control and non-ASCII
//! characters, oversized and non-UTF-8 headers, odd media types and methods, malformed form and
//! multipart bodies, and a corpus of several thousand generated hostile bodies. The rule is
//! SPEC "What bad input gets": a 4xx with a JSON body, never a 500, a panic, a hang or plain text.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// Every endpoint that reads a body.
const BODY_PATHS: [&str; 5] = [
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
    "/api/token/logout-all/",
];

/// Asserts a client error (4xx) with `Content-Type: application/json` and a JSON object body.
async fn assert_json_4xx(r: Response, what: &str) -> (StatusCode, Value) {
    let status = r.status();
    let content_type = r
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("<non-ascii>").to_owned());
    let text = r.text().await.expect("body");
    assert!(
        status.is_client_error(),
        "{what}: expected a 4xx, got {status}: {text}"
    );
    assert_eq!(
        content_type.as_deref(),
        Some("application/json"),
        "{what}: {status} {text}"
    );
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{what}: {status} with a non-JSON body ({e}): {text:?}"));
    assert!(body.is_object(), "{what}: {text}");
    (status, body)
}

#[tokio::test]
async fn every_wrong_json_type_in_every_login_field_is_a_field_error() {
    let app = spawn_app().await;
    for field in ["username", "password"] {
        for (value, message) in [
            (json!(null), "This field may not be null."),
            (json!(true), "Not a valid string."),
            (json!(false), "Not a valid string."),
            (json!([]), "Not a valid string."),
            (json!(["alice"]), "Not a valid string."),
            (json!({}), "Not a valid string."),
            (json!({"username": "alice"}), "Not a valid string."),
            (json!([[[[{"a": [null]}]]]]), "Not a valid string."),
            (json!(""), "This field may not be blank."),
            (json!(" \t\n "), "This field may not be blank."),
        ] {
            let mut body = json!({"username": TEST_USERNAME, "password": TEST_PASSWORD});
            body[field] = value.clone();
            let r = app.post_json("/api/token/", &body).await;
            assert!(!r.headers().contains_key("www-authenticate"), "{value}");
            expect(
                r,
                StatusCode::BAD_REQUEST,
                &format!(r#"{{"{field}":["{message}"]}}"#),
            )
            .await;
        }
    }
    // Both fields wrong at once: both reported, in declaration order.
    expect(
        app.post_json("/api/token/", &json!({"password": {}, "username": [1]}))
            .await,
        StatusCode::BAD_REQUEST,
        r#"{"username":["Not a valid string."],"password":["Not a valid string."]}"#,
    )
    .await;
}

#[tokio::test]
async fn numbers_are_coerced_to_strings_like_drf() {
    // §2.4: both fields are DRF CharFields, so `12345` is the string "12345".
    let app = spawn_app().await;
    app.admin
        .create(
            &tessera_server::users::CreateUser {
                username: "12345".into(),
                ..Default::default()
            },
            Some(&"67890123".into()),
        )
        .await
        .unwrap();
    let r = app
        .post_json(
            "/api/token/",
            &json!({"username": 12345, "password": 67890123}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let pair: Value = r.json().await.unwrap();
    let me: Value = app
        .me(pair["access"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "12345");
    // A number that is not the password is a plain credential failure, not a type error.
    expect_401(
        app.post_json("/api/token/", &json!({"username": 12345, "password": 1.5}))
            .await,
        r#"{"detail":"No active account found with the given credentials"}"#,
    )
    .await;
    // Huge and negative numbers are just strings that match nobody.
    for value in [json!(-1), json!(u64::MAX), json!(1e300), json!(-0.0)] {
        expect_401(
            app.post_json("/api/token/", &json!({"username": value, "password": "x"}))
                .await,
            r#"{"detail":"No active account found with the given credentials"}"#,
        )
        .await;
    }
}

#[tokio::test]
async fn token_fields_with_numbers_objects_and_nesting_never_fail_the_server() {
    let app = spawn_app().await;
    for (path, field) in [
        ("/api/token/refresh/", "refresh"),
        ("/api/token/verify/", "token"),
        ("/api/token/blacklist/", "refresh"),
    ] {
        for value in [
            json!(-0.5),
            json!(1e308),
            json!(u64::MAX),
            json!({"token": "a.b.c"}),
            json!([["a.b.c"]]),
            json!(false),
        ] {
            let what = format!("{path} {field}={value}");
            let (status, _) =
                assert_json_4xx(app.post_json(path, &json!({ field: value })).await, &what).await;
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
                "{what}"
            );
        }
    }
}

#[tokio::test]
async fn bodies_at_the_limit_are_read_and_over_it_get_413() {
    let app = spawn_app().await;
    let limit = app.settings.max_body_size;
    // A valid JSON body of exactly `limit` bytes is processed (here: an invalid token).
    let prefix = r#"{"token":""#;
    let suffix = r#""}"#;
    let at_limit = format!(
        "{prefix}{}{suffix}",
        "a".repeat(limit - prefix.len() - suffix.len())
    );
    assert_eq!(at_limit.len(), limit);
    expect_401(
        app.post_raw(
            "/api/token/verify/",
            Some("application/json"),
            at_limit.clone(),
        )
        .await,
        &token_error("Token is invalid"),
    )
    .await;
    // One byte more is refused, whatever the media type or path. (`logout-all` reads no body:
    // it authenticates first, as DRF does before it parses, so it is not in this list.)
    let over = format!("{at_limit} ");
    for path in &BODY_PATHS[..4] {
        for content_type in [
            Some("application/json"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("text/plain"),
            None,
        ] {
            let what = format!("{path} {content_type:?}");
            let (status, body) =
                assert_json_4xx(app.post_raw(path, content_type, over.clone()).await, &what).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{what}: {body}");
            assert!(body["detail"].is_string(), "{what}: {body}");
        }
    }
    // A megabyte is refused as quickly, without the server reading it all first.
    let (status, _) = assert_json_4xx(
        app.post_raw("/api/token/", Some("application/json"), vec![b'{'; 1 << 20])
            .await,
        "1 MiB",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_refused_before_the_body_arrives() {
    // The client announces 10 MB and sends nothing: the server answers 413 at once instead of
    // waiting for a body it will never accept.
    let app = spawn_app().await;
    let answer = app
        .send_raw(
            b"POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 10000000\r\nConnection: close\r\n\r\n",
        )
        .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
}

#[tokio::test]
async fn hundred_kilobyte_tokens() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let huge_garbage = "A".repeat(100 * 1024);
    // A valid token padded to 100 KB with a giant claim: signed correctly, still refused.
    let mut padded = simplejwt_claims(&app, "access", &json!(app.user.id.to_string()), 600);
    padded["pad"] = json!("x".repeat(75 * 1024));
    let huge_signed = app.sign(&padded);
    assert!(huge_signed.len() > 100 * 1024);
    let huge_dots = format!("{0}.{0}.{0}", "QUFB".repeat(8 * 1024));
    for (label, token) in [
        ("garbage", huge_garbage.as_str()),
        ("signed", huge_signed.as_str()),
        ("three segments", huge_dots.as_str()),
    ] {
        // In a body: over the body limit.
        for (path, field) in [
            ("/api/token/refresh/", "refresh"),
            ("/api/token/verify/", "token"),
            ("/api/token/blacklist/", "refresh"),
        ] {
            let (status, _) = assert_json_4xx(
                app.post_json(path, &json!({ field: token })).await,
                &format!("{label} to {path}"),
            )
            .await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{label} to {path}");
        }
        // In the Authorization header: a token too large to be one of ours is invalid.
        expect_401(app.me(token).await, &access_error("Token is invalid")).await;
        let r = app
            .client
            .post(app.url("/api/token/logout-all/"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        expect_401(r, &access_error("Token is invalid")).await;
    }
    // With a bigger body limit the same tokens reach the token checks and are invalid.
    let roomy = spawn_app_with(|s| s.max_body_size = 512 * 1024).await;
    for token in [
        huge_garbage.as_str(),
        huge_signed.as_str(),
        huge_dots.as_str(),
    ] {
        expect_401(roomy.verify(token).await, &token_error("Token is invalid")).await;
        expect_401(roomy.refresh(token).await, &token_error("Token is invalid")).await;
        expect_401(
            roomy.blacklist(token).await,
            &token_error("Token is invalid"),
        )
        .await;
    }
    // And nothing was disturbed.
    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn tokens_with_control_and_non_ascii_characters_are_invalid() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let access = pair.access.as_str();
    let (h, rest) = access.split_once('.').unwrap();
    let inside = |c: &str| format!("{h}.{c}{rest}");
    let cases: Vec<(String, String)> = vec![
        ("NUL inside".into(), inside("\u{0}")),
        ("newline inside".into(), inside("\n")),
        ("DEL inside".into(), inside("\u{7f}")),
        ("escape sequence".into(), inside("\u{1b}[31m")),
        ("zero-width space".into(), inside("\u{200b}")),
        ("right-to-left override".into(), inside("\u{202e}")),
        ("BOM before".into(), format!("\u{feff}{access}")),
        ("emoji".into(), format!("{access}😀")),
        ("fullwidth dots".into(), access.replace('.', "．")),
        ("non-ASCII base64".into(), "ëyJ.ëyJ.ëyJ".into()),
        ("only controls".into(), "\u{1}\u{2}\u{3}".into()),
        ("percent-encoded".into(), access.replace('.', "%2E")),
        ("padding".into(), format!("{h}==.{rest}")),
        ("standard base64 alphabet".into(), access.replace('-', "+")),
    ];
    for (label, token) in &cases {
        if token == access {
            continue; // (`replace` found nothing to change)
        }
        for (path, field, body) in [
            (
                "/api/token/verify/",
                "token",
                token_error("Token is invalid"),
            ),
            (
                "/api/token/refresh/",
                "refresh",
                token_error("Token is invalid"),
            ),
            (
                "/api/token/blacklist/",
                "refresh",
                token_error("Token is invalid"),
            ),
        ] {
            let r = app.post_json(path, &json!({ field: token })).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label} to {path}");
            assert_eq!(r.text().await.unwrap(), body, "{label} to {path}");
        }
    }
    // Surrounding whitespace is trimmed by DRF's CharField: the token itself is fine.
    expect(
        app.verify(&format!("\n\t {access} \r\n")).await,
        StatusCode::OK,
        "{}",
    )
    .await;
}

#[tokio::test]
async fn garbage_and_oversized_authorization_headers() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let not_provided = r#"{"detail":"Authentication credentials were not provided."}"#;
    let two_values = r#"{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}"#;
    // 100 KB and 200 KB values: answered by the application in JSON, not by the HTTP layer.
    for size in [100 * 1024, 200 * 1024] {
        let long = "x".repeat(size);
        expect_401(
            app.get_with_auth("/api/me/", Some(&format!("Bearer {long}")))
                .await,
            &access_error("Token is invalid"),
        )
        .await;
        expect_401(
            app.get_with_auth("/api/me/", Some(&format!("Basic {long}")))
                .await,
            not_provided,
        )
        .await;
        let many_words = "Bearer ".repeat(size / 7);
        expect_401(
            app.get_with_auth("/api/me/", Some(&many_words)).await,
            two_values,
        )
        .await;
    }
    // Raw bytes a client library refuses to send: obs-text (RFC 9110 §5.5), a second
    // Authorization header, empty values.
    for header in [
        b"Authorization: Bearer \x80\x81\x82\r\n".as_slice(),
        b"Authorization: \xff\r\n",
        b"Authorization: Bearer a\r\nAuthorization: Bearer b\r\n",
        b"Authorization:\r\n",
        b"Authorization: \t \r\n",
    ] {
        let mut request =
            b"GET /api/me/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_vec();
        request.extend_from_slice(header);
        request.extend_from_slice(b"\r\n");
        let answer = app.send_raw(&request).await;
        let what = String::from_utf8_lossy(header);
        assert!(answer.starts_with("HTTP/1.1 401"), "{what}: {answer}");
        assert!(
            answer.contains("www-authenticate: Bearer realm=\"api\""),
            "{what}: {answer}"
        );
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let _: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
    }
    // Control characters are not HTTP at all (RFC 9110 §5.5): the connection gets a 400 from
    // the HTTP layer, never a 5xx or a hang.
    let answer = app
        .send_raw(
            b"GET /api/me/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
              Authorization: Bearer \x01\x02.\x03\r\n\r\n",
        )
        .await;
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    // Other garbage headers do not disturb a valid request.
    let r = app
        .client
        .get(app.url("/api/me/"))
        .header("authorization", format!("Bearer {}", pair.access))
        .header("content-type", "garbage;;;=\"")
        .header("accept", "text/html;q=abc, */*;;;")
        .header("accept-language", "x".repeat(10_000))
        .header("x-forwarded-for", "not-an-ip, , 999.1.1.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_and_odd_content_types() {
    let app = spawn_app().await;
    let login = format!(r#"{{"username":"{TEST_USERNAME}","password":"{TEST_PASSWORD}"}}"#);
    for content_type in [
        "application/xml",
        "application/jsonx",
        "application/json-patch+json",
        "text/json",
        "application/x-www-form-urlencodedx",
        "multipart/mixed; boundary=x",
        "???",
        "/",
        "application/",
        ";charset=utf-8",
    ] {
        expect(
            app.post_raw("/api/token/", Some(content_type), login.clone())
                .await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!(r#"{{"detail":"Unsupported media type \"{content_type}\" in request."}}"#),
        )
        .await;
    }
    // Media types are case-insensitive and parameters (RFC 9110 §8.3.1) do not matter.
    for content_type in [
        "APPLICATION/JSON",
        "Application/Json; Charset=UTF-8",
        "application/json ; charset=\"utf-8\"",
        "application/json;charset=utf-8;foo=bar",
    ] {
        let r = app
            .post_raw("/api/token/", Some(content_type), login.clone())
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{content_type}");
    }
    let r = app
        .post_raw(
            "/api/token/",
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            format!("username={TEST_USERNAME}&password={TEST_PASSWORD}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A Content-Type that is not even text.
    let request = b"POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
                        Content-Type: application/\xff\xfe\r\nContent-Length: 2\r\n\r\n{}"
        .to_vec();
    let answer = app.send_raw(&request).await;
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let _: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
}

#[tokio::test]
async fn every_wrong_method_on_every_route_is_a_json_405() {
    let app = spawn_app().await;
    let post_only = [
        "/api/token/",
        "/api/token/refresh/",
        "/api/token/verify/",
        "/api/token/blacklist/",
        "/api/token/logout-all/",
        "/api/token",
        "/api/token/refresh",
    ];
    let get_only = [
        "/api/me/",
        "/api/me",
        "/.well-known/jwks.json",
        "/healthz",
        "/readyz",
    ];
    let custom = Method::from_bytes(b"FROBNICATE").unwrap();
    for path in post_only {
        for method in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::TRACE,
            custom.clone(),
        ] {
            let r = app.request(method.clone(), path).await;
            assert_eq!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(r.headers()["allow"], "POST, OPTIONS", "{method} {path}");
            if method == Method::HEAD {
                continue; // no body on HEAD
            }
            expect(
                r,
                StatusCode::METHOD_NOT_ALLOWED,
                &format!(r#"{{"detail":"Method \"{method}\" not allowed."}}"#),
            )
            .await;
        }
    }
    for path in get_only {
        for method in [
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            custom.clone(),
        ] {
            let r = app.request(method.clone(), path).await;
            assert_eq!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            expect(
                r,
                StatusCode::METHOD_NOT_ALLOWED,
                &format!(r#"{{"detail":"Method \"{method}\" not allowed."}}"#),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn odd_paths_are_json_404s() {
    let app = spawn_app().await;
    for path in [
        "/api/token//",
        "/api/token/refresh//",
        "/api/tokens/",
        "/API/TOKEN/",
        "/api/token/%00",
        "/api/token/%ff%fe",
        "/api/token/..%2f..%2fetc%2fpasswd",
        "/.well-known/",
    ] {
        let r = app.request(Method::POST, path).await;
        let what = format!("POST {path}");
        let (status, body) = assert_json_4xx(r, &what).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
        assert_eq!(body, json!({"detail": "Not found."}), "{what}");
    }
    let long = format!("/api/{}", "a".repeat(16 * 1024));
    let (status, _) = assert_json_4xx(app.request(Method::GET, &long).await, "long path").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A query string does not change what a token view does.
    let r = app
        .post_json(
            "/api/token/?username=x&password=y&format=xml",
            &json!({"username": TEST_USERNAME, "password": TEST_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_form_bodies() {
    let app = spawn_app().await;
    let form = Some("application/x-www-form-urlencoded");
    for body in [
        b"%zz=%zz".as_slice(),
        b"username=%ff%fe&password=%c3%28",
        b"\xff\xfe\xfd",
        b"=&=&=",
        b"&&&&",
        b"username",
        b"username[]=alice&password[]=x",
        b"username=alice&username=&password=",
        b"a=b;c=d",
        b"username=\x00&password=\x00",
    ] {
        let what = format!("form {:?}", String::from_utf8_lossy(body));
        let (status, _) = assert_json_4xx(
            app.post_raw("/api/token/", form, body.to_vec()).await,
            &what,
        )
        .await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
            "{what}: {status}"
        );
    }
    // The last value of a repeated key counts (Django's QueryDict), so this logs in.
    let r = app
        .post_raw(
            "/api/token/",
            form,
            format!("username=x&username={TEST_USERNAME}&password={TEST_PASSWORD}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_multipart_bodies_are_parse_errors() {
    // DRF's `MultiPartParser` raises `ParseError` → 400
    // `{"detail":"Multipart form parse error - Invalid boundary in multipart: None"}` when the
    // boundary is missing; other damage gives a 400 (parse error, or field errors for parts
    // Django skips) — never a 415 for a media type DRF parses, never a 5xx.
    let app = spawn_app().await;
    let good_part = "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n";
    for content_type in ["multipart/form-data", "multipart/form-data; boundary="] {
        let (status, body) = assert_json_4xx(
            app.post_raw(
                "/api/token/",
                Some(content_type),
                format!("{good_part}--b--\r\n"),
            )
            .await,
            content_type,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("Multipart form parse error - ")),
            "{content_type}: {body}"
        );
    }
    for (content_type, body) in [
        (
            "multipart/form-data; boundary=other",
            format!("{good_part}--b--\r\n"),
        ),
        ("multipart/form-data; boundary=b", good_part.to_owned()),
        (
            "multipart/form-data; boundary=b",
            "--b\r\n\r\n\r\n--b--\r\n".to_owned(),
        ),
        ("multipart/form-data; boundary=b", "garbage".to_owned()),
        (
            "multipart/form-data; boundary=b",
            "--b\r\nContent-Disposition: form-data; name=\"username\"; filename=\"x\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n\u{0}\u{1}\r\n--b--\r\n"
                .to_owned(),
        ),
    ] {
        let what = format!("{content_type} {body:?}");
        let (status, body) = assert_json_4xx(
            app.post_raw("/api/token/", Some(content_type), body).await,
            &what,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
    }
}

/// A small deterministic generator (xorshift64*), so a failing corpus entry is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Hand-written hostile bodies plus mutations (truncations, byte flips, splices) of valid ones.
pub fn hostile_corpus(valid: &[String]) -> Vec<Vec<u8>> {
    let mut corpus: Vec<Vec<u8>> = [
        "",
        " ",
        "\u{feff}{}",
        "{}",
        "{\"\":\"\"}",
        "{\"username\":NaN,\"password\":Infinity}",
        "{\"username\":-Infinity}",
        "{\"username\":1e400,\"password\":-1e400}",
        "{\"username\":123456789012345678901234567890}",
        "{\"username\":\"\\ud800\",\"password\":\"\\udfff\"}",
        "{\"username\":\"\\u0000\",\"password\":\"\\u0000\"}",
        "{\"username\":\"a\",\"username\":[],\"password\":\"b\"}",
        "{\"token\":\"a\",\"token\":{}}",
        "{\"refresh\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
        "{'username':'alice'}",
        "{username:alice}",
        "{\"username\":\"alice\"",
        "{\"username\"}",
        "{\"a\":}",
        "{,}",
        "[{\"username\":\"alice\",\"password\":\"x\"}]",
        "\"{\\\"username\\\":\\\"alice\\\"}\"",
        "null",
        "-",
        "0x10",
        "1e",
        "tru",
        "\u{0}",
        "{}{}",
        "{} []",
        "/* comment */ {}",
        "{\"token\":\"a\"}\u{0}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    // Deep nesting, in arrays, objects and inside a field.
    corpus.push(format!("{}{}", "{\"a\":".repeat(3000), "}".repeat(3000)).into_bytes());
    corpus.push(format!("{{\"username\":{}1{}}}", "[".repeat(3000), "]".repeat(3000)).into_bytes());
    corpus.push("[".repeat(10_000).into_bytes());
    // Invalid UTF-8 inside strings and outside them.
    corpus.push(b"{\"username\":\"\xff\xfe\",\"password\":\"\xc3\x28\"}".to_vec());
    corpus.push(b"{\"token\":\"\xed\xa0\x80\"}".to_vec());
    corpus.push(b"\xff{}".to_vec());
    // Many keys, long keys.
    let many: Vec<String> = (0..800).map(|i| format!("\"k{i}\":{i}")).collect();
    corpus.push(format!("{{{}}}", many.join(",")).into_bytes());
    corpus.push(format!("{{\"{}\":1}}", "k".repeat(12_000)).into_bytes());

    let mut rng = Rng(0x7e55_e7a5_eed0_0001);
    for body in valid {
        let bytes = body.as_bytes();
        // Every truncation of short bodies, a sample of long ones.
        for cut in 0..bytes.len() {
            if bytes.len() < 80 || rng.below(8) == 0 {
                corpus.push(bytes[..cut].to_vec());
            }
        }
        // Random byte flips, insertions and deletions.
        for _ in 0..120 {
            let mut m = bytes.to_vec();
            for _ in 0..=rng.below(4) {
                let at = rng.below(m.len().max(1));
                match rng.below(4) {
                    0 if !m.is_empty() => m[at] = rng.next() as u8,
                    1 => {
                        let specials = b"{}[]\":,\\\0\xff";
                        m.insert(at.min(m.len()), specials[rng.below(specials.len())]);
                    }
                    2 if !m.is_empty() => {
                        m.remove(at);
                    }
                    _ => {
                        let other = valid[rng.below(valid.len())].as_bytes();
                        let from = rng.below(other.len());
                        m.splice(
                            at.min(m.len())..at.min(m.len()),
                            other[from..].iter().copied(),
                        );
                    }
                }
            }
            corpus.push(m);
        }
    }
    corpus
}

#[tokio::test]
async fn a_corpus_of_hostile_bodies_never_gets_a_5xx_or_a_non_json_answer() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let valid: Vec<String> = [
        json!({"username": TEST_USERNAME, "password": TEST_PASSWORD}),
        json!({"refresh": pair.refresh}),
        json!({"token": pair.access}),
        json!({"username": [1, {"a": null}], "password": {"x": 1.5e10}}),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    let corpus = hostile_corpus(&valid);
    assert!(corpus.len() > 500, "corpus of {}", corpus.len());
    let content_types = [
        Some("application/json"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=b"),
        None,
    ];
    let mut seen = std::collections::BTreeMap::<u16, usize>::new();
    for (i, body) in corpus.iter().enumerate() {
        // Each body to one path and one media type (rotating), bounded: corpus × 1 request.
        let path = BODY_PATHS[i % BODY_PATHS.len()];
        let content_type = content_types[(i / BODY_PATHS.len()) % content_types.len()];
        let what = format!(
            "corpus[{i}] to {path} as {content_type:?}: {:?}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        );
        // A hang is a failure too; the bound is generous (no timing is asserted).
        let r = tokio::time::timeout(
            Duration::from_secs(60),
            app.post_raw(path, content_type, body.clone()),
        )
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 60 s"));
        let status = r.status();
        *seen.entry(status.as_u16()).or_default() += 1;
        if status == StatusCode::OK {
            // Mutations can produce a valid request; its body must still be JSON.
            assert_eq!(r.headers()[CONTENT_TYPE], "application/json", "{what}");
            let _: Value = r.json().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        } else {
            assert_json_4xx(r, &what).await;
        }
    }
    // The server is still healthy and the session still works.
    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
    assert!(
        seen.contains_key(&400) && seen.contains_key(&401),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408_while_others_are_served() {
    // The client announces 64 bytes, sends 10 and stalls. The server keeps serving others
    // meanwhile, and gives up on this one with a JSON 408 (docs/compatibility.md: 10 s)
    // instead of holding the task forever. No duration is asserted; the outer bound only turns
    // a hang into a failure.
    let app = spawn_app().await;
    let stalled = app.send_raw(
        b"POST /api/token/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
          Content-Length: 64\r\nConnection: close\r\n\r\n{\"username",
    );
    let others = async {
        for _ in 0..5 {
            assert_eq!(
                app.request(Method::GET, "/healthz").await.status(),
                StatusCode::OK
            );
        }
        let pair = app.login_ok().await;
        assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
    };
    let (answer, ()) = tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(stalled, others)
    })
    .await
    .expect("the stalled request was never answered");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let _: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
}

#[tokio::test]
async fn compressed_bodies_are_not_json() {
    // Neither Django nor DRF decode `Content-Encoding`; a gzip body is not JSON (400), never a
    // 5xx or a decompression bomb.
    let app = spawn_app().await;
    let gzip_magic = vec![
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0xae, 0x05, 0x00, 0x43,
        0xbf, 0xa6, 0xa3, 0x02, 0x00, 0x00, 0x00,
    ];
    let r = app
        .client
        .post(app.url("/api/token/verify/"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip_magic)
        .send()
        .await
        .unwrap();
    let (status, body) = assert_json_4xx(r, "gzip body").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn concurrent_hostile_requests_leave_the_server_healthy() {
    // 200 hostile requests, 20 at a time, on separate connections: still no 5xx, and a normal
    // client is served correctly afterwards.
    let app = spawn_app().await;
    let valid = vec![json!({"username": TEST_USERNAME, "password": "wrong"}).to_string()];
    let corpus = hostile_corpus(&valid);
    let app = std::sync::Arc::new(app);
    for chunk in corpus.chunks(20).take(10) {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, body) in chunk.iter().cloned().enumerate() {
            let app = app.clone();
            tasks.spawn(async move {
                let path = BODY_PATHS[i % BODY_PATHS.len()];
                let r = app.post_raw(path, Some("application/json"), body).await;
                assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
                let _: Value = r.json().await.expect("a JSON body");
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("request task");
        }
    }
    let pair = app.login_ok().await;
    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
    assert_eq!(app.refresh(&pair.refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_request_head_beyond_the_http_layer_limit_gets_431_not_a_hang() {
    // A 1 MiB Authorization header is past what the HTTP layer (hyper) buffers for a request
    // head; it answers 431 itself (RFC 6585 §5), with an empty body, and closes. Up to 200 KB
    // the application answers in JSON (`garbage_and_oversized_authorization_headers`).
    let app = spawn_app().await;
    let mut request =
        b"GET /api/me/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer "
            .to_vec();
    request.extend(std::iter::repeat_n(b'x', 1 << 20));
    request.extend_from_slice(b"\r\n\r\n");
    let answer = app.send_raw(&request).await;
    assert!(
        answer.starts_with("HTTP/1.1 431 "),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert!(answer.contains("content-length: 0\r\n"), "{answer}");
    // The server is unaffected.
    assert_eq!(
        app.request(Method::GET, "/healthz").await.status(),
        StatusCode::OK
    );
}
