//! `ApiError`: the one place that decides status codes and bodies (reference §2.2, §2.3).
//!
//! Three body shapes reach clients, exactly as DRF + simplejwt produce them:
//! 1. field errors (400): `{"<field>":["<msg>"]}`;
//! 2. `AuthenticationFailed` (401): `{"detail":"…"}`;
//! 3. `InvalidToken` (401): `{"detail":"…","code":"…"}` (+ `"messages"` for header
//!    authentication).
//!
//! Every 401 also carries `WWW-Authenticate`; that header is added by a middleware in
//! `startup.rs` because its scheme is configuration (`auth_header_types[0]`). The cause of a 500
//! is logged here and never sent.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::store::StoreError;

/// DRF's message for a missing field.
pub const FIELD_REQUIRED: &str = "This field is required.";
/// DRF's message for a `null` field.
pub const FIELD_NULL: &str = "This field may not be null.";
/// DRF's message for an empty (after trimming) string field.
pub const FIELD_BLANK: &str = "This field may not be blank.";
/// DRF's message for a list/object/bool where a string is expected.
pub const FIELD_NOT_STRING: &str = "Not a valid string.";
/// Login failure (every cause: unknown user, wrong password, inactive user).
pub const NO_ACTIVE_ACCOUNT: &str = "No active account found with the given credentials";
/// Refresh failure caused by the user (inactive, deleted, unusable id).
pub const NO_ACTIVE_ACCOUNT_FOR_TOKEN: &str = "No active account found for the given token.";

/// Field errors in declaration order, as DRF renders them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors(Vec<(&'static str, &'static str)>);

impl FieldErrors {
    /// Records one error for `field`.
    pub fn push(&mut self, field: &'static str, message: &'static str) {
        self.0.push((field, message));
    }

    /// Whether no errors were recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (field, message) in &self.0 {
            match map
                .entry((*field).to_owned())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(list) => list.push(Value::String((*message).to_owned())),
                _ => unreachable!("field entries are always arrays"),
            }
        }
        Value::Object(map)
    }
}

/// Why a token was refused; each maps to one simplejwt message (reference §2.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Signature, format, algorithm, `aud`/`iss`, `nbf`/`iat`, type of a claim.
    Invalid,
    /// `exp` has passed.
    Expired,
    /// No `exp` claim.
    NoExp,
    /// No `jti` claim.
    NoId,
    /// No `token_type` claim.
    NoType,
    /// `token_type` names another kind of token.
    WrongType,
    /// Revoked: blacklisted family, reused refresh token, logout-all, password change, …
    Blacklisted,
}

impl TokenRejection {
    /// simplejwt's message for this rejection.
    pub fn message(self) -> &'static str {
        match self {
            TokenRejection::Invalid => "Token is invalid",
            TokenRejection::Expired => "Token is expired",
            TokenRejection::NoExp => "Token has no 'exp' claim",
            TokenRejection::NoId => "Token has no id",
            TokenRejection::NoType => "Token has no type",
            TokenRejection::WrongType => "Token has wrong type",
            TokenRejection::Blacklisted => "Token is blacklisted",
        }
    }
}

