//! `POST /api/token/` — reference §2.4, every row.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn success_returns_refresh_then_access_with_simplejwt_claims() {
    let app = spawn_app().await;
    let r = app.login(TEST_USERNAME, TEST_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    let text = r.text().await.unwrap();
    assert!(text.starts_with(r#"{"refresh":""#), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let (refresh, access) = (
        body["refresh"].as_str().unwrap(),
        body["access"].as_str().unwrap(),
    );

    assert_eq!(header(access), json!({"alg":"HS256","typ":"JWT"}));
    let now = app.now();
    let rc = claims(refresh);
    let ac = claims(access);
    let keys: Vec<&str> = rc.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["token_type", "exp", "iat", "jti", "user_id"]);
    assert_eq!(rc["token_type"], "refresh");
    assert_eq!(ac["token_type"], "access");
    assert_eq!(rc["user_id"], app.user.id.to_string());
    assert_eq!(ac["user_id"], app.user.id.to_string());
    assert_eq!(rc["iat"], now);
    assert_eq!(ac["iat"], now);
    assert_eq!(rc["exp"], now + 86_400);
    assert_eq!(ac["exp"], now + 300, "access.exp = refresh.iat + 300");
    for c in [&rc, &ac] {
        let jti = c["jti"].as_str().unwrap();
        assert_eq!(jti.len(), 32);
        assert!(
            jti.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    assert_ne!(rc["jti"], ac["jti"]);
}

#[tokio::test]
async fn login_works_end_to_end_with_me() {
    let app = spawn_app().await;
    // Before any login: `last_login` is null (a token made with the server's key).
    let before = app.craft("access", &json!(app.user.id), 60);
    let body: Value = app.me(&before).await.json().await.unwrap();
    assert_eq!(body["last_login"], Value::Null, "{body}");
    let pair = app.login_ok().await;
    let r = app.me(&pair.access).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], app.user.id);
    assert_eq!(body["username"], TEST_USERNAME);
    assert_eq!(body["email"], TEST_EMAIL);
    assert_eq!(body["is_staff"], false);
    assert_eq!(body["is_superuser"], false);
    // RFC 3339 UTC to the second, of the login's time.
    let login_time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(app.now() as u64);
    let expected = humantime::format_rfc3339_seconds(login_time).to_string();
    assert_eq!(body["last_login"], expected.as_str(), "{body}");
    assert!(expected.ends_with('Z'));
}

const NO_ACCOUNT: &str = r#"{"detail":"No active account found with the given credentials"}"#;

#[tokio::test]
async fn wrong_password_unknown_user_and_inactive_user_get_the_same_401() {
    let app = spawn_app().await;
    expect_401(app.login(TEST_USERNAME, "wrong").await, NO_ACCOUNT).await;
    expect_401(app.login("nobody", TEST_PASSWORD).await, NO_ACCOUNT).await;
    expect_401(app.login("ALICE", TEST_PASSWORD).await, NO_ACCOUNT).await;
    app.admin.deactivate(TEST_USERNAME).await.unwrap();
    expect_401(app.login(TEST_USERNAME, TEST_PASSWORD).await, NO_ACCOUNT).await;
}

#[tokio::test]
async fn credentials_are_trimmed_like_drf() {
    let app = spawn_app().await;
    let r = app.login("  alice ", " wonderland123  ").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_blank_null_and_list_fields_are_field_errors() {
    let app = spawn_app().await;
    let both_required =
        r#"{"username":["This field is required."],"password":["This field is required."]}"#;
    expect(
        app.post_json("/api/token/", &json!({})).await,
        StatusCode::BAD_REQUEST,
        both_required,
    )
    .await;
    expect(
        app.post_raw("/api/token/", None, "").await,
        StatusCode::BAD_REQUEST,
        both_required,
    )
    .await;
    expect(
        app.post_json("/api/token/", &json!({"username":"","password":"  "}))
            .await,
        StatusCode::BAD_REQUEST,
        r#"{"username":["This field may not be blank."],"password":["This field may not be blank."]}"#,
    )
    .await;
    expect(
        app.post_json("/api/token/", &json!({"username":null,"password":null}))
            .await,
        StatusCode::BAD_REQUEST,
        r#"{"username":["This field may not be null."],"password":["This field may not be null."]}"#,
    )
    .await;
    expect(
        app.post_json("/api/token/", &json!({"username":"alice","password":["x"]}))
            .await,
        StatusCode::BAD_REQUEST,
        r#"{"password":["Not a valid string."]}"#,
    )
    .await;
}

#[tokio::test]
async fn form_encoded_login_works() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/token/"))
        .form(&[("username", TEST_USERNAME), ("password", TEST_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
