//! `tessera user …`: manage accounts in the database the server uses (same configuration).
//!
//! Passwords are read without echo from the terminal, or with `--password-stdin` from the first
//! line of stdin (for scripts). They are never accepted as arguments (visible in `ps`, shell
//! history).

use std::io::BufRead as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use tessera_server::startup::open_user_admin;
use tessera_server::users::{CreateUser, UserAdmin};

use super::config::{ConfigArgs, runtime};
use crate::output::print_line;

/// Manage users.
#[derive(Args)]
pub(crate) struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
    #[command(flatten)]
    source: ConfigArgs,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (prompts for the password unless --password-stdin or --no-password).
    Create {
        /// Login name (letters, digits and @/./+/-/_).
        name: String,
        /// Email address.
        #[arg(long, value_name = "EMAIL", default_value = "")]
        email: String,
        /// Mark as staff.
        #[arg(long)]
        staff: bool,
        /// Mark as superuser.
        #[arg(long)]
        superuser: bool,
        /// Read the password from the first line of stdin.
        #[arg(long, conflicts_with = "no_password")]
        password_stdin: bool,
        /// Create without a usable password (cannot log in until `user passwd`).
        #[arg(long)]
        no_password: bool,
    },
    /// Set a user's password; ends all of their sessions and tokens.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Deactivate a user; ends all of their sessions and tokens.
    Deactivate {
        /// Login name.
        name: String,
    },
    /// Re-activate a user.
    Activate {
        /// Login name.
        name: String,
    },
    /// Delete a user and their sessions.
    Delete {
        /// Login name.
        name: String,
    },
    /// List users.
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// End every session of a user and refuse every token issued so far (logout-all).
    RevokeTokens {
        /// Login name.
        name: String,
    },
}

/// Runs `tessera user …`.
pub(crate) fn run(args: UserArgs) -> anyhow::Result<ExitCode> {
    let settings = args.source.load(Vec::new())?;
    // Read the password before any database work, so a prompt is not delayed by it.
    let password = match &args.command {
        UserCommand::Create {
            password_stdin,
            no_password,
            ..
        } => {
            if *no_password {
                None
            } else {
                Some(read_password(*password_stdin)?)
            }
        }
        UserCommand::Passwd { password_stdin, .. } => Some(read_password(*password_stdin)?),
        _ => None,
    };
    runtime()?.block_on(async {
        let admin = open_user_admin(&settings).await?;
        let result = execute(&admin, args.command, password.as_ref()).await;
        admin.store().close().await;
        result
    })
}

async fn execute(
    admin: &UserAdmin,
    command: UserCommand,
    password: Option<&SecretString>,
) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Create {
            name,
            email,
            staff,
            superuser,
            ..
        } => {
            let user = admin
                .create(
                    &CreateUser {
                        username: name,
                        email,
                        is_staff: staff,
                        is_superuser: superuser,
                    },
                    password,
                )
                .await?;
            print_line(&format!("created user {} (id {})", user.username, user.id))?;
        }
        UserCommand::Passwd { name, .. } => {
            let password = password.context("no password")?;
            let revoked = admin.set_password(&name, password).await?;
            print_line(&format!(
                "password changed for {name}; {revoked} session(s) ended"
            ))?;
        }
        UserCommand::Deactivate { name } => {
            let revoked = admin.deactivate(&name).await?;
            print_line(&format!("deactivated {name}; {revoked} session(s) ended"))?;
        }
        UserCommand::Activate { name } => {
            admin.activate(&name).await?;
            print_line(&format!("activated {name}"))?;
        }
        UserCommand::Delete { name } => {
            admin.delete(&name).await?;
            print_line(&format!("deleted {name}"))?;
        }
        UserCommand::RevokeTokens { name } => {
            let revoked = admin.revoke_tokens(&name).await?;
            print_line(&format!(
                "revoked all tokens of {name}; {revoked} session(s) ended"
            ))?;
        }
        UserCommand::List { json } => {
            let users = admin.list().await?;
            if json {
                for (u, sessions) in users {
                    print_line(
                        &serde_json::json!({
                            "id": u.id,
                            "username": u.username,
                            "email": u.email,
                            "is_active": u.is_active,
                            "is_staff": u.is_staff,
                            "is_superuser": u.is_superuser,
                            "last_login": u.last_login,
                            "sessions": sessions.live,
                        })
                        .to_string(),
                    )?;
                }
            } else {
                print_line(&format!(
                    "{:>6}  {:<24} {:<28} {:<6} {:<5} {:<9} {:>8}",
                    "ID", "USERNAME", "EMAIL", "ACTIVE", "STAFF", "SUPERUSER", "SESSIONS"
                ))?;
                for (u, sessions) in users {
                    let yn = |b: bool| if b { "yes" } else { "no" };
                    print_line(&format!(
                        "{:>6}  {:<24} {:<28} {:<6} {:<5} {:<9} {:>8}",
                        u.id,
                        u.username,
                        u.email,
                        yn(u.is_active),
                        yn(u.is_staff),
                        yn(u.is_superuser),
                        sessions.live
                    ))?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The first line of stdin (without its line ending), or a no-echo prompt asked twice.
fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let line = line
            .strip_suffix('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .unwrap_or(&line);
        if line.is_empty() {
            anyhow::bail!("no password on stdin");
        }
        return Ok(SecretString::from(line));
    }
    let first = SecretString::from(
        rpassword::prompt_password("Password: ")
            .context("reading the password (use --password-stdin when there is no terminal)")?,
    );
    let second = SecretString::from(
        rpassword::prompt_password("Password (again): ").context("reading the password")?,
    );
    if first.expose_secret() != second.expose_secret() {
        anyhow::bail!("the passwords do not match");
    }
    Ok(first)
}
