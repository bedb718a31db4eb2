//! The SQLite backend: one file, WAL, `synchronous = FULL` (an accepted refresh or logout is on
//! disk before the response), foreign keys on.
//!
//! **Writes** go to one dedicated OS thread per store, which owns the only write connection.
//! A caller sends its work as a closure and awaits the reply. The thread takes every job already
//! queued (up to [`MAX_BATCH`]) and runs them as one *group commit*: `BEGIN IMMEDIATE`, each job
//! inside its own `SAVEPOINT` (a failing or panicking job is rolled back to its savepoint and
//! fails alone), then one `COMMIT` — one fsync for the whole batch instead of one per request,
//! and no connections of this process contending for SQLite's single write lock. Replies are
//! sent only after the `COMMIT` succeeded, so a response that reports a change is never ahead of
//! the disk; if `BEGIN` or `COMMIT` fails, every job of the batch gets the error. One thread
//! serialises every writer of this process, so a rotation's read-then-write cannot interleave
//! with another; `BEGIN IMMEDIATE` and `busy_timeout` still exclude other processes on the same
//! file (e.g. `tessera user …`).
//!
//! **Reads** use a small pool of read-only connections, inline on the calling task: a point
//! read on a WAL database takes a few microseconds, less than a handoff to another thread would
//! cost. The one heavy read (`list_users`) runs on tokio's blocking pool. An in-memory database
//! (`sqlite::memory:`) has a single connection, the writer's, and its reads go through it too.
//!
//! **Users for authentication** (`user_for_auth`, the read behind every authenticated request)
//! are cached ([`UserCache`]); `user_by_id` always reads the row.
//! Even a point read starts and ends a WAL read transaction: file locks (`fcntl`) and SQLite's
//! shared-memory mutex, which the runtime workers contend for (`bench/RESULTS.md`, "/api/me/").
//! Every write of this store that changes a user invalidates that user before it answers, so
//! logout-all, a password change, deactivation and deletion made through this server take
//! effect on the very next request. A change made by another process on the same file (the
//! `tessera user` CLI) is seen within [`USER_CACHE_TTL`].

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use tokio::sync::{mpsc, oneshot};

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

/// The most jobs one transaction commits: bounds the latency a batch adds to its first job.
const MAX_BATCH: usize = 128;
/// Idle read connections kept open; more are opened on demand and closed after use.
const MAX_IDLE_READERS: usize = 16;
/// How long a cached user is served without re-reading it: the longest a change made by
/// another process on the same file (the `tessera user` CLI) takes to be seen here. Changes made
/// through this store are seen at once.
pub(crate) const USER_CACHE_TTL: Duration = Duration::from_secs(1);
/// Users cached at most; a full cache starts over (it refills from the requests that follow).
const USER_CACHE_MAX: usize = 10_000;
/// Writers (here or in another process) queue on the database lock instead of failing with
/// SQLITE_BUSY; readers wait the same way during WAL recovery.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Distinct statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 64;

/// A handle on one SQLite database: a writer thread and a pool of read connections. Clones
/// share them; the writer thread ends when the last clone is dropped or on [`close`].
///
/// [`close`]: SqliteStore::close
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

struct Inner {
    location: Location,
    read_only: bool,
    /// `None` once closed: later writes fail with [`StoreError::Closed`].
    jobs: Mutex<Option<mpsc::UnboundedSender<Box<dyn Job>>>>,
    /// Completes (the sender is dropped) when the writer thread has ended.
    writer_done: Mutex<Option<oneshot::Receiver<()>>>,
    /// Idle read connections; `None` once closed.
    readers: Mutex<Option<Vec<Connection>>>,
    /// Recently read users, by id.
    users: UserCache,
}

/// Users by id, each for at most [`USER_CACHE_TTL`], invalidated by this store's own writes.
///
/// A read that started before an invalidation must not put its (possibly older) row back:
/// readers note the epoch before reading, and a write bumps it when it invalidates, so such a
/// row is dropped instead of cached.
#[derive(Default)]
struct UserCache {
    state: Mutex<UserCacheState>,
}

#[derive(Default)]
struct UserCacheState {
    epoch: u64,
    users: HashMap<i64, (Arc<User>, Instant)>,
}

