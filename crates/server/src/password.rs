//! Password hashing and verification: Argon2id off the async runtime, with bounded concurrency.
//!
//! * Hashing is deliberately slow, so it runs in `spawn_blocking` behind a semaphore sized to the
//!   CPU count: a login flood queues here instead of occupying every runtime worker, and token
//!   verification (cheap, on the runtime) keeps its latency.
//! * Unknown users are verified against a dummy hash made with the same parameters, so a login
//!   costs the same whether or not the user exists (no user enumeration by timing).
//! * Stored hashes are recognised by format ([`StoredHash`]); a later issue adds Django's
//!   formats (`pbkdf2_sha256$…`, `bcrypt_sha256$…`, …) as new variants. `!`-prefixed values are
//!   Django's "unusable password" and never match.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::config::Settings;

/// Errors of the password machinery (never caused by a wrong password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Invalid Argon2 parameters.
    #[error("invalid password hashing parameters: {0}")]
    Params(String),
    /// Hashing failed (out of memory, no randomness).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The blocking task was cancelled or panicked.
    #[error("password hashing task failed")]
    Task,
}

/// A stored password, classified by format.
#[derive(Debug)]
pub enum StoredHash<'a> {
    /// A PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (also `argon2i`/`argon2d`).
    Argon2(Box<PasswordHash<'a>>),
    /// `!…`: an unusable password (Django `set_unusable_password`); never matches.
    Unusable,
    /// A format this build does not verify; never matches.
    Unrecognised,
}

impl<'a> StoredHash<'a> {
    /// Classifies a stored password string.
    pub fn parse(stored: &'a str) -> StoredHash<'a> {
        if stored.starts_with('!') {
            return StoredHash::Unusable;
        }
        if stored.starts_with("$argon2")
            && let Ok(hash) = PasswordHash::new(stored)
        {
            return StoredHash::Argon2(Box::new(hash));
        }
        StoredHash::Unrecognised
    }
}

/// Argon2id hashing with a bounded worker pool.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("concurrency", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Passwords {
    /// Builds the hasher from the `password_hash_*` settings; computes the dummy hash once.
    pub fn from_settings(settings: &Settings) -> Result<Passwords, PasswordError> {
        let params = Params::new(
            settings.password_hash_memory_kib,
            settings.password_hash_iterations,
            settings.password_hash_parallelism,
            None,
        )
        .map_err(|e| PasswordError::Params(e.to_string()))?;
        let concurrency = match settings.password_hash_concurrency {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let mut random = [0u8; 24];
        fill_random(&mut random)?;
        let dummy = hash_blocking(&params, hex::encode(random).as_bytes())?;
        Ok(Passwords {
            params,
            permits: Arc::new(Semaphore::new(concurrency)),
            dummy_hash: dummy.into(),
        })
    }

    /// Hashes `password` into a PHC string with a fresh random salt.
    pub async fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        let params = self.params.clone();
        let password = SecretString::from(password.expose_secret());
        self.run(move || hash_blocking(&params, password.expose_secret().as_bytes()))
            .await?
    }

    /// Whether `password` matches `stored`. `None` (unknown user) is checked against the dummy
    /// hash and always answers `false`, at the same cost as a real check.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> Result<bool, PasswordError> {
        let password = SecretString::from(password.expose_secret());
        let dummy = Arc::clone(&self.dummy_hash);
        let stored: Option<String> = stored.map(str::to_owned);
        self.run(move || {
            let candidate = password.expose_secret().as_bytes();
            match stored.as_deref().map(StoredHash::parse) {
                Some(StoredHash::Argon2(hash)) => verify_argon2(candidate, &hash),
                // Unknown user, unusable or unrecognised password: same work, never a match.
                None | Some(StoredHash::Unusable | StoredHash::Unrecognised) => {
                    if let Ok(hash) = PasswordHash::new(&dummy) {
                        let _ = verify_argon2(candidate, &hash);
                    }
                    false
                }
            }
        })
        .await
    }

    /// Whether `stored` should be re-hashed with the current parameters after a successful login
    /// (an older cost, or another format). Re-hashing never revokes tokens.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        match StoredHash::parse(stored) {
            StoredHash::Argon2(hash) => {
                hash.algorithm.as_str() != "argon2id"
                    || Params::try_from(&*hash).map_or(true, |p| {
                        p.m_cost() != self.params.m_cost()
                            || p.t_cost() != self.params.t_cost()
                            || p.p_cost() != self.params.p_cost()
                    })
            }
            StoredHash::Unusable | StoredHash::Unrecognised => false,
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        // The semaphore is never closed, so acquiring only waits. The gauge counts the waiters
        // (metrics.rs); the guard keeps it right when a waiting request is cancelled.
        let waiting = QueueDepth::enter();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Task)?;
        drop(waiting);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work))
            .await
            .map_err(|_| PasswordError::Task)
    }
}

/// One password check waiting for a hashing slot (`tessera_password_hash_queue_depth`).
struct QueueDepth;

impl QueueDepth {
    fn enter() -> QueueDepth {
        metrics::gauge!("tessera_password_hash_queue_depth").increment(1.0);
        QueueDepth
    }
}

impl Drop for QueueDepth {
    fn drop(&mut self) {
        metrics::gauge!("tessera_password_hash_queue_depth").decrement(1.0);
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &[u8]) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    fill_random(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    argon2(params)
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

fn verify_argon2(password: &[u8], hash: &PasswordHash<'_>) -> bool {
    // The parameters come from the stored string; `Argon2::default()` only supplies defaults for
    // what the string does not say.
    Argon2::default().verify_password(password, hash).is_ok()
}

fn fill_random(buf: &mut [u8]) -> Result<(), PasswordError> {
    getrandom::fill(buf).map_err(|e| PasswordError::Hash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        let settings = Settings {
            password_hash_memory_kib: 1024,
            password_hash_iterations: 1,
            ..Settings::default()
        };
        Passwords::from_settings(&settings).unwrap()
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let p = cheap();
        let h = p.hash(&secret("hunter2")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{h}");
        assert!(p.verify(&secret("hunter2"), Some(&h)).await.unwrap());
        assert!(!p.verify(&secret("hunter3"), Some(&h)).await.unwrap());
        assert!(!p.needs_rehash(&h));
    }

    #[tokio::test]
    async fn unusable_unknown_and_missing_never_match() {
        let p = cheap();
        assert!(!p.verify(&secret(""), None).await.unwrap());
        let h = p.hash(&secret("pw")).await.unwrap();
        let unusable = format!("!{h}");
        assert!(!p.verify(&secret("pw"), Some(&unusable)).await.unwrap());
        assert!(
            !p.verify(&secret("pw"), Some("pbkdf2_sha256$1$salt$abc"))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn other_costs_need_rehash() {
        let p = cheap();
        let strong = Passwords::from_settings(&Settings {
            password_hash_memory_kib: 2048,
            password_hash_iterations: 1,
            ..Settings::default()
        })
        .unwrap();
        let h = strong.hash(&secret("pw")).await.unwrap();
        assert!(p.verify(&secret("pw"), Some(&h)).await.unwrap());
        assert!(p.needs_rehash(&h));
    }
}
