//! The store suite: every case runs on SQLite and on PostgreSQL, so both backends are held to
//! exactly the same behaviour (issue 4).
//!
//! PostgreSQL cases need the cargo feature `postgres` and `TESSERA_TEST_DATABASE_URL` (a database
//! the test may create schemas in; `eval "$(tests/cluster/pg.sh start)"` makes a throwaway one).
//! Each case gets a fresh schema. Without the URL they are skipped with a message — except under
//! `CI=true`, where a missing URL or a build without the feature fails the run.

use std::sync::Arc;

use tessera_server::store::{
    IssuedRefresh, LoginCharge, LoginKey, LoginLimit, LoginScope, LogoutOutcome, NewUser,
    RefreshOutcome, RefreshRequest, RefreshStatus, Store, StoreError, User,
};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const GRACE: i64 = 10;

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("OS random numbers");
    hex::encode(buf)
}

/// A refresh token's identity as the server records it: 32-hex `jti`, `iat`, `exp`.
fn issued(iat: i64) -> IssuedRefresh {
    IssuedRefresh {
        jti: random_hex(16),
        iat,
        exp: iat + DAY,
    }
}

fn family_id() -> String {
    random_hex(16)
}

fn request(
    user: &User,
    token: &IssuedRefresh,
    next: Option<IssuedRefresh>,
    now: i64,
) -> RefreshRequest {
    RefreshRequest {
        token: token.clone(),
        user_id: user.id,
        next,
        adopt_family_id: family_id(),
        now,
        grace_secs: GRACE,
        check_active: true,
    }
}

fn rotate(user: &User, token: &IssuedRefresh, now: i64) -> RefreshRequest {
    request(user, token, Some(issued(now)), now)
}

/// One backend's database, opened through the same `Store::connect` the server uses.
struct TestDb {
    url: String,
    store: Store,
    _dir: Option<tempfile::TempDir>,
    #[cfg(feature = "postgres")]
    schema: Option<(sqlx::PgPool, String)>,
}

impl TestDb {
    /// A second, independent handle (its own pool) on the same database: another instance.
    async fn reopen(&self) -> Store {
        Store::connect(&self.url).await.expect("reopen")
    }

    async fn finish(self) {
        self.store.close().await;
        #[cfg(feature = "postgres")]
        if let Some((admin, schema)) = self.schema {
            let sql = format!("DROP SCHEMA \"{schema}\" CASCADE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&admin)
                .await
                .expect("drop schema");
        }
    }
}

async fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("tessera.db").display());
    let store = Store::connect(&url).await.expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    TestDb {
        url,
        store,
        _dir: Some(dir),
        #[cfg(feature = "postgres")]
        schema: None,
    }
}

const DATABASE_URL_VAR: &str = "TESSERA_TEST_DATABASE_URL";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

#[cfg(feature = "postgres")]
async fn postgres_db() -> Option<TestDb> {
    let Ok(base) = std::env::var(DATABASE_URL_VAR) else {
        assert!(
            !in_ci(),
            "{DATABASE_URL_VAR} is not set: CI must run the store suite on PostgreSQL \
             (eval \"$(tests/cluster/pg.sh start)\")"
        );
        eprintln!("skipped: {DATABASE_URL_VAR} not set");
        return None;
    };
    // A schema per case, named in the connection's search_path, so cases run in parallel on one
    // database without seeing each other's rows.
    let admin = sqlx::PgPool::connect(&base)
        .await
        .expect("connect to the test database");
    let schema = format!("t_{}", random_hex(8));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&admin)
        .await
        .expect("create schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::connect(&url).await.expect("open PostgreSQL");
    store.migrate().await.expect("migrate PostgreSQL");
    Some(TestDb {
        url,
        store,
        _dir: None,
        schema: Some((admin, schema)),
    })
}

/// CI must not pass silently with the PostgreSQL half compiled out.
#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_backend_is_compiled_in_ci() {
    assert!(
        !in_ci(),
        "tessera-server was built without the `postgres` feature: the store suite cannot run on \
         PostgreSQL ({DATABASE_URL_VAR})"
    );
    eprintln!("skipped: built without the `postgres` feature");
}

async fn user(store: &Store, name: &str) -> User {
    store
        .create_user(
            &NewUser {
                username: name.to_owned(),
                email: format!("{name}@example.com"),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
                    .to_owned(),
                is_staff: false,
                is_superuser: false,
            },
            NOW - DAY,
        )
        .await
        .expect("create user")
}

/// Logs `user` in: a new family whose generation 0 is returned.
async fn login(store: &Store, user: &User, now: i64) -> (String, IssuedRefresh) {
    let family = family_id();
    let first = issued(now);
    store
        .start_session(user.id, &family, &first, now, false)
        .await
        .expect("start session");
    (family, first)
}

/// Two handles on one database (two "instances"), each with connections already open, so that
/// the calls of a concurrency case really overlap instead of queueing behind connection setup.
async fn two_warm_handles(db: &TestDb, per_handle: usize) -> Arc<[Store; 2]> {
    let handles = Arc::new([db.store.clone(), db.reopen().await]);
    let mut pings = Vec::new();
    for i in 0..2 * per_handle {
        let handles = Arc::clone(&handles);
        pings.push(tokio::spawn(async move { handles[i % 2].ping().await }));
    }
    for ping in pings {
        ping.await.expect("task").expect("ping");
    }
    handles
}