impl UserCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, UserCacheState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh cached user, or the epoch to pass to [`insert`](Self::insert) after reading.
    fn get(&self, id: i64) -> Result<Arc<User>, u64> {
        let state = self.lock();
        match state.users.get(&id) {
            Some((user, at)) if at.elapsed() < USER_CACHE_TTL => Ok(Arc::clone(user)),
            _ => Err(state.epoch),
        }
    }

    fn insert(&self, epoch: u64, user: &Arc<User>) {
        let mut state = self.lock();
        if state.epoch != epoch {
            return;
        }
        if state.users.len() >= USER_CACHE_MAX {
            state.users.clear();
        }
        state
            .users
            .insert(user.id, (Arc::clone(user), Instant::now()));
    }

    /// After a committed write that may have changed user `id`.
    fn invalidate(&self, id: i64) {
        let mut state = self.lock();
        state.epoch += 1;
        state.users.remove(&id);
    }
}

/// Where the database lives.
#[derive(Clone, Debug)]
enum Location {
    File(PathBuf),
    /// Private to the writer's connection: every operation goes through the writer thread.
    Memory,
}

/// How a database file is opened (`?mode=` in the URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Read and write, creating the file if needed (the default).
    Create,
    /// Read and write an existing file.
    Existing,
    /// Read only: every write fails.
    ReadOnly,
}

