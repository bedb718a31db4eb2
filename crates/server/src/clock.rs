//! The only place the server reads the system clock (STYLE.md, "time is a parameter").
//!
//! Everything else asks a [`Clock`] for the time. Production uses [`Clock::system`]; tests use
//! [`Clock::manual`] and move time with [`Clock::advance`] instead of sleeping, so grace windows,
//! expiry and revocation instants can be crossed deterministically.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time, in Unix seconds (RFC 7519 §2 "NumericDate").
///
/// Cloning is cheap; clones of a manual clock share one instant.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
enum ClockInner {
    System,
    /// Milliseconds since the epoch; moves only through `advance` / `sleep_until`.
    Manual(AtomicU64),
}

impl Clock {
    /// The real wall clock.
    pub fn system() -> Clock {
        Clock {
            inner: Arc::new(ClockInner::System),
        }
    }

    /// A clock frozen at `start_secs` (Unix seconds) that moves only when told to.
    pub fn manual(start_secs: u64) -> Clock {
        Clock {
            inner: Arc::new(ClockInner::Manual(AtomicU64::new(
                start_secs.saturating_mul(1000),
            ))),
        }
    }

    /// A manual clock starting at the current wall-clock second.
    pub fn manual_at_system_time() -> Clock {
        Clock::manual(system_millis() / 1000)
    }

    /// The current time in milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> u64 {
        match &*self.inner {
            ClockInner::System => system_millis(),
            ClockInner::Manual(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// The current time in whole seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        // u64 milliseconds / 1000 always fits in i64.
        i64::try_from(self.now_millis() / 1000).unwrap_or(i64::MAX)
    }

    /// Moves a manual clock forward. On the system clock this does nothing: real time cannot be
    /// moved, and production code never calls it.
    pub fn advance(&self, by: Duration) {
        if let ClockInner::Manual(ms) = &*self.inner {
            let add = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
            ms.fetch_add(add, Ordering::SeqCst);
        }
    }

    /// Waits until the clock reads at least `secs` (Unix seconds).
    ///
    /// Used right after a revocation: tokens carry whole-second `iat`s, so a token minted in the
    /// revocation's second would be indistinguishable from one minted before it. The system clock
    /// sleeps (at most one second); a manual clock simply jumps forward.
    pub async fn sleep_until(&self, secs: i64) {
        let target_ms = u64::try_from(secs).unwrap_or(0).saturating_mul(1000);
        match &*self.inner {
            ClockInner::System => {
                let now = system_millis();
                if target_ms > now {
                    tokio::time::sleep(Duration::from_millis(target_ms - now)).await;
                }
            }
            ClockInner::Manual(ms) => {
                ms.fetch_max(target_ms, Ordering::SeqCst);
            }
        }
    }
}

fn system_millis() -> u64 {
    // A clock before 1970 is a broken machine; the epoch is the least surprising answer.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now(), 1_001);
        assert_eq!(clock.clone().now_millis(), 1_001_500);
    }

    #[tokio::test]
    async fn manual_sleep_until_jumps() {
        let clock = Clock::manual(50);
        clock.sleep_until(60).await;
        assert_eq!(clock.now(), 60);
        clock.sleep_until(10).await;
        assert_eq!(clock.now(), 60, "never moves backwards");
    }
}
