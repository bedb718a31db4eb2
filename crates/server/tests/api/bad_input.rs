//! No client input produces a 500, a panic, a hang or a plain-text error.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const TOKEN_PATHS: [&str; 4] = [
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
];

async fn assert_json_error(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/json");
    r.json().await.expect("a JSON body")
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app().await;
    let big = format!(r#"{{"refresh":"{}"}}"#, "a".repeat(20_000));
    for path in TOKEN_PATHS {
        let body = assert_json_error(
            app.post_raw(path, Some("application/json"), big.clone())
                .await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
        assert!(body["detail"].is_string());
    }
    // Without a Content-Length (chunked): still 413, not a hang.
    let response = raw_http(&app, &chunked_post("/api/token/refresh/", big.as_bytes())).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains("content-type: application/json"),
        "{response}"
    );
}

fn chunked_post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(1000) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    req
}

/// Sends raw bytes and returns everything the server answers (it closes the connection).
async fn raw_http(app: &TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    // The server may answer and close before reading everything; a write error is fine then.
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn malformed_json_is_a_drf_parse_error() {
    let app = spawn_app().await;
    for path in TOKEN_PATHS {
        for bad in [
            r#"{"username": "a",}"#,
            "{",
            "nul",
            "\"unterminated",
            "{\"a\":1}x",
        ] {
            let body = assert_json_error(
                app.post_raw(path, Some("application/json"), bad).await,
                StatusCode::BAD_REQUEST,
            )
            .await;
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("JSON parse error - "),
                "{body}"
            );
        }
    }
}

#[tokio::test]
async fn non_object_json_is_a_non_field_error() {
    let app = spawn_app().await;
    for (raw, kind) in [
        ("[]", "list"),
        ("[1,2]", "list"),
        ("\"str\"", "str"),
        ("12", "int"),
        ("1.5", "float"),
        ("true", "bool"),
    ] {
        expect(
            app.post_raw("/api/token/", Some("application/json"), raw)
                .await,
            StatusCode::BAD_REQUEST,
            &format!(
                r#"{{"non_field_errors":["Invalid data. Expected a dictionary, but got {kind}."]}}"#
            ),
        )
        .await;
    }
    // A JSON `null` body is "no data" to DRF (captured from simplejwt by django_interop.rs).
    expect(
        app.post_raw("/api/token/", Some("application/json"), "null")
            .await,
        StatusCode::BAD_REQUEST,
        r#"{"non_field_errors":["No data provided"]}"#,
    )
    .await;
}

