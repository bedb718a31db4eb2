-- Failed-login counters for brute-force protection (docs/security.md, "Brute-force protection").
-- One row per throttled subject: `scope` is 'username' or 'address', `subject` the username as
-- submitted (known or not, so the table reveals nothing about which users exist) or the client
-- address (an IPv4 address, or an IPv6 /64). Kept in the database, not in memory, so that every
-- instance sharing it counts the same failures. Rows are deleted by the pruning task once their
-- window has passed and they block nothing.
CREATE TABLE login_failures (
    scope           TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    -- Attempts charged in the current window (charged before the password is checked, so that
    -- concurrent guesses cannot all slip in; a success refunds or resets).
    failures        INTEGER NOT NULL,
    -- Unix seconds of the latest charged attempt; the count restarts after a quiet window.
    last_failure_at INTEGER NOT NULL,
    -- Unix seconds; attempts before this instant are refused without checking the password.
    blocked_until   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX login_failures_last_failure_at ON login_failures(last_failure_at);
