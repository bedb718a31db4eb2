//! `POST /api/token/verify/` — reference §2.6, every row, plus Tessera's revocation checks.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn valid_access_refresh_and_untyped_tokens() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    expect(app.verify(&pair.access).await, StatusCode::OK, "{}").await;
    expect(app.verify(&pair.refresh).await, StatusCode::OK, "{}").await;
    let now = app.now();
    let untyped = app.sign(&json!({"exp":now+60,"iat":now,"jti":"a".repeat(32)}));
    expect(app.verify(&untyped).await, StatusCode::OK, "{}").await;
}

#[tokio::test]
async fn invalid_expired_and_no_jti() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    for (label, token) in crate::refresh::invalid_refresh_tokens(&app) {
        let r = app.verify(&token).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(
            r.text().await.unwrap(),
            token_error("Token is invalid"),
            "{label}"
        );
    }
    let now = app.now();
    let no_jti = app.sign(&json!({"token_type":"access","exp":now+60,"iat":now}));
    expect_401(app.verify(&no_jti).await, &token_error("Token has no id")).await;
    app.advance(std::time::Duration::from_secs(300));
    expect_401(
        app.verify(&pair.access).await,
        &token_error("Token is expired"),
    )
    .await;
}

#[tokio::test]
async fn blacklisted_and_revoked_tokens_are_refused() {
    // simplejwt: 200 (or 400 non_field_errors with BLACKLIST_AFTER_ROTATION); Tessera: 401.
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    expect(app.blacklist(&pair.refresh).await, StatusCode::OK, "{}").await;
    expect_401(
        app.verify(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    // The access token is still valid until a logout-all.
    expect(app.verify(&pair.access).await, StatusCode::OK, "{}").await;
    assert_eq!(app.logout_all(&pair.access).await.status(), StatusCode::OK);
    expect_401(
        app.verify(&pair.access).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn spent_refresh_token_is_refused() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    assert_eq!(app.refresh(&pair.refresh).await.status(), StatusCode::OK);
    expect_401(
        app.verify(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn missing_field() {
    let app = spawn_app().await;
    expect(
        app.post_json("/api/token/verify/", &json!({})).await,
        StatusCode::BAD_REQUEST,
        r#"{"token":["This field is required."]}"#,
    )
    .await;
}