/// Runs `calls` refreshes at once, alternating between the two handles, all released together.
async fn refresh_at_once(
    handles: &Arc<[Store; 2]>,
    calls: Vec<RefreshRequest>,
) -> Vec<RefreshOutcome> {
    let start = Arc::new(tokio::sync::Barrier::new(calls.len()));
    let mut tasks = Vec::new();
    for (i, req) in calls.into_iter().enumerate() {
        let handles = Arc::clone(handles);
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            handles[i % 2].refresh(&req).await.expect("refresh")
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    outcomes
}

async fn refresh(store: &Store, req: &RefreshRequest) -> RefreshOutcome {
    store.refresh(req).await.expect("refresh")
}

// --- the cases -----------------------------------------------------------------------------------

async fn migrations_are_idempotent(db: &TestDb) {
    assert_eq!(db.store.migrate().await.expect("migrate again"), 0);
}

async fn concurrent_migrations_do_not_race(db: &TestDb) {
    // A fresh database opened by two "instances" at once (the test's own database is already
    // migrated, so use a second one: a fresh file, or a fresh schema).
    let fresh = match &db.store {
        Store::Sqlite(_) => sqlite_fresh().await,
        #[cfg(feature = "postgres")]
        Store::Postgres(_) => postgres_db_unmigrated(db).await,
        _ => unreachable!("a backend without a test database"),
    };
    let (a, b) = (fresh.reopen().await, fresh.reopen().await);
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    let total = ra.expect("first migrate") + rb.expect("second migrate");
    assert_eq!(total, 2, "each of the two migrations ran once");
    assert_eq!(fresh.store.migrate().await.expect("third migrate"), 0);
    // Both handles work on the one schema.
    let u = user(&a, "alice").await;
    assert_eq!(
        b.user_by_id(u.id).await.expect("read").map(|u| u.username),
        Some("alice".to_owned())
    );
    a.close().await;
    b.close().await;
    fresh.finish().await;
}

async fn sqlite_fresh() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let store = Store::connect(&url).await.expect("open SQLite");
    TestDb {
        url,
        store,
        _dir: Some(dir),
        #[cfg(feature = "postgres")]
        schema: None,
    }
}

#[cfg(feature = "postgres")]
async fn postgres_db_unmigrated(db: &TestDb) -> TestDb {
    let (admin, _) = db.schema.as_ref().expect("a PostgreSQL test database");
    let schema = format!("t_{}", random_hex(8));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(admin)
        .await
        .expect("create schema");
    let base = std::env::var(DATABASE_URL_VAR).expect("URL");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    TestDb {
        store: Store::connect(&url).await.expect("open"),
        url,
        _dir: None,
        schema: Some((admin.clone(), schema)),
    }
}

