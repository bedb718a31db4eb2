-- Users. AUTOINCREMENT: an id is never reused after a delete, so a deleted user's
-- still-unexpired tokens can never authenticate a later user who would get the same id.
CREATE TABLE users (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    username           TEXT    NOT NULL UNIQUE,
    email              TEXT    NOT NULL DEFAULT '',
    password           TEXT    NOT NULL,
    is_active          INTEGER NOT NULL DEFAULT 1,
    is_staff           INTEGER NOT NULL DEFAULT 0,
    is_superuser       INTEGER NOT NULL DEFAULT 0,
    date_joined        INTEGER NOT NULL,
    last_login         INTEGER,
    -- Unix seconds; tokens of this user with an earlier `iat` are refused (logout-all,
    -- password change, deactivation).
    tokens_valid_after INTEGER NOT NULL DEFAULT 0
);

-- One row per login session ("family"); ids and hashes only, never whole tokens (simplejwt #803).
CREATE TABLE refresh_families (
    id             TEXT    PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    generation     INTEGER NOT NULL,
    current_jti    TEXT    NOT NULL,
    current_iat    INTEGER NOT NULL,
    current_exp    INTEGER NOT NULL,
    rotated_at     INTEGER,
    revoked_at     INTEGER,
    revoked_reason TEXT,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX refresh_families_user_id ON refresh_families(user_id);
CREATE INDEX refresh_families_expires_at ON refresh_families(expires_at);

-- One row per refresh token issued, so a spent one is recognised when it comes back.
CREATE TABLE refresh_tokens (
    jti        TEXT    PRIMARY KEY,
    family_id  TEXT    NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens(expires_at);
