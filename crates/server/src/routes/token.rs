//! `POST /api/token/` (reference §2.4).

use axum::extract::State;
use axum::response::Response;
use secrecy::SecretString;
use serde_json::json;

use super::{fields, metadata, ok};
use crate::error::ApiError;
use crate::input::Input;
use crate::sessions;
use crate::state::AppState;

/// Username + password → `{"refresh","access"}`.
pub async fn obtain(State(state): State<AppState>, input: Input) -> Result<Response, ApiError> {
    let trim = state.settings.trim_credentials;
    let [username, password] = fields(&input, ["username", "password"], [trim, trim])?;
    let password = SecretString::from(password);
    let pair = sessions::login(&state, &username, &password).await?;
    Ok(ok(
        &json!({ "refresh": pair.refresh, "access": pair.access }),
    ))
}

/// `OPTIONS /api/token/`.
pub async fn options() -> Response {
    metadata(
        "Token Obtain Pair",
        "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
        &["username", "password"],
    )
}
