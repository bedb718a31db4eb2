//! Login, refresh, verify, logout and logout-all: the session rules, between the thin handlers
//! and the store.
//!
//! A login starts a *family*; with rotation every refresh spends the presented token and records
//! the next generation atomically. A spent token presented again within
//! `refresh_reuse_grace` of its rotation (the immediately previous generation only) gets the
//! family's current tokens again — a client that lost the response can retry; any other reuse
//! revokes the family (RFC 9700 §4.14.2, "refresh token rotation").

use std::net::IpAddr;

use secrecy::SecretString;

use crate::error::{ApiError, NO_ACTIVE_ACCOUNT, NO_ACTIVE_ACCOUNT_FOR_TOKEN, TokenRejection};
use crate::login_throttle;
use crate::state::AppState;
use crate::store::{
    IssuedRefresh, LogoutOutcome, RefreshOutcome, RefreshRequest, RefreshStatus, User,
};
use crate::tokens::{TokenType, UserIdClaim, new_id};

/// A login's answer.
#[derive(Debug)]
pub struct TokenPair {
    /// The refresh token.
    pub refresh: String,
    /// The access token.
    pub access: String,
}

/// A refresh's answer (`refresh` only when rotating).
#[derive(Debug)]
pub struct Refreshed {
    /// New access token.
    pub access: String,
    /// The family's current refresh token.
    pub refresh: Option<String>,
}

fn mint(
    state: &AppState,
    kind: TokenType,
    user_id: i64,
    jti: &str,
    iat: i64,
    exp: i64,
) -> Result<String, ApiError> {
    state
        .tokens
        .mint(kind, user_id, jti, iat, exp)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn access_for(state: &AppState, user_id: i64, now: i64) -> Result<String, ApiError> {
    let exp = now.saturating_add(state.tokens.access_lifetime());
    mint(state, TokenType::Access, user_id, &new_id(), now, exp)
}

/// `POST /api/token/`: username + password → a new family's first refresh token and an access
/// token. Every failure has the same answer and (through the dummy hash) the same cost.
/// `client` is the address brute-force protection counts (`client_address.rs`).
#[tracing::instrument(skip(state, password), fields(user_id))]
pub async fn login(
    state: &AppState,
    username: &str,
    password: &SecretString,
    client: Option<IpAddr>,
) -> Result<TokenPair, ApiError> {
    // Before any lookup or hashing: a locked-out attempt is refused (429) at the cost of one
    // indexed read, and an allowed one is counted as a failure until it succeeds.
    let attempt = login_throttle::charge(state, client, username).await?;
    let user = state.store.user_by_username(username).await?;
    let matches = state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password.as_str()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match user {
        Some(user) if matches && (user.is_active || !state.settings.check_user_is_active) => user,
        _ => {
            metrics::counter!("tessera_logins_total", "result" => "failed").increment(1);
            tracing::info!(target: "audit", event = "login_failed", username);
            return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT));
        }
    };
    tracing::Span::current().record("user_id", user.id);
    attempt.succeeded(state).await?;
    rehash_if_outdated(state, &user, password).await;

    // Right after a revocation `tokens_valid_after` may be the next second: wait for it so the
    // new tokens' `iat` is not refused (see `store::User::tokens_valid_after`). The revocation
    // may have been written with another host's clock (another instance, the CLI): a clock
    // running ahead of ours must never make a login wait longer than that one second.
    let now = state.clock.now();
    if user.tokens_valid_after > now {
        if user.tokens_valid_after > now + 1 {
            tracing::warn!(
                ahead_secs = user.tokens_valid_after - now,
                "a revocation is dated ahead of this host's clock; check time synchronisation"
            );
        }
        state
            .clock
            .sleep_until(user.tokens_valid_after.min(now + 1))
            .await;
    }
    let now = state.clock.now();
    let first = IssuedRefresh {
        jti: new_id(),
        iat: now,
        exp: now.saturating_add(state.tokens.refresh_lifetime()),
    };
    let family_id = new_id();
    state
        .store
        .start_session(
            user.id,
            &family_id,
            &first,
            now,
            state.settings.update_last_login,
        )
        .await?;
    metrics::counter!("tessera_logins_total", "result" => "succeeded").increment(1);
    tracing::info!(target: "audit", event = "login_succeeded", user_id = user.id, family = %family_id);
    Ok(TokenPair {
        refresh: mint(
            state,
            TokenType::Refresh,
            user.id,
            &first.jti,
            first.iat,
            first.exp,
        )?,
        // simplejwt: on obtain `access.exp = refresh.iat + ACCESS_TOKEN_LIFETIME` exactly.
        access: access_for(state, user.id, now)?,
    })
}

