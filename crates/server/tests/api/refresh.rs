//! `POST /api/token/refresh/` — reference §2.5, every row (500s replaced by 401s).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_jwt::{Algorithm, Key};

use crate::helpers::*;

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// Tokens that fail signature/claim validation, each labelled.
pub fn invalid_refresh_tokens(app: &TestApp) -> Vec<(&'static str, String)> {
    let now = app.now();
    let id = app.user.id.to_string();
    let payload =
        json!({"token_type":"refresh","exp":now+600,"iat":now,"jti":"b".repeat(32),"user_id":id});
    let good = app.sign(&payload);
    let mut bad_sig = good.clone();
    let last = bad_sig.pop().unwrap();
    bad_sig.push(if last == 'A' { 'B' } else { 'A' });
    let hs512 = tessera_jwt::encode(
        &Key::hmac(Algorithm::HS512, TEST_SECRET.as_bytes()).unwrap(),
        &payload,
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg":"none","typ":"JWT"})),
        b64(&payload)
    );
    let none_cased = format!("{}.{}.", b64(&json!({"alg":"NoNe"})), b64(&payload));
    let future_iat = app.sign(&json!({"token_type":"refresh","exp":now+600,"iat":now+60,"jti":"c".repeat(32),"user_id":id}));
    let future_nbf = app.sign(&json!({"token_type":"refresh","exp":now+600,"iat":now,"nbf":now+60,"jti":"d".repeat(32),"user_id":id}));
    let int_jti =
        app.sign(&json!({"token_type":"refresh","exp":now+600,"iat":now,"jti":12345,"user_id":id}));
    let int_sub = app.sign(&json!({"token_type":"refresh","exp":now+600,"iat":now,"jti":"e".repeat(32),"user_id":id,"sub":1}));
    let string_exp = app.sign(&json!({"token_type":"refresh","exp":(now+600).to_string(),"iat":now,"jti":"f".repeat(32),"user_id":id}));
    vec![
        ("garbage", "garbage".to_owned()),
        ("two segments", "a.b".to_owned()),
        ("bad signature", bad_sig),
        ("other alg, same secret", hs512),
        ("alg none", none),
        ("alg NoNe", none_cased),
        ("iat in the future", future_iat),
        ("nbf in the future", future_nbf),
        ("integer jti", int_jti),
        ("integer sub", int_sub),
        // simplejwt answers 500 here.
        ("string exp", string_exp),
        ("huge token", "a".repeat(9000)),
    ]
}