async fn users_are_created_found_and_unique(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    assert_eq!(alice.username, "alice");
    assert!(alice.is_active && !alice.is_staff && !alice.is_superuser);
    assert_eq!(alice.last_login, None);
    assert_eq!(
        alice.tokens_valid_after,
        NOW - DAY,
        "no token older than the account"
    );
    assert_eq!(
        store.user_by_id(alice.id).await.expect("by id"),
        Some(alice.clone())
    );
    assert_eq!(
        store.user_by_username("alice").await.expect("by name"),
        Some(alice.clone())
    );
    // Usernames are case-sensitive, as with Django's default backend.
    assert_eq!(
        store.user_by_username("Alice").await.expect("by name"),
        None
    );
    assert_eq!(
        store.user_by_id(alice.id + 1000).await.expect("by id"),
        None
    );
    let dup = store
        .create_user(
            &NewUser {
                username: "alice".to_owned(),
                email: String::new(),
                password_hash: "!".to_owned(),
                is_staff: true,
                is_superuser: true,
            },
            NOW,
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
}

async fn user_ids_are_never_reused(db: &TestDb) {
    let store = &db.store;
    let _a = user(store, "a").await;
    let b = user(store, "b").await;
    assert!(store.delete_user(b.id).await.expect("delete"));
    assert!(!store.delete_user(b.id).await.expect("delete again"));
    let c = user(store, "c").await;
    assert!(
        c.id > b.id,
        "a deleted user's id must not come back ({} <= {})",
        c.id,
        b.id
    );
}

async fn list_users_counts_live_sessions(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    login(store, &alice, NOW).await;
    login(store, &alice, NOW).await;
    // Revoked by a detected reuse: not live.
    let (_, t) = login(store, &alice, NOW).await;
    refresh(store, &rotate(&alice, &t, NOW)).await;
    refresh(store, &rotate(&alice, &t, NOW + GRACE + 1)).await;
    // Expired: not live.
    login(store, &bob, NOW - 2 * DAY).await;
    let list = store.list_users(NOW).await.expect("list");
    let counts: Vec<(String, u64)> = list
        .iter()
        .map(|(u, c)| (u.username.clone(), c.live))
        .collect();
    assert_eq!(counts, vec![("alice".to_owned(), 2), ("bob".to_owned(), 0)]);
}

async fn login_records_last_login_when_asked(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    store
        .start_session(alice.id, &family_id(), &issued(NOW), NOW, true)
        .await
        .expect("login");
    assert_eq!(
        store
            .user_by_id(alice.id)
            .await
            .expect("read")
            .expect("user")
            .last_login,
        Some(NOW)
    );
    store
        .start_session(alice.id, &family_id(), &issued(NOW + 5), NOW + 5, false)
        .await
        .expect("login");
    assert_eq!(
        store
            .user_by_id(alice.id)
            .await
            .expect("read")
            .expect("user")
            .last_login,
        Some(NOW)
    );
}

async fn rotation_spends_the_token_and_advances_the_family(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let (family, t0) = login(store, &alice, NOW).await;
    assert_eq!(
        store.refresh_status(&t0.jti).await.expect("status"),
        RefreshStatus::Live
    );
    assert_eq!(
        store.family_generation(&family).await.expect("gen"),
        Some(0)
    );

    let req = rotate(&alice, &t0, NOW + 60);
    let t1 = req.next.clone().expect("next");
    match refresh(store, &req).await {
        RefreshOutcome::Rotated { user, family_id } => {
            assert_eq!(user.id, alice.id);
            assert_eq!(family_id, family);
        }
        other => panic!("expected Rotated, got {other:?}"),
    }
    assert_eq!(
        store.family_generation(&family).await.expect("gen"),
        Some(1)
    );
    assert_eq!(
        store.refresh_status(&t0.jti).await.expect("status"),
        RefreshStatus::Spent
    );
    assert_eq!(
        store.refresh_status(&t1.jti).await.expect("status"),
        RefreshStatus::Live
    );
    assert_eq!(
        store.family_of(&t1.jti).await.expect("family"),
        Some(family.clone())
    );

    // And the new token rotates in turn.
    let req = rotate(&alice, &t1, NOW + 120);
    assert!(matches!(
        refresh(store, &req).await,
        RefreshOutcome::Rotated { .. }
    ));
    assert_eq!(
        store.family_generation(&family).await.expect("gen"),
        Some(2)
    );
}

async fn reuse_within_grace_returns_the_current_token(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let (family, t0) = login(store, &alice, NOW).await;
    let req = rotate(&alice, &t0, NOW);
    let t1 = req.next.clone().expect("next");
    refresh(store, &req).await;
    // The client lost the response and retries with t0, GRACE seconds later (inclusive).
    match refresh(store, &rotate(&alice, &t0, NOW + GRACE)).await {
        RefreshOutcome::Grace {
            current,
            family_id,
            user,
        } => {
            assert_eq!(current, t1);
            assert_eq!(family_id, family);
            assert_eq!(user.id, alice.id);
        }
        other => panic!("expected Grace, got {other:?}"),
    }
    // Nothing changed: t1 is still the live current token.
    assert_eq!(
        store.family_generation(&family).await.expect("gen"),
        Some(1)
    );
    assert_eq!(
        store.refresh_status(&t1.jti).await.expect("status"),
        RefreshStatus::Live
    );
}

async fn reuse_after_grace_revokes_the_family(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let (family, t0) = login(store, &alice, NOW).await;
    let req = rotate(&alice, &t0, NOW);
    let t1 = req.next.clone().expect("next");
    refresh(store, &req).await;
    match refresh(store, &rotate(&alice, &t0, NOW + GRACE + 1)).await {
        RefreshOutcome::ReuseDetected { family_id, user_id } => {
            assert_eq!(family_id, family);
            assert_eq!(user_id, alice.id);
        }
        other => panic!("expected ReuseDetected, got {other:?}"),
    }
    // The legitimate holder's token dies with the family.
    assert_eq!(
        store.refresh_status(&t1.jti).await.expect("status"),
        RefreshStatus::Revoked
    );
    assert!(matches!(
        refresh(store, &rotate(&alice, &t1, NOW + GRACE + 2)).await,
        RefreshOutcome::Revoked
    ));
}

async fn grace_covers_only_the_previous_generation(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let (_, t0) = login(store, &alice, NOW).await;
    let req = rotate(&alice, &t0, NOW);
    let t1 = req.next.clone().expect("next");
    refresh(store, &req).await;
    refresh(store, &rotate(&alice, &t1, NOW + 1)).await;
    // t0 is two generations old: a replay even inside the window.
    assert!(matches!(
        refresh(store, &rotate(&alice, &t0, NOW + 2)).await,
        RefreshOutcome::ReuseDetected { .. }
    ));
}

async fn concurrent_refreshes_rotate_exactly_once(db: &TestDb) {
    // Twenty refreshes of one token at once, spread over two independent handles (two
    // instances): one rotates; the others, inside the grace window, get the winner's token.
    let alice = user(&db.store, "alice").await;
    let (family, t0) = login(&db.store, &alice, NOW).await;
    let handles = two_warm_handles(db, 10).await;
    let calls: Vec<_> = (0..20).map(|_| rotate(&alice, &t0, NOW + 1)).collect();
    let nexts: Vec<_> = calls
        .iter()
        .map(|c| c.next.clone().expect("next"))
        .collect();
    let outcomes = refresh_at_once(&handles, calls).await;
    exactly_one_rotation(nexts, outcomes);
    assert_eq!(
        db.store.family_generation(&family).await.expect("gen"),
        Some(1)
    );
    handles[1].close().await;
}

async fn concurrent_refreshes_without_grace_revoke(db: &TestDb) {
    // Outside any grace window, the losers of a race are replays: the family is revoked and the
    // winner's token is dead too — never two live generations.
    let alice = user(&db.store, "alice").await;
    let (family, t0) = login(&db.store, &alice, NOW).await;
    let handles = two_warm_handles(db, 5).await;
    let calls: Vec<_> = (0..10)
        .map(|_| RefreshRequest {
            grace_secs: 0,
            ..rotate(&alice, &t0, NOW + 1)
        })
        .collect();
    let mut rotated = 0;
    let mut refused = 0;
    for outcome in refresh_at_once(&handles, calls).await {
        match outcome {
            RefreshOutcome::Rotated { .. } => rotated += 1,
            RefreshOutcome::ReuseDetected { .. } | RefreshOutcome::Revoked => refused += 1,
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((rotated, refused), (1, 9));
    assert_eq!(
        db.store.family_generation(&family).await.expect("gen"),
        Some(1)
    );
    let list = db.store.list_users(NOW).await.expect("list");
    assert_eq!(list[0].1.live, 0, "the family is revoked");
    handles[1].close().await;
}

async fn non_rotating_refresh_keeps_the_token(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let (family, t0) = login(store, &alice, NOW).await;
    for now in [NOW + 1, NOW + 100] {
        assert!(matches!(
            refresh(store, &request(&alice, &t0, None, now)).await,
            RefreshOutcome::Accepted { .. }
        ));
    }
    assert_eq!(
        store.refresh_status(&t0.jti).await.expect("status"),
        RefreshStatus::Live
    );
    assert_eq!(
        store.family_generation(&family).await.expect("gen"),
        Some(0)
    );
}

async fn unknown_valid_token_is_adopted(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let foreign = issued(NOW);
    assert_eq!(
        store.refresh_status(&foreign.jti).await.expect("status"),
        RefreshStatus::Unknown
    );
    let req = rotate(&alice, &foreign, NOW + 1);
    let adopted = req.adopt_family_id.clone();
    match refresh(store, &req).await {
        RefreshOutcome::Rotated { family_id, .. } => assert_eq!(family_id, adopted),
        other => panic!("expected Rotated, got {other:?}"),
    }
    assert_eq!(
        store.family_of(&foreign.jti).await.expect("family"),
        Some(adopted.clone())
    );
    assert_eq!(
        store.family_generation(&adopted).await.expect("gen"),
        Some(1)
    );
    assert_eq!(
        store.refresh_status(&foreign.jti).await.expect("status"),
        RefreshStatus::Spent
    );
}

async fn concurrent_adoption_makes_one_family(db: &TestDb) {
    // Ten refreshes at once of one valid token the store has never seen: one family adopts it.
    let alice = user(&db.store, "alice").await;
    let foreign = issued(NOW);
    let handles = two_warm_handles(db, 5).await;
    let calls: Vec<_> = (0..10).map(|_| rotate(&alice, &foreign, NOW + 1)).collect();
    let mut families = Vec::new();
    let mut rotated = 0;
    for outcome in refresh_at_once(&handles, calls).await {
        match outcome {
            RefreshOutcome::Rotated { family_id, .. } => {
                rotated += 1;
                families.push(family_id);
            }
            RefreshOutcome::Grace { family_id, .. } => families.push(family_id),
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(rotated, 1);
    families.sort();
    families.dedup();
    assert_eq!(families.len(), 1, "one family for one token: {families:?}");
    assert_eq!(
        db.store.family_generation(&families[0]).await.expect("gen"),
        Some(1)
    );
    handles[1].close().await;
}

async fn refresh_rereads_the_user(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let (_, t0) = login(store, &alice, NOW).await;

    // Someone else's token presented with alice's id (or vice versa) is refused.
    let bob = user(store, "bob").await;
    let mut wrong = rotate(&bob, &t0, NOW + 1);
    wrong.user_id = bob.id;
    assert!(matches!(
        refresh(store, &wrong).await,
        RefreshOutcome::Revoked
    ));

    // Inactive: refused while check_active is on.
    store
        .set_active(alice.id, false, NOW + 2, NOW + 1)
        .await
        .expect("deactivate");
    assert!(matches!(
        refresh(store, &rotate(&alice, &t0, NOW + 3)).await,
        RefreshOutcome::UserInactive
    ));
    assert_eq!(
        store
            .set_active(alice.id, true, NOW + 4, NOW + 4)
            .await
            .expect("activate"),
        0
    );
    // Reactivation does not bring back tokens revoked by the deactivation.
    assert!(matches!(
        refresh(store, &rotate(&alice, &t0, NOW + 5)).await,
        RefreshOutcome::Revoked
    ));

    // Deleted: the user is gone, and their families with them.
    let (family, t) = login(store, &bob, NOW + 6).await;
    assert!(store.delete_user(bob.id).await.expect("delete"));
    assert!(matches!(
        refresh(store, &rotate(&bob, &t, NOW + 7)).await,
        RefreshOutcome::UserMissing
    ));
    assert_eq!(store.family_generation(&family).await.expect("gen"), None);
    assert_eq!(
        store.refresh_status(&t.jti).await.expect("status"),
        RefreshStatus::Unknown
    );
}

async fn deactivation_revokes_sessions(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    login(store, &alice, NOW).await;
    login(store, &alice, NOW).await;
    assert_eq!(
        store
            .set_active(alice.id, false, NOW + 1, NOW)
            .await
            .expect("deactivate"),
        2
    );
    let after = store
        .user_by_id(alice.id)
        .await
        .expect("read")
        .expect("user");
    assert!(!after.is_active);
    assert_eq!(after.tokens_valid_after, NOW + 1);
}

async fn logout_all_revokes_every_session(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let (_, a1) = login(store, &alice, NOW).await;
    let (_, a2) = login(store, &alice, NOW).await;
    let (_, b1) = login(store, &bob, NOW).await;
    assert_eq!(
        store
            .revoke_user_tokens(alice.id, NOW + 1, NOW, "logout_all")
            .await
            .expect("revoke"),
        2
    );
    assert_eq!(
        store
            .user_by_id(alice.id)
            .await
            .expect("read")
            .expect("user")
            .tokens_valid_after,
        NOW + 1
    );
    for t in [&a1, &a2] {
        assert_eq!(
            store.refresh_status(&t.jti).await.expect("status"),
            RefreshStatus::Revoked
        );
        assert!(matches!(
            refresh(store, &rotate(&alice, t, NOW + 2)).await,
            RefreshOutcome::Revoked
        ));
    }
    // Other users are untouched.
    assert!(matches!(
        refresh(store, &rotate(&bob, &b1, NOW + 2)).await,
        RefreshOutcome::Rotated { .. }
    ));
    // A later login is fine; an earlier revocation time never moves the boundary back.
    let (_, a3) = login(store, &alice, NOW + 1).await;
    assert_eq!(
        store
            .revoke_user_tokens(alice.id, NOW - 100, NOW + 1, "logout_all")
            .await
            .expect("revoke"),
        1
    );
    assert_eq!(
        store
            .user_by_id(alice.id)
            .await
            .expect("read")
            .expect("user")
            .tokens_valid_after,
        NOW + 1
    );
    assert!(matches!(
        refresh(store, &rotate(&alice, &a3, NOW + 3)).await,
        RefreshOutcome::Revoked
    ));
    // A token issued before the boundary is refused even if its family is unknown (adoption).
    assert!(matches!(
        refresh(store, &rotate(&alice, &issued(NOW), NOW + 3)).await,
        RefreshOutcome::Revoked
    ));
}

async fn password_change_revokes_and_rehash_does_not(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let (_, t0) = login(store, &alice, NOW).await;
    store
        .update_password_hash(alice.id, "$argon2id$upgraded")
        .await
        .expect("rehash");
    let after = store
        .user_by_id(alice.id)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(after.password, "$argon2id$upgraded");
    assert_eq!(
        after.tokens_valid_after, alice.tokens_valid_after,
        "a re-hash logs nobody out"
    );
    assert_eq!(
        store.refresh_status(&t0.jti).await.expect("status"),
        RefreshStatus::Live
    );

    assert_eq!(
        store
            .change_password(alice.id, "$argon2id$new", NOW + 1, NOW)
            .await
            .expect("passwd"),
        1
    );
    let after = store
        .user_by_id(alice.id)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(after.password, "$argon2id$new");
    assert_eq!(after.tokens_valid_after, NOW + 1);
    assert_eq!(
        store.refresh_status(&t0.jti).await.expect("status"),
        RefreshStatus::Revoked
    );
}

async fn logout_revokes_one_family(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    let (family, t0) = login(store, &alice, NOW).await;
    let (_, other) = login(store, &alice, NOW).await;
    assert_eq!(
        store
            .logout(&t0, alice.id, &family_id(), NOW + 1)
            .await
            .expect("logout"),
        LogoutOutcome::Revoked {
            family_id: family.clone(),
            adopted: false
        }
    );
    assert_eq!(
        store
            .logout(&t0, alice.id, &family_id(), NOW + 2)
            .await
            .expect("logout"),
        LogoutOutcome::AlreadyRevoked
    );
    assert!(matches!(
        refresh(store, &rotate(&alice, &t0, NOW + 3)).await,
        RefreshOutcome::Revoked
    ));
    // The other session lives on.
    assert_eq!(
        store.refresh_status(&other.jti).await.expect("status"),
        RefreshStatus::Live
    );

    // An unknown (e.g. simplejwt-issued) token is recorded as a revoked family.
    let foreign = issued(NOW);
    let adopt = family_id();
    assert_eq!(
        store
            .logout(&foreign, alice.id, &adopt, NOW + 4)
            .await
            .expect("logout"),
        LogoutOutcome::Revoked {
            family_id: adopt.clone(),
            adopted: true
        }
    );
    assert_eq!(
        store.refresh_status(&foreign.jti).await.expect("status"),
        RefreshStatus::Revoked
    );
    assert!(matches!(
        refresh(store, &rotate(&alice, &foreign, NOW + 5)).await,
        RefreshOutcome::Revoked
    ));

    // A token presented with the wrong user id is not someone else's to log out.
    let bob = user(store, "bob").await;
    assert_eq!(
        store
            .logout(&other, bob.id, &family_id(), NOW + 6)
            .await
            .expect("logout"),
        LogoutOutcome::AlreadyRevoked
    );
    assert_eq!(
        store.refresh_status(&other.jti).await.expect("status"),
        RefreshStatus::Live
    );

    // Before the user's revocation boundary; and for a deleted user.
    store
        .revoke_user_tokens(alice.id, NOW + 10, NOW + 9, "logout_all")
        .await
        .expect("revoke");
    assert_eq!(
        store
            .logout(&issued(NOW + 5), alice.id, &family_id(), NOW + 10)
            .await
            .expect("logout"),
        LogoutOutcome::AlreadyRevoked
    );
    store.delete_user(bob.id).await.expect("delete");
    assert_eq!(
        store
            .logout(&issued(NOW), bob.id, &family_id(), NOW)
            .await
            .expect("logout"),
        LogoutOutcome::UserMissing
    );
}

async fn refresh_racing_logout_all_leaves_nothing_live(db: &TestDb) {
    // Whichever commits first, no session of the user survives a concurrent logout-all.
    let alice = user(&db.store, "alice").await;
    let other = db.reopen().await;
    for round in 0..5 {
        let now = NOW + round * 10;
        let (_, t) = login(&db.store, &alice, now).await;
        let req = rotate(&alice, &t, now + 1);
        let next = req.next.clone().expect("next");
        let (r, n) = tokio::join!(
            db.store.refresh(&req),
            other.revoke_user_tokens(alice.id, now + 2, now + 1, "logout_all")
        );
        r.expect("refresh");
        n.expect("revoke");
        let status = db.store.refresh_status(&next.jti).await.expect("status");
        assert!(
            matches!(status, RefreshStatus::Revoked | RefreshStatus::Unknown),
            "round {round}: the rotated token is {status:?}"
        );
        assert_eq!(db.store.list_users(now).await.expect("list")[0].1.live, 0);
    }
    other.close().await;
}

async fn prune_deletes_only_expired_state(db: &TestDb) {
    let store = &db.store;
    let alice = user(store, "alice").await;
    // An old session, expired by NOW.
    let (old_family, old) = login(store, &alice, NOW - 2 * DAY).await;
    // A live session whose first generation expired, but whose current one has not.
    let (live_family, t0) = login(store, &alice, NOW - DAY + 10).await;
    let req = rotate(&alice, &t0, NOW - 100);
    let t1 = req.next.clone().expect("next");
    refresh(store, &req).await;

    let report = store.prune(NOW + 20).await.expect("prune");
    assert_eq!((report.families, report.tokens), (1, 1));
    assert_eq!(
        store.family_generation(&old_family).await.expect("gen"),
        None
    );
    assert_eq!(
        store.refresh_status(&old.jti).await.expect("status"),
        RefreshStatus::Unknown
    );
    assert_eq!(
        store.family_generation(&live_family).await.expect("gen"),
        Some(1)
    );
    assert_eq!(
        store.refresh_status(&t1.jti).await.expect("status"),
        RefreshStatus::Live
    );
    assert_eq!(
        store.prune(NOW + 20).await.expect("prune again").families,
        0
    );
}

async fn ping_answers(db: &TestDb) {
    db.store.ping().await.expect("ping");
}

// --- failed-login counters (login_throttle.rs) ----------------------------------------------------

const LIMIT: LoginLimit = LoginLimit {
    max_failures: 3,
    window_secs: 900,
    lockout_secs: 60,
    lockout_max_secs: 600,
};

fn login_key(scope: LoginScope, subject: &str) -> LoginKey {
    LoginKey {
        scope,
        subject: subject.to_owned(),
    }
}

async fn charge(store: &Store, keys: &[&LoginKey], now: i64) -> LoginCharge {
    let charges: Vec<(LoginKey, LoginLimit)> = keys.iter().map(|k| ((*k).clone(), LIMIT)).collect();
    store
        .charge_login_attempt(&charges, now)
        .await
        .expect("charge")
}

async fn blocked_until(store: &Store, key: &LoginKey) -> i64 {
    store
        .login_blocked_until(std::slice::from_ref(key))
        .await
        .expect("read")
}

async fn login_failures_lock_at_the_limit_and_double(db: &TestDb) {
    let store = &db.store;
    let alice = login_key(LoginScope::Username, "alice");
    for i in 0..2 {
        assert_eq!(
            charge(store, &[&alice], NOW + i).await,
            LoginCharge::Counted
        );
        assert_eq!(blocked_until(store, &alice).await, 0);
    }
    // The third attempt is counted and starts the lockout.
    assert_eq!(
        charge(store, &[&alice], NOW + 2).await,
        LoginCharge::Counted
    );
    assert_eq!(blocked_until(store, &alice).await, NOW + 62);
    assert_eq!(
        charge(store, &[&alice], NOW + 61).await,
        LoginCharge::Blocked { until: NOW + 62 }
    );
    // Refused attempts are not counted: the next open attempt is the fourth and doubles.
    assert_eq!(
        charge(store, &[&alice], NOW + 62).await,
        LoginCharge::Counted
    );
    assert_eq!(blocked_until(store, &alice).await, NOW + 62 + 120);
    // The same name in the other scope is another counter.
    let address = login_key(LoginScope::Address, "alice");
    assert_eq!(blocked_until(store, &address).await, 0);
    // A success resets the username.
    store
        .login_succeeded(std::slice::from_ref(&alice), &[])
        .await
        .expect("reset");
    assert_eq!(blocked_until(store, &alice).await, 0);
    assert_eq!(
        charge(store, &[&alice], NOW + 63).await,
        LoginCharge::Counted
    );
    assert_eq!(blocked_until(store, &alice).await, 0);
}

async fn login_failures_are_forgotten_after_a_quiet_window(db: &TestDb) {
    let store = &db.store;
    let key = login_key(LoginScope::Address, "192.0.2.1");
    charge(store, &[&key], NOW).await;
    charge(store, &[&key], NOW + 100).await;
    // 900 s after the last failure the count starts over: two more attempts do not lock.
    charge(store, &[&key], NOW + 1000).await;
    charge(store, &[&key], NOW + 1001).await;
    assert_eq!(blocked_until(store, &key).await, 0);
    charge(store, &[&key], NOW + 1002).await;
    assert_eq!(blocked_until(store, &key).await, NOW + 1062);
}

async fn a_blocked_key_charges_nothing(db: &TestDb) {
    let store = &db.store;
    let user = login_key(LoginScope::Username, "bob");
    let address = login_key(LoginScope::Address, "192.0.2.9");
    for i in 0..3 {
        charge(store, &[&address], NOW + i).await;
    }
    assert_eq!(
        charge(store, &[&user, &address], NOW + 5).await,
        LoginCharge::Blocked { until: NOW + 62 }
    );
    // bob's charge was rolled back with the refusal: two more attempts still do not lock.
    charge(store, &[&user], NOW + 6).await;
    charge(store, &[&user], NOW + 7).await;
    assert_eq!(blocked_until(store, &user).await, 0);
}

async fn a_refund_lifts_the_lockout_it_brings_below_the_limit(db: &TestDb) {
    let store = &db.store;
    let key = login_key(LoginScope::Address, "192.0.2.7");
    for i in 0..3 {
        charge(store, &[&key], NOW + i).await;
    }
    assert_eq!(blocked_until(store, &key).await, NOW + 62);
    // The third attempt succeeded after all.
    store
        .login_succeeded(&[], &[(key.clone(), LIMIT)])
        .await
        .expect("refund");
    assert_eq!(blocked_until(store, &key).await, 0);
    // Back at two: the next failure locks again.
    charge(store, &[&key], NOW + 10).await;
    assert_eq!(blocked_until(store, &key).await, NOW + 70);
}

async fn concurrent_login_attempts_are_counted_exactly(db: &TestDb) {
    // 20 attempts at once on two "instances": exactly the limit gets through, however they
    // interleave (the lockout is set inside the same transaction as the count).
    let handles = two_warm_handles(db, 10).await;
    let key = login_key(LoginScope::Username, "carol");
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (handles, key, barrier) = (Arc::clone(&handles), key.clone(), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            handles[i % 2]
                .charge_login_attempt(&[(key, LIMIT)], NOW)
                .await
                .expect("charge")
        }));
    }
    let mut counted = 0;
    for task in tasks {
        if task.await.expect("task") == LoginCharge::Counted {
            counted += 1;
        }
    }
    assert_eq!(counted, 3);
    handles[1].close().await;
}

async fn prune_deletes_only_quiet_unblocked_counters(db: &TestDb) {
    let store = &db.store;
    let quiet = login_key(LoginScope::Username, "quiet");
    let recent = login_key(LoginScope::Username, "recent");
    let locked = login_key(LoginScope::Username, "locked");
    charge(store, &[&quiet], NOW - 1000).await;
    charge(store, &[&recent], NOW - 10).await;
    for _ in 0..3 {
        charge(store, &[&locked], NOW - 1000).await;
    }
    // Make `locked` hold a long lockout: more failures after each expiry.
    for t in [NOW - 940, NOW - 820] {
        charge(store, &[&locked], t).await;
    }
    assert_eq!(blocked_until(store, &locked).await, NOW - 820 + 240);
    let deleted = store
        .prune_login_failures(NOW - 900, NOW - 600)
        .await
        .expect("prune");
    // `quiet` is gone; `recent` and `locked` failed inside the window.
    assert_eq!(deleted, 1);
    // `locked` has been quiet for a window by NOW - 700, but its lockout still holds.
    assert_eq!(
        store
            .prune_login_failures(NOW - 700, NOW - 700)
            .await
            .expect("prune"),
        0
    );
    assert_eq!(blocked_until(store, &locked).await, NOW - 820 + 240);
    assert_eq!(
        store.prune_login_failures(NOW, NOW).await.expect("prune"),
        2
    );
}

// --- many writers at once (SQLite: one writer thread, group commit) ------------------------------

/// Runs `calls` at once (all released together by a barrier), each on its own task.
async fn all_at_once<T, F, Fut>(calls: Vec<F>) -> Vec<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(calls.len()));
    let mut tasks = Vec::new();
    for call in calls {
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            call().await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    results
}

async fn concurrent_writes_are_all_durable(db: &TestDb) {
    // 200 logins and then 200 rotations of distinct tokens at once: every one succeeds and is
    // still there for a fresh handle opened after this one is closed (nothing lost in batching).
    let alice = user(&db.store, "alice").await;
    let sessions: Vec<(String, IssuedRefresh)> =
        (0..200).map(|_| (family_id(), issued(NOW))).collect();
    let calls = sessions
        .iter()
        .cloned()
        .map(|(family, first)| {
            let store = db.store.clone();
            move || async move {
                store
                    .start_session(alice.id, &family, &first, NOW, true)
                    .await
            }
        })
        .collect();
    for result in all_at_once(calls).await {
        result.expect("start session");
    }
    let rotations: Vec<RefreshRequest> = sessions
        .iter()
        .map(|(_, first)| rotate(&alice, first, NOW + 1))
        .collect();
    let calls = rotations
        .iter()
        .cloned()
        .map(|req| {
            let store = db.store.clone();
            move || async move { store.refresh(&req).await }
        })
        .collect();
    for outcome in all_at_once(calls).await {
        let outcome = outcome.expect("refresh");
        assert!(
            matches!(outcome, RefreshOutcome::Rotated { .. }),
            "{outcome:?}"
        );
    }
    db.store.close().await;
    let fresh = db.reopen().await;
    for ((family, first), req) in sessions.iter().zip(&rotations) {
        assert_eq!(fresh.family_generation(family).await.expect("gen"), Some(1));
        assert_eq!(
            fresh.refresh_status(&first.jti).await.expect("status"),
            RefreshStatus::Spent
        );
        let next = req.next.as_ref().expect("next");
        assert_eq!(
            fresh.refresh_status(&next.jti).await.expect("status"),
            RefreshStatus::Live
        );
        assert_eq!(
            fresh.family_of(&next.jti).await.expect("family"),
            Some(family.clone())
        );
    }
    let listed = fresh.list_users(NOW + 2).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1.live, 200);
    assert_eq!(listed[0].0.last_login, Some(NOW));
    fresh.close().await;
}

