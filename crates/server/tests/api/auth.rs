//! Protected endpoints (`GET /api/me/`) — reference §2.10, every row.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const NOT_PROVIDED: &str = r#"{"detail":"Authentication credentials were not provided."}"#;

#[tokio::test]
async fn missing_empty_or_foreign_schemes_are_not_provided() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    expect_401(app.get_with_auth("/api/me/", None).await, NOT_PROVIDED).await;
    expect_401(app.get_with_auth("/api/me/", Some("")).await, NOT_PROVIDED).await;
    let lower = format!("bearer {}", pair.access);
    let jwt = format!("JWT {}", pair.access);
    expect_401(
        app.get_with_auth("/api/me/", Some(&lower)).await,
        NOT_PROVIDED,
    )
    .await;
    expect_401(
        app.get_with_auth("/api/me/", Some(&jwt)).await,
        NOT_PROVIDED,
    )
    .await;
}

#[tokio::test]
async fn wrong_number_of_parts_is_bad_authorization_header() {
    let app = spawn_app().await;
    let body = r#"{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}"#;
    expect_401(app.get_with_auth("/api/me/", Some("Bearer")).await, body).await;
    expect_401(
        app.get_with_auth("/api/me/", Some("Bearer a b")).await,
        body,
    )
    .await;
}

#[tokio::test]
async fn surrounding_and_repeated_whitespace_is_tolerated() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let header = format!("  Bearer \t  {}  ", pair.access);
    let r = app.get_with_auth("/api/me/", Some(&header)).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn invalid_tokens_get_messages() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let invalid = access_error("Token is invalid");
    expect_401(app.me("garbage").await, &invalid).await;
    // Bad signature: flip the last signature character.
    let mut forged = pair.access.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    expect_401(app.me(&forged).await, &invalid).await;
    // A refresh token is the wrong type.
    expect_401(
        app.me(&pair.refresh).await,
        &access_error("Token has wrong type"),
    )
    .await;
    // Expired.
    app.advance(std::time::Duration::from_secs(301));
    expect_401(
        app.me(&pair.access).await,
        &access_error("Token is expired"),
    )
    .await;
}

#[tokio::test]
async fn user_lookup_failures() {
    let app = spawn_app().await;
    let now = app.now();
    let no_user =
        app.sign(&json!({"token_type":"access","exp":now+60,"iat":now,"jti":"a".repeat(32)}));
    expect_401(
        app.me(&no_user).await,
        r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#,
    )
    .await;
    let unknown = app.craft("access", &json!("999999"), 60);
    let not_found = r#"{"detail":"User not found","code":"user_not_found"}"#;
    expect_401(app.me(&unknown).await, not_found).await;
    // simplejwt answers 500 for a non-numeric id; we answer user_not_found.
    let abc = app.craft("access", &json!("abc"), 60);
    expect_401(app.me(&abc).await, not_found).await;
    // Integer ids are accepted on input.
    let int_id = app.craft("access", &json!(app.user.id), 60);
    assert_eq!(app.me(&int_id).await.status(), StatusCode::OK);
}
