//! `GET /api/me/`: the authenticated user.

use axum::response::Response;
use serde::Serialize;

use super::ok;
use crate::auth::Authenticated;
use crate::error::ApiError;

/// The body, serialized straight from the user (no intermediate `Value` tree).
#[derive(Serialize)]
struct Me<'a> {
    id: i64,
    username: &'a str,
    email: &'a str,
    is_staff: bool,
    is_superuser: bool,
    #[serde(serialize_with = "rfc3339")]
    last_login: Option<i64>,
}

/// `{"id","username","email","is_staff","is_superuser","last_login"}`; `last_login` is RFC 3339
/// UTC (DRF's `DateTimeField` style) or `null`.
pub async fn me(auth: Authenticated) -> Result<Response, ApiError> {
    let user = &auth.user;
    Ok(ok(&Me {
        id: user.id,
        username: &user.username,
        email: &user.email,
        is_staff: user.is_staff,
        is_superuser: user.is_superuser,
        last_login: user.last_login,
    }))
}

/// Unix seconds as RFC 3339 UTC, written straight into the body (no intermediate `String`).
fn rfc3339<S: serde::Serializer>(secs: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
    match *secs {
        Some(secs) => {
            let secs = u64::try_from(secs).unwrap_or(0);
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            serializer.collect_str(&humantime::format_rfc3339_seconds(t))
        }
        None => serializer.serialize_none(),
    }
}
