//! `GET /healthz` (liveness) and `GET /readyz` (readiness: not shutting down, and the database
//! answers).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::ok;
use crate::error::json_response;
use crate::state::AppState;

/// Always 200 while the process serves requests.
pub async fn healthz() -> Response {
    ok(&json!({ "status": "ok" }))
}

/// 200 when the database answers (keys are loaded before the listener exists), else 503; 503
/// `"draining"` from the first shutdown signal on, so load balancers stop sending traffic first.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining.is_draining() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "draining", "detail": "shutting down" }),
        );
    }
    match state.store.ping().await {
        Ok(()) => ok(&json!({ "status": "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "status": "unavailable", "detail": "database unreachable" }),
            )
        }
    }
}