async fn rehash_if_outdated(state: &AppState, user: &User, password: &SecretString) {
    if !state.passwords.needs_rehash(&user.password) {
        return;
    }
    // Best effort: a failure leaves the old (still valid) hash. Never revokes tokens.
    match state.passwords.hash(password).await {
        Ok(hash) => {
            if let Err(e) = state.store.update_password_hash(user.id, &hash).await {
                tracing::warn!(error = %e, user_id = user.id, "could not store the upgraded hash");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not re-hash a password"),
    }
}

/// `POST /api/token/refresh/`.
#[tracing::instrument(skip_all)]
pub async fn refresh(state: &AppState, token: &str) -> Result<Refreshed, ApiError> {
    let now = state.clock.now();
    let validated = state
        .tokens
        .validate(token, Some(TokenType::Refresh), now)
        .map_err(ApiError::Token)?;
    let UserIdClaim::Id(user_id) = state.tokens.user_id(&validated) else {
        // simplejwt refreshes tokens without a user id unchecked (and answers 500 for unusable
        // ids); a session service must know whose session it is.
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT_FOR_TOKEN));
    };
    let rotate = state.settings.rotate_refresh_tokens;
    let next = rotate.then(|| IssuedRefresh {
        jti: new_id(),
        iat: now,
        exp: now.saturating_add(state.tokens.refresh_lifetime()),
    });
    let request = RefreshRequest {
        token: IssuedRefresh {
            jti: validated.jti.clone(),
            iat: validated.iat,
            exp: validated.exp,
        },
        user_id,
        next: next.clone(),
        adopt_family_id: new_id(),
        now,
        grace_secs: i64::try_from(state.settings.refresh_reuse_grace.as_secs()).unwrap_or(i64::MAX),
        check_active: state.settings.check_user_is_active,
    };
    match state.store.refresh(&request).await? {
        RefreshOutcome::Rotated { user, family_id } => {
            let next = next.ok_or_else(|| ApiError::Internal("rotation without next".into()))?;
            metrics::counter!("tessera_refreshes_total", "outcome" => "rotated").increment(1);
            tracing::debug!(target: "audit", event = "refresh_rotated", user_id = user.id, family = %family_id);
            Ok(Refreshed {
                access: access_for(state, user.id, now)?,
                refresh: Some(mint(
                    state,
                    TokenType::Refresh,
                    user.id,
                    &next.jti,
                    next.iat,
                    next.exp,
                )?),
            })
        }
        RefreshOutcome::Accepted { user } => {
            metrics::counter!("tessera_refreshes_total", "outcome" => "accepted").increment(1);
            Ok(Refreshed {
                access: access_for(state, user.id, now)?,
                refresh: None,
            })
        }
        RefreshOutcome::Grace {
            user,
            current,
            family_id,
        } => {
            metrics::counter!("tessera_refreshes_total", "outcome" => "grace_reissue").increment(1);
            tracing::info!(target: "audit", event = "refresh_grace_reissue", user_id = user.id, family = %family_id);
            let refresh = if rotate {
                // Same claims as the token the winning request received (same jti, iat, exp).
                Some(mint(
                    state,
                    TokenType::Refresh,
                    user.id,
                    &current.jti,
                    current.iat,
                    current.exp,
                )?)
            } else {
                None
            };
            Ok(Refreshed {
                access: access_for(state, user.id, now)?,
                refresh,
            })
        }
        RefreshOutcome::ReuseDetected { family_id, user_id } => {
            metrics::counter!("tessera_refresh_reuse_detected_total").increment(1);
            metrics::counter!("tessera_revocations_total", "reason" => "reuse_detected")
                .increment(1);
            tracing::warn!(target: "audit", event = "refresh_reuse_detected", user_id, family = %family_id,
                "a spent refresh token was presented again; the session is revoked");
            Err(ApiError::Token(TokenRejection::Blacklisted))
        }
        RefreshOutcome::Revoked => Err(ApiError::Token(TokenRejection::Blacklisted)),
        RefreshOutcome::UserMissing | RefreshOutcome::UserInactive => {
            Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT_FOR_TOKEN))
        }
    }
}

