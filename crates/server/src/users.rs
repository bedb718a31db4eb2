//! User administration shared by the CLI (`tessera user …`) and tests: create, change password,
//! (de)activate, delete, list, revoke tokens.
//!
//! A password change, a deactivation and `revoke-tokens` all revoke every family of the user and
//! set `tokens_valid_after` to the next second, so access tokens issued before stop working on
//! Tessera's endpoints at once — also while a server is running on the same database, because
//! the server re-reads the user on every authenticated request and refresh.

use secrecy::{ExposeSecret, SecretString};

use crate::clock::Clock;
use crate::password::{PasswordError, Passwords};
use crate::store::{NewUser, SessionCount, Store, StoreError, User};
use crate::tokens::new_id;

/// Django's `AbstractUser.username` max length.
pub const MAX_USERNAME_LEN: usize = 150;

/// Why a user operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// No user has that name.
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    /// The username is taken.
    #[error("a user named {0:?} already exists")]
    Exists(String),
    /// The input is not acceptable (the message never contains a password).
    #[error("{0}")]
    Invalid(String),
    /// Database failure.
    #[error(transparent)]
    Store(StoreError),
    /// Hashing failure.
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AdminError::Exists(what),
            other => AdminError::Store(other),
        }
    }
}

/// Options for a new user.
#[derive(Debug, Default, Clone)]
pub struct CreateUser {
    /// Login name.
    pub username: String,
    /// Email ('' for none).
    pub email: String,
    /// Staff flag.
    pub is_staff: bool,
    /// Superuser flag.
    pub is_superuser: bool,
}

/// User administration over a store.
#[derive(Clone, Debug)]
pub struct UserAdmin {
    store: Store,
    passwords: Passwords,
    clock: Clock,
    trim_credentials: bool,
}

impl UserAdmin {
    /// `trim_credentials` must match the server's setting: when logins trim the password, a
    /// password with surrounding whitespace could never be typed, so it is refused here.
    pub fn new(store: Store, passwords: Passwords, clock: Clock, trim_credentials: bool) -> Self {
        UserAdmin {
            store,
            passwords,
            clock,
            trim_credentials,
        }
    }

    /// The store in use.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Creates a user. `password = None` stores an unusable password (`!…`, never matches).
    pub async fn create(
        &self,
        new: &CreateUser,
        password: Option<&SecretString>,
    ) -> Result<User, AdminError> {
        validate_username(&new.username)?;
        if new.email.len() > 254 || new.email.chars().any(char::is_whitespace) {
            return Err(AdminError::Invalid("email is not valid".into()));
        }
        let password_hash = match password {
            Some(p) => {
                self.check_password(p)?;
                self.passwords.hash(p).await?
            }
            None => format!("!{}", new_id()),
        };
        let user = self
            .store
            .create_user(
                &NewUser {
                    username: new.username.clone(),
                    email: new.email.clone(),
                    password_hash,
                    is_staff: new.is_staff,
                    is_superuser: new.is_superuser,
                },
                self.clock.now(),
            )
            .await?;
        tracing::info!(target: "audit", event = "user_created", user_id = user.id, username = %user.username);
        Ok(user)
    }

    /// Sets a new password; revokes every session and token of the user.
    pub async fn set_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<u64, AdminError> {
        self.check_password(password)?;
        let user = self.get(username).await?;
        let hash = self.passwords.hash(password).await?;
        let now = self.clock.now();
        let n = self
            .store
            .change_password(user.id, &hash, now.saturating_add(1), now)
            .await?;
        tracing::info!(target: "audit", event = "password_changed", user_id = user.id, families_revoked = n);
        Ok(n)
    }

    /// Deactivates; revokes every session and token of the user.
    pub async fn deactivate(&self, username: &str) -> Result<u64, AdminError> {
        let user = self.get(username).await?;
        let now = self.clock.now();
        let n = self
            .store
            .set_active(user.id, false, now.saturating_add(1), now)
            .await?;
        tracing::info!(target: "audit", event = "user_deactivated", user_id = user.id, families_revoked = n);
        Ok(n)
    }

    /// Re-activates (tokens revoked earlier stay revoked).
    pub async fn activate(&self, username: &str) -> Result<(), AdminError> {
        let user = self.get(username).await?;
        let now = self.clock.now();
        self.store.set_active(user.id, true, now, now).await?;
        tracing::info!(target: "audit", event = "user_activated", user_id = user.id);
        Ok(())
    }

    /// Deletes the user and their sessions.
    pub async fn delete(&self, username: &str) -> Result<(), AdminError> {
        let user = self.get(username).await?;
        if !self.store.delete_user(user.id).await? {
            return Err(AdminError::NoSuchUser(username.to_owned()));
        }
        tracing::info!(target: "audit", event = "user_deleted", user_id = user.id);
        Ok(())
    }

    /// Logout-all: revokes every session and token of the user; returns families revoked.
    pub async fn revoke_tokens(&self, username: &str) -> Result<u64, AdminError> {
        let user = self.get(username).await?;
        let now = self.clock.now();
        let n = self
            .store
            .revoke_user_tokens(user.id, now.saturating_add(1), now, "admin_revoke")
            .await?;
        tracing::info!(target: "audit", event = "tokens_revoked", user_id = user.id, families_revoked = n);
        Ok(n)
    }

    /// Every user with their live session count.
    pub async fn list(&self) -> Result<Vec<(User, SessionCount)>, AdminError> {
        Ok(self.store.list_users(self.clock.now()).await?)
    }

    /// Looks a user up by name.
    pub async fn get(&self, username: &str) -> Result<User, AdminError> {
        self.store
            .user_by_username(username)
            .await?
            .ok_or_else(|| AdminError::NoSuchUser(username.to_owned()))
    }

    fn check_password(&self, password: &SecretString) -> Result<(), AdminError> {
        let p = password.expose_secret();
        if p.is_empty() {
            return Err(AdminError::Invalid("the password must not be empty".into()));
        }
        if self.trim_credentials && p.trim() != p {
            return Err(AdminError::Invalid(
                "the password must not begin or end with whitespace (logins trim it)".into(),
            ));
        }
        if p.len() > 4096 {
            return Err(AdminError::Invalid(
                "the password is longer than 4096 bytes".into(),
            ));
        }
        Ok(())
    }
}

/// Django's rule: 1–150 characters, letters, digits and `@.+-_`.
pub fn validate_username(username: &str) -> Result<(), AdminError> {
    if username.is_empty() || username.chars().count() > MAX_USERNAME_LEN {
        return Err(AdminError::Invalid(format!(
            "a username has 1 to {MAX_USERNAME_LEN} characters"
        )));
    }
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
    {
        return Err(AdminError::Invalid(
            "a username may contain only letters, digits and @/./+/-/_".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_django() {
        for ok in ["alice", "a.b@c+d-e_f", "émile", "x"] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(151);
        for bad in ["", "a b", "a/b", " alice", long.as_str()] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }
}
