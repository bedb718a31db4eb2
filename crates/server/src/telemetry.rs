//! Logging setup. Audit events use the tracing target `audit` (login, reuse detection, logout,
//! logout-all, user changes), one line per request uses the target `access` (`observe.rs`);
//! secrets are never fields of any event.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs a human-readable subscriber writing to stderr, filtered by `filter`
/// (env-filter syntax, e.g. `info` or `tessera_server=debug,audit=info`).
/// Does nothing if a subscriber is already installed.
pub fn init(filter: &str) {
    init_with_format(filter, LogFormat::Pretty);
}

/// As [`init`], in the given format. `json` writes one object per line with the event's fields
/// at the top level and the fields of its spans, outermost first, under `spans` (the first is
/// `request`: request id, method, route);
/// `auto` is `pretty` when stderr is a terminal and `json` otherwise (journald, files).
pub fn init_with_format(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = std::io::stderr().is_terminal();
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Auto => !terminal,
        _ => false,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init()
    } else {
        // Colour only on a terminal: log files and journald get plain text.
        builder.with_ansi(terminal).try_init()
    };
}
