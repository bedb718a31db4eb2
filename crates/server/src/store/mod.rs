//! Persistent state: users, refresh-token families, revocations.
//!
//! [`Store`] is an enum over backends with inherent async methods that delegate (no
//! async-trait); issue 4 adds `Store::Postgres` beside [`SqliteStore`]. All SQL lives in the
//! backend modules. Every method that changes state commits before it returns, so a response
//! that reports a change is never ahead of the database. On SQLite, writes are group-committed
//! by one writer thread and point reads run inline on the caller (see `sqlite.rs`).

#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use std::fmt;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The PostgreSQL database failed or is unreachable (answered 503).
    #[cfg(feature = "postgres")]
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The SQLite database failed (answered 503).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store was closed (shutdown); answered 503.
    #[error("the store is closed")]
    Closed,
    /// A bug in the store, such as a panicking operation (answered 500).
    #[error("internal store error: {0}")]
    Internal(String),
    /// A unique constraint was hit (a username that already exists).
    #[error("{0} already exists")]
    Conflict(String),
    /// A schema migration failed.
    #[error("migration {version} failed: {message}")]
    Migration {
        /// The migration's number.
        version: i64,
        /// What went wrong.
        message: String,
    },
    /// The database URL names an unsupported backend or cannot be parsed.
    #[error("unsupported database URL: {0}")]
    Url(String),
}

/// A user account.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Numeric id; tokens carry it as a string `user_id`.
    pub id: i64,
    /// Unique, case-sensitive login name.
    pub username: String,
    /// Email address ('' when none).
    pub email: String,
    /// The stored password hash (PHC string or `!…`); never logged.
    pub password: String,
    /// Inactive users cannot log in, refresh or authenticate.
    pub is_active: bool,
    /// Django's staff flag.
    pub is_staff: bool,
    /// Django's superuser flag.
    pub is_superuser: bool,
    /// Creation time, Unix seconds.
    pub date_joined: i64,
    /// Last successful login, Unix seconds.
    pub last_login: Option<i64>,
    /// Tokens of this user with an earlier `iat` are refused.
    pub tokens_valid_after: i64,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .field("tokens_valid_after", &self.tokens_valid_after)
            .finish_non_exhaustive()
    }
}

/// A user to create.
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Email ('' for none).
    pub email: String,
    /// Password hash (PHC string) or an unusable `!…` value.
    pub password_hash: String,
    /// Staff flag.
    pub is_staff: bool,
    /// Superuser flag.
    pub is_superuser: bool,
}

/// The identity of one refresh token: what the store keeps instead of the token itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedRefresh {
    /// `jti` claim.
    pub jti: String,
    /// `iat` claim.
    pub iat: i64,
    /// `exp` claim.
    pub exp: i64,
}

/// A refresh presented by a client (already signature- and claim-validated).
#[derive(Clone, Debug)]
pub struct RefreshRequest {
    /// The presented token.
    pub token: IssuedRefresh,
    /// Its user id claim.
    pub user_id: i64,
    /// The next generation to record when rotating; `None` = `rotate_refresh_tokens = false`.
    pub next: Option<IssuedRefresh>,
    /// Family id to use if the token is unknown and gets adopted.
    pub adopt_family_id: String,
    /// Current time, Unix seconds.
    pub now: i64,
    /// Reuse grace window, seconds (0 = none; otherwise whole seconds, so up to one second
    /// more than configured).
    pub grace_secs: i64,
    /// Refuse inactive users.
    pub check_active: bool,
}

/// What happened to a refresh.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// The token was spent and `next` recorded as the family's new generation.
    Rotated {
        /// The (re-read) user.
        user: User,
        /// The family.
        family_id: String,
    },
    /// Non-rotating mode: the token is valid and stays valid.
    Accepted {
        /// The user.
        user: User,
    },
    /// The immediately previous generation came back within the grace window: answer the
    /// family's current refresh token again.
    Grace {
        /// The user.
        user: User,
        /// The family's current token.
        current: IssuedRefresh,
        /// The family.
        family_id: String,
    },
    /// A spent token came back outside the grace window: the family is now revoked.
    ReuseDetected {
        /// The revoked family.
        family_id: String,
        /// Its user.
        user_id: i64,
    },
    /// The family is revoked, or the token predates the user's `tokens_valid_after`.
    Revoked,
    /// The user does not exist (deleted).
    UserMissing,
    /// The user is inactive.
    UserInactive,
}

