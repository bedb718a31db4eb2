//! `bench-hello`: the HTTP ceiling of this machine for Tessera's benchmark suite.
//!
//! It answers the routes the suite drives with fixed bodies and no work behind them, on the same
//! stack as `tessera serve` (axum 0.8, tokio's multi-threaded runtime with one worker per core).
//! Whatever Tessera reaches beyond this is its own cost: token parsing, signature checks, the
//! user lookup. Listens on `HELLO_LISTEN` (default `127.0.0.1:8100`); loopback only.
//!
//! `HELLO_WORK_NS=N` makes `GET /api/me/` busy-wait N nanoseconds before answering: the ceiling
//! with a known amount of CPU work per request, to measure what a given per-request cost does
//! to throughput on this machine (`bench/RESULTS.md`). Unset, it answers at once.

use axum::{
    Router,
    body::Bytes,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};

/// The body of Tessera's `GET /api/me/` for a typical user, so both sides write responses of the
/// same size.
const ME_BODY: &str = r#"{"id":"1","username":"bench0001","email":"bench0001@example.com","is_staff":false,"is_superuser":false,"last_login":"2026-12-04T15:00:00Z"}"#;

/// `HELLO_WORK_NS`, read once.
fn work_ns() -> u128 {
    static WORK: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    *WORK.get_or_init(|| {
        std::env::var("HELLO_WORK_NS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    })
}

async fn me() -> impl IntoResponse {
    let work = work_ns();
    if work > 0 {
        let start = std::time::Instant::now();
        while start.elapsed().as_nanos() < work {
            std::hint::spin_loop();
        }
    }
    ([(header::CONTENT_TYPE, "application/json")], ME_BODY)
}

/// Reads the whole body, as a JSON endpoint must before answering, and answers `{}` like
/// `/api/token/verify/` does for a valid token.
async fn verify(body: Bytes) -> impl IntoResponse {
    let status = if body.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, [(header::CONTENT_TYPE, "application/json")], "{}")
}

async fn ready() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

fn router() -> Router {
    Router::new()
        .route("/api/me/", get(me))
        .route("/api/token/verify/", post(verify))
        .route("/healthz", get(ready))
        .route("/readyz", get(ready))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("HELLO_LISTEN").unwrap_or_else(|_| "127.0.0.1:8100".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bench-hello listening on {}", listener.local_addr()?);
    axum::serve(listener, router())
        .with_graceful_shutdown(async {
            // Stop cleanly on Ctrl-C or SIGTERM from bench/run.sh.
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("install SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await
}
