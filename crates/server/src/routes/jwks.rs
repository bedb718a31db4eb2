//! `GET /.well-known/jwks.json` (RFC 7517 §5): the public keys that verify our tokens.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The JWK set, serialised once at startup; empty (`{"keys":[]}`) with an HMAC algorithm.
pub async fn jwks(State(state): State<AppState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            // Verifiers may cache; a rotation publishes the next key ahead of using it.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        state.tokens.keys().jwks_json().to_vec(),
    )
        .into_response()
}