/// `SELECT <every user column> FROM users WHERE <condition>`, built at compile time; the
/// column order is what [`user_from_row`] reads.
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
    /// Connects to `sqlite://PATH[?mode=rwc|rw|ro]` (also `sqlite:PATH`), creating the file if
    /// needed, or to `sqlite::memory:` (also `?mode=memory`).
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let (location, mode) = parse_url(url)?;
        Self::open(location, mode).await
    }

    /// Opens the database file at `path`, creating it if needed.
    pub async fn open_file(path: &Path) -> Result<SqliteStore, StoreError> {
        let store = Self::open(Location::File(path.to_owned()), Mode::Create).await?;
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

    async fn open(location: Location, mode: Mode) -> Result<SqliteStore, StoreError> {
        let writer_location = location.clone();
        // Opening touches the file (and may create it): off the async threads.
        let conn = tokio::task::spawn_blocking(move || open_writer(&writer_location, mode))
            .await
            .map_err(|_| StoreError::Internal("opening the database panicked".to_owned()))??;
        let (jobs, rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("tessera-sqlite-writer".to_owned())
            .spawn(move || {
                run_writer(conn, rx);
                drop(done_tx);
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                location,
                read_only: mode == Mode::ReadOnly,
                jobs: Mutex::new(Some(jobs)),
                writer_done: Mutex::new(Some(done_rx)),
                readers: Mutex::new(Some(Vec::new())),
                users: UserCache::default(),
            }),
        })
    }

    /// Runs `f` on the writer thread inside the next group commit; resolves once the batch that
    /// holds it is committed (or failed).
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(TypedJob {
            work: Some(f),
            result: None,
            reply,
        });
        {
            let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
            let Some(jobs) = jobs.as_ref() else {
                return Err(StoreError::Closed);
            };
            jobs.send(job).map_err(|_| StoreError::Closed)?;
        }
        // The writer drops the reply only when it is gone (closed while this job was queued).
        answer.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Runs `f` on a read connection, inline on this task (see the module documentation).
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match self.inner.location {
            Location::File(_) => self.inner.read(f),
            Location::Memory => self.write(f).await,
        }
    }

    /// Like [`read`](Self::read), but on tokio's blocking pool: for reads that scan tables.
    async fn read_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match self.inner.location {
            Location::File(_) => {
                let inner = Arc::clone(&self.inner);
                tokio::task::spawn_blocking(move || inner.read(f))
                    .await
                    .map_err(|_| StoreError::Internal("a store read panicked".to_owned()))?
            }
            Location::Memory => self.write(f).await,
        }
    }

    pub(super) async fn migrate(&self) -> Result<usize, StoreError> {
        self.write(|conn| {
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS _tessera_migrations (\
                   version INTEGER PRIMARY KEY, description TEXT NOT NULL, \
                   applied_at INTEGER NOT NULL)",
            )?;
            Ok(())
        })
        .await?;
        let mut applied = 0;
        for &(version, description, sql) in MIGRATIONS {
            // One job per migration, awaited before the next: each commits on its own. The
            // check runs under the write lock, so two processes migrating at once apply each
            // migration once.
            let ran = self
                .write(move |conn| {
                    let done = conn
                        .prepare_cached(
                            "SELECT version FROM _tessera_migrations WHERE version = ?",
                        )?
                        .query_row([version], |row| row.get::<_, i64>(0))
                        .optional()?;
                    if done.is_some() {
                        return Ok(false);
                    }
                    conn.execute_batch(sql).map_err(|e| StoreError::Migration {
                        version,
                        message: e.to_string(),
                    })?;
                    conn.execute(
                        "INSERT INTO _tessera_migrations (version, description, applied_at) \
                         VALUES (?, ?, strftime('%s','now'))",
                        params![version, description],
                    )?;
                    Ok(true)
                })
                .await?;
            if ran {
                tracing::info!(version, description, "applied migration");
                applied += 1;
            }
        }
        Ok(applied)
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.prepare_cached("SELECT 1")?
                .query_row([], |row| row.get::<_, i64>(0))?;
            Ok(())
        })
        .await
    }

    /// Stops the writer thread once it has run every job already queued, and closes every
    /// connection. Later calls on any clone fail with [`StoreError::Closed`].
    pub(super) async fn close(&self) {
        drop(
            self.inner
                .jobs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        drop(
            self.inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let done = self
            .inner
            .writer_done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(done) = done {
            // Err is the expected outcome: the thread drops the sender as it ends.
            let _ = done.await;
        }
    }

    pub(super) async fn create_user(&self, new: &NewUser, now: i64) -> Result<User, StoreError> {
        let username = new.username.clone();
        let email = new.email.clone();
        let password_hash = new.password_hash.clone();
        let (is_staff, is_superuser) = (new.is_staff, new.is_superuser);
        self.write(move |conn| {
            let result = conn
                .prepare_cached(
                    "INSERT INTO users (username, email, password, is_active, is_staff, \
                     is_superuser, date_joined, tokens_valid_after) VALUES (?, ?, ?, 1, ?, ?, ?, ?) \
                     RETURNING id, username, email, password, is_active, is_staff, is_superuser, \
                     date_joined, last_login, tokens_valid_after",
                )?
                // Tokens older than the account can never be its own (defence in depth against
                // a reset database signed with the old key): tokens_valid_after = now.
                .query_row(
                    params![username, email, password_hash, is_staff, is_superuser, now, now],
                    user_from_row,
                );
            match result {
                Ok(user) => Ok(user),
                Err(e) if is_unique_violation(&e) => {
                    Err(StoreError::Conflict(format!("user {username:?}")))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    pub(super) async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<User>, StoreError> {
        let username = username.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(USER_BY_USERNAME)?
                .query_row([username], user_from_row)
                .optional()?)
        })
        .await
    }

    pub(super) async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.read(move |conn| user_in(conn, id)).await
    }

    pub(super) async fn user_for_auth(&self, id: i64) -> Result<Option<Arc<User>>, StoreError> {
        let epoch = match self.inner.users.get(id) {
            Ok(user) => return Ok(Some(user)),
            Err(epoch) => epoch,
        };
        let user = self
            .read(move |conn| user_in(conn, id))
            .await?
            .map(Arc::new);
        // Only users that exist are cached: a new user is visible at once.
        if let Some(user) = &user {
            self.inner.users.insert(epoch, user);
        }
        Ok(user)
    }

    /// Runs a write that may change user `id`, and forgets the cached user once it is done.
    async fn write_user<T: Send + 'static>(
        &self,
        id: i64,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let result = self.write(f).await;
        // Also after a failure: whether the batch committed is not always known.
        self.inner.users.invalidate(id);
        result
    }

    pub(super) async fn list_users(
        &self,
        now: i64,
    ) -> Result<Vec<(User, SessionCount)>, StoreError> {
        self.read_blocking(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT u.id, u.username, u.email, u.password, u.is_active, u.is_staff, \
                 u.is_superuser, u.date_joined, u.last_login, u.tokens_valid_after, \
                 (SELECT COUNT(*) FROM refresh_families f WHERE f.user_id = u.id \
                    AND f.revoked_at IS NULL AND f.expires_at > ?) AS live \
                 FROM users u ORDER BY u.id",
            )?;
            let rows = stmt.query_map([now], |row| {
                let live: i64 = row.get(10)?;
                Ok((
                    user_from_row(row)?,
                    SessionCount {
                        live: u64::try_from(live).unwrap_or(0),
                    },
                ))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub(super) async fn update_password_hash(&self, id: i64, hash: &str) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.write_user(id, move |conn| {
            conn.prepare_cached("UPDATE users SET password = ? WHERE id = ?")?
                .execute(params![hash, id])?;
            Ok(())
        })
        .await
    }

    pub(super) async fn change_password(
        &self,
        id: i64,
        hash: &str,
        valid_after: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        let hash = hash.to_owned();
        self.write_user(id, move |conn| {
            conn.prepare_cached("UPDATE users SET password = ? WHERE id = ?")?
                .execute(params![hash, id])?;
            revoke_all(conn, id, valid_after, now, "password_change")
        })
        .await
    }

    pub(super) async fn set_active(
        &self,
        id: i64,
        active: bool,
        valid_after: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        self.write_user(id, move |conn| {
            conn.prepare_cached("UPDATE users SET is_active = ? WHERE id = ?")?
                .execute(params![active, id])?;
            if active {
                Ok(0)
            } else {
                revoke_all(conn, id, valid_after, now, "deactivated")
            }
        })
        .await
    }

    pub(super) async fn delete_user(&self, id: i64) -> Result<bool, StoreError> {
        self.write_user(id, move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM users WHERE id = ?")?
                .execute([id])?;
            Ok(deleted > 0)
        })
        .await
    }

    pub(super) async fn revoke_user_tokens(
        &self,
        id: i64,
        valid_after: i64,
        now: i64,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let reason = reason.to_owned();
        self.write_user(id, move |conn| {
            revoke_all(conn, id, valid_after, now, &reason)
        })
        .await
    }

    pub(super) async fn start_session(
        &self,
        user_id: i64,
        family_id: &str,
        first: &IssuedRefresh,
        now: i64,
        update_last_login: bool,
    ) -> Result<(), StoreError> {
        let family_id = family_id.to_owned();
        let first = first.clone();
        self.write_user(user_id, move |conn| {
            insert_family(conn, &family_id, user_id, &first, now, None)?;
            if update_last_login {
                conn.prepare_cached("UPDATE users SET last_login = ? WHERE id = ?")?
                    .execute([now, user_id])?;
            }
            Ok(())
        })
        .await
    }

    pub(super) async fn refresh(&self, req: &RefreshRequest) -> Result<RefreshOutcome, StoreError> {
        let req = req.clone();
        // Refusals commit too: a detected reuse revokes the family, and that must stick.
        self.write(move |conn| refresh_in(conn, &req)).await
    }

    pub(super) async fn logout(
        &self,
        token: &IssuedRefresh,
        user_id: i64,
        adopt_family_id: &str,
        now: i64,
    ) -> Result<LogoutOutcome, StoreError> {
        let token = token.clone();
        let adopt_family_id = adopt_family_id.to_owned();
        self.write(move |conn| {
            let Some(user) = user_in(conn, user_id)? else {
                return Ok(LogoutOutcome::UserMissing);
            };
            if token.iat < user.tokens_valid_after {
                return Ok(LogoutOutcome::AlreadyRevoked);
            }
            Ok(match token_row(conn, &token.jti)? {
                None => {
                    insert_family(conn, &adopt_family_id, user_id, &token, now, Some("logout"))?;
                    LogoutOutcome::Revoked {
                        family_id: adopt_family_id,
                        adopted: true,
                    }
                }
                Some(row) if row.family_user_id != user_id || row.revoked => {
                    LogoutOutcome::AlreadyRevoked
                }
                Some(row) => {
                    revoke_family(conn, &row.family_id, now, "logout")?;
                    LogoutOutcome::Revoked {
                        family_id: row.family_id,
                        adopted: false,
                    }
                }
            })
        })
        .await
    }

    pub(super) async fn refresh_status(&self, jti: &str) -> Result<RefreshStatus, StoreError> {
        let jti = jti.to_owned();
        self.read(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT t.spent_at, f.revoked_at FROM refresh_tokens t \
                     JOIN refresh_families f ON f.id = t.family_id WHERE t.jti = ?",
                )?
                .query_row([jti], |row| {
                    Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?))
                })
                .optional()?;
            Ok(match row {
                None => RefreshStatus::Unknown,
                Some((_, Some(_))) => RefreshStatus::Revoked,
                Some((Some(_), None)) => RefreshStatus::Spent,
                Some((None, None)) => RefreshStatus::Live,
            })
        })
        .await
    }

    pub(super) async fn family_generation(
        &self,
        family_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let family_id = family_id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT generation FROM refresh_families WHERE id = ?")?
                .query_row([family_id], |row| row.get(0))
                .optional()?)
        })
        .await
    }

    pub(super) async fn family_of(&self, jti: &str) -> Result<Option<String>, StoreError> {
        let jti = jti.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT family_id FROM refresh_tokens WHERE jti = ?")?
                .query_row([jti], |row| row.get(0))
                .optional()?)
        })
        .await
    }

    pub(super) async fn prune(&self, now: i64) -> Result<PruneReport, StoreError> {
        self.write(move |conn| {
            // Every token of a family expires no later than the family (expires_at is the
            // maximum `exp` ever issued in it), so nothing deleted here could still verify.
            let families = conn
                .prepare_cached("DELETE FROM refresh_families WHERE expires_at <= ?")?
                .execute([now])?;
            let tokens = conn
                .prepare_cached("DELETE FROM refresh_tokens WHERE expires_at <= ?")?
                .execute([now])?;
            Ok(PruneReport {
                families: families as u64,
                tokens: tokens as u64,
            })
        })
        .await
    }

    pub(super) async fn login_blocked_until(&self, keys: &[LoginKey]) -> Result<i64, StoreError> {
        let keys = keys.to_vec();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT blocked_until FROM login_failures WHERE scope = ? AND subject = ?",
            )?;
            let mut until = 0;
            for key in &keys {
                let found: Option<i64> = stmt
                    .query_row(params![key.scope.as_str(), key.subject], |row| row.get(0))
                    .optional()?;
                until = until.max(found.unwrap_or(0));
            }
            Ok(until)
        })
        .await
    }

    pub(super) async fn charge_login_attempt(
        &self,
        charges: &[(LoginKey, LoginLimit)],
        now: i64,
    ) -> Result<LoginCharge, StoreError> {
        let charges = charges.to_vec();
        self.write(move |conn| {
            // A blocked key undoes the charges already made to the other keys, though the job
            // itself succeeds: a savepoint of its own inside the job's.
            conn.execute_batch("SAVEPOINT charge")?;
            for (key, limit) in &charges {
                // The conditional upsert counts only when the key is not locked out; a
                // locked-out key returns no row.
                let failures: Option<i64> = conn
                    .prepare_cached(
                        "INSERT INTO login_failures \
                           (scope, subject, failures, last_failure_at, blocked_until) \
                         VALUES (?1, ?2, 1, ?3, 0) \
                         ON CONFLICT (scope, subject) DO UPDATE SET \
                           failures = CASE WHEN login_failures.last_failure_at <= ?3 - ?4 THEN 1 \
                                           ELSE login_failures.failures + 1 END, \
                           last_failure_at = ?3 \
                         WHERE login_failures.blocked_until <= ?3 \
                         RETURNING failures",
                    )?
                    .query_row(
                        params![key.scope.as_str(), key.subject, now, limit.window_secs],
                        |row| row.get(0),
                    )
                    .optional()?;
                let Some(failures) = failures else {
                    let until: i64 = conn
                        .prepare_cached(
                            "SELECT blocked_until FROM login_failures \
                             WHERE scope = ? AND subject = ?",
                        )?
                        .query_row(params![key.scope.as_str(), key.subject], |row| row.get(0))?;
                    conn.execute_batch("ROLLBACK TO charge; RELEASE charge")?;
                    return Ok(LoginCharge::Blocked { until });
                };
                let lockout = limit.lockout_for(failures);
                if lockout > 0 {
                    conn.prepare_cached(
                        "UPDATE login_failures SET blocked_until = ? \
                         WHERE scope = ? AND subject = ?",
                    )?
                    .execute(params![
                        now.saturating_add(lockout),
                        key.scope.as_str(),
                        key.subject
                    ])?;
                }
            }
            conn.execute_batch("RELEASE charge")?;
            Ok(LoginCharge::Counted)
        })
        .await
    }

    pub(super) async fn login_succeeded(
        &self,
        reset: &[LoginKey],
        refund: &[(LoginKey, LoginLimit)],
    ) -> Result<(), StoreError> {
        let reset = reset.to_vec();
        let refund = refund.to_vec();
        self.write(move |conn| {
            for key in &reset {
                conn.prepare_cached("DELETE FROM login_failures WHERE scope = ? AND subject = ?")?
                    .execute(params![key.scope.as_str(), key.subject])?;
            }
            for (key, limit) in &refund {
                conn.prepare_cached(
                    "UPDATE login_failures SET failures = max(failures - 1, 0), \
                       blocked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE blocked_until END \
                     WHERE scope = ? AND subject = ?",
                )?
                .execute(params![
                    limit.max_failures,
                    key.scope.as_str(),
                    key.subject
                ])?;
            }
            Ok(())
        })
        .await
    }

    pub(super) async fn prune_login_failures(
        &self,
        quiet_since: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached(
                    "DELETE FROM login_failures WHERE last_failure_at <= ? AND blocked_until <= ?",
                )?
                .execute([quiet_since, now])?;
            Ok(deleted as u64)
        })
        .await
    }
}

