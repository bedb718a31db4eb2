//! Brute-force protection on `POST /api/token/` (issue 4; docs/security.md, "Brute-force
//! protection"): per-username and per-address failure limits, 429 with `Retry-After` and DRF's
//! throttle message, lockouts that grow and expire on the (moved, never slept) clock, client
//! addresses from `X-Forwarded-For` only behind a trusted proxy, and no hashing for a refused
//! attempt. The test client always connects from 127.0.0.1.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::*;

const WRONG: &str = "not-the-password";

/// Asserts DRF's throttled answer: 429, `Retry-After: wait`, the exact JSON body.
async fn expect_throttled(r: Response, wait: u64) {
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], wait.to_string().as_str());
    assert_eq!(r.headers()["content-type"], "application/json");
    let unit = if wait == 1 { "second" } else { "seconds" };
    assert_eq!(
        r.text().await.unwrap(),
        format!(r#"{{"detail":"Request was throttled. Expected available in {wait} {unit}."}}"#)
    );
}

async fn fail(app: &TestApp, username: &str) {
    let r = app.login(username, WRONG).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "expected a plain 401");
}

/// A login with `X-Forwarded-For: xff`.
async fn login_via(app: &TestApp, xff: &str, username: &str, password: &str) -> Response {
    app.client
        .post(app.url("/api/token/"))
        .header("x-forwarded-for", xff)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn username_is_locked_after_the_limit_even_for_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..5 {
        fail(&app, TEST_USERNAME).await;
    }
    expect_throttled(app.login(TEST_USERNAME, TEST_PASSWORD).await, 60).await;
    // The slashless path is the same endpoint and the same counter.
    let r = app
        .post_json(
            "/api/token",
            &json!({"username": TEST_USERNAME, "password": TEST_PASSWORD}),
        )
        .await;
    expect_throttled(r, 60).await;
    // Another username from the same address is not affected by alice's lockout.
    fail(&app, "bob").await;
}

#[tokio::test]
async fn unknown_usernames_are_counted_like_known_ones() {
    let app = spawn_app().await;
    for _ in 0..5 {
        fail(&app, "nobody").await;
    }
    expect_throttled(app.login("nobody", WRONG).await, 60).await;
}

#[tokio::test]
async fn a_success_before_the_limit_resets_the_username_counter() {
    let app = spawn_app().await;
    for _ in 0..4 {
        fail(&app, TEST_USERNAME).await;
    }
    app.login_ok().await;
    for _ in 0..4 {
        fail(&app, TEST_USERNAME).await;
    }
    // Without the reset this would be the ninth failure in the window.
    app.login_ok().await;
}

#[tokio::test]
async fn lockout_expires_then_doubles_and_the_window_forgets() {
    let app = spawn_app().await;
    for _ in 0..5 {
        fail(&app, TEST_USERNAME).await;
    }
    app.advance(Duration::from_secs(59));
    expect_throttled(app.login(TEST_USERNAME, TEST_PASSWORD).await, 1).await;
    app.advance(Duration::from_secs(1));
    // Open again: one more failure locks for twice as long.
    fail(&app, TEST_USERNAME).await;
    expect_throttled(app.login(TEST_USERNAME, TEST_PASSWORD).await, 120).await;
    app.advance(Duration::from_secs(120));
    fail(&app, TEST_USERNAME).await;
    expect_throttled(app.login(TEST_USERNAME, WRONG).await, 240).await;

    // A whole quiet window (15 minutes since the last failure): the count starts over, so
    // four failures do not lock.
    app.advance(Duration::from_secs(15 * 60));
    for _ in 0..4 {
        fail(&app, TEST_USERNAME).await;
    }
    app.login_ok().await;
}

#[tokio::test]
async fn lockout_never_exceeds_the_maximum() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_username = 1;
        s.login_lockout = Duration::from_secs(60);
        s.login_lockout_max = Duration::from_secs(100);
    })
    .await;
    fail(&app, TEST_USERNAME).await;
    expect_throttled(app.login(TEST_USERNAME, WRONG).await, 60).await;
    app.advance(Duration::from_secs(60));
    fail(&app, TEST_USERNAME).await;
    expect_throttled(app.login(TEST_USERNAME, WRONG).await, 100).await;
    app.advance(Duration::from_secs(100));
    fail(&app, TEST_USERNAME).await;
    expect_throttled(app.login(TEST_USERNAME, WRONG).await, 100).await;
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_username = 0;
        s.login_max_failures_per_address = 3;
    })
    .await;
    // Each attempt claims another address and another user: all count against 127.0.0.1.
    for i in 0..3 {
        let r = login_via(&app, &format!("198.51.100.{i}"), &format!("user{i}"), WRONG).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    expect_throttled(
        login_via(&app, "203.0.113.77", TEST_USERNAME, TEST_PASSWORD).await,
        60,
    )
    .await;
    expect_throttled(app.login(TEST_USERNAME, TEST_PASSWORD).await, 60).await;
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_names_the_client() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_username = 0;
        s.login_max_failures_per_address = 3;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for i in 0..3 {
        let r = login_via(&app, "198.51.100.1", &format!("user{i}"), WRONG).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    expect_throttled(
        login_via(&app, "198.51.100.1", TEST_USERNAME, TEST_PASSWORD).await,
        60,
    )
    .await;
    // The client cannot escape by prepending an address: the right-most untrusted entry counts.
    expect_throttled(
        login_via(
            &app,
            "203.0.113.9, 198.51.100.1",
            TEST_USERNAME,
            TEST_PASSWORD,
        )
        .await,
        60,
    )
    .await;
    // Another client behind the same proxy is not affected, nor is the proxy itself.
    let r = login_via(&app, "198.51.100.2", TEST_USERNAME, TEST_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    app.login_ok().await;
}

#[tokio::test]
async fn successes_do_not_use_up_the_address_limit() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_username = 0;
        s.login_max_failures_per_address = 3;
    })
    .await;
    fail(&app, "mallory").await;
    fail(&app, "mallory").await;
    // Each success takes its attempt back; without that the third attempt would lock.
    for _ in 0..5 {
        app.login_ok().await;
    }
    fail(&app, "mallory").await;
    expect_throttled(app.login(TEST_USERNAME, TEST_PASSWORD).await, 60).await;
}

#[tokio::test]
async fn limits_of_zero_turn_throttling_off() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_username = 0;
        s.login_max_failures_per_address = 0;
    })
    .await;
    for _ in 0..25 {
        fail(&app, TEST_USERNAME).await;
    }
    app.login_ok().await;
}

#[tokio::test]
async fn throttled_attempts_do_not_reach_the_password_hasher() {
    let app = spawn_app().await;
    let passwords = &app.passwords;
    for _ in 0..5 {
        fail(&app, TEST_USERNAME).await;
    }
    assert_eq!(passwords.verifications(), 5);
    for password in [WRONG, TEST_PASSWORD, WRONG] {
        expect_throttled(app.login(TEST_USERNAME, password).await, 60).await;
    }
    assert_eq!(
        passwords.verifications(),
        5,
        "a throttled attempt was hashed"
    );
    app.advance(Duration::from_secs(60));
    app.login_ok().await;
    assert_eq!(passwords.verifications(), 6);
}
