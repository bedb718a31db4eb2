//! The PostgreSQL backend: the same behaviour as [`super::SqliteStore`], for several instances
//! sharing one database.
//!
//! SQLite serialises every writer with `BEGIN IMMEDIATE`; PostgreSQL runs transactions
//! concurrently (READ COMMITTED), so each operation that reads and then writes a session takes a
//! row lock on that session's family first (`SELECT … FOR UPDATE`). Concurrent refreshes of one
//! family — on any number of instances — then queue on that row, and each statement after the lock
//! sees the rows the previous holder committed. The spend itself is still the conditional
//! `UPDATE … WHERE spent_at IS NULL`, so exactly one of N refreshes of a token rotates. Locks are
//! taken in one order everywhere (family before its tokens, as `ON DELETE CASCADE` does), so
//! operations cannot deadlock one another. No lock lives in the application.
//!
//! Commits are durable before they return (`synchronous_commit` is PostgreSQL's default `on`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

use super::{
    IssuedRefresh, LoginCharge, LoginKey, LoginLimit, LogoutOutcome, NewUser, PruneReport,
    RefreshOutcome, RefreshRequest, RefreshStatus, SessionCount, StoreError, User,
};

/// Embedded migrations, applied in order (the PostgreSQL twins of `migrations/sqlite`).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial schema",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "login throttle",
        include_str!("../../migrations/postgres/0002_login_throttle.sql"),
    ),
];

/// Key of the transaction-level advisory lock that serialises migrations, so that instances
/// starting at the same moment do not race to create the schema: the first migrates, the others
/// wait, then find nothing left to do. Any constant works as long as nothing else in the
/// database uses it; this one spells "tessera" in ASCII.
const MIGRATION_LOCK: i64 = 0x0074_6573_7365_7261;

/// Connections per instance. Requests hold one only for a short transaction; keep
/// `instances × this` under the server's `max_connections` (docs/operations.md).
const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a free connection (or for the server to answer a connect)
/// before failing with a database error (503), instead of hanging while PostgreSQL is down.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of connections to one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// Kept to explain a pool timeout (see [`PostgresStore::explain`]). Its `Debug` output
    /// redacts the password.
    /// Boxed: the options are large, and every `Store` value would pay for them.
    options: Box<PgConnectOptions>,
}

/// The user columns, in [`user_from_row`]'s order; a macro so that queries stay `&'static str`.
macro_rules! user_columns {
    () => {
        "id, username, email, password, is_active, is_staff, is_superuser, date_joined, \
         last_login, tokens_valid_after"
    };
}

const USER_BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");

impl PostgresStore {
    /// Connects to `postgres://user:password@host:port/database[?sslmode=…]`.
    ///
    /// The pool is lazy: no connection is made here, so an instance starts (and answers 503)
    /// while the database is unreachable, and recovers by itself when it returns.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        // The parse error never contains the URL (which may hold a password).
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Url(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("tessera");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection that failed (database restarted) is replaced instead of reused.
            .test_before_acquire(true)
            .connect_lazy_with(options.clone());
        Ok(PostgresStore {
            pool,
            options: Box::new(options),
        })
    }

