//! The captured wire contract of simplejwt 5.5 (reference §2.2, §2.4–§2.7, §2.10 and the interop
//! facts of §3.4), row by row, for the rows the per-endpoint modules (`obtain`, `refresh`,
//! `verify`, `blacklist`, `auth`, `sessions`, `bad_input`) do not already pin down: headers on
//! every kind of answer, bodies on every token view, the remaining `JWTAuthentication` rows,
//! and the tokens simplejwt accepts or refuses when another issuer shares its secret.

use reqwest::header::{ALLOW, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tessera_jwt::{Algorithm, Key};

use crate::helpers::*;

/// The four simplejwt views and the name of their token field.
const TOKEN_VIEWS: [(&str, &str); 4] = [
    ("/api/token/", "username"),
    ("/api/token/refresh/", "refresh"),
    ("/api/token/verify/", "token"),
    ("/api/token/blacklist/", "refresh"),
];

/// Checks the headers every answer of a token view carries (§2.2): `Allow: POST, OPTIONS`,
/// `Content-Type: application/json` without a charset, and `WWW-Authenticate` exactly on 401s.
fn assert_token_view_headers(r: &Response, what: &str) {
    assert_eq!(
        r.headers().get(ALLOW).map(|v| v.to_str().unwrap()),
        Some("POST, OPTIONS"),
        "Allow on {what}"
    );
    assert_eq!(
        r.headers().get(CONTENT_TYPE).map(|v| v.to_str().unwrap()),
        Some("application/json"),
        "Content-Type on {what}"
    );
    let challenge = r
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap());
    if r.status() == StatusCode::UNAUTHORIZED {
        assert_eq!(challenge, Some("Bearer realm=\"api\""), "{what}");
    } else {
        assert_eq!(
            challenge,
            None,
            "WWW-Authenticate on a {} ({what})",
            r.status()
        );
    }
}