async fn a_failing_write_fails_alone(db: &TestDb) {
    // Concurrent writes, a few of which fail (a taken username, a session of a deleted user):
    // exactly those fail; every other one succeeds and stays.
    let store = &db.store;
    user(store, "taken").await;
    let ghost = user(store, "ghost").await;
    assert!(store.delete_user(ghost.id).await.expect("delete"));
    let names: Vec<String> = (0..60)
        .map(|i| {
            if i % 20 == 7 {
                "taken".to_owned()
            } else {
                format!("user{i}")
            }
        })
        .collect();
    let calls = names
        .iter()
        .cloned()
        .map(|name| {
            let store = store.clone();
            move || async move {
                let new = NewUser {
                    username: name,
                    email: String::new(),
                    password_hash: "!".to_owned(),
                    is_staff: false,
                    is_superuser: false,
                };
                store.create_user(&new, NOW).await
            }
        })
        .collect();
    let results = all_at_once(calls).await;
    for (name, result) in names.iter().zip(&results) {
        if name == "taken" {
            assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        } else {
            let created = result.as_ref().expect("a distinct username is created");
            assert_eq!(
                store
                    .user_by_username(name)
                    .await
                    .expect("by name")
                    .as_ref(),
                Some(created)
            );
        }
    }
    assert_eq!(
        store.list_users(NOW).await.expect("list").len(),
        1 + names.iter().filter(|n| *n != "taken").count()
    );

    // Sessions: the ones of the deleted user break a foreign key; the others are recorded.
    let alice = user(store, "alice").await;
    let sessions: Vec<(i64, String, IssuedRefresh)> = (0..40)
        .map(|i| {
            let owner = if i % 10 == 3 { ghost.id } else { alice.id };
            (owner, family_id(), issued(NOW))
        })
        .collect();
    let calls = sessions
        .iter()
        .cloned()
        .map(|(owner, family, first)| {
            let store = store.clone();
            move || async move {
                store
                    .start_session(owner, &family, &first, NOW, false)
                    .await
            }
        })
        .collect();
    let results = all_at_once(calls).await;
    for ((owner, family, first), result) in sessions.iter().zip(&results) {
        if *owner == ghost.id {
            assert!(result.is_err(), "a session of a deleted user is refused");
            assert_eq!(store.family_generation(family).await.expect("gen"), None);
        } else {
            result
                .as_ref()
                .expect("a session of a live user is recorded");
            assert_eq!(store.family_generation(family).await.expect("gen"), Some(0));
            assert_eq!(
                store.refresh_status(&first.jti).await.expect("status"),
                RefreshStatus::Live
            );
        }
    }
}

