//! Logging setup. Audit events use the tracing target `audit` (login, reuse detection, logout,
//! logout-all, user changes); secrets are never fields of any event.

use tracing_subscriber::EnvFilter;

/// Installs a human-readable subscriber writing to stderr, filtered by `filter`
/// (env-filter syntax, e.g. `info` or `tessera_server=debug,audit=info`).
/// Does nothing if a subscriber is already installed.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