/// Every error a handler can answer with.
#[derive(Debug)]
pub enum ApiError {
    /// 400 field errors.
    Fields(FieldErrors),
    /// 400 `{"detail":"JSON parse error - …"}`.
    Parse(String),
    /// 400 `{"detail":"Multipart form parse error - …"}` (DRF's wording).
    ParseDetail(String),
    /// 400 `{"non_field_errors":["…"]}`.
    NonField(String),
    /// 401 `{"detail":"…"}` (DRF `AuthenticationFailed`, no code in the body).
    AuthenticationFailed(&'static str),
    /// 401 `{"detail":"…","code":"token_not_valid"}` from the token endpoints.
    Token(TokenRejection),
    /// 401 for a protected endpoint whose bearer token failed validation (with `messages`).
    AccessToken(TokenRejection),
    /// 401 `{"detail":…,"code":…}` for the remaining header-authentication failures.
    Authentication {
        /// Human-readable message.
        detail: &'static str,
        /// Machine-readable code.
        code: &'static str,
    },
    /// 401 `{"detail":"Authentication credentials were not provided."}`.
    NotAuthenticated,
    /// 404.
    NotFound,
    /// 405 with the allowed methods.
    MethodNotAllowed(Method, &'static str),
    /// 408: the body did not arrive in time.
    RequestTimeout,
    /// 413.
    PayloadTooLarge(usize),
    /// 415 with the offending media type.
    UnsupportedMediaType(String),
    /// 429 with `Retry-After` (seconds): too many failed logins (DRF's `Throttled`).
    Throttled(u64),
    /// 503: the database is unreachable or busy.
    Unavailable,
    /// 500: a bug or an unexpected failure; the cause is logged, never sent.
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            #[cfg(feature = "postgres")]
            StoreError::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::Unavailable
            }
            StoreError::Sqlite(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::Unavailable
            }
            StoreError::Closed => {
                tracing::error!("database error: the store is closed");
                ApiError::Unavailable
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Fields(errors) => (StatusCode::BAD_REQUEST, errors.to_json()),
            ApiError::Parse(msg) => (
                StatusCode::BAD_REQUEST,
                json!({ "detail": format!("JSON parse error - {msg}") }),
            ),
            ApiError::ParseDetail(msg) => (StatusCode::BAD_REQUEST, json!({ "detail": msg })),
            ApiError::NonField(msg) => (
                StatusCode::BAD_REQUEST,
                json!({ "non_field_errors": [msg] }),
            ),
            ApiError::AuthenticationFailed(detail) => {
                (StatusCode::UNAUTHORIZED, json!({ "detail": detail }))
            }
            ApiError::Token(rejection) => (
                StatusCode::UNAUTHORIZED,
                json!({ "detail": rejection.message(), "code": "token_not_valid" }),
            ),
            ApiError::AccessToken(rejection) => (
                StatusCode::UNAUTHORIZED,
                json!({
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": [{
                        "token_class": "AccessToken",
                        "token_type": "access",
                        "message": rejection.message(),
                    }],
                }),
            ),
            ApiError::Authentication { detail, code } => (
                StatusCode::UNAUTHORIZED,
                json!({ "detail": detail, "code": code }),
            ),
            ApiError::NotAuthenticated => (
                StatusCode::UNAUTHORIZED,
                json!({ "detail": "Authentication credentials were not provided." }),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, json!({ "detail": "Not found." })),
            ApiError::MethodNotAllowed(method, allow) => {
                let mut response = json_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &json!({ "detail": format!("Method \"{method}\" not allowed.") }),
                );
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
                return response;
            }
            ApiError::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                json!({ "detail": "The request body did not arrive in time." }),
            ),
            ApiError::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "detail": format!("Request body exceeds the limit of {limit} bytes.") }),
            ),
            ApiError::UnsupportedMediaType(media_type) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({ "detail": format!("Unsupported media type \"{media_type}\" in request.") }),
            ),
            ApiError::Throttled(wait) => {
                // DRF's `Throttled` message and header, word for word (singular for 1 second).
                let unit = if wait == 1 { "second" } else { "seconds" };
                let mut response = json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    &json!({
                        "detail": format!("Request was throttled. Expected available in {wait} {unit}.")
                    }),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait));
                return response;
            }
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "detail": "Service temporarily unavailable, try again later." }),
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "detail": "A server error occurred." }),
                )
            }
        };
        json_response(status, &body)
    }
}

/// A compact JSON response with `Content-Type: application/json` (no charset, as DRF).
pub fn json_response<T: serde::Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_keep_declaration_order_and_group() {
        let mut e = FieldErrors::default();
        e.push("username", FIELD_REQUIRED);
        e.push("password", FIELD_BLANK);
        assert_eq!(
            serde_json::to_string(&e.to_json()).unwrap(),
            r#"{"username":["This field is required."],"password":["This field may not be blank."]}"#
        );
    }
}
