//! The one place the CLI reads the system clock (STYLE.md: "time is a parameter").
//!
//! Everything else receives `now` as Unix seconds, so formatting and validation are pure
//! functions that unit tests can drive with any instant.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time in whole seconds since the Unix epoch (RFC 7519 §2 "NumericDate").
pub(crate) fn now() -> u64 {
    // A clock set before 1970 is a broken machine; treat it as the epoch rather than panicking.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