/// What happened to a logout (`/api/token/blacklist/`).
#[derive(Debug, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// The family was live and is now revoked.
    Revoked {
        /// The family.
        family_id: String,
        /// Whether the token was unknown and recorded now (e.g. issued by simplejwt).
        adopted: bool,
    },
    /// Already revoked (or the token predates a logout-all).
    AlreadyRevoked,
    /// The user does not exist.
    UserMissing,
}

/// The state of a refresh token, for `/api/token/verify/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshStatus {
    /// Not recorded (issued elsewhere, or pruned after expiry).
    Unknown,
    /// Usable.
    Live,
    /// Spent by a rotation.
    Spent,
    /// Its family is revoked.
    Revoked,
}

/// What a prune deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Expired families (and their tokens).
    pub families: u64,
    /// Expired token rows of families still alive.
    pub tokens: u64,
}

/// Per-user session counts for `user list`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCount {
    /// Live (not revoked, not expired) families.
    pub live: u64,
}

/// What a failed-login counter counts against (docs/security.md, "Brute-force protection").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginScope {
    /// A username as submitted, whether or not such a user exists.
    Username,
    /// A client address (an IPv4 address or an IPv6 /64).
    Address,
}

impl LoginScope {
    /// The value of the `scope` column.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginScope::Username => "username",
            LoginScope::Address => "address",
        }
    }
}

/// One throttled subject: a row of `login_failures`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginKey {
    /// Username or address.
    pub scope: LoginScope,
    /// The username or the address text.
    pub subject: String,
}

/// The failed-login limits of one scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimit {
    /// Attempts that may fail in a window; the attempt that reaches this count starts a lockout.
    pub max_failures: i64,
    /// A count restarts once this many seconds pass without a failure.
    pub window_secs: i64,
    /// The first lockout, seconds; each further failure in the window doubles it.
    pub lockout_secs: i64,
    /// The longest lockout, seconds.
    pub lockout_max_secs: i64,
}

impl LoginLimit {
    /// How long attempts are refused once the window's count reaches `failures`: nothing below
    /// `max_failures`, then `lockout_secs`, doubling with each further failure, capped at
    /// `lockout_max_secs`.
    pub fn lockout_for(&self, failures: i64) -> i64 {
        if failures < self.max_failures {
            return 0;
        }
        let doublings = u32::try_from(failures - self.max_failures)
            .unwrap_or(u32::MAX)
            .min(40);
        self.lockout_secs
            .saturating_mul(1i64 << doublings)
            .min(self.lockout_max_secs)
    }
}

/// The outcome of charging a login attempt to its counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginCharge {
    /// Counted on every key: the password may be checked.
    Counted,
    /// A key is locked out until this instant (Unix seconds); nothing was counted.
    Blocked {
        /// When the lockout ends.
        until: i64,
    },
}

/// The store: one variant per backend.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Store {
    /// Embedded SQLite (default).
    Sqlite(SqliteStore),
    /// PostgreSQL, shared by any number of instances (cargo feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(PostgresStore),
}

