//! Shared state handed to every handler.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::password::Passwords;
use crate::shutdown::Draining;
use crate::store::Store;
use crate::tokens::Tokens;

/// Everything a request may need; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Effective configuration.
    pub settings: Arc<Settings>,
    /// Users, families, revocations.
    pub store: Store,
    /// Token minting and validation.
    pub tokens: Arc<Tokens>,
    /// Password hashing pool.
    pub passwords: Passwords,
    /// The time source.
    pub clock: Clock,
    /// Set on the first shutdown signal; `/readyz` then fails.
    pub draining: Draining,
}
