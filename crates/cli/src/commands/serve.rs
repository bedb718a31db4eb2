//! `tessera serve`: run the token service.
//!
//! With no configuration at all it listens on 127.0.0.1:8000, keeps its SQLite file and a
//! generated HS256 secret (mode 0600) in ./tessera-data, and reuses both on the next start.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;
use tessera_server::config::ENV_LOG;
use tessera_server::startup::Application;

use super::config::{ConfigArgs, runtime};

/// Run the token service (HTTP API).
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (setting `listen`; default 127.0.0.1:8000).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    source: ConfigArgs,
}

/// Runs `tessera serve` until SIGINT/SIGTERM, then shuts down gracefully and exits 0.
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut overrides = Vec::new();
    if let Some(listen) = args.listen {
        overrides.push(("listen".to_owned(), listen.to_string()));
    }
    let settings = args.source.load(overrides)?;
    let filter = std::env::var(ENV_LOG).unwrap_or_else(|_| "info".to_owned());
    tessera_server::telemetry::init_with_format(&filter, settings.log_format);
    runtime()?.block_on(async {
        let app = Application::build(settings).await?;
        // One line on stdout so scripts can wait for it; the rest goes to the log (stderr).
        let scheme = if app.is_tls() { "https" } else { "http" };
        println!("tessera listening on {scheme}://{}", app.address());
        if let Some(metrics) = app.metrics_address() {
            println!("tessera metrics on http://{metrics}/metrics");
        }
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}