macro_rules! delegate {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => s.$method($($arg),*).await,
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens the database named by `url` (`sqlite://PATH[?…]`), creating the file if needed.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            return Ok(Store::Sqlite(SqliteStore::connect(url).await?));
        }
        #[cfg(feature = "postgres")]
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            return Ok(Store::Postgres(PostgresStore::connect(url).await?));
        }
        Err(StoreError::Url(
            url.split(':').next().unwrap_or_default().to_owned(),
        ))
    }

    /// Opens (creating if needed) the SQLite file at `path`.
    pub async fn open_sqlite_file(path: &std::path::Path) -> Result<Store, StoreError> {
        Ok(Store::Sqlite(SqliteStore::open_file(path).await?))
    }

    /// Applies pending schema migrations; returns how many ran.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        delegate!(self.migrate())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self.ping())
    }

    /// Closes the connections.
    pub async fn close(&self) {
        delegate!(self.close())
    }

    /// Creates a user; `Conflict` if the username exists.
    pub async fn create_user(&self, user: &NewUser, now: i64) -> Result<User, StoreError> {
        delegate!(self.create_user(user, now))
    }

    /// Finds a user by exact (case-sensitive) username.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        delegate!(self.user_by_username(username))
    }

    /// Finds a user by id (always the current row).
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        delegate!(self.user_by_id(id))
    }

    /// The user behind an authenticated request. On SQLite it may come from a cache of up to
    /// one second (invalidated at once by this store's own writes; docs/security.md); on
    /// PostgreSQL it is always the current row.
    pub async fn user_for_auth(&self, id: i64) -> Result<Option<std::sync::Arc<User>>, StoreError> {
        delegate!(self.user_for_auth(id))
    }

    /// All users, by id, with their live session counts.
    pub async fn list_users(&self, now: i64) -> Result<Vec<(User, SessionCount)>, StoreError> {
        delegate!(self.list_users(now))
    }

    /// Replaces the password hash without revoking anything (re-hash on login).
    pub async fn update_password_hash(&self, id: i64, hash: &str) -> Result<(), StoreError> {
        delegate!(self.update_password_hash(id, hash))
    }

    /// Sets a new password and revokes every token of the user issued before `valid_after`.
    pub async fn change_password(
        &self,
        id: i64,
        hash: &str,
        valid_after: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        delegate!(self.change_password(id, hash, valid_after, now))
    }

    /// Activates or deactivates; deactivation also revokes every token (returns families revoked).
    pub async fn set_active(
        &self,
        id: i64,
        active: bool,
        valid_after: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        delegate!(self.set_active(id, active, valid_after, now))
    }

    /// Deletes a user and (by cascade) their sessions. Returns whether a row was deleted.
    pub async fn delete_user(&self, id: i64) -> Result<bool, StoreError> {
        delegate!(self.delete_user(id))
    }

    /// Logout-all: revokes every family and refuses tokens with `iat < valid_after`.
    pub async fn revoke_user_tokens(
        &self,
        id: i64,
        valid_after: i64,
        now: i64,
        reason: &str,
    ) -> Result<u64, StoreError> {
        delegate!(self.revoke_user_tokens(id, valid_after, now, reason))
    }

    /// Login: records a new family whose generation 0 is `first`, and `last_login` if asked.
    pub async fn start_session(
        &self,
        user_id: i64,
        family_id: &str,
        first: &IssuedRefresh,
        now: i64,
        update_last_login: bool,
    ) -> Result<(), StoreError> {
        delegate!(self.start_session(user_id, family_id, first, now, update_last_login))
    }

    /// Refresh: atomically spends/rotates, re-issues within grace, or detects reuse.
    pub async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshOutcome, StoreError> {
        delegate!(self.refresh(req))
    }

    /// Logout of one session: revokes the family of `token`.
    pub async fn logout(
        &self,
        token: &IssuedRefresh,
        user_id: i64,
        adopt_family_id: &str,
        now: i64,
    ) -> Result<LogoutOutcome, StoreError> {
        delegate!(self.logout(token, user_id, adopt_family_id, now))
    }

    /// The state of a refresh token by `jti`.
    pub async fn refresh_status(&self, jti: &str) -> Result<RefreshStatus, StoreError> {
        delegate!(self.refresh_status(jti))
    }

    /// The generation of a family (tests and diagnostics).
    pub async fn family_generation(&self, family_id: &str) -> Result<Option<i64>, StoreError> {
        delegate!(self.family_generation(family_id))
    }

    /// The family a refresh token belongs to.
    pub async fn family_of(&self, jti: &str) -> Result<Option<String>, StoreError> {
        delegate!(self.family_of(jti))
    }

    /// Deletes expired families and token rows.
    pub async fn prune(&self, now: i64) -> Result<PruneReport, StoreError> {
        delegate!(self.prune(now))
    }

    /// Login throttling: the latest `blocked_until` among `keys` (0 when none is recorded).
    pub async fn login_blocked_until(&self, keys: &[LoginKey]) -> Result<i64, StoreError> {
        delegate!(self.login_blocked_until(keys))
    }

    /// Charges one login attempt to every key, atomically and before the password is checked
    /// (so concurrent guesses cannot all pass a check made before any of them failed): each
    /// count restarts after a quiet window, and the attempt that reaches a key's limit sets its
    /// lockout. If any key is locked out at `now`, nothing is counted.
    pub async fn charge_login_attempt(
        &self,
        charges: &[(LoginKey, LoginLimit)],
        now: i64,
    ) -> Result<LoginCharge, StoreError> {
        delegate!(self.charge_login_attempt(charges, now))
    }

    /// A charged attempt succeeded: forget the counters of `reset` (the username) and take the
    /// attempt back from `refund` (the address), lifting a lockout the refund brings below the
    /// limit.
    pub async fn login_succeeded(
        &self,
        reset: &[LoginKey],
        refund: &[(LoginKey, LoginLimit)],
    ) -> Result<(), StoreError> {
        delegate!(self.login_succeeded(reset, refund))
    }

    /// Deletes failed-login counters whose last failure is at or before `quiet_since` and that
    /// block nothing at `now`.
    pub async fn prune_login_failures(
        &self,
        quiet_since: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        delegate!(self.prune_login_failures(quiet_since, now))
    }
}