impl Inner {
    /// Runs `f` on an idle read connection, opening one if none is idle.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Location::File(path) = &self.location else {
            return Err(StoreError::Internal(
                "an in-memory database has no read connections".to_owned(),
            ));
        };
        let idle = {
            let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
            let Some(readers) = readers.as_mut() else {
                return Err(StoreError::Closed);
            };
            readers.pop()
        };
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(path, self.read_only)?,
        };
        let result = f(&conn);
        // A connection whose read failed may be the cause (e.g. the file was replaced): drop it.
        if result.is_ok() {
            let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(readers) = readers.as_mut()
                && readers.len() < MAX_IDLE_READERS
            {
                readers.push(conn);
            }
        }
        result
    }
}

fn parse_url(url: &str) -> Result<(Location, Mode), StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Url(url.split(':').next().unwrap_or_default().to_owned()))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut mode = Mode::Create;
    let mut memory = path == ":memory:";
    let options: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|e| StoreError::Url(e.to_string()))?;
    for (name, value) in options {
        match (name.as_str(), value.as_str()) {
            ("mode", "rwc") => mode = Mode::Create,
            ("mode", "rw") => mode = Mode::Existing,
            ("mode", "ro") => mode = Mode::ReadOnly,
            ("mode", "memory") => memory = true,
            _ => {
                return Err(StoreError::Url(format!(
                    "unknown SQLite option {name}={value}"
                )));
            }
        }
    }
    if memory {
        return Ok((Location::Memory, Mode::Create));
    }
    if path.is_empty() {
        return Err(StoreError::Url("SQLite URL without a path".to_owned()));
    }
    Ok((Location::File(PathBuf::from(path)), mode))
}

