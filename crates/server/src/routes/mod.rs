//! HTTP handlers: thin — parse the input, call `sessions`/the store, render the answer.

pub mod blacklist;
pub mod health;
pub mod jwks;
pub mod logout_all;
pub mod me;
pub mod refresh;
pub mod token;
pub mod verify;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, json};

use crate::error::{ApiError, FieldErrors, json_response};
use crate::input::{Input, char_field};

/// `Allow` of the token endpoints (reference §2.2).
pub const TOKEN_ALLOW: &str = "POST, OPTIONS";
/// `Allow` of the authenticated GET endpoints.
pub const GET_ALLOW: &str = "GET, HEAD, OPTIONS";

/// Every path the router serves: the token views and `/api/me/` with and without their trailing
/// slash (`startup::router`), and the discovery and health routes. All are static, so a
/// request's route is known from its path before routing (`observe.rs` names it in logs and
/// metrics, and sets `Allow` from it).
pub const PATHS: [&str; 15] = [
    "/api/token/",
    "/api/token",
    "/api/token/refresh/",
    "/api/token/refresh",
    "/api/token/verify/",
    "/api/token/verify",
    "/api/token/blacklist/",
    "/api/token/blacklist",
    "/api/token/logout-all/",
    "/api/token/logout-all",
    "/api/me/",
    "/api/me",
    "/.well-known/jwks.json",
    "/healthz",
    "/readyz",
];

/// The route of a request path: the entry of [`PATHS`] it equals, if any.
pub fn route(path: &str) -> Option<&'static str> {
    PATHS.into_iter().find(|p| *p == path)
}

/// The `Allow` header of every response of a matched route (DRF sends it on all of them): the
/// token views take POST, every other route GET.
pub(crate) fn allow_for(route: &str) -> &'static str {
    if route.starts_with("/api/token") {
        TOKEN_ALLOW
    } else {
        GET_ALLOW
    }
}

/// 200 with a compact JSON body: a `Value`, or a typed body on hot paths (no `Value` tree).
pub(crate) fn ok<T: serde::Serialize + ?Sized>(body: &T) -> Response {
    json_response(StatusCode::OK, body)
}

/// Reads DRF `CharField`s in declaration order; all errors are reported together.
pub(crate) fn fields<const N: usize>(
    input: &Input,
    names: [&'static str; N],
    trim: [bool; N],
) -> Result<[String; N], ApiError> {
    let mut errors = FieldErrors::default();
    let mut values: [String; N] = std::array::from_fn(|_| String::new());
    for (i, name) in names.iter().enumerate() {
        match char_field(&input.0, name, trim[i]) {
            Ok(v) => values[i] = v,
            Err(msg) => errors.push(name, msg),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(ApiError::Fields(errors))
    }
}

/// DRF's `OPTIONS` metadata for a token view, trimmed to what clients use.
pub(crate) fn metadata(name: &str, description: &str, post_fields: &[&str]) -> Response {
    let mut actions = Map::new();
    for field in post_fields {
        let label = {
            let mut c = field.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        };
        actions.insert(
            (*field).to_owned(),
            json!({"type":"string","required":true,"read_only":false,"label":label}),
        );
    }
    ok(&json!({
        "name": name,
        "description": description,
        "renders": ["application/json"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
        "actions": {"POST": actions},
    }))
}
