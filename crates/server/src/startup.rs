//! Building and running the service. Build and run are separate (zero-to-production):
//! [`Application::build`] opens the store, loads keys and binds the listener (port 0 in tests),
//! [`Application::port`] tells which port, [`Application::run_until_stopped`] serves and shuts
//! down gracefully (`shutdown.rs`).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Settings;
use crate::error::{ApiError, json_response};
use crate::keys::{KeyError, Keys};
use crate::listener::Incoming;
use crate::metrics::MetricsServer;
use crate::observe::Observe;
use crate::password::{PasswordError, Passwords};
use crate::routes::{self, GET_ALLOW, TOKEN_ALLOW};
use crate::shutdown::{self, Draining, Signals};
use crate::state::{AppState, Services};
use crate::store::{Store, StoreError};
use crate::tokens::Tokens;
use crate::users::UserAdmin;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// Data directory or listener.
    #[error("{0}")]
    Io(String),
    /// Database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Keys.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// Password parameters.
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// Creates the data directory (mode 0700) when the defaults need it: the SQLite file or a
/// generated signing key lives there.
pub fn prepare_data_dir(settings: &Settings) -> Result<(), StartupError> {
    let needed = settings.database_url.is_none()
        || (settings.signing_key.is_none() && settings.signing_key_file.is_none());
    if !needed || settings.data_dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&settings.data_dir).map_err(|e| {
        StartupError::Io(format!(
            "creating data directory {}: {e}",
            settings.data_dir.display()
        ))
    })
}

/// Opens the store named by the settings (creating the data directory and SQLite file if
/// needed) without touching the schema.
pub async fn connect_store(settings: &Settings) -> Result<Store, StartupError> {
    prepare_data_dir(settings)?;
    Ok(match &settings.database_url {
        Some(url) => Store::connect(url).await?,
        None => Store::open_sqlite_file(&settings.default_database_path()).await?,
    })
}

/// Opens the store named by the settings and applies pending migrations.
pub async fn open_store(settings: &Settings) -> Result<Store, StartupError> {
    let store = connect_store(settings).await?;
    store.migrate().await?;
    Ok(store)
}

/// Everything the CLI's `user` commands need, from the same settings the server uses.
pub async fn open_user_admin(settings: &Settings) -> Result<UserAdmin, StartupError> {
    let store = open_store(settings).await?;
    let passwords = Passwords::from_settings(settings)?;
    Ok(UserAdmin::new(
        store,
        passwords,
        Clock::system(),
        settings.trim_credentials,
    ))
}

/// A built, bound, not yet serving application.
pub struct Application {
    listener: Incoming,
    address: SocketAddr,
    metrics: Option<(MetricsServer, SocketAddr)>,
    state: AppState,
}

impl Application {
    /// Builds with the system clock.
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// Builds with the given clock (tests pass a manual one).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Clock,
    ) -> Result<Application, StartupError> {
        let store = open_store(&settings).await?;
        let keys = Keys::load(&settings)?;
        let passwords = Passwords::from_settings(&settings)?;
        let tokens = Tokens::new(&settings, keys);
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartupError::Io(format!("binding {}: {e}", settings.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|e| StartupError::Io(e.to_string()))?;
        let listener = Incoming::from_settings(listener, &settings)?;
        let metrics = match settings.metrics_listen {
            Some(at) => {
                let server = MetricsServer::bind(at).await?;
                let bound = server
                    .address()
                    .map_err(|e| StartupError::Io(e.to_string()))?;
                Some((server, bound))
            }
            None => None,
        };
        let state = AppState::new(Services {
            settings: Arc::new(settings),
            store,
            tokens: Arc::new(tokens),
            passwords,
            clock,
            draining: Draining::default(),
        });
        Ok(Application {
            listener,
            address,
            metrics,
            state,
        })
    }

    /// The bound port (the real one when `listen` asked for port 0).
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The bound metrics address, when `metrics_listen` is set.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, at)| *at)
    }

    /// Whether the listener serves HTTPS (`tls_cert_file`/`tls_key_file`).
    pub fn is_tls(&self) -> bool {
        self.listener.is_tls()
    }

    /// The shared state (store, tokens, clock).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully (see `shutdown.rs`); tells
    /// systemd `READY=1` once the signal handlers are in place.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let mut signals = Signals::install()?;
        let draining = self.state.draining.clone();
        let delay = self.state.settings.shutdown_delay;
        let stop = async move {
            let signal = signals.recv().await;
            tracing::info!(signal, "shutdown requested");
            let again = async move {
                signals.recv().await;
            };
            shutdown::drain(draining, delay, std::future::ready(()), again).await;
        };
        shutdown::notify_ready();
        self.serve(stop).await
    }

    /// Serves until `shutdown` completes, then shuts down as on a signal (readiness fails,
    /// `shutdown_delay`, in-flight requests finish within `shutdown_timeout`).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let draining = self.state.draining.clone();
        let delay = self.state.settings.shutdown_delay;
        self.serve(shutdown::drain(
            draining,
            delay,
            shutdown,
            std::future::pending(),
        ))
        .await
    }

    async fn serve(self, stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Application {
            listener,
            address,
            metrics,
            state,
        } = self;
        let pruner = tokio::spawn(prune_loop(state.clone()));
        let metrics = metrics.map(|(server, _)| server.spawn());
        tracing::info!(%address, tls = listener.is_tls(), "listening");
        let timeout = state.settings.shutdown_timeout;
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = async move {
            stop.await;
            let _ = stopped_tx.send(());
        };
        // The peer address reaches handlers as `ConnectInfo<SocketAddr>` (TLS or not).
        let app = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            SocketAddr,
        >(router(state.clone()));
        // `tap_io` does nothing to the connections; it is there because axum implements
        // `Connected<…> for SocketAddr` for its `TapIo` wrapper (any listener whose address is a
        // SocketAddr), not for our TLS-or-TCP listener itself.
        let serving = axum::serve(listener.tap_io(|_| {}), app)
            .with_graceful_shutdown(stop)
            .into_future();
        let deadline = async move {
            match stopped_rx.await {
                Ok(()) => tokio::time::sleep(timeout).await,
                Err(_) => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            result = serving => result,
            () = deadline => {
                tracing::warn!(
                    timeout = %humantime::format_duration(timeout),
                    "requests still in flight after shutdown_timeout: closing them"
                );
                Ok(())
            }
        };
        pruner.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        // A connection cut off above may still hold a database connection: do not wait forever.
        if tokio::time::timeout(std::time::Duration::from_secs(5), state.store.close())
            .await
            .is_err()
        {
            tracing::warn!("database connections did not close in time");
        }
        tracing::info!("stopped");
        result
    }
}