fn open_writer(location: &Location, mode: Mode) -> Result<Connection, StoreError> {
    let conn = match location {
        Location::Memory => Connection::open_in_memory()?,
        Location::File(path) => {
            let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
                | match mode {
                    Mode::Create => {
                        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
                    }
                    Mode::Existing => OpenFlags::SQLITE_OPEN_READ_WRITE,
                    Mode::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
                };
            Connection::open_with_flags(path, flags)?
        }
    };
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if mode != Mode::ReadOnly {
        // WAL: readers never block the writer nor it them. The mode is stored in the file.
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    // FULL: a commit is durable (fsync'd) before the response that reports it.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn open_reader(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    // Read-write at the file level (a WAL reader may need to create the -shm index), but
    // `query_only`: a read connection never changes the database.
    let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
        | if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

// --- the writer thread ---------------------------------------------------------------------------

/// One caller's work for the writer thread.
trait Job: Send {
    /// Runs the work (inside the job's savepoint); whether it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Records an error that happened around the work (its savepoint could not be set).
    fn fail(&mut self, error: StoreError);
    /// Answers the caller: the work's own result, or `batch_error` if the batch did not commit.
    fn finish(self: Box<Self>, batch_error: Option<StoreError>);
}

struct TypedJob<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        // A panicking job fails alone: the writer thread (and every other caller) lives on.
        let result = catch_unwind(AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(StoreError::Internal("a store write panicked".to_owned())));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn fail(&mut self, error: StoreError) {
        self.work = None;
        self.result = Some(Err(error));
    }

    fn finish(self: Box<Self>, batch_error: Option<StoreError>) {
        let answer = match (batch_error, self.result) {
            (Some(e), _) => Err(e),
            (None, Some(result)) => result,
            (None, None) => Err(StoreError::Internal("a store write never ran".to_owned())),
        };
        // The caller may have gone away (its request was cancelled): nothing to answer.
        let _ = self.reply.send(answer);
    }
}

/// The writer thread: group-commits queued jobs until every sender is gone (the store was
/// closed or its last clone dropped), then closes the connection.
fn run_writer(conn: Connection, mut rx: mpsc::UnboundedReceiver<Box<dyn Job>>) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, &mut batch);
    }
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing the SQLite write connection failed");
    }
}

