//! `POST /api/token/verify/` (reference §2.6).

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{fields, metadata, ok};
use crate::error::ApiError;
use crate::input::Input;
use crate::sessions;
use crate::state::AppState;

/// `{"token"}` → `{}` or 401.
pub async fn verify(State(state): State<AppState>, input: Input) -> Result<Response, ApiError> {
    let [token] = fields(&input, ["token"], [true])?;
    sessions::verify(&state, &token).await?;
    Ok(ok(&json!({})))
}

/// `OPTIONS /api/token/verify/`.
pub async fn options() -> Response {
    metadata(
        "Token Verify",
        "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
        &["token"],
    )
}