#[tokio::test]
async fn rotation_returns_access_then_refresh() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    app.advance(std::time::Duration::from_secs(30));
    let r = app.refresh(&pair.refresh).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    let text = r.text().await.unwrap();
    assert!(text.starts_with(r#"{"access":""#), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let access = claims(body["access"].as_str().unwrap());
    let refresh = claims(body["refresh"].as_str().unwrap());
    let now = app.now();
    assert_eq!(access["token_type"], "access");
    assert_eq!(access["iat"], now, "each token has its own iat");
    assert_eq!(access["exp"], now + 300, "base time is the refresh request");
    assert_eq!(refresh["token_type"], "refresh");
    assert_eq!(
        refresh["exp"],
        now + 86_400,
        "rotation gives a full new lifetime"
    );
    assert_ne!(refresh["jti"], claims(&pair.refresh)["jti"]);
    assert_eq!(refresh["user_id"], app.user.id.to_string());
    assert_eq!(
        app.me(body["access"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn access_token_has_wrong_type() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    expect_401(
        app.refresh(&pair.access).await,
        &token_error("Token has wrong type"),
    )
    .await;
}

#[tokio::test]
async fn invalid_tokens_are_token_is_invalid() {
    let app = spawn_app().await;
    for (label, token) in invalid_refresh_tokens(&app) {
        let r = app.refresh(&token).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(
            r.text().await.unwrap(),
            token_error("Token is invalid"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn aud_and_iss_mismatches_are_invalid() {
    let app = spawn_app_with(|s| {
        s.audience = Some("my-aud".into());
        s.issuer = Some("my-iss".into());
    })
    .await;
    let pair = app.login_ok().await;
    let c = claims(&pair.refresh);
    assert_eq!(c["aud"], "my-aud");
    assert_eq!(c["iss"], "my-iss");
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["token_type", "exp", "iat", "jti", "user_id", "aud", "iss"]
    );
    assert_eq!(app.refresh(&pair.refresh).await.status(), StatusCode::OK);
    let now = app.now();
    let id = app.user.id.to_string();
    for (label, extra) in [
        ("no aud", json!({"iss":"my-iss"})),
        ("other aud", json!({"aud":"x","iss":"my-iss"})),
        ("no iss", json!({"aud":"my-aud"})),
        ("other iss", json!({"aud":"my-aud","iss":"x"})),
    ] {
        let mut payload = json!({"token_type":"refresh","exp":now+600,"iat":now,"jti":tessera_server::tokens::new_id(),"user_id":id});
        payload
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let r = app.refresh(&app.sign(&payload)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(
            r.text().await.unwrap(),
            token_error("Token is invalid"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn expired() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    app.advance(std::time::Duration::from_secs(86_400));
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is expired"),
    )
    .await;
}

#[tokio::test]
async fn blacklisted() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    expect(app.blacklist(&pair.refresh).await, StatusCode::OK, "{}").await;
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn missing_type_exp_and_jti() {
    let app = spawn_app().await;
    let now = app.now();
    let id = app.user.id.to_string();
    let no_type = app.sign(&json!({"exp":now+60,"iat":now,"jti":"a".repeat(32),"user_id":id}));
    expect_401(
        app.refresh(&no_type).await,
        &token_error("Token has no type"),
    )
    .await;
    let no_exp =
        app.sign(&json!({"token_type":"refresh","iat":now,"jti":"a".repeat(32),"user_id":id}));
    expect_401(
        app.refresh(&no_exp).await,
        &token_error("Token has no 'exp' claim"),
    )
    .await;
    // simplejwt with the blacklist app answers 500 here.
    let no_jti = app.sign(&json!({"token_type":"refresh","exp":now+60,"iat":now,"user_id":id}));
    expect_401(app.refresh(&no_jti).await, &token_error("Token has no id")).await;
}

const NO_ACCOUNT_FOR_TOKEN: &str = r#"{"detail":"No active account found for the given token."}"#;

#[tokio::test]
async fn inactive_user_cannot_refresh() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    // Re-activated after a deactivation: the old session stays revoked, the user is active
    // again. To see the inactive answer itself, deactivate without revocation in between.
    app.admin.deactivate(TEST_USERNAME).await.unwrap();
    let crafted = app.craft("refresh", &json!(app.user.id.to_string()), 600);
    app.advance(std::time::Duration::from_secs(2));
    expect_401(app.refresh(&crafted).await, NO_ACCOUNT_FOR_TOKEN).await;
    expect_401(app.refresh(&pair.refresh).await, NO_ACCOUNT_FOR_TOKEN).await;
}

#[tokio::test]
async fn deleted_user_and_unusable_ids_get_401_not_500() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    app.admin.delete(TEST_USERNAME).await.unwrap();
    expect_401(app.refresh(&pair.refresh).await, NO_ACCOUNT_FOR_TOKEN).await;
    let abc = app.craft("refresh", &json!("abc"), 600);
    expect_401(app.refresh(&abc).await, NO_ACCOUNT_FOR_TOKEN).await;
    let none = app.sign(
        &json!({"token_type":"refresh","exp":app.now()+60,"iat":app.now(),"jti":"a".repeat(32)}),
    );
    expect_401(app.refresh(&none).await, NO_ACCOUNT_FOR_TOKEN).await;
}

#[tokio::test]
async fn missing_and_blank_field() {
    let app = spawn_app().await;
    expect(
        app.post_json("/api/token/refresh/", &json!({})).await,
        StatusCode::BAD_REQUEST,
        r#"{"refresh":["This field is required."]}"#,
    )
    .await;
    expect(
        app.post_json("/api/token/refresh/", &json!({"refresh":"  "}))
            .await,
        StatusCode::BAD_REQUEST,
        r#"{"refresh":["This field may not be blank."]}"#,
    )
    .await;
}
