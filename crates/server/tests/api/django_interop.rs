//! Interoperability with a real Django + DRF + simplejwt 5.5.1 (`interop/django`), sharing one
//! HS256 secret: simplejwt's protected view accepts Tessera's access tokens, and Tessera accepts
//! simplejwt's (verify, `/api/me/`, refresh by adoption).
//!
//! Needs a Python with the packages of `requirements-test.txt`: `TESSERA_PYTHON`, else the
//! repository's `.venv/bin/python` (what `scripts/test.sh` prepares). Missing both is a failure,
//! not a skip: the issue requires this test to run in CI.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TESSERA_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python for the Django interop test: run scripts/test.sh (creates .venv from \
         requirements-test.txt) or set TESSERA_PYTHON"
    );
    venv
}

/// The Django fixture on a free loopback port; killed when dropped.
struct Django {
    child: Child,
    base: String,
    _db: tempfile::TempDir,
}

impl Drop for Django {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts simplejwt with Tessera's test secret and a user with the same id, name and password
/// as the test app's seeded user.
async fn start_django(app: &TestApp) -> Django {
    let db = tempfile::tempdir().unwrap();
    let manage = repo_root().join("interop/django/manage.py");
    let mut child = Command::new(python())
        .arg(manage)
        .args(["serve_fixture", "--port", "0", "--id"])
        .arg(app.user.id.to_string())
        .args(["--username", &app.user.username, "--password-stdin"])
        .env("SIMPLEJWT_SIGNING_KEY", TEST_SECRET)
        .env("DJANGO_INTEROP_DB", db.path().join("db.sqlite3"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the Django fixture");
    writeln!(child.stdin.take().unwrap(), "{}", app.user.password).unwrap();
    let stdout = child.stdout.take().unwrap();
    let base = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line.trim().to_owned()
    })
    .await
    .unwrap();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "the Django fixture did not start (got {base:?})"
    );
    Django {
        child,
        base,
        _db: db,
    }
}

/// simplejwt reads the real clock; bring the test server's manual clock up to it so tokens
/// minted by either side are "now" for both.
fn sync_clock(app: &TestApp) {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ahead = i64::try_from(real).unwrap() - app.now();
    if ahead > 0 {
        app.advance(std::time::Duration::from_secs(
            u64::try_from(ahead).unwrap(),
        ));
    }
}

#[tokio::test]
async fn tokens_cross_both_ways_with_a_shared_hs256_secret() {
    let app = spawn_app().await;
    let django = start_django(&app).await;
    let client = &app.client;
    sync_clock(&app);

    // Tessera → simplejwt: the protected view accepts Tessera's access token.
    let ours = app.login_ok().await;
    let r = client
        .get(format!("{}/api/protected/", django.base))
        .bearer_auth(&ours.access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user_id"], app.user.id);
    assert_eq!(body["token_user_id"], app.user.id.to_string());
    assert_eq!(body["jti"], claims(&ours.access)["jti"]);
    // …and its verify endpoint accepts both of Tessera's tokens.
    for token in [&ours.access, &ours.refresh] {
        let r = client
            .post(format!("{}/api/token/verify/", django.base))
            .json(&json!({"token": token}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    // simplejwt → Tessera: verify, /api/me/, and refresh (the token is adopted into a family).
    let r = client
        .post(format!("{}/api/token/", django.base))
        .json(&json!({"username": app.user.username, "password": app.user.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let theirs: Value = r.json().await.unwrap();
    let (access, refresh) = (
        theirs["access"].as_str().unwrap(),
        theirs["refresh"].as_str().unwrap(),
    );
    sync_clock(&app);
    expect(app.verify(access).await, StatusCode::OK, "{}").await;
    expect(app.verify(refresh).await, StatusCode::OK, "{}").await;
    let me: Value = app.me(access).await.json().await.unwrap();
    assert_eq!(me["username"], app.user.username.as_str());
    let r = app.refresh(refresh).await;
    assert_eq!(r.status(), StatusCode::OK);
    let rotated: Value = r.json().await.unwrap();
    assert_eq!(
        app.me(rotated["access"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused_by_both() {
    let app = spawn_app().await;
    let django = start_django(&app).await;
    sync_clock(&app);
    let other = tessera_jwt::Key::hmac(
        tessera_jwt::Algorithm::HS256,
        b"another-secret-another-secret-another-secret-0123456789",
    )
    .unwrap();
    let now = app.now();
    let claims = json!({"token_type":"access","exp":now+300,"iat":now,
        "jti":tessera_server::tokens::new_id(),"user_id":app.user.id.to_string()});
    let forged = tessera_jwt::encode(&other, &claims).unwrap();
    let r = app
        .client
        .get(format!("{}/api/protected/", django.base))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    expect_401(app.me(&forged).await, &access_error("Token is invalid")).await;
}