async fn a_write_is_visible_to_reads_once_it_returns(db: &TestDb) {
    // Reads use other connections than the writer's (and here, another handle too): what a
    // resolved write changed is there for the very next read.
    let other = db.reopen().await;
    let alice = user(&db.store, "alice").await;
    for i in 0..30 {
        let name = format!("bob{i}");
        let bob = user(&db.store, &name).await;
        assert_eq!(
            db.store.user_by_username(&name).await.expect("read"),
            Some(bob.clone())
        );
        assert_eq!(other.user_by_id(bob.id).await.expect("read"), Some(bob));

        let (family, t0) = login(&db.store, &alice, NOW).await;
        assert_eq!(
            other.refresh_status(&t0.jti).await.expect("status"),
            RefreshStatus::Live
        );
        let req = rotate(&alice, &t0, NOW + 1);
        assert!(matches!(
            refresh(&db.store, &req).await,
            RefreshOutcome::Rotated { .. }
        ));
        assert_eq!(
            db.store.refresh_status(&t0.jti).await.expect("status"),
            RefreshStatus::Spent
        );
        assert_eq!(
            other.family_generation(&family).await.expect("gen"),
            Some(1)
        );
        assert_eq!(
            db.store
                .logout(&req.next.expect("next"), alice.id, &family_id(), NOW + 2)
                .await
                .expect("logout"),
            LogoutOutcome::Revoked {
                family_id: family,
                adopted: false
            }
        );
        assert_eq!(
            other.refresh_status(&t0.jti).await.expect("status"),
            RefreshStatus::Revoked
        );
    }
    other.close().await;
}