    /// A pool timeout only says that no connection came; when the server is unreachable or
    /// refuses the login, one direct attempt gives the operator the reason instead
    /// ("connection refused", "password authentication failed …", never the password).
    async fn explain(&self, error: sqlx::Error) -> StoreError {
        if matches!(error, sqlx::Error::PoolTimedOut) {
            let attempt =
                tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&self.options));
            if let Ok(Err(cause)) = attempt.await {
                return StoreError::Database(cause);
            }
        }
        StoreError::Database(error)
    }

    pub(super) async fn migrate(&self) -> Result<usize, StoreError> {
        // One transaction for the whole run: PostgreSQL's DDL is transactional, so either every
        // pending migration and its bookkeeping row commit, or none does. The advisory lock is
        // released with the transaction, also when the process dies mid-way.
        let mut tx = match self.pool.begin().await {
            Ok(tx) => tx,
            Err(e) => return Err(self.explain(e).await),
        };
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS _tessera_migrations (\
               version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let mut applied = 0;
        for (version, description, sql) in MIGRATIONS {
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM _tessera_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration {
                    version: *version,
                    message: e.to_string(),
                })?;
            sqlx::query(
                "INSERT INTO _tessera_migrations (version, description, applied_at) \
                 VALUES ($1, $2, extract(epoch FROM now())::bigint)",
            )
            .bind(version)
            .bind(description)
            .execute(&mut *tx)
            .await?;
            tracing::info!(version, description, "applied migration");
            applied += 1;
        }
        tx.commit().await?;
        Ok(applied)
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        match sqlx::query("SELECT 1").execute(&self.pool).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.explain(e).await),
        }
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn create_user(&self, new: &NewUser, now: i64) -> Result<User, StoreError> {
        let result = sqlx::query(concat!(
            "INSERT INTO users (username, email, password, is_active, is_staff, is_superuser, \
             date_joined, tokens_valid_after) VALUES ($1, $2, $3, TRUE, $4, $5, $6, $7) \
             RETURNING ",
            user_columns!()
        ))
        .bind(&new.username)
        .bind(&new.email)
        .bind(&new.password_hash)
        .bind(new.is_staff)
        .bind(new.is_superuser)
        .bind(now)
        // Tokens older than the account can never be its own (as in the SQLite store).
        .bind(now)
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(row) => user_from_row(&row),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::Conflict(format!("user {:?}", new.username)))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub(super) async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(USER_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Not cached: instances share the database, and a change made through one must hold on
    /// every other at its next request.
    pub(super) async fn user_for_auth(
        &self,
        id: i64,
    ) -> Result<Option<std::sync::Arc<User>>, StoreError> {
        Ok(self.user_by_id(id).await?.map(std::sync::Arc::new))
    }

    pub(super) async fn list_users(
        &self,
        now: i64,
    ) -> Result<Vec<(User, SessionCount)>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.username, u.email, u.password, u.is_active, u.is_staff, \
             u.is_superuser, u.date_joined, u.last_login, u.tokens_valid_after, \
             (SELECT COUNT(*) FROM refresh_families f WHERE f.user_id = u.id \
                AND f.revoked_at IS NULL AND f.expires_at > $1) AS live \
             FROM users u ORDER BY u.id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let live: i64 = row.try_get("live")?;
                Ok((
                    user_from_row(row)?,
                    SessionCount {
                        live: u64::try_from(live).unwrap_or(0),
                    },
                ))
            })
            .collect()
    }

    pub(super) async fn update_password_hash(&self, id: i64, hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn change_password(
        &self,
        id: i64,
        hash: &str,
        valid_after: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = revoke_all(&mut tx, id, valid_after, now, "password_change").await?;
        tx.commit().await?;
        Ok(n)
    }

    pub(super) async fn set_active(
        &self,
        id: i64,
        active: bool,
        valid_after: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET is_active = $1 WHERE id = $2")
            .bind(active)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = if active {
            0
        } else {
            revoke_all(&mut tx, id, valid_after, now, "deactivated").await?
        };
        tx.commit().await?;
        Ok(n)
    }

    pub(super) async fn delete_user(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn revoke_user_tokens(
        &self,
        id: i64,
        valid_after: i64,
        now: i64,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let n = revoke_all(&mut tx, id, valid_after, now, reason).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub(super) async fn start_session(
        &self,
        user_id: i64,
        family_id: &str,
        first: &IssuedRefresh,
        now: i64,
        update_last_login: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_family(&mut tx, family_id, user_id, first, now, None).await?;
        if update_last_login {
            sqlx::query("UPDATE users SET last_login = $1 WHERE id = $2")
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let outcome = refresh_in(&mut tx, req).await?;
        // Commit even for refusals: a detected reuse revokes the family, and that must stick.
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn logout(
        &self,
        token: &IssuedRefresh,
        user_id: i64,
        adopt_family_id: &str,
        now: i64,
    ) -> Result<LogoutOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(user) = user_in(&mut tx, user_id).await? else {
            return Ok(LogoutOutcome::UserMissing);
        };
        if token.iat < user.tokens_valid_after {
            return Ok(LogoutOutcome::AlreadyRevoked);
        }
        let outcome = match locked_token_row(&mut tx, &token.jti).await? {
            None => match adopt(
                &mut tx,
                adopt_family_id,
                user_id,
                token,
                now,
                Some("logout"),
            )
            .await?
            {
                Adopted::Inserted => LogoutOutcome::Revoked {
                    family_id: adopt_family_id.to_owned(),
                    adopted: true,
                },
                // Another instance recorded this token a moment ago: log out that family.
                Adopted::Raced(row) => logout_known(&mut tx, row, user_id, now).await?,
                Adopted::Vanished => LogoutOutcome::AlreadyRevoked,
            },
            Some(row) => logout_known(&mut tx, row, user_id, now).await?,
        };
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn refresh_status(&self, jti: &str) -> Result<RefreshStatus, StoreError> {
        let row = sqlx::query(
            "SELECT t.spent_at, f.revoked_at FROM refresh_tokens t \
             JOIN refresh_families f ON f.id = t.family_id WHERE t.jti = $1",
        )
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(RefreshStatus::Unknown);
        };
        let spent: Option<i64> = row.try_get("spent_at")?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        Ok(match (revoked, spent) {
            (Some(_), _) => RefreshStatus::Revoked,
            (None, Some(_)) => RefreshStatus::Spent,
            (None, None) => RefreshStatus::Live,
        })
    }

    pub(super) async fn family_generation(
        &self,
        family_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT generation FROM refresh_families WHERE id = $1")
                .bind(family_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub(super) async fn family_of(&self, jti: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE jti = $1")
                .bind(jti)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub(super) async fn prune(&self, now: i64) -> Result<PruneReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        // As in the SQLite store: every token of a family expires no later than the family, so
        // nothing deleted here could still verify. Instances pruning at the same time only
        // delete disjoint or already-deleted rows.
        let families = sqlx::query("DELETE FROM refresh_families WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let tokens = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(PruneReport { families, tokens })
    }

    pub(super) async fn login_blocked_until(&self, keys: &[LoginKey]) -> Result<i64, StoreError> {
        let mut until = 0;
        for key in keys {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT blocked_until FROM login_failures WHERE scope = $1 AND subject = $2",
            )
            .bind(key.scope.as_str())
            .bind(&key.subject)
            .fetch_optional(&self.pool)
            .await?;
            until = until.max(found.unwrap_or(0));
        }
        Ok(until)
    }

    pub(super) async fn charge_login_attempt(
        &self,
        charges: &[(LoginKey, LoginLimit)],
        now: i64,
    ) -> Result<LoginCharge, StoreError> {
        let mut tx = self.pool.begin().await?;
        for (key, limit) in charges {
            // As in the SQLite store. The upsert locks the row until commit, so concurrent charges
            // of one key (on any instance) count one after the other and each sees the lockout
            // the previous one set.
            let failures: Option<i64> = sqlx::query_scalar(
                "INSERT INTO login_failures (scope, subject, failures, last_failure_at, blocked_until) \
                 VALUES ($1, $2, 1, $3, 0) \
                 ON CONFLICT (scope, subject) DO UPDATE SET \
                   failures = CASE WHEN login_failures.last_failure_at <= $3 - $4 THEN 1 \
                                   ELSE login_failures.failures + 1 END, \
                   last_failure_at = $3 \
                 WHERE login_failures.blocked_until <= $3 \
                 RETURNING failures",
            )
            .bind(key.scope.as_str())
            .bind(&key.subject)
            .bind(now)
            .bind(limit.window_secs)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(failures) = failures else {
                let until: i64 = sqlx::query_scalar(
                    "SELECT blocked_until FROM login_failures WHERE scope = $1 AND subject = $2",
                )
                .bind(key.scope.as_str())
                .bind(&key.subject)
                .fetch_one(&mut *tx)
                .await?;
                return Ok(LoginCharge::Blocked { until });
            };
            let lockout = limit.lockout_for(failures);
            if lockout > 0 {
                sqlx::query(
                    "UPDATE login_failures SET blocked_until = $1 WHERE scope = $2 AND subject = $3",
                )
                .bind(now.saturating_add(lockout))
                .bind(key.scope.as_str())
                .bind(&key.subject)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(LoginCharge::Counted)
    }

    pub(super) async fn login_succeeded(
        &self,
        reset: &[LoginKey],
        refund: &[(LoginKey, LoginLimit)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for key in reset {
            sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND subject = $2")
                .bind(key.scope.as_str())
                .bind(&key.subject)
                .execute(&mut *tx)
                .await?;
        }
        for (key, limit) in refund {
            sqlx::query(
                "UPDATE login_failures SET failures = GREATEST(failures - 1, 0), \
                   blocked_until = CASE WHEN failures - 1 < $1 THEN 0 ELSE blocked_until END \
                 WHERE scope = $2 AND subject = $3",
            )
            .bind(limit.max_failures)
            .bind(key.scope.as_str())
            .bind(&key.subject)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn prune_login_failures(
        &self,
        quiet_since: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM login_failures WHERE last_failure_at <= $1 AND blocked_until <= $2",
        )
        .bind(quiet_since)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

fn user_from_row(row: &PgRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        password: row.try_get("password")?,
        is_active: row.try_get("is_active")?,
        is_staff: row.try_get("is_staff")?,
        is_superuser: row.try_get("is_superuser")?,
        date_joined: row.try_get("date_joined")?,
        last_login: row.try_get("last_login")?,
        tokens_valid_after: row.try_get("tokens_valid_after")?,
    })
}

async fn user_in(conn: &mut PgConnection, id: i64) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(USER_BY_ID)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// A refresh token row joined with its family.
struct TokenRow {
    generation: i64,
    spent: bool,
    family_id: String,
    family_user_id: i64,
    family_generation: i64,
    current: IssuedRefresh,
    rotated_at: Option<i64>,
    revoked: bool,
}

/// Finds the token `jti` and locks its family row until the transaction ends.
///
/// The family is locked before the token is read (a token's family never changes): a concurrent
/// refresh of the same family waits here, and then reads the token's `spent_at` as the previous
/// holder committed it. Locking the family first is also the order of `ON DELETE CASCADE` and of
/// [`revoke_all`], so no two operations wait on each other in a cycle.
async fn locked_token_row(
    conn: &mut PgConnection,
    jti: &str,
) -> Result<Option<TokenRow>, StoreError> {
    let family_id: Option<String> =
        sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(family_id) = family_id else {
        return Ok(None);
    };
    let family = sqlx::query(
        "SELECT user_id, generation, current_jti, current_iat, current_exp, rotated_at, \
         revoked_at FROM refresh_families WHERE id = $1 FOR UPDATE",
    )
    .bind(&family_id)
    .fetch_optional(&mut *conn)
    .await?;
    // Deleted in between (its user was deleted, or it expired and was pruned): the token is
    // as unknown as if it had never been recorded.
    let Some(family) = family else {
        return Ok(None);
    };
    let token = sqlx::query("SELECT generation, spent_at FROM refresh_tokens WHERE jti = $1")
        .bind(jti)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(token) = token else {
        return Ok(None);
    };
    Ok(Some(TokenRow {
        generation: token.try_get("generation")?,
        spent: token.try_get::<Option<i64>, _>("spent_at")?.is_some(),
        family_id,
        family_user_id: family.try_get("user_id")?,
        family_generation: family.try_get("generation")?,
        current: IssuedRefresh {
            jti: family.try_get("current_jti")?,
            iat: family.try_get("current_iat")?,
            exp: family.try_get("current_exp")?,
        },
        rotated_at: family.try_get("rotated_at")?,
        revoked: family.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
    }))
}

async fn insert_family(
    conn: &mut PgConnection,
    family_id: &str,
    user_id: i64,
    first: &IssuedRefresh,
    now: i64,
    revoked_reason: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_families (id, user_id, generation, current_jti, current_iat, \
         current_exp, rotated_at, revoked_at, revoked_reason, created_at, expires_at) \
         VALUES ($1, $2, 0, $3, $4, $5, NULL, $6, $7, $8, $9)",
    )
    .bind(family_id)
    .bind(user_id)
    .bind(&first.jti)
    .bind(first.iat)
    .bind(first.exp)
    .bind(revoked_reason.map(|_| now))
    .bind(revoked_reason)
    .bind(now)
    .bind(first.exp)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (jti, family_id, generation, expires_at) \
         VALUES ($1, $2, 0, $3)",
    )
    .bind(&first.jti)
    .bind(family_id)
    .bind(first.exp)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What [`adopt`] did.
enum Adopted {
    /// The unknown token is now generation 0 of a new family.
    Inserted,
    /// Another transaction recorded the same token first; here is its row, family locked.
    Raced(TokenRow),
    /// Another transaction recorded it first and its family is already gone again (its user
    /// was deleted meanwhile): the token is valid for nothing.
    Vanished,
}

/// Records a valid but unknown token as the first generation of a new family.
///
/// Under SQLite's single writer nobody else can record the same `jti` meanwhile; here two
/// instances can both find it unknown. The loser's insert waits on the primary key until the
/// winner commits and then fails as a unique violation: it rolls back to a savepoint and uses
/// the winner's rows, as the SQLite store would have found them.
async fn adopt(
    conn: &mut PgConnection,
    family_id: &str,
    user_id: i64,
    token: &IssuedRefresh,
    now: i64,
    revoked_reason: Option<&str>,
) -> Result<Adopted, StoreError> {
    let mut savepoint = conn.begin().await?;
    match insert_family(
        &mut savepoint,
        family_id,
        user_id,
        token,
        now,
        revoked_reason,
    )
    .await
    {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(Adopted::Inserted)
        }
        Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
            savepoint.rollback().await?;
            Ok(match locked_token_row(conn, &token.jti).await? {
                Some(row) => Adopted::Raced(row),
                None => Adopted::Vanished,
            })
        }
        Err(e) => Err(e),
    }
}

async fn logout_known(
    conn: &mut PgConnection,
    row: TokenRow,
    user_id: i64,
    now: i64,
) -> Result<LogoutOutcome, StoreError> {
    if row.family_user_id != user_id || row.revoked {
        return Ok(LogoutOutcome::AlreadyRevoked);
    }
    revoke_family(conn, &row.family_id, now, "logout").await?;
    Ok(LogoutOutcome::Revoked {
        family_id: row.family_id,
        adopted: false,
    })
}

async fn revoke_family(
    conn: &mut PgConnection,
    family_id: &str,
    now: i64,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 \
         WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(family_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn revoke_all(
    conn: &mut PgConnection,
    user_id: i64,
    valid_after: i64,
    now: i64,
    reason: &str,
) -> Result<u64, StoreError> {
    // GREATEST: a later revocation never moves the boundary backwards.
    sqlx::query(
        "UPDATE users SET tokens_valid_after = GREATEST(tokens_valid_after, $1) WHERE id = $2",
    )
    .bind(valid_after)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    // Waits for any refresh holding one of these families, then revokes it as committed — also
    // a generation that refresh just added, since the new token belongs to the same family.
    let n = sqlx::query(
        "UPDATE refresh_families SET revoked_at = $1, revoked_reason = $2 \
         WHERE user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n)
}

async fn refresh_in(
    conn: &mut PgConnection,
    req: &RefreshRequest,
) -> Result<RefreshOutcome, StoreError> {
    // A refresh re-reads the user: deleted or inactive users cannot refresh.
    let Some(user) = user_in(conn, req.user_id).await? else {
        return Ok(RefreshOutcome::UserMissing);
    };
    if req.check_active && !user.is_active {
        return Ok(RefreshOutcome::UserInactive);
    }
    if req.token.iat < user.tokens_valid_after {
        return Ok(RefreshOutcome::Revoked);
    }

    let row = match locked_token_row(conn, &req.token.jti).await? {
        Some(row) => row,
        None => {
            // A valid token we never recorded (e.g. minted by a simplejwt server sharing the
            // secret during a migration): adopt it as the first generation of a new family.
            match adopt(
                conn,
                &req.adopt_family_id,
                req.user_id,
                &req.token,
                req.now,
                None,
            )
            .await?
            {
                Adopted::Inserted => {
                    tracing::info!(target: "audit", event = "refresh_adopted",
                        family = %req.adopt_family_id, user_id = req.user_id);
                    TokenRow {
                        generation: 0,
                        spent: false,
                        family_id: req.adopt_family_id.clone(),
                        family_user_id: req.user_id,
                        family_generation: 0,
                        current: req.token.clone(),
                        rotated_at: None,
                        revoked: false,
                    }
                }
                Adopted::Raced(row) => row,
                Adopted::Vanished => return Ok(RefreshOutcome::Revoked),
            }
        }
    };
    if row.family_user_id != req.user_id || row.revoked {
        return Ok(RefreshOutcome::Revoked);
    }

    if row.spent {
        // A zero window means no grace at all (not "the same second"), as in the SQLite store.
        let in_grace = req.grace_secs > 0
            && row.generation + 1 == row.family_generation
            && row
                .rotated_at
                .is_some_and(|at| req.now.saturating_sub(at) <= req.grace_secs);
        if in_grace {
            return Ok(RefreshOutcome::Grace {
                user,
                current: row.current,
                family_id: row.family_id,
            });
        }
        revoke_family(conn, &row.family_id, req.now, "reuse").await?;
        return Ok(RefreshOutcome::ReuseDetected {
            family_id: row.family_id,
            user_id: req.user_id,
        });
    }

    let Some(next) = &req.next else {
        return Ok(RefreshOutcome::Accepted { user });
    };
    // The conditional UPDATE is the spend. With the family row locked only one transaction at a
    // time gets here for this token, and it is the one that finds `spent_at IS NULL`; the
    // condition also holds on its own, whatever else changes around it.
    let spent =
        sqlx::query("UPDATE refresh_tokens SET spent_at = $1 WHERE jti = $2 AND spent_at IS NULL")
            .bind(req.now)
            .bind(&req.token.jti)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if spent != 1 {
        return Ok(RefreshOutcome::Revoked);
    }
    let generation = row.family_generation + 1;
    sqlx::query(
        "INSERT INTO refresh_tokens (jti, family_id, generation, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&next.jti)
    .bind(&row.family_id)
    .bind(generation)
    .bind(next.exp)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE refresh_families SET generation = $1, current_jti = $2, current_iat = $3, \
         current_exp = $4, rotated_at = $5, expires_at = GREATEST(expires_at, $6) WHERE id = $7",
    )
    .bind(generation)
    .bind(&next.jti)
    .bind(next.iat)
    .bind(next.exp)
    .bind(req.now)
    .bind(next.exp)
    .bind(&row.family_id)
    .execute(&mut *conn)
    .await?;
    Ok(RefreshOutcome::Rotated {
        user,
        family_id: row.family_id,
    })
}
