//! Brute-force protection for `POST /api/token/`: failed-login counters per username and per
//! client address, kept in the database so that every instance counts the same failures
//! (docs/security.md, "Brute-force protection", explains the policy and its defaults).
//!
//! An attempt is *charged* to its counters before the password is checked, and a success takes
//! the charge back (the address) or clears the counter (the username). Charging first matters:
//! a check made before any failure is recorded would let a burst of concurrent guesses all pass
//! it while they queue for the password-hash pool. A locked-out attempt is refused with 429 after
//! one indexed read — no user lookup, no hashing — so a flood costs the attacker more than us.
//!
//! Unknown usernames are counted exactly like known ones: the answer and the counter never say
//! whether a user exists.

use std::net::IpAddr;
use std::time::Duration;

use crate::client_address::throttle_subject;
use crate::config::Settings;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{LoginCharge, LoginKey, LoginLimit, LoginScope};

/// Longest username text kept as a counter's subject; longer names (which no account has) share
/// the counter of their prefix.
const MAX_SUBJECT_BYTES: usize = 256;

/// The limits of each scope, `None` where the setting is 0 (that scope is not throttled).
pub fn limits(settings: &Settings) -> (Option<LoginLimit>, Option<LoginLimit>) {
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let limit = |max: u32| {
        (max > 0).then(|| LoginLimit {
            max_failures: i64::from(max),
            window_secs: secs(settings.login_failure_window),
            lockout_secs: secs(settings.login_lockout).max(1),
            lockout_max_secs: secs(settings.login_lockout_max).max(1),
        })
    };
    (
        limit(settings.login_max_failures_per_username),
        limit(settings.login_max_failures_per_address),
    )
}

/// A login attempt that passed the throttle and was charged to its counters.
#[derive(Debug)]
pub struct ChargedAttempt {
    username: Option<LoginKey>,
    address: Option<(LoginKey, LoginLimit)>,
}

/// Refuses the attempt with 429 if its username or address is locked out; otherwise charges it.
/// `client` is `None` when the transport gave no peer address (then only the username counts).
pub async fn charge(
    state: &AppState,
    client: Option<IpAddr>,
    username: &str,
) -> Result<ChargedAttempt, ApiError> {
    let (user_limit, address_limit) = limits(&state.settings);
    let mut charges = Vec::with_capacity(2);
    // Always username before address: PostgreSQL row locks are then taken in one order.
    if let Some(limit) = user_limit {
        charges.push((
            LoginKey {
                scope: LoginScope::Username,
                subject: truncate(username).to_owned(),
            },
            limit,
        ));
    }
    if let (Some(limit), Some(ip)) = (address_limit, client) {
        charges.push((
            LoginKey {
                scope: LoginScope::Address,
                subject: throttle_subject(ip),
            },
            limit,
        ));
    }
    if charges.is_empty() {
        return Ok(ChargedAttempt {
            username: None,
            address: None,
        });
    }

    let now = state.clock.now();
    // A read first: under a flood of locked-out attempts, refusing takes no write lock.
    let keys: Vec<LoginKey> = charges.iter().map(|(k, _)| k.clone()).collect();
    let until = state.store.login_blocked_until(&keys).await?;
    let until = if until > now {
        until
    } else {
        match state.store.charge_login_attempt(&charges, now).await? {
            LoginCharge::Counted => 0,
            LoginCharge::Blocked { until } => until,
        }
    };
    if until > now {
        let wait = u64::try_from(until - now).unwrap_or(1);
        metrics::counter!("tessera_logins_total", "result" => "throttled").increment(1);
        tracing::info!(target: "audit", event = "login_throttled", username, client = ?client, retry_after = wait);
        return Err(ApiError::Throttled(wait));
    }

    let mut attempt = ChargedAttempt {
        username: None,
        address: None,
    };
    for (key, limit) in charges {
        match key.scope {
            LoginScope::Username => attempt.username = Some(key),
            _ => attempt.address = Some((key, limit)),
        }
    }
    Ok(attempt)
}

impl ChargedAttempt {
    /// The password matched: clear the username's counter and take the attempt back from the
    /// address's (a busy NAT of legitimate users is not an attacker).
    pub async fn succeeded(self, state: &AppState) -> Result<(), ApiError> {
        if self.username.is_none() && self.address.is_none() {
            return Ok(());
        }
        let reset: Vec<LoginKey> = self.username.into_iter().collect();
        let refund: Vec<(LoginKey, LoginLimit)> = self.address.into_iter().collect();
        state.store.login_succeeded(&reset, &refund).await?;
        Ok(())
    }
}

/// Deletes the counters that no longer matter: no failure for a whole window, no lockout in force.
/// Run by the pruning task (`prune_interval`).
pub async fn prune(state: &AppState) -> Result<u64, crate::store::StoreError> {
    let now = state.clock.now();
    let window = i64::try_from(state.settings.login_failure_window.as_secs()).unwrap_or(i64::MAX);
    let deleted = state
        .store
        .prune_login_failures(now.saturating_sub(window), now)
        .await?;
    if deleted > 0 {
        tracing::debug!(deleted, "pruned login failure counters");
    }
    Ok(deleted)
}

fn truncate(username: &str) -> &str {
    if username.len() <= MAX_SUBJECT_BYTES {
        return username;
    }
    let mut end = MAX_SUBJECT_BYTES;
    while !username.is_char_boundary(end) {
        end -= 1;
    }
    &username[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_at_the_limit_doubles_and_is_capped() {
        let limit = LoginLimit {
            max_failures: 5,
            window_secs: 900,
            lockout_secs: 60,
            lockout_max_secs: 900,
        };
        let got: Vec<i64> = (1..=12).map(|n| limit.lockout_for(n)).collect();
        assert_eq!(got, [0, 0, 0, 0, 60, 120, 240, 480, 900, 900, 900, 900]);
        assert_eq!(limit.lockout_for(i64::MAX), 900);
    }

    #[test]
    fn zero_disables_a_scope() {
        let settings = Settings {
            login_max_failures_per_username: 0,
            ..Settings::default()
        };
        let (user, address) = limits(&settings);
        assert!(user.is_none());
        assert_eq!(address.map(|l| l.max_failures), Some(20));
    }

    #[test]
    fn long_usernames_are_cut_on_a_char_boundary() {
        let long = "é".repeat(200);
        let cut = truncate(&long);
        assert!(cut.len() <= MAX_SUBJECT_BYTES && long.starts_with(cut));
        assert_eq!(truncate("alice"), "alice");
    }
}