/// Runs `batch` as one transaction and answers every job; leaves `batch` empty.
fn run_batch(conn: &Connection, batch: &mut Vec<Box<dyn Job>>) {
    // IMMEDIATE takes the write lock at BEGIN, so no other process writes between a job's
    // reads and its writes (no lost update, no deadlock-upgrade failure).
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        fail_batch(batch, &e);
        return;
    }
    for job in batch.iter_mut() {
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            job.fail(e.into());
            continue;
        }
        let end = if job.run(conn) {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        // Some errors (e.g. a full disk) make SQLite roll the whole transaction back: then the
        // savepoint is gone, and so is every earlier job's work.
        let ended = conn.execute_batch(end);
        if let Err(e) = ended {
            abort_batch(conn, batch, &e);
            return;
        }
        if conn.is_autocommit() {
            let e = rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("the transaction was rolled back".to_owned()),
            );
            abort_batch(conn, batch, &e);
            return;
        }
    }
    // One COMMIT, one fsync, for the whole batch; only then is any job answered.
    if let Err(e) = conn.execute_batch("COMMIT") {
        abort_batch(conn, batch, &e);
        return;
    }
    for job in batch.drain(..) {
        job.finish(None);
    }
}

fn abort_batch(conn: &Connection, batch: &mut Vec<Box<dyn Job>>, error: &rusqlite::Error) {
    if !conn.is_autocommit()
        && let Err(e) = conn.execute_batch("ROLLBACK")
    {
        tracing::error!(error = %e, "rolling back a failed batch failed");
    }
    fail_batch(batch, error);
}