#[tokio::test]
async fn wrong_types_and_nulls_in_token_fields() {
    let app = spawn_app().await;
    for (path, field) in [
        ("/api/token/refresh/", "refresh"),
        ("/api/token/verify/", "token"),
        ("/api/token/blacklist/", "refresh"),
    ] {
        for (value, message) in [
            (json!(null), "This field may not be null."),
            (json!(["x"]), "Not a valid string."),
            (json!({"a":1}), "Not a valid string."),
            (json!(true), "Not a valid string."),
            (json!(""), "This field may not be blank."),
        ] {
            expect(
                app.post_json(path, &json!({ field: value })).await,
                StatusCode::BAD_REQUEST,
                &format!(r#"{{"{field}":["{message}"]}}"#),
            )
            .await;
        }
        // A number is coerced to a string (DRF CharField), then fails as a token.
        expect_401(
            app.post_json(path, &json!({ field: 12345 })).await,
            &token_error("Token is invalid"),
        )
        .await;
    }
}

#[tokio::test]
async fn huge_and_strange_tokens_are_invalid_not_errors() {
    let app = spawn_app().await;
    let huge = format!(
        "{}.{}.{}",
        "a".repeat(4000),
        "b".repeat(4000),
        "c".repeat(4000)
    );
    for token in [
        huge.as_str(),
        "....",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        "\u{0}\u{1}",
        "é.é.é",
        "eyJ9.eyJ9.eyJ9",
    ] {
        expect_401(app.refresh(token).await, &token_error("Token is invalid")).await;
        expect_401(app.verify(token).await, &token_error("Token is invalid")).await;
        if reqwest::header::HeaderValue::from_str(token).is_ok() {
            expect_401(app.me(token).await, &access_error("Token is invalid")).await;
        }
    }
}

#[tokio::test]
async fn deeply_nested_json_bodies_are_refused_cleanly() {
    let app = spawn_app().await;
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let r = app
        .post_raw("/api/token/", Some("application/json"), nested)
        .await;
    assert_json_error(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn garbage_authorization_headers() {
    let app = spawn_app().await;
    let not_provided = r#"{"detail":"Authentication credentials were not provided."}"#;
    for value in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer a b c",
        "Token x",
        "x",
        "\t",
    ] {
        let r = app.get_with_auth("/api/me/", Some(value)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{value:?}");
        assert!(r.headers().contains_key("www-authenticate"));
        let _: Value = r.json().await.expect("json");
    }
    expect_401(
        app.get_with_auth("/api/me/", Some("Basic abc")).await,
        not_provided,
    )
    .await;
    // Non-UTF-8 bytes in the token.
    let value = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe.\xfd").unwrap();
    let r = app
        .client
        .get(app.url("/api/me/"))
        .header("authorization", value)
        .send()
        .await
        .unwrap();
    expect_401(r, &access_error("Token is invalid")).await;
    // Token endpoints ignore Authorization entirely (simplejwt: authentication_classes = ()).
    let r = app
        .client
        .post(app.url("/api/token/"))
        .header("authorization", "Bearer garbage")
        .json(&json!({"username": TEST_USERNAME, "password": TEST_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn unsupported_media_type_is_415() {
    let app = spawn_app().await;
    for path in TOKEN_PATHS {
        expect(
            app.post_raw(path, Some("text/plain"), "username=a").await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#,
        )
        .await;
    }
    expect(
        app.post_raw("/api/token/", None, "{}").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        r#"{"detail":"Unsupported media type \"\" in request."}"#,
    )
    .await;
    // A charset parameter is fine.
    let r = app
        .post_raw(
            "/api/token/",
            Some("application/json; charset=utf-8"),
            format!(r#"{{"username":"{TEST_USERNAME}","password":"{TEST_PASSWORD}"}}"#),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let app = spawn_app().await;
    for path in TOKEN_PATHS {
        for method in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
            let r = app.request(method.clone(), path).await;
            assert_eq!(r.headers()["allow"], "POST, OPTIONS");
            expect(
                r,
                StatusCode::METHOD_NOT_ALLOWED,
                &format!(r#"{{"detail":"Method \"{method}\" not allowed."}}"#),
            )
            .await;
        }
    }
    let r = app.request(Method::POST, "/api/me/").await;
    assert_eq!(r.headers()["allow"], "GET, HEAD, OPTIONS");
    expect(
        r,
        StatusCode::METHOD_NOT_ALLOWED,
        r#"{"detail":"Method \"POST\" not allowed."}"#,
    )
    .await;
}

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let app = spawn_app().await;
    expect(
        app.request(Method::GET, "/nope").await,
        StatusCode::NOT_FOUND,
        r#"{"detail":"Not found."}"#,
    )
    .await;
}

/// `observe` names a request's route from `routes::PATHS`, before routing: every path there must
/// be routed (an `Allow` header, not 404), and a path the router does not serve has neither.
#[tokio::test]
async fn every_listed_path_is_routed_and_no_other() {
    let app = spawn_app().await;
    for path in tessera_server::routes::PATHS {
        let r = app.request(Method::OPTIONS, path).await;
        assert_ne!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let allow = r.headers()["allow"].to_str().unwrap();
        let expected = if path.starts_with("/api/token") {
            "POST, OPTIONS"
        } else {
            "GET, HEAD, OPTIONS"
        };
        assert_eq!(allow, expected, "{path}");
        assert!(r.headers().contains_key("x-request-id"), "{path}");
    }
    for path in [
        "/api/me//",
        "/api/token/verify/x",
        "/healthz/",
        "/API/me/",
        "/",
    ] {
        let r = app.request(Method::GET, path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!r.headers().contains_key("allow"), "{path}");
        assert!(r.headers().contains_key("x-request-id"), "{path}");
    }
}

#[tokio::test]
async fn paths_answer_without_the_trailing_slash() {
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/api/token",
            &json!({"username": TEST_USERNAME, "password": TEST_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let pair: Value = r.json().await.unwrap();
    let refresh = pair["refresh"].as_str().unwrap();
    let access = pair["access"].as_str().unwrap();
    let r = app
        .post_json("/api/token/verify", &json!({"token": access}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .get_with_auth("/api/me", Some(&format!("Bearer {access}")))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post_json("/api/token/refresh", &json!({"refresh": refresh}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let rotated: Value = r.json().await.unwrap();
    // Logging out with the just-spent token still ends the session (the whole family).
    let r = app
        .post_json("/api/token/blacklist", &json!({"refresh": refresh}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.refresh(rotated["refresh"].as_str().unwrap()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn options_describes_the_token_views() {
    let app = spawn_app().await;
    let r = app.request(Method::OPTIONS, "/api/token/").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["name"], "Token Obtain Pair");
    assert_eq!(body["actions"]["POST"]["username"]["required"], true);
    assert_eq!(body["actions"]["POST"]["password"]["type"], "string");
    let body: Value = app
        .request(Method::OPTIONS, "/api/token/refresh/")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["actions"]["POST"]["refresh"]["label"], "Refresh");
}

#[tokio::test]
async fn head_on_me_has_no_body() {
    let app = spawn_app().await;
    let r = app.request(Method::HEAD, "/api/me/").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    assert!(r.bytes().await.unwrap().is_empty());
}