/// `POST /api/token/verify/`: any token type; also refuses revoked tokens (spent or revoked
/// refresh tokens, tokens older than the user's last revocation, tokens of deleted users).
// No span of its own: it logs nothing, and a span per verification was 5 % of its CPU (the
// request's span from `observe.rs` already carries the request id).
pub async fn verify(state: &AppState, token: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let validated = state
        .tokens
        .validate(token, None, now)
        .map_err(ApiError::Token)?;
    let is_refresh = validated.token_type.as_deref() == Some(TokenType::Refresh.as_str());
    if is_refresh
        && matches!(
            state.store.refresh_status(&validated.jti).await?,
            RefreshStatus::Spent | RefreshStatus::Revoked
        )
    {
        return Err(ApiError::Token(TokenRejection::Blacklisted));
    }
    if let UserIdClaim::Id(id) = state.tokens.user_id(&validated) {
        match state.store.user_for_auth(id).await? {
            Some(user) if validated.iat >= user.tokens_valid_after => {}
            _ => return Err(ApiError::Token(TokenRejection::Blacklisted)),
        }
    }
    Ok(())
}

/// `POST /api/token/blacklist/`: logout of one session (revokes the token's family).
#[tracing::instrument(skip_all)]
pub async fn logout(state: &AppState, token: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let validated = state
        .tokens
        .validate(token, Some(TokenType::Refresh), now)
        .map_err(ApiError::Token)?;
    let UserIdClaim::Id(user_id) = state.tokens.user_id(&validated) else {
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT_FOR_TOKEN));
    };
    let token = IssuedRefresh {
        jti: validated.jti.clone(),
        iat: validated.iat,
        exp: validated.exp,
    };
    match state.store.logout(&token, user_id, &new_id(), now).await? {
        LogoutOutcome::Revoked { family_id, adopted } => {
            metrics::counter!("tessera_revocations_total", "reason" => "logout").increment(1);
            tracing::info!(target: "audit", event = "logout", user_id, family = %family_id, adopted);
            Ok(())
        }
        LogoutOutcome::AlreadyRevoked | LogoutOutcome::UserMissing => {
            Err(ApiError::Token(TokenRejection::Blacklisted))
        }
    }
}

/// Logout-all for an authenticated user: every family revoked, every token issued up to now
/// refused from now on. Returns the number of families revoked.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub async fn logout_all(state: &AppState, user: &User) -> Result<u64, ApiError> {
    let now = state.clock.now();
    let revoked = state
        .store
        .revoke_user_tokens(user.id, now.saturating_add(1), now, "logout_all")
        .await?;
    metrics::counter!("tessera_revocations_total", "reason" => "logout_all").increment(1);
    tracing::info!(target: "audit", event = "logout_all", user_id = user.id, families = revoked);
    Ok(revoked)
}