fn fail_batch(batch: &mut Vec<Box<dyn Job>>, error: &rusqlite::Error) {
    tracing::error!(error = %error, jobs = batch.len(), "SQLite write batch failed");
    for job in batch.drain(..) {
        job.finish(Some(StoreError::Sqlite(copy_error(error))));
    }
}

/// `rusqlite::Error` is not `Clone`; every job of a failed batch gets an equivalent error.
fn copy_error(error: &rusqlite::Error) -> rusqlite::Error {
    match error {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    error.sqlite_error().is_some_and(|e| {
        e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    })
}

// --- the queries -------------------------------------------------------------------------------

/// A user from the columns of [`select_user_where!`], in that order.
fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        email: row.get(2)?,
        password: row.get(3)?,
        is_active: row.get(4)?,
        is_staff: row.get(5)?,
        is_superuser: row.get(6)?,
        date_joined: row.get(7)?,
        last_login: row.get(8)?,
        tokens_valid_after: row.get(9)?,
    })
}

fn user_in(conn: &Connection, id: i64) -> Result<Option<User>, StoreError> {
    Ok(conn
        .prepare_cached(USER_BY_ID)?
        .query_row([id], user_from_row)
        .optional()?)
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

fn token_row(conn: &Connection, jti: &str) -> Result<Option<TokenRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT t.generation, t.spent_at, f.id, f.user_id, f.generation, \
             f.current_jti, f.current_iat, f.current_exp, f.rotated_at, f.revoked_at \
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.jti = ?",
        )?
        .query_row([jti], |row| {
            Ok(TokenRow {
                generation: row.get(0)?,
                spent: row.get::<_, Option<i64>>(1)?.is_some(),
                family_id: row.get(2)?,
                family_user_id: row.get(3)?,
                family_generation: row.get(4)?,
                current: IssuedRefresh {
                    jti: row.get(5)?,
                    iat: row.get(6)?,
                    exp: row.get(7)?,
                },
                rotated_at: row.get(8)?,
                revoked: row.get::<_, Option<i64>>(9)?.is_some(),
            })
        })
        .optional()?)
}

