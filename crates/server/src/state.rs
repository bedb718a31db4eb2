//! Shared state handed to every handler.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::password::Passwords;
use crate::shutdown::Draining;
use crate::store::Store;
use crate::tokens::Tokens;

/// Everything a request may need. Cloned by every extractor of every request, so it is one
/// reference count: the services behind it are shared.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// Shares `services` with every request.
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services of one running application.
#[derive(Debug)]
pub struct Services {
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
