//! `tessera config check` and the configuration flags shared by `serve`, `migrate`, `user` and
//! `config`: all of them read the same layers (defaults → `--config`/`TESSERA_CONFIG` →
//! `TESSERA_*` → flags), so a user created from the CLI lands in the database the server uses.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use tessera_server::config::{Settings, Sources};
use tessera_server::keys::Keys;

use crate::output::print_line;

/// Where the configuration comes from.
#[derive(Args, Clone, Default)]
pub(crate) struct ConfigArgs {
    /// TOML configuration file (default: $TESSERA_CONFIG, else none).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Data directory for the SQLite file and generated keys (setting `data_dir`).
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL, e.g. sqlite://./tessera-data/tessera.db (setting `database_url`).
    #[arg(long, value_name = "URL", global = true)]
    database_url: Option<String>,
}

impl ConfigArgs {
    /// Loads the effective settings; `extra` are further flag overrides (setting, value).
    pub(crate) fn load(&self, mut extra: Vec<(String, String)>) -> anyhow::Result<Settings> {
        if let Some(dir) = &self.data_dir {
            extra.push(("data_dir".into(), dir.display().to_string()));
        }
        if let Some(url) = &self.database_url {
            extra.push(("database_url".into(), url.clone()));
        }
        Settings::load(&Sources::from_process(self.config.clone(), extra))
            .context("loading the configuration")
    }
}

/// Inspect the configuration.
#[derive(Args)]
pub(crate) struct ConfigCmd {
    #[command(subcommand)]
    command: ConfigCommand,
    #[command(flatten)]
    source: ConfigArgs,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective settings, secrets redacted.
    Check,
}

/// Runs `tessera config …`.
pub(crate) fn run(args: ConfigCmd) -> anyhow::Result<ExitCode> {
    match args.command {
        ConfigCommand::Check => {
            let settings = args.source.load(Vec::new())?;
            print_line(settings.redacted().trim_end())?;
            // A configured key is loaded now, so a bad PEM or a short secret shows here rather
            // than at the next start. (A generated key is not created by a check.)
            if settings.signing_key.is_some() || settings.signing_key_file.is_some() {
                let keys = Keys::load(&settings).context("loading the signing key")?;
                let kid = keys
                    .signing()
                    .kid()
                    .map_or(String::new(), |k| format!(", kid {k}"));
                eprintln!("signing key OK ({}{kid})", settings.algorithm);
            }
            eprintln!("configuration OK");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A multi-threaded tokio runtime for the commands that talk to the database or serve.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