fn insert_family(
    conn: &Connection,
    family_id: &str,
    user_id: i64,
    first: &IssuedRefresh,
    now: i64,
    revoked_reason: Option<&str>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO refresh_families (id, user_id, generation, current_jti, current_iat, \
         current_exp, rotated_at, revoked_at, revoked_reason, created_at, expires_at) \
         VALUES (?, ?, 0, ?, ?, ?, NULL, ?, ?, ?, ?)",
    )?
    .execute(params![
        family_id,
        user_id,
        first.jti,
        first.iat,
        first.exp,
        revoked_reason.map(|_| now),
        revoked_reason,
        now,
        first.exp,
    ])?;
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (jti, family_id, generation, expires_at) VALUES (?, ?, 0, ?)",
    )?
    .execute(params![first.jti, family_id, first.exp])?;
    Ok(())
}

fn revoke_family(
    conn: &Connection,
    family_id: &str,
    now: i64,
    reason: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? \
         WHERE id = ? AND revoked_at IS NULL",
    )?
    .execute(params![now, reason, family_id])?;
    Ok(())
}

fn revoke_all(
    conn: &Connection,
    user_id: i64,
    valid_after: i64,
    now: i64,
    reason: &str,
) -> Result<u64, StoreError> {
    // MAX: a later revocation never moves the boundary backwards.
    conn.prepare_cached(
        "UPDATE users SET tokens_valid_after = MAX(tokens_valid_after, ?) WHERE id = ?",
    )?
    .execute([valid_after, user_id])?;
    let n = conn
        .prepare_cached(
            "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? \
             WHERE user_id = ? AND revoked_at IS NULL",
        )?
        .execute(params![now, reason, user_id])?;
    Ok(n as u64)
}

fn refresh_in(conn: &Connection, req: &RefreshRequest) -> Result<RefreshOutcome, StoreError> {
    // A refresh re-reads the user: deleted or inactive users cannot refresh.
    let Some(user) = user_in(conn, req.user_id)? else {
        return Ok(RefreshOutcome::UserMissing);
    };
    if req.check_active && !user.is_active {
        return Ok(RefreshOutcome::UserInactive);
    }
    if req.token.iat < user.tokens_valid_after {
        return Ok(RefreshOutcome::Revoked);
    }

    let row = match token_row(conn, &req.token.jti)? {
        Some(row) => row,
        None => {
            // A valid token we never recorded (e.g. minted by a simplejwt server sharing the
            // secret during a migration): adopt it as the first generation of a new family.
            insert_family(
                conn,
                &req.adopt_family_id,
                req.user_id,
                &req.token,
                req.now,
                None,
            )?;
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
        revoke_family(conn, &row.family_id, req.now, "reuse")?;
        return Ok(RefreshOutcome::ReuseDetected {
            family_id: row.family_id,
            user_id: req.user_id,
        });
    }

    let Some(next) = &req.next else {
        return Ok(RefreshOutcome::Accepted { user });
    };
    // The conditional UPDATE is the spend: writes are serialised (this process's writer thread,
    // other processes' BEGIN IMMEDIATE), so only one job can see `spent_at IS NULL`, and of N
    // concurrent refreshes exactly one rotates.
    let spent = conn
        .prepare_cached(
            "UPDATE refresh_tokens SET spent_at = ? WHERE jti = ? AND spent_at IS NULL",
        )?
        .execute(params![req.now, req.token.jti])?;
    if spent != 1 {
        return Ok(RefreshOutcome::Revoked);
    }
    let generation = row.family_generation + 1;
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (jti, family_id, generation, expires_at) VALUES (?, ?, ?, ?)",
    )?
    .execute(params![next.jti, row.family_id, generation, next.exp])?;
    conn.prepare_cached(
        "UPDATE refresh_families SET generation = ?, current_jti = ?, current_iat = ?, \
         current_exp = ?, rotated_at = ?, expires_at = MAX(expires_at, ?) WHERE id = ?",
    )?
    .execute(params![
        generation,
        next.jti,
        next.iat,
        next.exp,
        req.now,
        next.exp,
        row.family_id,
    ])?;
    Ok(RefreshOutcome::Rotated {
        user,
        family_id: row.family_id,
    })
}
