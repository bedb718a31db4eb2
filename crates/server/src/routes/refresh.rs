//! `POST /api/token/refresh/` (reference §2.5, plus rotation with reuse detection).

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{fields, metadata, ok};
use crate::error::ApiError;
use crate::input::Input;
use crate::sessions;
use crate::state::AppState;

/// `{"refresh"}` → `{"access"}` (+ `"refresh"` when rotating), keys in simplejwt's order.
pub async fn refresh(State(state): State<AppState>, input: Input) -> Result<Response, ApiError> {
    let [token] = fields(&input, ["refresh"], [true])?;
    let refreshed = sessions::refresh(&state, &token).await?;
    Ok(match refreshed.refresh {
        Some(refresh) => ok(&json!({ "access": refreshed.access, "refresh": refresh })),
        None => ok(&json!({ "access": refreshed.access })),
    })
}

/// `OPTIONS /api/token/refresh/`.
pub async fn options() -> Response {
    metadata(
        "Token Refresh",
        "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
        &["refresh"],
    )
}
