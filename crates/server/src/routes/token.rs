//! `POST /api/token/` (reference §2.4).

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use secrecy::SecretString;
use serde_json::json;

use super::{fields, metadata, ok};
use crate::client_address::client_address;
use crate::error::ApiError;
use crate::input::Input;
use crate::sessions;
use crate::state::AppState;

/// Username + password → `{"refresh","access"}`.
///
/// The peer address comes from the listener (`into_make_service_with_connect_info`); without it
/// (a router served some other way) only the per-username limit applies.
pub async fn obtain(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    input: Input,
) -> Result<Response, ApiError> {
    let trim = state.settings.trim_credentials;
    let [username, password] = fields(&input, ["username", "password"], [trim, trim])?;
    let password = SecretString::from(password);
    let client = peer.map(|Extension(ConnectInfo(peer))| {
        client_address(peer.ip(), &headers, &state.settings.trusted_proxies)
    });
    let pair = sessions::login(&state, &username, &password, client).await?;
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
