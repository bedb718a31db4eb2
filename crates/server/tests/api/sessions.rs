//! Sessions beyond simplejwt: families, rotation, reuse detection, grace window, logout,
//! logout-all, revocation by password change / deactivation / deletion, non-rotating mode,
//! concurrency, pruning.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_server::store::RefreshStatus;

use crate::helpers::*;

async fn refresh_ok(app: &TestApp, token: &str) -> TokenPair {
    let r = app.refresh(token).await;
    assert_eq!(r.status(), StatusCode::OK, "refresh failed");
    let body: Value = r.json().await.unwrap();
    TokenPair {
        access: body["access"].as_str().unwrap().to_owned(),
        refresh: body["refresh"]
            .as_str()
            .expect("rotated refresh")
            .to_owned(),
    }
}

fn jti(token: &str) -> String {
    claims(token)["jti"].as_str().unwrap().to_owned()
}

async fn family(app: &TestApp, token: &str) -> String {
    app.admin
        .store()
        .family_of(&jti(token))
        .await
        .unwrap()
        .expect("recorded token")
}

#[tokio::test]
async fn rotation_spends_the_old_token_and_advances_the_family() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let fam = family(&app, &pair.refresh).await;
    let store = app.admin.store();
    assert_eq!(store.family_generation(&fam).await.unwrap(), Some(0));
    let second = refresh_ok(&app, &pair.refresh).await;
    let third = refresh_ok(&app, &second.refresh).await;
    assert_eq!(
        family(&app, &third.refresh).await,
        fam,
        "one login = one family"
    );
    assert_eq!(store.family_generation(&fam).await.unwrap(), Some(2));
    assert_eq!(
        store.refresh_status(&jti(&pair.refresh)).await.unwrap(),
        RefreshStatus::Spent
    );
    assert_eq!(
        store.refresh_status(&jti(&third.refresh)).await.unwrap(),
        RefreshStatus::Live
    );
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_whole_family() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let other_session = app.login_ok().await;
    let second = refresh_ok(&app, &pair.refresh).await;
    app.advance(Duration::from_secs(11));
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    // The legitimate holder's current token is revoked too: the family is compromised.
    expect_401(
        app.refresh(&second.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    assert_eq!(
        app.admin
            .store()
            .refresh_status(&jti(&second.refresh))
            .await
            .unwrap(),
        RefreshStatus::Revoked
    );
    // Other sessions of the same user are untouched.
    refresh_ok(&app, &other_session.refresh).await;
}

#[tokio::test]
async fn reuse_of_an_older_generation_revokes_even_within_grace() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let second = refresh_ok(&app, &pair.refresh).await;
    let third = refresh_ok(&app, &second.refresh).await;
    // Generation 0 is two generations behind: not a lost response, a replay.
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    expect_401(
        app.refresh(&third.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn within_grace_the_previous_token_gets_the_current_tokens_again() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let second = refresh_ok(&app, &pair.refresh).await;
    app.advance(Duration::from_secs(10)); // exactly the grace window
    let retry = refresh_ok(&app, &pair.refresh).await;
    assert_eq!(
        retry.refresh, second.refresh,
        "same current refresh token, byte for byte"
    );
    assert_ne!(retry.access, second.access, "a fresh access token");
    assert_eq!(app.me(&retry.access).await.status(), StatusCode::OK);
    // The family did not advance and is not revoked: the current token still rotates.
    let fam = family(&app, &pair.refresh).await;
    assert_eq!(
        app.admin.store().family_generation(&fam).await.unwrap(),
        Some(1)
    );
    refresh_ok(&app, &second.refresh).await;
}

#[tokio::test]
async fn grace_zero_makes_any_reuse_fatal() {
    let app = spawn_app_with(|s| s.refresh_reuse_grace = Duration::ZERO).await;
    let pair = app.login_ok().await;
    let second = refresh_ok(&app, &pair.refresh).await;
    app.advance(Duration::from_secs(1));
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    expect_401(
        app.refresh(&second.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_rotate_exactly_once() {
    // Decision: the one winner rotates; the 19 others present the now-previous generation
    // within the grace window and get the same (current) refresh token back. So: 20 × 200,
    // one distinct new refresh token, family generation 1.
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = app.client.clone();
        let url = app.url("/api/token/refresh/");
        let token = pair.refresh.clone();
        tasks.spawn(async move {
            let r = client
                .post(url)
                .json(&json!({"refresh": token}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        });
    }
    let mut refresh_tokens = std::collections::BTreeSet::new();
    while let Some(done) = tasks.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        refresh_tokens.insert(body["refresh"].as_str().unwrap().to_owned());
    }
    assert_eq!(refresh_tokens.len(), 1, "exactly one new generation");
    let fam = family(&app, &pair.refresh).await;
    assert_eq!(
        app.admin.store().family_generation(&fam).await.unwrap(),
        Some(1)
    );
    let current = refresh_tokens.into_iter().next().unwrap();
    refresh_ok(&app, &current).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_without_grace_one_wins_then_the_family_dies() {
    // Without a grace window every loser is a reuse: exactly one 200, nineteen 401s, and the
    // winner's new token is revoked with the family (RFC 9700 §4.14.2).
    let app = spawn_app_with(|s| s.refresh_reuse_grace = Duration::ZERO).await;
    let pair = app.login_ok().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = app.client.clone();
        let url = app.url("/api/token/refresh/");
        let token = pair.refresh.clone();
        tasks.spawn(async move {
            let r = client
                .post(url)
                .json(&json!({"refresh": token}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        });
    }
    let mut winners = Vec::new();
    let mut unauthorized = 0;
    while let Some(done) = tasks.join_next().await {
        match done.unwrap() {
            (StatusCode::OK, body) => winners.push(body),
            (StatusCode::UNAUTHORIZED, body) => {
                assert_eq!(body["detail"], "Token is blacklisted");
                unauthorized += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((winners.len(), unauthorized), (1, 19));
    let fam = family(&app, &pair.refresh).await;
    assert_eq!(
        app.admin.store().family_generation(&fam).await.unwrap(),
        Some(1)
    );
    let winner = winners[0]["refresh"].as_str().unwrap();
    expect_401(
        app.refresh(winner).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn logout_revokes_only_that_session() {
    let app = spawn_app().await;
    let a = app.login_ok().await;
    let b = app.login_ok().await;
    let a2 = refresh_ok(&app, &a.refresh).await;
    // Logging out with the current token revokes the family, so older tokens die too.
    expect(app.blacklist(&a2.refresh).await, StatusCode::OK, "{}").await;
    expect_401(
        app.refresh(&a2.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    expect_401(
        app.refresh(&a.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    refresh_ok(&app, &b.refresh).await;
    // Access tokens live until exp after a single logout (as simplejwt).
    assert_eq!(app.me(&a2.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_all_revokes_every_session_and_every_access_token_at_once() {
    let app = spawn_app().await;
    let a = app.login_ok().await;
    let b = app.login_ok().await;
    let r = app.logout_all(&a.access).await;
    assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    expect(r, StatusCode::OK, "{}").await;
    for access in [&a.access, &b.access] {
        expect_401(app.me(access).await, &access_error("Token is blacklisted")).await;
    }
    for refresh in [&a.refresh, &b.refresh] {
        expect_401(
            app.refresh(refresh).await,
            &token_error("Token is blacklisted"),
        )
        .await;
    }
    // A new login right away works (same second: the server waits for the next one).
    let fresh = app.login_ok().await;
    assert_eq!(app.me(&fresh.access).await.status(), StatusCode::OK);
    refresh_ok(&app, &fresh.refresh).await;
}

#[tokio::test]
async fn logout_all_requires_authentication() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/token/logout-all/"))
        .send()
        .await
        .unwrap();
    expect_401(
        r,
        r#"{"detail":"Authentication credentials were not provided."}"#,
    )
    .await;
    let pair = app.login_ok().await;
    expect_401(
        app.logout_all(&pair.refresh).await,
        &access_error("Token has wrong type"),
    )
    .await;
}

#[tokio::test]
async fn cli_revoke_tokens_is_logout_all() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    assert_eq!(app.admin.revoke_tokens(TEST_USERNAME).await.unwrap(), 1);
    expect_401(
        app.me(&pair.access).await,
        &access_error("Token is blacklisted"),
    )
    .await;
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn password_change_revokes_everything_and_the_new_password_works() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    app.admin
        .set_password(TEST_USERNAME, &"new-password-42".into())
        .await
        .unwrap();
    expect_401(
        app.me(&pair.access).await,
        &access_error("Token is blacklisted"),
    )
    .await;
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    assert_eq!(
        app.login(TEST_USERNAME, TEST_PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = app.login(TEST_USERNAME, "new-password-42").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn deactivation_revokes_and_reactivation_does_not_revive() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    // The server has this user cached from a request before the change.
    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
    // `app.admin` is another process's view of the file (the `tessera user` CLI): the server
    // sees its changes within the user cache's lifetime (one second).
    app.admin.deactivate(TEST_USERNAME).await.unwrap();
    let inactive = r#"{"detail":"User is inactive","code":"user_inactive"}"#;
    expect_401(eventually_401(&app, &pair.access).await, inactive).await;
    app.admin.activate(TEST_USERNAME).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let blacklisted = loop {
        let r = app.me(&pair.access).await;
        let body: serde_json::Value = r.json().await.unwrap();
        if body["code"] != "user_inactive" || std::time::Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        blacklisted,
        serde_json::from_str::<serde_json::Value>(&access_error("Token is blacklisted")).unwrap()
    );
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    let fresh = app.login_ok().await;
    assert_eq!(app.me(&fresh.access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn deleted_user_tokens_stop_working() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    app.admin.delete(TEST_USERNAME).await.unwrap();
    expect_401(
        app.me(&pair.access).await,
        r#"{"detail":"User not found","code":"user_not_found"}"#,
    )
    .await;
    expect_401(
        app.refresh(&pair.refresh).await,
        r#"{"detail":"No active account found for the given token."}"#,
    )
    .await;
    expect_401(
        app.verify(&pair.access).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    // The id is never reused: a new user does not inherit the old tokens.
    app.admin
        .create(
            &tessera_server::users::CreateUser {
                username: "bob".into(),
                ..Default::default()
            },
            Some(&"bobs-password".into()),
        )
        .await
        .unwrap();
    assert_eq!(
        app.me(&pair.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn without_rotation_refresh_returns_access_only_and_the_token_stays_valid() {
    let app = spawn_app_with(|s| s.rotate_refresh_tokens = false).await;
    let pair = app.login_ok().await;
    for _ in 0..3 {
        let r = app.refresh(&pair.refresh).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
        assert_eq!(
            app.me(body["access"].as_str().unwrap()).await.status(),
            StatusCode::OK
        );
    }
    // Logout still works in this mode.
    expect(app.blacklist(&pair.refresh).await, StatusCode::OK, "{}").await;
    expect_401(
        app.refresh(&pair.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn foreign_refresh_tokens_are_adopted_and_then_rotate_like_ours() {
    // A simplejwt server sharing the HS256 secret issued this token during a migration.
    let app = spawn_app().await;
    let foreign = app.craft("refresh", &json!(app.user.id.to_string()), 3_600);
    let next = refresh_ok(&app, &foreign).await;
    app.advance(Duration::from_secs(11));
    expect_401(
        app.refresh(&foreign).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    expect_401(
        app.refresh(&next.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
}

#[tokio::test]
async fn expired_families_are_pruned() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    let store = app.admin.store();
    assert!(
        store
            .family_of(&jti(&pair.refresh))
            .await
            .unwrap()
            .is_some()
    );
    let report = store.prune(app.now()).await.unwrap();
    assert_eq!(report.families, 0, "nothing expired yet");
    app.advance(Duration::from_secs(86_401));
    let report = store.prune(app.now()).await.unwrap();
    assert_eq!(report.families, 1);
    assert!(
        store
            .family_of(&jti(&pair.refresh))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn restart_keeps_users_sessions_and_revocations() {
    let app = spawn_app().await;
    let live = app.login_ok().await;
    let revoked = app.login_ok().await;
    let spent = app.login_ok().await;
    expect(app.blacklist(&revoked.refresh).await, StatusCode::OK, "{}").await;
    let rotated = refresh_ok(&app, &spent.refresh).await;

    let app = app.restart().await;
    app.advance(Duration::from_secs(11));
    assert_eq!(
        app.me(&live.access).await.status(),
        StatusCode::OK,
        "same signing key"
    );
    refresh_ok(&app, &live.refresh).await;
    expect_401(
        app.refresh(&revoked.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    // Reuse detection survives the restart too.
    expect_401(
        app.refresh(&spent.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    expect_401(
        app.refresh(&rotated.refresh).await,
        &token_error("Token is blacklisted"),
    )
    .await;
    // Logout-all before a restart keeps refusing old access tokens after it.
    let pair = app.login_ok().await;
    assert_eq!(app.logout_all(&pair.access).await.status(), StatusCode::OK);
    let app = app.restart().await;
    expect_401(
        app.me(&pair.access).await,
        &access_error("Token is blacklisted"),
    )
    .await;
    assert_eq!(
        app.login(TEST_USERNAME, TEST_PASSWORD).await.status(),
        StatusCode::OK
    );
}

/// `GET /api/me/` with `access` until it is refused (bounded): for changes made by another
/// process, which the server sees within its user cache's lifetime.
async fn eventually_401(app: &TestApp, access: &str) -> reqwest::Response {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = app.me(access).await;
        if r.status() == StatusCode::UNAUTHORIZED || std::time::Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Changes made through the server itself are seen by the very next request, cache or not.
#[tokio::test]
async fn own_changes_are_seen_by_the_next_request() {
    let app = spawn_app().await;
    let pair = app.login_ok().await;
    assert_eq!(app.me(&pair.access).await.status(), StatusCode::OK);
    let r = app.logout_all(&pair.access).await;
    assert!(r.status().is_success(), "{}", r.status());
    expect_401(
        app.me(&pair.access).await,
        &access_error("Token is blacklisted"),
    )
    .await;
}