async fn concurrent_refreshes_on_one_handle_rotate_once(db: &TestDb) {
    // The same token refreshed 30 times at once through one handle (on SQLite, likely within
    // one batch of the writer thread): exactly one rotation, the others get its token.
    let alice = user(&db.store, "alice").await;
    let (family, t0) = login(&db.store, &alice, NOW).await;
    let calls: Vec<_> = (0..30).map(|_| rotate(&alice, &t0, NOW + 1)).collect();
    let nexts: Vec<_> = calls
        .iter()
        .map(|c| c.next.clone().expect("next"))
        .collect();
    let calls = calls
        .into_iter()
        .map(|req| {
            let store = db.store.clone();
            move || async move { store.refresh(&req).await.expect("refresh") }
        })
        .collect();
    let outcomes = all_at_once(calls).await;
    exactly_one_rotation(nexts, outcomes);
    assert_eq!(
        db.store.family_generation(&family).await.expect("gen"),
        Some(1)
    );
}

async fn a_closed_store_answers_errors(db: &TestDb) {
    // After close, calls on any clone fail promptly instead of hanging or succeeding.
    let alice = user(&db.store, "alice").await;
    let other = db.reopen().await;
    let clone = other.clone();
    other.close().await;
    assert!(clone.user_by_id(alice.id).await.is_err());
    assert!(clone.ping().await.is_err());
    assert!(
        clone
            .start_session(alice.id, &family_id(), &issued(NOW), NOW, false)
            .await
            .is_err()
    );
    // The database itself is untouched: the first handle still works.
    assert!(db.store.user_by_id(alice.id).await.expect("read").is_some());
}

