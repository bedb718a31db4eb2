//! Bearer authentication for protected endpoints, step by step as simplejwt's
//! `JWTAuthentication` (reference §2.10), plus Tessera's revocation check.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::{ApiError, TokenRejection};
use crate::state::AppState;
use crate::store::User;
use crate::tokens::{TokenType, UserIdClaim, ValidatedToken};

/// The authenticated user and the access token that authenticated them.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user (`Store::user_for_auth`).
    pub user: Arc<User>,
    /// The validated access token.
    pub token: ValidatedToken,
}

/// Python's `bytes.split()` separators (simplejwt splits the raw header with it).
fn is_python_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // 1. No header: not authenticated by JWT.
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::NotAuthenticated);
        };
        // 2. Split on whitespace; empty, or a scheme we do not accept (case-sensitive): not ours.
        let mut words = value
            .as_bytes()
            .split(|b| is_python_space(*b))
            .filter(|w| !w.is_empty());
        let Some(scheme) = words.next() else {
            return Err(ApiError::NotAuthenticated);
        };
        if !state
            .settings
            .auth_header_types
            .iter()
            .any(|t| t.as_bytes() == scheme)
        {
            return Err(ApiError::NotAuthenticated);
        }
        // 3. Exactly "<scheme> <token>".
        let (Some(token), None) = (words.next(), words.next()) else {
            return Err(ApiError::Authentication {
                detail: "Authorization header must contain two space-delimited values",
                code: "bad_authorization_header",
            });
        };
        // 4. Validate as an access token.
        let token = std::str::from_utf8(token)
            .map_err(|_| ApiError::AccessToken(TokenRejection::Invalid))?;
        let now = state.clock.now();
        let token = state
            .tokens
            .validate(token, Some(TokenType::Access), now)
            .map_err(ApiError::AccessToken)?;
        // 5. The user.
        let user_not_found = ApiError::Authentication {
            detail: "User not found",
            code: "user_not_found",
        };
        let id = match state.tokens.user_id(&token) {
            UserIdClaim::Id(id) => id,
            UserIdClaim::Missing => {
                return Err(ApiError::Authentication {
                    detail: "Token contained no recognizable user identification",
                    code: "token_not_valid",
                });
            }
            // simplejwt answers 500 for "abc" with an integer primary key.
            UserIdClaim::Unusable => return Err(user_not_found),
        };
        let Some(user) = state.store.user_for_auth(id).await? else {
            return Err(user_not_found);
        };
        if state.settings.check_user_is_active && !user.is_active {
            return Err(ApiError::Authentication {
                detail: "User is inactive",
                code: "user_inactive",
            });
        }
        // Tessera: logout-all, password change and deactivation refuse older tokens at once.
        if token.iat < user.tokens_valid_after {
            return Err(ApiError::AccessToken(TokenRejection::Blacklisted));
        }
        Ok(Authenticated { user, token })
    }
}
