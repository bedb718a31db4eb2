//! Tessera's token service: a simplejwt-compatible HTTP API (axum on tokio) over an embedded
//! SQLite store, with refresh-token families, rotation with reuse detection, real logout, and
//! Argon2id passwords.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tessera_server::config::{Settings, Sources};
//! use tessera_server::startup::Application;
//!
//! let settings = Settings::load(&Sources::from_process(None, vec![]))?;
//! let app = Application::build(settings).await?;
//! println!("listening on port {}", app.port());
//! app.run_until_stopped().await?;
//! # Ok(()) }
//! ```
//!
//! Layout: `config` (typed settings), `startup` (build/run, router), `routes/*` (thin handlers),
//! `sessions` (login/refresh/logout rules), `auth` (bearer authentication), `tokens` (JWT
//! minting/validation through `tessera-jwt`), `password` (Argon2id pool), `store` (all SQL),
//! `users` (administration shared with the CLI), `clock` (the only reader of the system time).

#![warn(missing_docs)]

pub mod auth;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod error;
pub mod input;
pub mod keys;
pub mod listener;
pub mod login_throttle;
pub mod metrics;
pub mod observe;
pub mod password;
pub mod routes;
pub mod sessions;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod users;