/// One `#[tokio::test]` per case and backend: `on_sqlite::case` and `on_postgres::case`.
macro_rules! store_suite {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = super::sqlite_db().await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }

        #[cfg(feature = "postgres")]
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(db) = super::postgres_db().await else { return };
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

store_suite!(
    migrations_are_idempotent,
    concurrent_migrations_do_not_race,
    users_are_created_found_and_unique,
    user_ids_are_never_reused,
    list_users_counts_live_sessions,
    login_records_last_login_when_asked,
    rotation_spends_the_token_and_advances_the_family,
    reuse_within_grace_returns_the_current_token,
    reuse_after_grace_revokes_the_family,
    grace_covers_only_the_previous_generation,
    concurrent_refreshes_rotate_exactly_once,
    concurrent_refreshes_without_grace_revoke,
    non_rotating_refresh_keeps_the_token,
    unknown_valid_token_is_adopted,
    concurrent_adoption_makes_one_family,
    refresh_rereads_the_user,
    deactivation_revokes_sessions,
    logout_all_revokes_every_session,
    password_change_revokes_and_rehash_does_not,
    logout_revokes_one_family,
    refresh_racing_logout_all_leaves_nothing_live,
    prune_deletes_only_expired_state,
    ping_answers,
    login_failures_lock_at_the_limit_and_double,
    login_failures_are_forgotten_after_a_quiet_window,
    a_blocked_key_charges_nothing,
    a_refund_lifts_the_lockout_it_brings_below_the_limit,
    concurrent_login_attempts_are_counted_exactly,
    prune_deletes_only_quiet_unblocked_counters,
    concurrent_writes_are_all_durable,
    a_failing_write_fails_alone,
    a_write_is_visible_to_reads_once_it_returns,
    concurrent_refreshes_on_one_handle_rotate_once,
    a_closed_store_answers_errors,
);

