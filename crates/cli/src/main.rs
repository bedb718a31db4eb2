//! `tessera`: the command-line front end of Tessera.
//!
//! This binary stays thin (STYLE.md, "thin binaries"): it parses arguments with clap, hands each
//! subcommand to its module under `commands/`, and turns the outcome into an exit code:
//!
//! * `0` — success;
//! * `1` — the command ran and failed (an invalid token, an unreadable key, …); the reason is
//!   printed to stderr as `error: …`;
//! * `2` — a usage error: reported by clap before anything runs, or a flag combination clap
//!   cannot judge (`commands::UsageError`, e.g. `--secret` with `--alg RS256`).
//!
//! Adding a subcommand is one file in `commands/` exposing `Args` + `run`, and one variant in
//! [`Command`] plus its `match` arm in [`run`].

mod clock;
mod commands;
mod keyfile;
mod output;
mod timefmt;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tessera: a JSON Web Token authentication server, and tools to inspect tokens and make keys.
// No `Debug`: arguments may hold secrets (`--secret`), which must never be printed.
#[derive(Parser)]
#[command(name = "tessera", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode, verify or create JSON Web Tokens.
    Token(commands::token::TokenArgs),
    /// Generate signing keys (PEM and JWK) or HMAC secrets.
    Keys(commands::keys::KeysArgs),
    /// Run the token service (HTTP API).
    Serve(commands::serve::ServeArgs),
    /// Manage users (create, passwd, deactivate, activate, delete, list, revoke-tokens).
    User(commands::user::UserArgs),
    /// Inspect the configuration (`config check`).
    Config(commands::config::ConfigCmd),
    /// Create or upgrade the database schema.
    Migrate(commands::migrate::MigrateArgs),
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Token(args) => commands::token::run(args),
        Command::Keys(args) => commands::keys::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::User(args) => commands::user::run(args),
        Command::Config(args) => commands::config::run(args),
        Command::Migrate(args) => commands::migrate::run(args),
    }
}

fn main() -> ExitCode {
    // `parse` exits by itself: 0 for --help/--version, 2 for usage errors.
    let cli = Cli::parse();
    let err = match run(cli) {
        Ok(code) => return code,
        Err(err) => err,
    };
    if output::is_broken_pipe(&err) {
        // A closed pipe (`tessera token decode … | head -1`) is not an error worth reporting;
        // ripgrep exits quietly in the same situation.
        ExitCode::SUCCESS
    } else if let Some(usage) = err.downcast_ref::<commands::UsageError>() {
        // Reported like clap's own usage errors, with the same exit code.
        eprintln!("error: {usage}\n\nFor more information, try '--help'.");
        ExitCode::from(2)
    } else {
        // `{:#}` prints the whole context chain on one line: "reading key file x: No such file".
        eprintln!("error: {err:#}");
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