/// Deletes expired families at start and then every `prune_interval`.
async fn prune_loop(state: AppState) {
    let mut tick = tokio::time::interval(state.settings.prune_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.store.prune(state.clock.now()).await {
            Ok(r) if r.families + r.tokens > 0 => {
                tracing::info!(
                    families = r.families,
                    tokens = r.tokens,
                    "pruned expired sessions"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning failed"),
        }
        if let Err(e) = crate::login_throttle::prune(&state).await {
            tracing::warn!(error = %e, "pruning login failure counters failed");
        }
    }
}

/// The routes (every path of [`routes::PATHS`]), inside the per-request observation.
pub fn router(state: AppState) -> Observe<Router> {
    let token_view = |handler: MethodRouter<AppState>| with_allow(handler, TOKEN_ALLOW);
    let get_view = |handler: MethodRouter<AppState>| with_allow(handler, GET_ALLOW);
    // `true`: also served without the trailing slash (clients hard-code both; Django would
    // answer the slashless POST with a 301 that clients re-send as GET).
    let table = [
        (
            "/api/token/",
            true,
            token_view(post(routes::token::obtain).options(routes::token::options)),
        ),
        (
            "/api/token/refresh/",
            true,
            token_view(post(routes::refresh::refresh).options(routes::refresh::options)),
        ),
        (
            "/api/token/verify/",
            true,
            token_view(post(routes::verify::verify).options(routes::verify::options)),
        ),
        (
            "/api/token/blacklist/",
            true,
            token_view(post(routes::blacklist::blacklist).options(routes::blacklist::options)),
        ),
        (
            "/api/token/logout-all/",
            true,
            token_view(post(routes::logout_all::logout_all).options(routes::logout_all::options)),
        ),
        (
            "/api/me/",
            true,
            get_view(get(routes::me::me).options(options_get)),
        ),
        (
            "/.well-known/jwks.json",
            false,
            get_view(get(routes::jwks::jwks).options(options_get)),
        ),
        ("/healthz", false, get_view(get(routes::health::healthz))),
        ("/readyz", false, get_view(get(routes::health::readyz))),
    ];
    let mut app = Router::new();
    let mut served = Vec::with_capacity(routes::PATHS.len());
    for (path, slashless, method_router) in table {
        if slashless {
            let trimmed = path.trim_end_matches('/');
            app = app.route(trimmed, method_router.clone());
            served.push(trimmed);
        }
        app = app.route(path, method_router);
        served.push(path);
    }
    // `observe` names a request's route from `routes::PATHS`, before routing.
    debug_assert!(
        served.len() == routes::PATHS.len() && served.iter().all(|p| routes::PATHS.contains(p)),
        "routes::PATHS must list exactly the routed paths: {served:?}"
    );
    let challenge = crate::observe::Challenge::new(
        state
            .settings
            .auth_header_types
            .first()
            .map_or("Bearer", String::as_str),
    );
    Observe::new(
        app.fallback(|| async { ApiError::NotFound })
            .with_state(state),
        challenge,
    )
}

/// Adds the DRF-style 405 JSON answer for the methods a route does not take (`Allow` itself is
/// set on every response of the route by `observe.rs`).
fn with_allow(
    method_router: MethodRouter<AppState>,
    allow: &'static str,
) -> MethodRouter<AppState> {
    method_router
        .fallback(move |method: Method| async move { ApiError::MethodNotAllowed(method, allow) })
}

async fn options_get() -> Response {
    json_response(StatusCode::OK, &serde_json::json!({}))
}