/// SQLite only: `close` waits for the writer thread to end and closes every connection, so the
/// last one to close checkpoints the WAL into the database file and removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_close_closes_every_connection() {
    let db = sqlite_db().await;
    let alice = user(&db.store, "alice").await;
    login(&db.store, &alice, NOW).await;
    assert!(db.store.user_by_id(alice.id).await.expect("read").is_some());
    let path = db.url.strip_prefix("sqlite://").expect("a SQLite URL");
    let wal = std::path::PathBuf::from(format!("{path}-wal"));
    assert!(wal.exists(), "WAL mode: commits go to {}", wal.display());
    db.store.close().await;
    assert!(
        !wal.exists(),
        "a connection is still open after close: {}",
        wal.display()
    );
    db.finish().await;
}

/// SQLite only: the URL forms `Store::connect` accepts, and what each one opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_url_forms() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("forms.db");

    // `?mode=rw` opens an existing file only.
    let missing = Store::connect(&format!("sqlite://{}?mode=rw", path.display())).await;
    assert!(missing.is_err(), "mode=rw created {}", path.display());
    assert!(!path.exists());

    // `sqlite:PATH` (no `//`) with the default mode creates the file.
    let store = Store::connect(&format!("sqlite:{}?mode=rwc", path.display()))
        .await
        .expect("create");
    store.migrate().await.expect("migrate");
    let alice = user(&store, "alice").await;
    store.close().await;

    // `?mode=ro`: reads work, writes fail and change nothing.
    let ro = Store::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .expect("open read-only");
    assert_eq!(
        ro.user_by_id(alice.id).await.expect("read"),
        Some(alice.clone())
    );
    assert!(ro.delete_user(alice.id).await.is_err());
    assert!(ro.user_by_id(alice.id).await.expect("read").is_some());
    ro.close().await;

    // An unknown option is refused rather than ignored.
    assert!(matches!(
        Store::connect(&format!("sqlite://{}?journal=off", path.display())).await,
        Err(StoreError::Url(_))
    ));

    // In memory: one private database per store, reads and writes alike.
    for url in ["sqlite::memory:", "sqlite://tessera?mode=memory"] {
        let mem = Store::connect(url).await.expect("open in memory");
        assert_eq!(mem.migrate().await.expect("migrate"), 2, "{url}");
        let bob = user(&mem, "bob").await;
        let (family, t0) = login(&mem, &bob, NOW).await;
        assert!(matches!(
            refresh(&mem, &rotate(&bob, &t0, NOW + 1)).await,
            RefreshOutcome::Rotated { .. }
        ));
        assert_eq!(mem.family_generation(&family).await.expect("gen"), Some(1));
        assert_eq!(mem.list_users(NOW).await.expect("list").len(), 1);
        mem.close().await;
    }
}

/// SQLite only: the database file and its WAL companions hold password hashes: owner-only.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("owner.db");
    let store = Store::open_sqlite_file(&path).await.expect("open");
    store.migrate().await.expect("migrate");
    let alice = user(&store, "alice").await;
    assert!(store.user_by_id(alice.id).await.expect("read").is_some());
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        let mode = std::fs::metadata(&file)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    store.close().await;
}

/// Concurrent refreshes of one token: exactly one rotates (its `next` becomes the family's
/// token) and every other gets that winner's token through the grace answer.
fn exactly_one_rotation(nexts: Vec<IssuedRefresh>, outcomes: Vec<RefreshOutcome>) {
    let mut winners = Vec::new();
    let mut currents = Vec::new();
    for (next, outcome) in nexts.into_iter().zip(outcomes) {
        match outcome {
            RefreshOutcome::Rotated { .. } => winners.push(next),
            RefreshOutcome::Grace { current, .. } => currents.push(current),
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one refresh rotates");
    assert!(
        currents.iter().all(|c| *c == winners[0]),
        "the others get the winner's token"
    );
}
