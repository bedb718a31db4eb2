//! Logging setup. Audit events use the tracing target `audit` (login, reuse detection, logout,
//! logout-all, user changes); secrets are never fields of any event.

use tracing_subscriber::EnvFilter;

/// Installs a human-readable subscriber writing to stderr, filtered by `filter`
/// (env-filter syntax, e.g. `info` or `tessera_server=debug,audit=info`).
/// Does nothing if a subscriber is already installed.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
