//! Graceful shutdown, in three steps (issue 4, "Operating it"):
//!
//! 1. On the first SIGTERM or SIGINT, [`Draining`] turns on: `GET /readyz` answers 503
//!    `"draining"`, and systemd hears `STOPPING=1`. For `shutdown_delay` (default 0) the listener
//!    still accepts, so a load balancer polling `/readyz` moves traffic away before connections
//!    are refused; a second signal cuts the delay short.
//! 2. The listener closes; idle keep-alive connections are closed; in-flight requests finish.
//! 3. After `shutdown_timeout`, connections still busy are dropped and the process exits anyway
//!    (exit status 0: the stop was asked for).
//!
//! `READY=1` is sent once the listener is bound and the signal handlers are installed, so the
//! systemd unit can be `Type=notify`. Both notifications are no-ops without `NOTIFY_SOCKET`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Whether the service is shutting down; read by `/readyz`. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// True from the first shutdown signal on.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// SIGTERM and SIGINT, installed once so that a second signal is not missed between two waits.
pub(crate) struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (from now on the signals no longer kill the process).
    pub(crate) fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for the next SIGTERM or SIGINT and names it.
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        }
    }
}

/// Tells systemd (`Type=notify`) that the service is ready.
pub(crate) fn notify_ready() {
    notify(sd_notify::NotifyState::Ready);
}

fn notify(state: sd_notify::NotifyState<'_>) {
    if let Err(e) = sd_notify::notify(&[state]) {
        tracing::warn!(error = %e, "sd_notify failed");
    }
}

/// Step 1: resolves when the listener should stop accepting. `first` is the shutdown request;
/// `again` (polled only after it) a second request that ends `delay` early.
pub(crate) async fn drain(
    draining: Draining,
    delay: Duration,
    first: impl Future<Output = ()>,
    again: impl Future<Output = ()>,
) {
    first.await;
    draining.start();
    notify(sd_notify::NotifyState::Stopping);
    if delay.is_zero() {
        tracing::info!("shutting down: readiness fails, no new connections");
        return;
    }
    tracing::info!(
        delay = %humantime::format_duration(delay),
        "shutting down: readiness fails; still accepting during shutdown_delay"
    );
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = again => tracing::info!("second shutdown signal: ending shutdown_delay early"),
    }
    tracing::info!("no new connections; finishing in-flight requests");
}
