//! `POST /api/token/logout-all/` (Tessera): ends every session of the authenticated user.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{metadata, ok};
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::sessions;
use crate::state::AppState;

/// Authenticated by the access token; revokes every family and every token issued so far.
pub async fn logout_all(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Response, ApiError> {
    sessions::logout_all(&state, &auth.user).await?;
    Ok(ok(&json!({})))
}

/// `OPTIONS /api/token/logout-all/`.
pub async fn options() -> Response {
    metadata(
        "Logout All",
        "Revokes every session of the authenticated user and every token issued to them so far.",
        &[],
    )
}