#[tokio::test]
async fn every_answer_of_a_token_view_has_allow_bare_json_and_a_challenge_only_on_401() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    for (path, field) in TOKEN_VIEWS {
        // 200 (each view with an input it accepts; blacklist last, it ends the session).
        let ok_body = match path {
            "/api/token/" => json!({"username": TEST_USERNAME, "password": TEST_PASSWORD}),
            "/api/token/verify/" => json!({"token": pair.access}),
            _ => json!({ field: app.craft("refresh", &json!(app.user.id.to_string()), 600) }),
        };
        let cases: Vec<(&str, Response, StatusCode)> = vec![
            ("200", app.post_json(path, &ok_body).await, StatusCode::OK),
            (
                "400 field error",
                app.post_json(path, &json!({})).await,
                StatusCode::BAD_REQUEST,
            ),
            (
                "400 parse error",
                app.post_raw(path, Some("application/json"), "{").await,
                StatusCode::BAD_REQUEST,
            ),
            (
                "400 non-field error",
                app.post_raw(path, Some("application/json"), "[]").await,
                StatusCode::BAD_REQUEST,
            ),
            (
                "401",
                if path == "/api/token/" {
                    app.login(TEST_USERNAME, "wrong").await
                } else {
                    app.post_json(path, &json!({ field: "garbage" })).await
                },
                StatusCode::UNAUTHORIZED,
            ),
            (
                "405",
                app.request(Method::GET, path).await,
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                "415",
                app.post_raw(path, Some("text/plain"), "x").await,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "413",
                app.post_raw(
                    path,
                    Some("application/json"),
                    vec![b' '; app.settings.max_body_size + 1],
                )
                .await,
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        for (what, r, status) in cases {
            let what = format!("{what} of {path}");
            assert_eq!(r.status(), status, "{what}");
            assert_token_view_headers(&r, &what);
            let _: Value = r.json().await.expect("a JSON body");
        }
    }
}

#[tokio::test]
async fn protected_endpoint_answers_are_bare_json_with_the_challenge_on_401() {
    // The raw capture of §2.10: `Content-Type: application/json` and the challenge on a 401.
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let r = app.me(&pair.access).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    assert!(!r.headers().contains_key(WWW_AUTHENTICATE));
    for auth in [None, Some("Bearer"), Some("Bearer garbage")] {
        let r = app.get_with_auth("/api/me/", auth).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json", "{auth:?}");
        assert_eq!(r.headers()[WWW_AUTHENTICATE], "Bearer realm=\"api\"");
    }
    // HEAD gets the same status and headers with an empty body.
    let r = app
        .client
        .head(app.url("/api/me/"))
        .header("authorization", format!("Bearer {}", pair.access))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn garbage_authorization_is_ignored_by_every_token_view() {
    // §2.2: `authentication_classes = ()` on the token views.
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    for authorization in [
        "Bearer garbage",
        "Bearer a b c",
        "Basic dXNlcjpwYXNz",
        "JWT x",
    ] {
        let foreign = app.craft("refresh", &json!(app.user.id.to_string()), 600);
        for (path, body) in [
            ("/api/token/refresh/", json!({"refresh": foreign})),
            ("/api/token/verify/", json!({"token": pair.access})),
            ("/api/token/blacklist/", json!({"refresh": foreign})),
        ] {
            let r = app
                .client
                .post(app.url(path))
                .header("authorization", authorization)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path} with {authorization:?}");
        }
    }
}

#[tokio::test]
async fn form_encoded_bodies_work_on_refresh_verify_and_blacklist() {
    // §2.2 body parsers: `application/x-www-form-urlencoded` on every view (obtain: `obtain`).
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let r = app
        .client
        .post(app.url("/api/token/verify/"))
        .form(&[("token", pair.access.as_str())])
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::OK, "{}").await;
    let r = app
        .client
        .post(app.url("/api/token/refresh/"))
        .form(&[("refresh", pair.refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rotated: Value = r.json().await.unwrap();
    let r = app
        .client
        .post(app.url("/api/token/blacklist/"))
        .form(&[("refresh", rotated["refresh"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::OK, "{}").await;
    // Field errors look the same as for JSON bodies.
    let r = app
        .client
        .post(app.url("/api/token/verify/"))
        .form(&[("other", "x")])
        .send()
        .await
        .unwrap();
    expect(
        r,
        StatusCode::BAD_REQUEST,
        r#"{"token":["This field is required."]}"#,
    )
    .await;
}

/// A `multipart/form-data` body (RFC 7578) with the given text fields.
pub fn multipart(fields: &[(&str, &str)]) -> (String, String) {
    let boundary = "tessera-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn multipart_form_bodies_are_parsed_like_drf() {
    // §2.2: DRF's default parsers include `MultiPartParser`; an HTML form or a client that
    // posts `multipart/form-data` logs in with simplejwt and must with Tessera.
    let app = spawn_app().await;
    let (ct, body) = multipart(&[("username", TEST_USERNAME), ("password", TEST_PASSWORD)]);
    let r = app.post_raw("/api/token/", Some(&ct), body).await;
    assert_eq!(r.status(), StatusCode::OK, "multipart login");
    let pair: Value = r.json().await.unwrap();
    let (ct, body) = multipart(&[("token", pair["access"].as_str().unwrap())]);
    expect(
        app.post_raw("/api/token/verify/", Some(&ct), body).await,
        StatusCode::OK,
        "{}",
    )
    .await;
    let (ct, body) = multipart(&[("username", TEST_USERNAME)]);
    expect(
        app.post_raw("/api/token/", Some(&ct), body).await,
        StatusCode::BAD_REQUEST,
        r#"{"password":["This field is required."]}"#,
    )
    .await;
}

#[tokio::test]
async fn options_on_obtain_describes_it_as_simplejwt_does() {
    // §2.2 `OPTIONS /api/token/` (captured). `renders` may differ: Tessera has no browsable
    // HTML API. Everything a client or a generated form reads is exact.
    let app = spawn_app().await;
    let r = app.request(Method::OPTIONS, "/api/token/").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_token_view_headers(&r, "OPTIONS /api/token/");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["name"], "Token Obtain Pair");
    assert_eq!(
        body["description"],
        "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials."
    );
    assert_eq!(
        body["actions"],
        json!({"POST":{
            "username":{"type":"string","required":true,"read_only":false,"label":"Username"},
            "password":{"type":"string","required":true,"read_only":false,"label":"Password"}
        }})
    );
    assert!(
        body["renders"]
            .as_array()
            .unwrap()
            .contains(&json!("application/json"))
    );
    assert_eq!(
        body["parses"],
        json!([
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data"
        ])
    );
}

#[tokio::test]
async fn empty_bodies_are_missing_fields_on_every_token_view() {
    // §2.2 "empty body: treated as missing fields"; §2.4–§2.7 "missing field" rows.
    let app = spawn_app().await;
    for (path, body) in [
        (
            "/api/token/",
            r#"{"username":["This field is required."],"password":["This field is required."]}"#,
        ),
        (
            "/api/token/refresh/",
            r#"{"refresh":["This field is required."]}"#,
        ),
        (
            "/api/token/verify/",
            r#"{"token":["This field is required."]}"#,
        ),
        (
            "/api/token/blacklist/",
            r#"{"refresh":["This field is required."]}"#,
        ),
    ] {
        for content_type in [None, Some("application/json")] {
            let r = app.post_raw(path, content_type, "").await;
            assert_token_view_headers(&r, path);
            expect(r, StatusCode::BAD_REQUEST, body).await;
        }
    }
}

#[tokio::test]
async fn extra_keys_are_ignored() {
    // §2.4 "extra keys ignored" (serializers read only their own fields).
    let app = spawn_app().await;
    let r = app
        .post_json(
            "/api/token/",
            &json!({"username": TEST_USERNAME, "password": TEST_PASSWORD,
                    "remember": true, "nested": {"a": [1, 2]}, "token": null}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let pair: Value = r.json().await.unwrap();
    let r = app
        .post_json(
            "/api/token/verify/",
            &json!({"token": pair["access"], "refresh": 12, "x": [null]}),
        )
        .await;
    expect(r, StatusCode::OK, "{}").await;
    let r = app
        .post_json(
            "/api/token/refresh/",
            &json!({"refresh": pair["refresh"], "access": pair["access"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn success_bodies_have_exactly_the_captured_keys_in_order() {
    // §2.1: obtain = `refresh, access`; rotated refresh = `access, refresh`; verify and
    // blacklist = `{}` — and nothing else in any of them.
    let app = spawn_app().await;
    let r = app.login(TEST_USERNAME, TEST_PASSWORD).await;
    let text = r.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let expected = format!(
        r#"{{"refresh":"{}","access":"{}"}}"#,
        body["refresh"].as_str().unwrap(),
        body["access"].as_str().unwrap()
    );
    assert_eq!(text, expected);
    let r = app.refresh(body["refresh"].as_str().unwrap()).await;
    let text = r.text().await.unwrap();
    let rotated: Value = serde_json::from_str(&text).unwrap();
    let expected = format!(
        r#"{{"access":"{}","refresh":"{}"}}"#,
        rotated["access"].as_str().unwrap(),
        rotated["refresh"].as_str().unwrap()
    );
    assert_eq!(text, expected);
}

#[tokio::test]
async fn non_ascii_is_emitted_raw_in_compact_json() {
    // §2.2: DRF's UNICODE_JSON / COMPACT_JSON defaults: `"zoë"`, not `"zo\u00eb"`, no spaces.
    let app = spawn_app().await;
    let user = app
        .admin
        .create(
            &tessera_server::users::CreateUser {
                username: "zoë".into(),
                email: "zoë@example.com".into(),
                ..Default::default()
            },
            Some(&"pässwörd-ünïcode".into()),
        )
        .await
        .unwrap();
    let r = app.login("zoë", "pässwörd-ünïcode").await;
    assert_eq!(r.status(), StatusCode::OK);
    let pair: Value = r.json().await.unwrap();
    let r = app.me(pair["access"].as_str().unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        text.starts_with(&format!(
            r#"{{"id":{},"username":"zoë","email":"zoë@example.com","is_staff":false,"#,
            user.id
        )),
        "{text}"
    );
}

#[tokio::test]
async fn me_refuses_tokens_simplejwt_calls_invalid() {
    // §2.10: other alg / integer `jti` / integer `sub` / string `exp` (500 in simplejwt).
    let app = spawn_app().await;
    let id = json!(app.user.id.to_string());
    let invalid = access_error("Token is invalid");
    let hs384 = Key::hmac(Algorithm::HS384, TEST_SECRET.as_bytes()).unwrap();
    let other_alg =
        tessera_jwt::encode(&hs384, &simplejwt_claims(&app, "access", &id, 60)).unwrap();
    let mut int_jti = simplejwt_claims(&app, "access", &id, 60);
    int_jti["jti"] = json!(12345);
    let mut int_sub = simplejwt_claims(&app, "access", &id, 60);
    int_sub["sub"] = json!(1);
    let mut string_exp = simplejwt_claims(&app, "access", &id, 60);
    string_exp["exp"] = json!((app.now() + 60).to_string());
    let other_secret = Key::hmac(
        Algorithm::HS256,
        b"another-secret-another-secret-another-secret-0123456789",
    )
    .unwrap();
    let forged =
        tessera_jwt::encode(&other_secret, &simplejwt_claims(&app, "access", &id, 60)).unwrap();
    for (label, token) in [
        ("other alg, same secret", other_alg),
        ("integer jti", app.sign(&int_jti)),
        ("integer sub", app.sign(&int_sub)),
        ("string exp", app.sign(&string_exp)),
        ("other secret", forged),
    ] {
        let r = app.me(&token).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(r.text().await.unwrap(), invalid, "{label}");
    }
}

#[tokio::test]
async fn me_refuses_aud_and_iss_mismatches_when_configured() {
    let app = spawn_app_with(|s| {
        s.audience = Some("my-aud".into());
        s.issuer = Some("my-iss".into());
    })
    .await;
    let pair = app.login_ok().await;
    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
    let id = json!(app.user.id.to_string());
    for (label, aud, iss) in [
        ("no aud/iss", None, None),
        ("other aud", Some("x"), Some("my-iss")),
        ("no iss", Some("my-aud"), None),
        ("other iss", Some("my-aud"), Some("x")),
    ] {
        let mut c = simplejwt_claims(&app, "access", &id, 60);
        if let Some(aud) = aud {
            c["aud"] = json!(aud);
        }
        if let Some(iss) = iss {
            c["iss"] = json!(iss);
        }
        let r = app.me(&app.sign(&c)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(
            r.text().await.unwrap(),
            access_error("Token is invalid"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn me_refuses_sliding_and_untyped_and_unidentified_tokens() {
    // §2.10 rows "refresh or sliding token", "no jti / no token_type"; §3.6: the jti check
    // comes before the type check.
    let app = spawn_app().await;
    let id = json!(app.user.id.to_string());
    let sliding = app.craft("sliding", &id, 60);
    expect_401(
        app.me(&sliding).await,
        &access_error("Token has wrong type"),
    )
    .await;
    let mut no_type = simplejwt_claims(&app, "access", &id, 60);
    no_type.as_object_mut().unwrap().remove("token_type");
    expect_401(
        app.me(&app.sign(&no_type)).await,
        &access_error("Token has no type"),
    )
    .await;
    let mut no_jti = simplejwt_claims(&app, "access", &id, 60);
    no_jti.as_object_mut().unwrap().remove("jti");
    expect_401(
        app.me(&app.sign(&no_jti)).await,
        &access_error("Token has no id"),
    )
    .await;
    no_jti.as_object_mut().unwrap().remove("token_type");
    expect_401(
        app.me(&app.sign(&no_jti)).await,
        &access_error("Token has no id"),
    )
    .await;
}

#[tokio::test]
async fn configured_auth_header_types_decide_scheme_and_challenge() {
    // §2.10 step 2 (the scheme must be exactly one of AUTH_HEADER_TYPES) and §2.2 (the challenge
    // names the first one).
    let app = spawn_app_with(|s| s.auth_header_types = vec!["JWT".into(), "Token".into()]).await;
    let pair = app.login_ok().await;
    for scheme in ["JWT", "Token"] {
        let r = app
            .get_with_auth("/api/me/", Some(&format!("{scheme} {}", pair.access)))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{scheme}");
    }
    let r = app.me(&pair.access).await; // "Bearer …" is not configured here.
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()[WWW_AUTHENTICATE], "JWT realm=\"api\"");
    expect(
        r,
        StatusCode::UNAUTHORIZED,
        r#"{"detail":"Authentication credentials were not provided."}"#,
    )
    .await;
    let r = app.login(TEST_USERNAME, "wrong").await;
    assert_eq!(r.headers()[WWW_AUTHENTICATE], "JWT realm=\"api\"");
}

/// Tokens that simplejwt accepts although it would not issue them (§3.4), for `token_type`.
fn accepted_foreign_tokens(app: &TestApp, token_type: &str) -> Vec<(&'static str, String)> {
    let key = app.keys.signing();
    let id = json!(app.user.id.to_string());
    let claims = || simplejwt_claims(app, token_type, &id, 600);
    let mut float_exp = claims();
    float_exp["exp"] = json!(app.now() as f64 + 600.75);
    let mut int_user_id = claims();
    int_user_id["user_id"] = json!(app.user.id);
    let mut extra = claims();
    extra["role"] = json!("admin");
    extra["scopes"] = json!(["a", "b"]);
    extra["nested"] = json!({"k": [1, {"x": null}]});
    let mut aud_iss = claims();
    aud_iss["aud"] = json!("somebody");
    aud_iss["iss"] = json!("someone");
    vec![
        (
            "no typ header",
            sign_with_header(key, &json!({"alg":"HS256"}), &claims()),
        ),
        (
            "extra kid header",
            sign_with_header(
                key,
                &json!({"alg":"HS256","kid":"k1","typ":"JWT"}),
                &claims(),
            ),
        ),
        (
            "header keys unsorted",
            sign_with_header(key, &json!({"typ":"JWT","alg":"HS256"}), &claims()),
        ),
        ("float exp", app.sign(&float_exp)),
        ("integer user_id", app.sign(&int_user_id)),
        ("extra unknown claims", app.sign(&extra)),
        ("aud/iss while not configured", app.sign(&aud_iss)),
    ]
}

#[tokio::test]
async fn tokens_simplejwt_accepts_are_accepted_by_verify_and_me() {
    let app = spawn_app().await;
    for (label, token) in accepted_foreign_tokens(&app, "access") {
        let r = app.verify(&token).await;
        assert_eq!(r.status(), StatusCode::OK, "verify: {label}");
        assert_eq!(r.text().await.unwrap(), "{}", "verify: {label}");
        let r = app.me(&token).await;
        assert_eq!(r.status(), StatusCode::OK, "me: {label}");
        let me: Value = r.json().await.unwrap();
        assert_eq!(me["id"], app.user.id, "me: {label}");
    }
}

#[tokio::test]
async fn refresh_tokens_simplejwt_accepts_are_accepted_by_refresh_and_blacklist() {
    let app = spawn_app().await;
    for (label, token) in accepted_foreign_tokens(&app, "refresh") {
        let r = app.refresh(&token).await;
        assert_eq!(r.status(), StatusCode::OK, "refresh: {label}");
        let body: Value = r.json().await.unwrap();
        let access = body["access"].as_str().expect("access");
        assert_eq!(
            claims(access)["user_id"],
            app.user.id.to_string(),
            "{label}"
        );
        assert_eq!(app.me(access).await.status(), StatusCode::OK, "{label}");
    }
    for (label, token) in accepted_foreign_tokens(&app, "refresh") {
        let r = app.blacklist(&token).await;
        assert_eq!(r.status(), StatusCode::OK, "blacklist: {label}");
        expect_401(
            app.refresh(&token).await,
            &token_error("Token is blacklisted"),
        )
        .await;
    }
}

#[tokio::test]
async fn verify_accepts_sliding_tokens_and_tokens_without_a_user() {
    // §2.6: no type check and no user check (an untyped token without user_id is `verify`'s).
    let app = spawn_app().await;
    let id = json!(app.user.id.to_string());
    expect(
        app.verify(&app.craft("sliding", &id, 60)).await,
        StatusCode::OK,
        "{}",
    )
    .await;
    let mut no_user = simplejwt_claims(&app, "access", &id, 60);
    no_user.as_object_mut().unwrap().remove("user_id");
    expect(app.verify(&app.sign(&no_user)).await, StatusCode::OK, "{}").await;
}

#[tokio::test]
async fn verify_refuses_what_pyjwt_refuses() {
    // §2.6 "invalid / bad signature" with the §3.4 list: other alg, alg none, future iat/nbf,
    // integer jti, integer sub, and an unknown `kid` is not a reason to accept another alg.
    let app = spawn_app().await;
    let id = json!(app.user.id.to_string());
    let key = app.keys.signing();
    let hs512 = Key::hmac(Algorithm::HS512, TEST_SECRET.as_bytes()).unwrap();
    let mut future_iat = simplejwt_claims(&app, "access", &id, 600);
    future_iat["iat"] = json!(app.now() + 30);
    let mut future_nbf = simplejwt_claims(&app, "access", &id, 600);
    future_nbf["nbf"] = json!(app.now() + 30);
    for (label, token) in [
        (
            "HS512 header, HS256 signature",
            sign_with_header(
                key,
                &json!({"alg":"HS512","typ":"JWT"}),
                &simplejwt_claims(&app, "access", &id, 600),
            ),
        ),
        (
            "HS512 with the same secret",
            tessera_jwt::encode(&hs512, &simplejwt_claims(&app, "access", &id, 600)).unwrap(),
        ),
        (
            "alg none with an HS256 signature",
            sign_with_header(
                key,
                &json!({"alg":"none","typ":"JWT"}),
                &simplejwt_claims(&app, "access", &id, 600),
            ),
        ),
        ("future iat", app.sign(&future_iat)),
        ("future nbf", app.sign(&future_nbf)),
    ] {
        let r = app.verify(&token).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(
            r.text().await.unwrap(),
            token_error("Token is invalid"),
            "{label}"
        );
    }
}
