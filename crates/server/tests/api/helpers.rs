//! Test harness: a real server on a port-0 listener with a real SQLite file in a temp dir.
//!
//! ```ignore
//! let app = spawn_app().await;                    // or spawn_app_with(|s| s.rotate_refresh_tokens = false)
//! let pair = app.login_ok().await;                // the seeded user (TEST_USERNAME / TEST_PASSWORD)
//! let r = app.refresh(&pair.refresh).await;       // reqwest::Response
//! app.advance(Duration::from_secs(11));           // move the server's clock; never sleep
//! app.admin.deactivate(TEST_USERNAME).await?;     // what `tessera user …` does, same database
//! let app = app.restart().await;                  // same data dir, settings and clock
//! ```
//!
//! Logs are silent unless `TEST_LOG` is set (then `debug` to stderr).
//! Stable API for other test modules: add helpers, do not change existing signatures.

#![allow(dead_code)] // Each helper is used by some test module, not necessarily all of them.

use std::sync::Once;
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tessera_server::clock::Clock;
use tessera_server::config::Settings;
use tessera_server::keys::Keys;
use tessera_server::password::Passwords;
use tessera_server::startup::{Application, open_store};
use tessera_server::users::{CreateUser, UserAdmin};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Seeded user's name.
pub const TEST_USERNAME: &str = "alice";
/// Seeded user's password.
pub const TEST_PASSWORD: &str = "wonderland123";
/// Seeded user's email.
pub const TEST_EMAIL: &str = "alice@example.com";
/// The HS256 secret of every test app (so tests can craft tokens, and share it with others).
pub const TEST_SECRET: &str =
    "tessera-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN";

/// The seeded user.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Database id (the `user_id` claim, as a string in tokens).
    pub id: i64,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `{"refresh","access"}` from a successful login.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// Refresh token.
    pub refresh: String,
    /// Access token.
    pub access: String,
}

/// A running server plus everything a test needs to drive it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The bound port.
    pub port: u16,
    /// HTTP client (no redirects followed, no proxies).
    pub client: reqwest::Client,
    /// The seeded user.
    pub user: TestUser,
    /// The data directory (SQLite file `tessera.db` inside); deleted when the app is dropped.
    pub data_dir: std::sync::Arc<TempDir>,
    /// The settings the server runs with.
    pub settings: Settings,
    /// The server's clock; move it with [`TestApp::advance`].
    pub clock: Clock,
    /// User administration on the same database through its own connections (what the CLI
    /// does), using the same clock.
    pub admin: UserAdmin,
    /// The server's keys (to craft tokens with [`TestApp::sign`]).
    pub keys: Keys,
    /// The server's password pool (shares its counters, e.g. `verifications()`).
    pub passwords: Passwords,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tessera_server::telemetry::init("debug");
        }
    });
}

/// The settings every test app starts from: port 0, temp data dir, fixed secret, cheap hashes.
pub fn test_settings(data_dir: &std::path::Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_owned(),
        signing_key: Some(TEST_SECRET.into()),
        // Cheap Argon2id so tests are fast; the production defaults are tested in unit tests.
        password_hash_memory_kib: 1024,
        password_hash_iterations: 1,
        ..Settings::default()
    }
}

/// A server with default test settings and the seeded user.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose settings `configure` may change first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_logging();
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut settings = test_settings(dir.path());
    configure(&mut settings);
    let clock = Clock::manual_at_system_time();
    let mut app = start(settings, clock, dir, None).await;
    let user = app
        .admin
        .create(
            &CreateUser {
                username: TEST_USERNAME.into(),
                email: TEST_EMAIL.into(),
                ..CreateUser::default()
            },
            Some(&TEST_PASSWORD.into()),
        )
        .await
        .expect("seed user");
    app.user = TestUser {
        id: user.id,
        username: TEST_USERNAME.into(),
        password: TEST_PASSWORD.into(),
    };
    app
}

async fn start(
    settings: Settings,
    clock: Clock,
    dir: std::sync::Arc<TempDir>,
    user: Option<TestUser>,
) -> TestApp {
    let application = Application::build_with_clock(settings.clone(), clock.clone())
        .await
        .expect("build application");
    let port = application.port();
    let keys = application.state().tokens.keys().clone();
    let passwords = application.state().passwords.clone();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async {
        let _ = rx.await;
    }));
    let store = open_store(&settings).await.expect("admin store");
    let admin = UserAdmin::new(
        store,
        Passwords::from_settings(&settings).expect("passwords"),
        clock.clone(),
        settings.trim_credentials,
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client,
        user: user.unwrap_or(TestUser {
            id: 0,
            username: String::new(),
            password: String::new(),
        }),
        data_dir: dir,
        settings,
        clock,
        admin,
        keys,
        passwords,
        shutdown: Some(tx),
        server: Some(server),
    }
}

