-- PostgreSQL twin of migrations/sqlite/0002_login_throttle.sql: failed-login counters for
-- brute-force protection, shared by every instance (docs/security.md, "Brute-force protection").
-- `scope` is 'username' or 'address'; `subject` the username as submitted (known or not) or the
-- client address (an IPv4 address, or an IPv6 /64).
CREATE TABLE login_failures (
    scope           TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    -- Attempts charged in the current window (charged before the password is checked; a success
    -- refunds or resets).
    failures        BIGINT  NOT NULL,
    -- Unix seconds of the latest charged attempt; the count restarts after a quiet window.
    last_failure_at BIGINT  NOT NULL,
    -- Unix seconds; attempts before this instant are refused without checking the password.
    blocked_until   BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX login_failures_last_failure_at ON login_failures(last_failure_at);
