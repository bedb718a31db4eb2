//! `tessera migrate`: create or upgrade the database schema (`serve` also does it at start).

use std::process::ExitCode;

use clap::Args;
use tessera_server::startup::connect_store;

use super::config::{ConfigArgs, runtime};
use crate::output::print_line;

/// Apply pending database migrations.
#[derive(Args)]
pub(crate) struct MigrateArgs {
    #[command(flatten)]
    source: ConfigArgs,
}

/// Runs `tessera migrate`.
pub(crate) fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let settings = args.source.load(Vec::new())?;
    runtime()?.block_on(async {
        let store = connect_store(&settings).await?;
        let applied = store.migrate().await?;
        store.close().await;
        print_line(&match applied {
            0 => "database schema is up to date".to_owned(),
            1 => "applied 1 migration".to_owned(),
            n => format!("applied {n} migrations"),
        })?;
        Ok(ExitCode::SUCCESS)
    })
}
