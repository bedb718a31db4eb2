//! `POST /api/token/blacklist/` (reference §2.7): logout of one session.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{fields, metadata, ok};
use crate::error::ApiError;
use crate::input::Input;
use crate::sessions;
use crate::state::AppState;

/// `{"refresh"}` → `{}`; the token's whole family is revoked.
pub async fn blacklist(State(state): State<AppState>, input: Input) -> Result<Response, ApiError> {
    let [token] = fields(&input, ["refresh"], [true])?;
    sessions::logout(&state, &token).await?;
    Ok(ok(&json!({})))
}

/// `OPTIONS /api/token/blacklist/`.
pub async fn options() -> Response {
    metadata(
        "Token Blacklist",
        "Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.",
        &["refresh"],
    )
}