impl TestApp {
    /// Stops the server gracefully and starts a new one on the same data dir, settings and
    /// clock (a new port).
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        self.admin.store().close().await;
        start(
            self.settings.clone(),
            self.clock.clone(),
            self.data_dir.clone(),
            Some(self.user.clone()),
        )
        .await
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server result");
        }
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The server's current time (Unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// POST a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// POST raw bytes with an optional Content-Type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut req = self.client.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("request")
    }

    /// Any method, no body.
    pub async fn request(&self, method: reqwest::Method, path: &str) -> Response {
        self.client
            .request(method, self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// GET with an optional raw `Authorization` header value.
    pub async fn get_with_auth(&self, path: &str, authorization: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        req.send().await.expect("request")
    }

    /// `POST /api/token/` with `{"username","password"}`.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/api/token/",
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs the seeded user in; panics unless 200.
    pub async fn login_ok(&self) -> TokenPair {
        let r = self.login(&self.user.username, &self.user.password).await;
        assert_eq!(r.status(), StatusCode::OK, "login failed");
        let body: Value = r.json().await.expect("json");
        TokenPair {
            refresh: body["refresh"].as_str().expect("refresh").to_owned(),
            access: body["access"].as_str().expect("access").to_owned(),
        }
    }

    /// `POST /api/token/refresh/` with `{"refresh": token}`.
    pub async fn refresh(&self, token: &str) -> Response {
        self.post_json("/api/token/refresh/", &json!({ "refresh": token }))
            .await
    }

    /// `POST /api/token/verify/` with `{"token": token}`.
    pub async fn verify(&self, token: &str) -> Response {
        self.post_json("/api/token/verify/", &json!({ "token": token }))
            .await
    }

    /// `POST /api/token/blacklist/` with `{"refresh": token}`.
    pub async fn blacklist(&self, token: &str) -> Response {
        self.post_json("/api/token/blacklist/", &json!({ "refresh": token }))
            .await
    }

    /// `GET /api/me/` with `Authorization: Bearer <access>`.
    pub async fn me(&self, access: &str) -> Response {
        self.get_with_auth("/api/me/", Some(&format!("Bearer {access}")))
            .await
    }

    /// `POST /api/token/logout-all/` with `Authorization: Bearer <access>`.
    pub async fn logout_all(&self, access: &str) -> Response {
        self.client
            .post(self.url("/api/token/logout-all/"))
            .header("authorization", format!("Bearer {access}"))
            .send()
            .await
            .expect("request")
    }

    /// Signs arbitrary claims with the server's key (to craft unusual tokens).
    pub fn sign(&self, claims: &Value) -> String {
        tessera_jwt::encode(self.keys.signing(), claims).expect("sign")
    }

    /// A well-formed token of `token_type` for `user_id` issued now, as the server would mint it.
    pub fn craft(&self, token_type: &str, user_id: &Value, lifetime_secs: i64) -> String {
        let now = self.now();
        self.sign(&json!({
            "token_type": token_type,
            "exp": now + lifetime_secs,
            "iat": now,
            "jti": tessera_server::tokens::new_id(),
            "user_id": user_id,
        }))
    }
}

/// The payload of a token, decoded without verification.
pub fn claims(token: &str) -> Value {
    let data = tessera_jwt::danger::decode_unverified(token).expect("decodable token");
    Value::Object(data.claims)
}

/// The header of a token, decoded without verification.
pub fn header(token: &str) -> Value {
    let data = tessera_jwt::danger::decode_unverified(token).expect("decodable token");
    Value::Object(data.header)
}

/// Asserts status, exact compact body text and returns the body as JSON.
pub async fn expect(response: Response, status: StatusCode, body: &str) -> Value {
    let got_status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(
        (got_status, text.as_str()),
        (status, body),
        "status/body mismatch"
    );
    serde_json::from_str(&text).expect("json body")
}

/// Asserts a 401 with the WWW-Authenticate challenge and the exact body.
pub async fn expect_401(response: Response, body: &str) -> Value {
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some("Bearer realm=\"api\"".to_owned()),
        "401 without WWW-Authenticate"
    );
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/json"
    );
    expect(response, StatusCode::UNAUTHORIZED, body).await
}

/// Body of a refresh-endpoint token error.
pub fn token_error(message: &str) -> String {
    format!(r#"{{"detail":"{message}","code":"token_not_valid"}}"#)
}

/// Body of a protected-endpoint token validation error.
pub fn access_error(message: &str) -> String {
    format!(
        r#"{{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{{"token_class":"AccessToken","token_type":"access","message":"{message}"}}]}}"#
    )
}

/// A token with an arbitrary JOSE header (e.g. no `typ`, an extra `kid`) and payload, signed
/// with `key` (the server's key to be accepted, another one to be refused). Both parts are
/// serialized compactly in the order given, as PyJWT would for the payload.
pub fn sign_with_header(key: &tessera_jwt::Key, header: &Value, claims: &Value) -> String {
    use base64::Engine as _;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = key.sign(input.as_bytes()).expect("sign");
    format!(
        "{input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    )
}

/// simplejwt's claims for a token of `token_type` for `user_id`, issued now (`jti` fresh).
pub fn simplejwt_claims(app: &TestApp, token_type: &str, user_id: &Value, lifetime: i64) -> Value {
    let now = app.now();
    json!({
        "token_type": token_type,
        "exp": now + lifetime,
        "iat": now,
        "jti": tessera_server::tokens::new_id(),
        "user_id": user_id,
    })
}

impl TestApp {
    /// Writes `request` as raw bytes on a new connection and returns everything the server
    /// answers until it closes the connection (send `Connection: close`). For requests an HTTP
    /// client refuses to build: invalid header bytes, lying framing, odd methods.
    pub async fn send_raw(&self, request: &[u8]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        // The server may answer and close before reading everything; a write error is fine.
        let _ = stream.write_all(request).await;
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }
}
