//! The SQLite backend: one file, WAL, `synchronous = FULL` (an accepted refresh or logout is on
//! disk before the response), foreign keys on, writers serialised by `BEGIN IMMEDIATE`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use super::{
    IssuedRefresh, LoginCharge, LoginKey, LoginLimit, LogoutOutcome, NewUser, PruneReport,
    RefreshOutcome, RefreshRequest, RefreshStatus, SessionCount, StoreError, User,
};

/// Embedded migrations, applied in order; each runs in its own transaction.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial schema",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "login throttle",
        include_str!("../../migrations/sqlite/0002_login_throttle.sql"),
    ),
];

/// A pool of SQLite connections to one database file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// `SELECT <every user column> FROM users WHERE <condition>`, built at compile time.
macro_rules! select_user_where {
    ($condition:literal) => {
        concat!(
            "SELECT id, username, email, password, is_active, is_staff, is_superuser, ",
            "date_joined, last_login, tokens_valid_after FROM users WHERE ",
            $condition
        )
    };
}
const USER_BY_ID: &str = select_user_where!("id = ?");
const USER_BY_USERNAME: &str = select_user_where!("username = ?");

impl SqliteStore {
    /// Connects to `sqlite://PATH[?options]`, creating the file if needed.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options =
            SqliteConnectOptions::from_str(url).map_err(|e| StoreError::Url(e.to_string()))?;
        Self::with_options(options).await
    }

    /// Opens the database file at `path`, creating it if needed.
    pub async fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
        let store = Self::with_options(SqliteConnectOptions::new().filename(path)).await?;
        // The file holds password hashes: owner-only, like the generated key. SQLite gives the
        // -wal and -shm files the database file's permissions.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
                tracing::warn!(error = %e, path = %path.display(), "could not restrict database permissions");
            }
        }
        Ok(store)
    }

    async fn with_options(options: SqliteConnectOptions) -> Result<SqliteStore, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is durable (fsync'd) before the response that reports it.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Writers queue on the database lock instead of failing with SQLITE_BUSY.
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        // IMMEDIATE takes the write lock at BEGIN, so the read-then-write of a rotation cannot
        // interleave with another writer (no lost update, no deadlock-upgrade failure).
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub(super) async fn migrate(&self) -> Result<usize, StoreError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS _tessera_migrations (\
               version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let mut applied = 0;
        for (version, description, sql) in MIGRATIONS {
            let mut tx = self.begin_write().await?;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM _tessera_migrations WHERE version = ?")
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
                 VALUES (?, ?, strftime('%s','now'))",
            )
            .bind(version)
            .bind(description)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(version, description, "applied migration");
            applied += 1;
        }
        Ok(applied)
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) async fn create_user(&self, new: &NewUser, now: i64) -> Result<User, StoreError> {
        let result = sqlx::query(
            "INSERT INTO users (username, email, password, is_active, is_staff, is_superuser, \
             date_joined, tokens_valid_after) VALUES (?, ?, ?, 1, ?, ?, ?, ?) \
             RETURNING id, username, email, password, is_active, is_staff, is_superuser, \
             date_joined, last_login, tokens_valid_after",
        )
        .bind(&new.username)
        .bind(&new.email)
        .bind(&new.password_hash)
        .bind(new.is_staff)
        .bind(new.is_superuser)
        .bind(now)
        // Tokens older than the account can never be its own (defence in depth against a reset
        // database signed with the old key).
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
        let row = sqlx::query(USER_BY_USERNAME)
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

    pub(super) async fn list_users(
        &self,
        now: i64,
    ) -> Result<Vec<(User, SessionCount)>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.username, u.email, u.password, u.is_active, u.is_staff, \
             u.is_superuser, u.date_joined, u.last_login, u.tokens_valid_after, \
             (SELECT COUNT(*) FROM refresh_families f WHERE f.user_id = u.id \
                AND f.revoked_at IS NULL AND f.expires_at > ?) AS live \
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
        sqlx::query("UPDATE users SET password = ? WHERE id = ?")
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
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password = ? WHERE id = ?")
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
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET is_active = ? WHERE id = ?")
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
        let done = sqlx::query("DELETE FROM users WHERE id = ?")
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
        let mut tx = self.begin_write().await?;
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
        let mut tx = self.begin_write().await?;
        insert_family(&mut tx, family_id, user_id, first, now, None).await?;
        if update_last_login {
            sqlx::query("UPDATE users SET last_login = ? WHERE id = ?")
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
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
        let mut tx = self.begin_write().await?;
        let Some(user) = user_in(&mut tx, user_id).await? else {
            return Ok(LogoutOutcome::UserMissing);
        };
        if token.iat < user.tokens_valid_after {
            return Ok(LogoutOutcome::AlreadyRevoked);
        }
        let outcome = match token_row(&mut tx, &token.jti).await? {
            None => {
                insert_family(
                    &mut tx,
                    adopt_family_id,
                    user_id,
                    token,
                    now,
                    Some("logout"),
                )
                .await?;
                LogoutOutcome::Revoked {
                    family_id: adopt_family_id.to_owned(),
                    adopted: true,
                }
            }
            Some(row) if row.family_user_id != user_id || row.revoked => {
                LogoutOutcome::AlreadyRevoked
            }
            Some(row) => {
                revoke_family(&mut tx, &row.family_id, now, "logout").await?;
                LogoutOutcome::Revoked {
                    family_id: row.family_id,
                    adopted: false,
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn refresh_status(&self, jti: &str) -> Result<RefreshStatus, StoreError> {
        let row = sqlx::query(
            "SELECT t.spent_at, f.revoked_at FROM refresh_tokens t \
             JOIN refresh_families f ON f.id = t.family_id WHERE t.jti = ?",
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
            sqlx::query_scalar("SELECT generation FROM refresh_families WHERE id = ?")
                .bind(family_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub(super) async fn family_of(&self, jti: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE jti = ?")
                .bind(jti)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub(super) async fn prune(&self, now: i64) -> Result<PruneReport, StoreError> {
        let mut tx = self.begin_write().await?;
        // Every token of a family expires no later than the family (expires_at is the maximum
        // `exp` ever issued in it), so nothing deleted here could still verify.
        let families = sqlx::query("DELETE FROM refresh_families WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let tokens = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= ?")
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
                "SELECT blocked_until FROM login_failures WHERE scope = ? AND subject = ?",
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
        let mut tx = self.begin_write().await?;
        for (key, limit) in charges {
            // The conditional upsert counts only when the key is not locked out; a locked-out
            // key returns no row, and dropping the transaction undoes the other keys' charges.
            let failures: Option<i64> = sqlx::query_scalar(
                "INSERT INTO login_failures (scope, subject, failures, last_failure_at, blocked_until) \
                 VALUES (?1, ?2, 1, ?3, 0) \
                 ON CONFLICT (scope, subject) DO UPDATE SET \
                   failures = CASE WHEN login_failures.last_failure_at <= ?3 - ?4 THEN 1 \
                                   ELSE login_failures.failures + 1 END, \
                   last_failure_at = ?3 \
                 WHERE login_failures.blocked_until <= ?3 \
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
                    "SELECT blocked_until FROM login_failures WHERE scope = ? AND subject = ?",
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
                    "UPDATE login_failures SET blocked_until = ? WHERE scope = ? AND subject = ?",
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
        let mut tx = self.begin_write().await?;
        for key in reset {
            sqlx::query("DELETE FROM login_failures WHERE scope = ? AND subject = ?")
                .bind(key.scope.as_str())
                .bind(&key.subject)
                .execute(&mut *tx)
                .await?;
        }
        for (key, limit) in refund {
            sqlx::query(
                "UPDATE login_failures SET failures = max(failures - 1, 0), \
                   blocked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE blocked_until END \
                 WHERE scope = ? AND subject = ?",
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
            "DELETE FROM login_failures WHERE last_failure_at <= ? AND blocked_until <= ?",
        )
        .bind(quiet_since)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

fn user_from_row(row: &SqliteRow) -> Result<User, StoreError> {
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

async fn user_in(
    tx: &mut Transaction<'static, Sqlite>,
    id: i64,
) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(USER_BY_ID)
        .bind(id)
        .fetch_optional(&mut **tx)
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

async fn token_row(
    tx: &mut Transaction<'static, Sqlite>,
    jti: &str,
) -> Result<Option<TokenRow>, StoreError> {
    let row = sqlx::query(
        "SELECT t.generation, t.spent_at, f.id AS family_id, f.user_id, f.generation AS fgen, \
         f.current_jti, f.current_iat, f.current_exp, f.rotated_at, f.revoked_at \
         FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.jti = ?",
    )
    .bind(jti)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(TokenRow {
        generation: row.try_get("generation")?,
        spent: row.try_get::<Option<i64>, _>("spent_at")?.is_some(),
        family_id: row.try_get("family_id")?,
        family_user_id: row.try_get("user_id")?,
        family_generation: row.try_get("fgen")?,
        current: IssuedRefresh {
            jti: row.try_get("current_jti")?,
            iat: row.try_get("current_iat")?,
            exp: row.try_get("current_exp")?,
        },
        rotated_at: row.try_get("rotated_at")?,
        revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
    }))
}

async fn insert_family(
    tx: &mut Transaction<'static, Sqlite>,
    family_id: &str,
    user_id: i64,
    first: &IssuedRefresh,
    now: i64,
    revoked_reason: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_families (id, user_id, generation, current_jti, current_iat, \
         current_exp, rotated_at, revoked_at, revoked_reason, created_at, expires_at) \
         VALUES (?, ?, 0, ?, ?, ?, NULL, ?, ?, ?, ?)",
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
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (jti, family_id, generation, expires_at) VALUES (?, ?, 0, ?)",
    )
    .bind(&first.jti)
    .bind(family_id)
    .bind(first.exp)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn revoke_family(
    tx: &mut Transaction<'static, Sqlite>,
    family_id: &str,
    now: i64,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? \
         WHERE id = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(family_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn revoke_all(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: i64,
    valid_after: i64,
    now: i64,
    reason: &str,
) -> Result<u64, StoreError> {
    // MAX: a later revocation never moves the boundary backwards.
    sqlx::query("UPDATE users SET tokens_valid_after = MAX(tokens_valid_after, ?) WHERE id = ?")
        .bind(valid_after)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    let n = sqlx::query(
        "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? \
         WHERE user_id = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n)
}

async fn refresh_in(
    tx: &mut Transaction<'static, Sqlite>,
    req: &RefreshRequest,
) -> Result<RefreshOutcome, StoreError> {
    // A refresh re-reads the user: deleted or inactive users cannot refresh.
    let Some(user) = user_in(tx, req.user_id).await? else {
        return Ok(RefreshOutcome::UserMissing);
    };
    if req.check_active && !user.is_active {
        return Ok(RefreshOutcome::UserInactive);
    }
    if req.token.iat < user.tokens_valid_after {
        return Ok(RefreshOutcome::Revoked);
    }

    let row = match token_row(tx, &req.token.jti).await? {
        Some(row) => row,
        None => {
            // A valid token we never recorded (e.g. minted by a simplejwt server sharing the
            // secret during a migration): adopt it as the first generation of a new family.
            insert_family(
                tx,
                &req.adopt_family_id,
                req.user_id,
                &req.token,
                req.now,
                None,
            )
            .await?;
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
    };
    if row.family_user_id != req.user_id || row.revoked {
        return Ok(RefreshOutcome::Revoked);
    }

    if row.spent {
        // A zero window means no grace at all (not "the same second").
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
        revoke_family(tx, &row.family_id, req.now, "reuse").await?;
        return Ok(RefreshOutcome::ReuseDetected {
            family_id: row.family_id,
            user_id: req.user_id,
        });
    }

    let Some(next) = &req.next else {
        return Ok(RefreshOutcome::Accepted { user });
    };
    // The conditional UPDATE is the spend: under the IMMEDIATE lock only one transaction can
    // see `spent_at IS NULL`, so of N concurrent refreshes exactly one rotates.
    let spent =
        sqlx::query("UPDATE refresh_tokens SET spent_at = ? WHERE jti = ? AND spent_at IS NULL")
            .bind(req.now)
            .bind(&req.token.jti)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    if spent != 1 {
        return Ok(RefreshOutcome::Revoked);
    }
    let generation = row.family_generation + 1;
    sqlx::query(
        "INSERT INTO refresh_tokens (jti, family_id, generation, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&next.jti)
    .bind(&row.family_id)
    .bind(generation)
    .bind(next.exp)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE refresh_families SET generation = ?, current_jti = ?, current_iat = ?, \
         current_exp = ?, rotated_at = ?, expires_at = MAX(expires_at, ?) WHERE id = ?",
    )
    .bind(generation)
    .bind(&next.jti)
    .bind(next.iat)
    .bind(next.exp)
    .bind(req.now)
    .bind(next.exp)
    .bind(&row.family_id)
    .execute(&mut **tx)
    .await?;
    Ok(RefreshOutcome::Rotated {
        user,
        family_id: row.family_id,
    })
}
