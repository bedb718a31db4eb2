//! Signing and verification keys, loaded once at startup.
//!
//! * HMAC (`HS*`): the secret is the UTF-8 bytes of `signing_key`, or the contents of
//!   `signing_key_file` (one trailing newline removed) — the same bytes simplejwt's `SIGNING_KEY`
//!   would use, so both can share a secret. Secrets shorter than the hash output are refused
//!   (RFC 7518 §3.2).
//! * Asymmetric (`RS*`/`PS*`/`ES*`/`EdDSA`): a private key PEM; its public half (plus an optional
//!   `verifying_key`, e.g. the previous key during a rotation) is published as the JWKS. The
//!   `kid` defaults to the RFC 7638 thumbprint.
//! * Nothing configured: a key is generated in the data directory on first run (file mode 0600)
//!   and reused afterwards, so restarts keep issued tokens valid.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretBox};
use tessera_jwt::{Algorithm, Key, KeySet};

use crate::config::Settings;

/// Why keys could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key file could not be read or written.
    #[error("{action} {path}")]
    Io {
        /// "reading" / "creating".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The key material is unusable for the configured algorithm (the message never contains
    /// key material).
    #[error("{what}: {reason}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// The keys of a running service.
#[derive(Clone, Debug)]
pub struct Keys {
    signing: Key,
    verifying: KeySet,
    jwks_json: std::sync::Arc<[u8]>,
}

impl Keys {
    /// Loads (or on first run generates) the keys described by `settings`.
    pub fn load(settings: &Settings) -> Result<Keys, KeyError> {
        let alg = settings.algorithm;
        let signing = if alg.is_hmac() {
            let secret = hmac_secret(settings)?;
            Key::hmac(alg, secret.expose_secret()).map_err(|e| KeyError::Invalid {
                what: "signing key",
                reason: e.to_string(),
            })?
        } else {
            let pem = private_pem(settings)?;
            let key = Key::from_pem(alg, pem.expose_secret()).map_err(|e| KeyError::Invalid {
                what: "signing key",
                reason: e.to_string(),
            })?;
            if !key.can_sign() {
                return Err(KeyError::Invalid {
                    what: "signing key",
                    reason: "a private key is required to sign tokens".to_owned(),
                });
            }
            match &settings.signing_key_id {
                Some(kid) => key.with_kid(kid.clone()),
                None => key,
            }
        };

        let mut verifying = KeySet::new().with(signing.clone());
        let extra = match (&settings.verifying_key, &settings.verifying_key_file) {
            (Some(pem), _) => Some(pem.clone().into_bytes()),
            (None, Some(path)) => Some(read(path)?),
            (None, None) => None,
        };
        if let Some(pem) = extra {
            if alg.is_hmac() {
                // simplejwt ignores VERIFYING_KEY for HS* too: the secret verifies.
                tracing::warn!("verifying_key is ignored with an HMAC algorithm");
            } else {
                let key = Key::from_pem(alg, &pem).map_err(|e| KeyError::Invalid {
                    what: "verifying key",
                    reason: e.to_string(),
                })?;
                verifying.push(key);
            }
        }
        let jwks = verifying.to_public_jwks();
        let jwks_json = serde_json::to_vec(&jwks).map_err(|e| KeyError::Invalid {
            what: "jwks",
            reason: e.to_string(),
        })?;
        Ok(Keys {
            signing,
            verifying,
            jwks_json: jwks_json.into(),
        })
    }

    /// The key tokens are signed with.
    pub fn signing(&self) -> &Key {
        &self.signing
    }

    /// The keys tokens are verified against.
    pub fn verifying(&self) -> &KeySet {
        &self.verifying
    }

    /// `{"keys":[…]}` with the public keys (empty for HMAC), serialised once.
    pub fn jwks_json(&self) -> &[u8] {
        &self.jwks_json
    }
}

type Secret = SecretBox<Vec<u8>>;

fn hmac_secret(settings: &Settings) -> Result<Secret, KeyError> {
    if let Some(s) = &settings.signing_key {
        return Ok(Secret::new(Box::new(s.expose_secret().as_bytes().to_vec())));
    }
    if let Some(path) = &settings.signing_key_file {
        return Ok(Secret::new(Box::new(strip_newline(read(path)?))));
    }
    let path = settings.data_dir.join("signing.key");
    generate_once(&path, || {
        // 64 random bytes, stored as base64url text so the same string can be pasted into a
        // simplejwt `SIGNING_KEY` (which uses the UTF-8 bytes of the string).
        let mut raw = [0u8; 64];
        getrandom::fill(&mut raw).map_err(|e| KeyError::Invalid {
            what: "signing key",
            reason: format!("no randomness: {e}"),
        })?;
        let mut text = URL_SAFE_NO_PAD.encode(raw);
        text.push('\n');
        Ok(text.into_bytes())
    })
    .map(|bytes| Secret::new(Box::new(strip_newline(bytes))))
}

fn private_pem(settings: &Settings) -> Result<Secret, KeyError> {
    if let Some(s) = &settings.signing_key {
        return Ok(Secret::new(Box::new(s.expose_secret().as_bytes().to_vec())));
    }
    if let Some(path) = &settings.signing_key_file {
        return Ok(Secret::new(Box::new(read(path)?)));
    }
    let alg = settings.algorithm;
    let path = settings
        .data_dir
        .join(format!("signing-{}.pem", alg.as_str().to_ascii_lowercase()));
    generate_once(&path, || generate_pem(alg)).map(|b| Secret::new(Box::new(b)))
}

fn generate_pem(alg: Algorithm) -> Result<Vec<u8>, KeyError> {
    let key = Key::generate(alg).map_err(|e| KeyError::Invalid {
        what: "signing key",
        reason: e.to_string(),
    })?;
    key.to_pkcs8_pem()
        .map(String::into_bytes)
        .map_err(|e| KeyError::Invalid {
            what: "signing key",
            reason: e.to_string(),
        })
}

/// Reads `path`, or creates it (mode 0600, exclusively) with `make()` if it does not exist.
fn generate_once(
    path: &Path,
    make: impl FnOnce() -> Result<Vec<u8>, KeyError>,
) -> Result<Vec<u8>, KeyError> {
    match fs::read(path) {
        Ok(bytes) => return Ok(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(KeyError::Io {
                action: "reading",
                path: path.to_owned(),
                source,
            });
        }
    }
    let bytes = make()?;
    let io_err = |source| KeyError::Io {
        action: "creating",
        path: path.to_owned(),
        source,
    };
    // Written in full under a private name first, then linked into place: another process
    // (`serve` and `user create` started together) sees either no key file or a complete one,
    // never a half-written secret.
    static ATTEMPT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let attempt = ATTEMPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp.{}.{attempt}", std::process::id()));
    let tmp = Path::new(&tmp_name);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(tmp).and_then(|mut file| {
        file.write_all(&bytes)?;
        file.sync_all()
    });
    let linked = written.and_then(|()| fs::hard_link(tmp, path));
    let _ = fs::remove_file(tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new signing key");
            Ok(bytes)
        }
        // Another process created it between our read and our link: use theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(io_err(e)),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    fs::read(path).map_err(|source| KeyError::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    })
}

fn strip_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_generates_a_private_secret_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().to_owned(),
            ..Settings::default()
        };
        let a = Keys::load(&settings).unwrap();
        let path = dir.path().join("signing.key");
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim_end().len(), 86, "64 bytes as base64url");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let b = Keys::load(&settings).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
        let token = tessera_jwt::encode(a.signing(), &serde_json::json!({"exp": 4_000_000_000u64}))
            .unwrap();
        let verified: tessera_jwt::TokenData<serde_json::Value> =
            tessera_jwt::decode(&token, b.verifying(), &tessera_jwt::Validation::new(), 1).unwrap();
        assert_eq!(verified.claims["exp"], 4_000_000_000u64);
        assert_eq!(a.jwks_json(), br#"{"keys":[]}"#);
    }

    /// Racing first runs all end with the one complete key that was linked into place.
    #[test]
    fn concurrent_first_runs_agree_on_one_complete_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        let keys: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0u8..8)
                .map(|i| {
                    let path = &path;
                    scope.spawn(move || generate_once(path, || Ok(vec![i; 4096])).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let on_disk = fs::read(&path).unwrap();
        assert_eq!(on_disk.len(), 4096);
        assert!(
            keys.iter().all(|k| *k == on_disk),
            "every caller uses the key on disk"
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["signing.key"], "no temporary files left behind");
    }

    #[test]
    fn short_hmac_secrets_are_refused() {
        let settings = Settings {
            signing_key: Some("tiny-xyz".into()),
            ..Settings::default()
        };
        let err = Keys::load(&settings).unwrap_err();
        assert!(!err.to_string().contains("tiny-xyz"), "{err}");
    }

    #[test]
    fn asymmetric_key_is_generated_and_published() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().to_owned(),
            algorithm: Algorithm::EdDSA,
            ..Settings::default()
        };
        let keys = Keys::load(&settings).unwrap();
        let jwks: serde_json::Value = serde_json::from_slice(keys.jwks_json()).unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert_eq!(jwks["keys"][0]["kty"], "OKP");
        assert!(jwks["keys"][0].get("d").is_none(), "never the private part");
        assert_eq!(
            jwks["keys"][0]["kid"].as_str(),
            keys.signing().kid(),
            "kid published"
        );
        assert!(dir.path().join("signing-eddsa.pem").exists());
    }
}
