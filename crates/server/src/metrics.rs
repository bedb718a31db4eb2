//! Prometheus metrics, served on their own listener (`metrics_listen`, off by default) so they
//! are never exposed where the API is.
//!
//! Names (all counters end in `_total`):
//! * `tessera_http_requests_total{method,route,status}` and
//!   `tessera_http_request_duration_seconds{method,route,status}` (histogram); `route` is the
//!   matched route pattern, or `unmatched` — never the raw path, which a client controls;
//! * `tessera_logins_total{result="succeeded"|"failed"|"throttled"}`;
//! * `tessera_refreshes_total{outcome="rotated"|"accepted"|"grace_reissue"}`;
//! * `tessera_refresh_reuse_detected_total`;
//! * `tessera_revocations_total{reason="logout"|"logout_all"|"reuse_detected"}`;
//! * `tessera_password_hash_queue_depth` (gauge): password checks waiting for a hashing slot.
//!
//! The `metrics` calls are no-ops until a recorder is installed, which only happens when
//! `metrics_listen` is set.

#[cfg(feature = "metrics")]
use std::sync::OnceLock;

#[cfg(feature = "metrics")]
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::startup::StartupError;

/// Latency buckets in seconds: token verification is in the tens of microseconds, a login
/// (Argon2id) in the tens of milliseconds, a database outage answers after seconds.
#[cfg(feature = "metrics")]
const BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The process-wide recorder (the `metrics` facade has one global recorder; several
/// applications in one test process share it).
#[cfg(feature = "metrics")]
fn handle() -> Result<PrometheusHandle, StartupError> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .map_err(|e| StartupError::Io(format!("metrics: {e}")))?
        .build_recorder();
    let h = recorder.handle();
    RECORDING.store(true, std::sync::atomic::Ordering::Relaxed);
    // Losing the race to another thread means its recorder is the global one: use its handle.
    if metrics::set_global_recorder(recorder).is_err() {
        return HANDLE
            .get()
            .cloned()
            .ok_or_else(|| StartupError::Io("another metrics recorder is installed".into()));
    }
    Ok(HANDLE.get_or_init(|| h).clone())
}

/// Set once a recorder is installed: until then per-request labels are not even built.
static RECORDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether metrics are being recorded in this process (a `metrics_listen` was set).
pub(crate) fn recording() -> bool {
    RECORDING.load(std::sync::atomic::Ordering::Relaxed)
}

/// The bound metrics listener, serving `GET /metrics` once spawned.
pub(crate) struct MetricsServer {
    listener: TcpListener,
    #[cfg(feature = "metrics")]
    handle: PrometheusHandle,
}

impl MetricsServer {
    /// Installs the recorder and binds `address`.
    pub(crate) async fn bind(address: std::net::SocketAddr) -> Result<Self, StartupError> {
        #[cfg(not(feature = "metrics"))]
        {
            let _ = address;
            Err(StartupError::Io(
                "metrics_listen is set but this build has no `metrics` feature".into(),
            ))
        }
        #[cfg(feature = "metrics")]
        {
            let handle = handle()?;
            let listener = TcpListener::bind(address)
                .await
                .map_err(|e| StartupError::Io(format!("binding metrics {address}: {e}")))?;
            Ok(MetricsServer { listener, handle })
        }
    }

    /// The bound address.
    pub(crate) fn address(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the task is aborted (after the API listener has drained, so the drain
    /// itself can be watched).
    pub(crate) fn spawn(self) -> tokio::task::JoinHandle<()> {
        #[cfg(feature = "metrics")]
        {
            use axum::routing::get;
            let upkeep = self.handle.clone();
            let render = self.handle.clone();
            let app = axum::Router::new().route(
                "/metrics",
                get(move || {
                    let h = render.clone();
                    async move {
                        (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                "text/plain; version=0.0.4",
                            )],
                            h.render(),
                        )
                    }
                }),
            );
            tokio::spawn(async move {
                // Without the exporter's own listener, upkeep (draining histogram buffers) is ours.
                let upkeep = tokio::spawn(async move {
                    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                    loop {
                        tick.tick().await;
                        upkeep.run_upkeep();
                    }
                });
                if let Err(e) = axum::serve(self.listener, app).await {
                    tracing::error!(error = %e, "metrics listener failed");
                }
                upkeep.abort();
            })
        }
        #[cfg(not(feature = "metrics"))]
        tokio::spawn(async move { drop(self.listener) })
    }
}
