//! JWKS, health, readiness, and asymmetric signing.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tessera_jwt::{Algorithm, KeySet, Validation};

use crate::helpers::*;

#[tokio::test]
async fn hmac_jwks_is_an_empty_set() {
    let app = spawn_app().await;
    expect(
        app.request(Method::GET, "/.well-known/jwks.json").await,
        StatusCode::OK,
        r#"{"keys":[]}"#,
    )
    .await;
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    expect(
        app.request(Method::GET, "/healthz").await,
        StatusCode::OK,
        r#"{"status":"ok"}"#,
    )
    .await;
    expect(
        app.request(Method::GET, "/readyz").await,
        StatusCode::OK,
        r#"{"status":"ready"}"#,
    )
    .await;
}

async fn asymmetric_round_trip(alg: Algorithm) {
    let app = spawn_app_with(|s| {
        s.algorithm = alg;
        s.signing_key = None; // generated in the data dir on first run
    })
    .await;
    let pair = app.login_ok().await;
    let h = header(&pair.access);
    assert_eq!(h["alg"], alg.as_str());
    let kid = h["kid"].as_str().expect("kid header").to_owned();

    let jwks: Value = app
        .request(Method::GET, "/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
    assert!(jwks["keys"][0].get("d").is_none(), "no private members");

    // A third party verifies our token with nothing but the published JWKS.
    let keys = KeySet::from_jwks(&jwks.to_string()).unwrap();
    let now = u64::try_from(app.now()).unwrap();
    let data: tessera_jwt::TokenData<Value> =
        tessera_jwt::decode(&pair.access, &keys, &Validation::new(), now).unwrap();
    assert_eq!(data.claims["user_id"], app.user.id.to_string());

    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
    let body: Value = app.refresh(&pair.refresh).await.json().await.unwrap();
    assert_eq!(
        app.me(body["access"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );

    // The generated key survives a restart.
    let app = app.restart().await;
    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn eddsa_with_kid_and_jwks() {
    asymmetric_round_trip(Algorithm::EdDSA).await;
}

#[tokio::test]
async fn es256_with_kid_and_jwks() {
    asymmetric_round_trip(Algorithm::ES256).await;
}

#[tokio::test]
async fn rs256_from_a_configured_pem() {
    let key = tessera_jwt::Key::generate(Algorithm::RS256).unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let app = spawn_app_with(|s| {
        s.algorithm = Algorithm::RS256;
        s.signing_key = Some(pem.into());
        s.signing_key_id = Some("key-2026".into());
    })
    .await;
    let pair = app.login_ok().await;
    assert_eq!(header(&pair.access)["kid"], "key-2026");
    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
    // An HS256 token made with a public key as the secret never verifies (alg confusion).
    let public_pem = key.to_public_pem().unwrap();
    let confused = tessera_jwt::encode(
        &tessera_jwt::Key::hmac(Algorithm::HS256, public_pem.as_bytes()).unwrap(),
        &serde_json::json!({"token_type":"access","exp":app.now()+60,"iat":app.now(),"jti":"a".repeat(32),"user_id":app.user.id.to_string()}),
    )
    .unwrap();
    expect_401(app.me(&confused).await, &access_error("Token is invalid")).await;
}

#[tokio::test]
async fn database_url_and_signing_key_file_settings() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("elsewhere.db");
    let key = dir.path().join("secret.txt");
    std::fs::write(&key, format!("{TEST_SECRET}\n")).unwrap();
    let app = spawn_app_with(|s| {
        s.database_url = Some(format!("sqlite://{}", db.display()));
        s.signing_key = None;
        s.signing_key_file = Some(key.clone());
    })
    .await;
    let pair = app.login_ok().await;
    assert!(db.exists(), "the configured database file is used");
    assert!(
        !app.data_dir.path().join("tessera.db").exists(),
        "not the default one"
    );
    // The file's contents (one trailing newline removed) are the HMAC secret.
    let with_secret = tessera_jwt::Key::hmac(Algorithm::HS256, TEST_SECRET.as_bytes()).unwrap();
    let now = u64::try_from(app.now()).unwrap();
    let data: tessera_jwt::TokenData<Value> = tessera_jwt::decode(
        &pair.access,
        &KeySet::from(with_secret),
        &Validation::new(),
        now,
    )
    .unwrap();
    assert_eq!(data.claims["token_type"], "access");
}

#[tokio::test]
async fn a_verifying_key_keeps_the_previous_key_valid_during_a_rotation() {
    // Key rotation without downtime: the new key signs, the old one still verifies and both are
    // published, so tokens issued before the switch keep working until they expire.
    let old = tessera_jwt::Key::generate(Algorithm::ES256).unwrap();
    let new = tessera_jwt::Key::generate(Algorithm::ES256).unwrap();
    let app = spawn_app_with(|s| {
        s.algorithm = Algorithm::ES256;
        s.signing_key = Some(new.to_pkcs8_pem().unwrap().into());
        s.verifying_key = Some(old.to_public_pem().unwrap());
    })
    .await;
    let jwks: Value = app
        .request(Method::GET, "/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new.kid().unwrap(), old.kid().unwrap()]);
    let now = app.now();
    let claims = serde_json::json!({"token_type":"access","exp":now+60,"iat":now,
        "jti":tessera_server::tokens::new_id(),"user_id":app.user.id.to_string()});
    let issued_before = tessera_jwt::encode(&old, &claims).unwrap();
    assert_eq!(app.me(&issued_before).await.status(), StatusCode::OK);
    let pair = app.login_ok().await;
    assert_eq!(header(&pair.access)["kid"], new.kid().unwrap());
    // A key that is neither is refused.
    let stranger = tessera_jwt::Key::generate(Algorithm::ES256).unwrap();
    let forged = tessera_jwt::encode(&stranger, &claims).unwrap();
    expect_401(app.me(&forged).await, &access_error("Token is invalid")).await;
}
