//! `POST /api/token/blacklist/` — reference §2.7, every row.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn success_then_already_blacklisted() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let r = app.blacklist(&pair.refresh).await;
    assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    expect(r, StatusCode::OK, "{}").await;
    expect_401(
        app.blacklist(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn access_token_has_wrong_type() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    expect_401(
        app.blacklist(&pair.access).await,
        &token_error("Token has wrong type"),
    )
    .await;
}

#[tokio::test]
async fn missing_field() {
    let app = spawn_app().await;
    expect(
        app.post_json("/api/token/blacklist/", &json!({})).await,
        StatusCode::BAD_REQUEST,
        r#"{"refresh":["This field is required."]}"#,
    )
    .await;
}

#[tokio::test]
async fn a_token_never_issued_here_is_recorded_and_revoked() {
    // simplejwt get_or_creates an OutstandingToken for a crafted token (observed 200).
    let app = spawn_app().await;
    let foreign = app.craft("refresh", &json!(app.user.id.to_string()), 600);
    expect(app.blacklist(&foreign).await, StatusCode::OK, "{}").await;
    expect_401(
        app.refresh(&foreign).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn expired_and_invalid_fail_as_in_refresh() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    expect_401(
        app.blacklist("garbage").await,
        &token_error("Token is invalid"),
    )
    .await;
    app.advance(std::time::Duration::from_secs(86_401));
    expect_401(
        app.blacklist(&pair.refresh).await,
        &token_error("Token is expired"),
    )
    .await;
}
