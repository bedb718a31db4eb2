//! Typed configuration: built-in defaults → TOML file → `TESSERA_*` environment → flags.
//!
//! Setting names are simplejwt's (`SIMPLE_JWT`) in snake case, plus the service's own (`listen`,
//! `data_dir`, …). Unknown names are an error at every layer, so a typo never silently falls back
//! to a default. Secrets are [`SecretString`]s: `Debug` redacts them and [`Settings::redacted`]
//! (what `tessera config check` prints) never contains them.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, de};
use tessera_jwt::Algorithm;

use crate::client_address::IpNetwork;

/// Environment variables with this prefix are settings (`TESSERA_ACCESS_TOKEN_LIFETIME`).
pub const ENV_PREFIX: &str = "TESSERA_";
/// Names the configuration file; not a setting itself.
pub const ENV_CONFIG_FILE: &str = "TESSERA_CONFIG";
/// Log filter for the binary (`tracing` env-filter syntax); not a setting itself.
pub const ENV_LOG: &str = "TESSERA_LOG";
/// `TESSERA_*` variables that belong to the test and benchmark tooling (scripts/test.sh,
/// tests/cluster/pg.sh), not to the server: a shell that ran them can still start `serve`.
const RESERVED_ENV: &[&str] = &[
    "TESSERA_PYTHON",
    "TESSERA_PG_DIR",
    "TESSERA_TEST_DATABASE_URL",
];

/// The effective configuration of the token service.
///
/// `Debug` prints [`Settings::redacted`]: no secret, no database password.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on. Default `127.0.0.1:8000`.
    #[serde(deserialize_with = "de_parse")]
    pub listen: SocketAddr,
    /// Directory for the SQLite file and generated keys. Default `./tessera-data`.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` (default: `tessera.db` inside `data_dir`).
    pub database_url: Option<String>,

    /// Lifetime of access tokens (simplejwt `ACCESS_TOKEN_LIFETIME`). Default 5 minutes.
    #[serde(deserialize_with = "de_duration")]
    pub access_token_lifetime: Duration,
    /// Lifetime of refresh tokens (`REFRESH_TOKEN_LIFETIME`). Default 1 day.
    #[serde(deserialize_with = "de_duration")]
    pub refresh_token_lifetime: Duration,
    /// Whether a refresh returns a new refresh token and spends the old one. Default **true**
    /// (simplejwt: false) — see docs/compatibility.md.
    #[serde(deserialize_with = "de_bool")]
    pub rotate_refresh_tokens: bool,
    /// How long after a rotation the previous refresh token may be presented again and get the
    /// family's current tokens instead of revoking the family. Default 10 s.
    #[serde(deserialize_with = "de_duration")]
    pub refresh_reuse_grace: Duration,

    /// Signing algorithm (`ALGORITHM`). Default HS256.
    #[serde(deserialize_with = "de_parse")]
    pub algorithm: Algorithm,
    /// HMAC secret (its UTF-8 bytes) or private key PEM (`SIGNING_KEY`).
    pub signing_key: Option<SecretString>,
    /// File holding the HMAC secret or private key PEM. Without either, a key is generated in
    /// `data_dir` on first run and reused afterwards.
    pub signing_key_file: Option<PathBuf>,
    /// `kid` of the signing key (asymmetric keys; default: the RFC 7638 thumbprint).
    pub signing_key_id: Option<String>,
    /// An extra public key PEM accepted for verification and published in the JWKS, e.g. the
    /// previous key during a rotation (`VERIFYING_KEY`).
    pub verifying_key: Option<String>,
    /// File holding `verifying_key`.
    pub verifying_key_file: Option<PathBuf>,
    /// `aud` added to every token and required on every token (`AUDIENCE`).
    pub audience: Option<String>,
    /// `iss` added to every token and required on every token (`ISSUER`).
    pub issuer: Option<String>,
    /// Clock skew tolerated on `exp`/`nbf`/`iat` (`LEEWAY`). Default 0.
    #[serde(deserialize_with = "de_duration")]
    pub leeway: Duration,
    /// Accepted `Authorization` schemes, case-sensitive; the first one names the
    /// `WWW-Authenticate` challenge (`AUTH_HEADER_TYPES`). Default `["Bearer"]`.
    #[serde(deserialize_with = "de_string_list")]
    pub auth_header_types: Vec<String>,
    /// Claim carrying the user id (`USER_ID_CLAIM`). Default `user_id`.
    pub user_id_claim: String,
    /// Claim carrying the token type (`TOKEN_TYPE_CLAIM`). Default `token_type`.
    pub token_type_claim: String,
    /// Claim carrying the token id (`JTI_CLAIM`). Default `jti`.
    pub jti_claim: String,
    /// Record `last_login` on each successful login (`UPDATE_LAST_LOGIN`). Default **true**.
    #[serde(deserialize_with = "de_bool")]
    pub update_last_login: bool,
    /// Refuse inactive users at login, refresh and authentication (`CHECK_USER_IS_ACTIVE`).
    #[serde(deserialize_with = "de_bool")]
    pub check_user_is_active: bool,
    /// Trim surrounding whitespace from usernames and passwords, as DRF's `CharField` does.
    #[serde(deserialize_with = "de_bool")]
    pub trim_credentials: bool,

    /// Failed logins per username (from any address) before that username is locked out for
    /// `login_lockout`; 0 = no per-username limit. Default 5 (docs/security.md, "Brute-force
    /// protection").
    #[serde(deserialize_with = "de_parse")]
    pub login_max_failures_per_username: u32,
    /// Failed logins per client address (IPv6: per /64) before it is locked out; 0 = no limit.
    /// Default 20.
    #[serde(deserialize_with = "de_parse")]
    pub login_max_failures_per_address: u32,
    /// A failure count starts over once this long passes without a failure. Default 15 minutes.
    #[serde(deserialize_with = "de_duration")]
    pub login_failure_window: Duration,
    /// The first lockout; each further failure in the window doubles it. Default 1 minute.
    #[serde(deserialize_with = "de_duration")]
    pub login_lockout: Duration,
    /// The longest lockout. Default 15 minutes.
    #[serde(deserialize_with = "de_duration")]
    pub login_lockout_max: Duration,
    /// Proxies (IP addresses or CIDR networks) whose `X-Forwarded-For` names the client address;
    /// from any other peer the header is ignored. Default: none.
    #[serde(deserialize_with = "de_networks")]
    pub trusted_proxies: Vec<IpNetwork>,

    /// Largest accepted request body, in bytes; larger bodies get 413. Default 16384.
    #[serde(deserialize_with = "de_parse")]
    pub max_body_size: usize,
    /// Argon2id memory cost in KiB. Default 19456 (OWASP).
    #[serde(deserialize_with = "de_parse")]
    pub password_hash_memory_kib: u32,
    /// Argon2id iterations. Default 2 (OWASP).
    #[serde(deserialize_with = "de_parse")]
    pub password_hash_iterations: u32,
    /// Argon2id parallelism (lanes). Default 1 (OWASP).
    #[serde(deserialize_with = "de_parse")]
    pub password_hash_parallelism: u32,
    /// Password hashes computed at once; 0 = the number of CPU cores.
    #[serde(deserialize_with = "de_parse")]
    pub password_hash_concurrency: usize,
    /// How often expired sessions are deleted. Default 1 hour.
    #[serde(deserialize_with = "de_duration")]
    pub prune_interval: Duration,

    /// Log output: `json` (one object per line), `pretty` (human-readable), or `auto` (default:
    /// pretty when stderr is a terminal, JSON otherwise, e.g. under systemd).
    #[serde(deserialize_with = "de_parse")]
    pub log_format: LogFormat,
    /// After SIGTERM/SIGINT: how long `/readyz` answers 503 "draining" while the listener still
    /// accepts, so a load balancer polling it stops sending new requests first. A second signal
    /// cuts it short. Default 0 (stop accepting at once).
    #[serde(deserialize_with = "de_duration")]
    pub shutdown_delay: Duration,
    /// Then, how long in-flight requests may take to finish before the process exits anyway.
    /// Default 30 s (keep it below systemd's `TimeoutStopSec`).
    #[serde(deserialize_with = "de_duration")]
    pub shutdown_timeout: Duration,
    /// Address of a second listener serving Prometheus metrics at `GET /metrics`. Default: none
    /// (no metrics listener).
    #[serde(deserialize_with = "de_opt_parse")]
    pub metrics_listen: Option<SocketAddr>,
    /// PEM certificate chain: with `tls_key_file`, the listener serves HTTPS itself (rustls).
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
}

/// How log lines are written (setting `log_format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// Pretty on a terminal, JSON otherwise.
    #[default]
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Pretty,
}

impl LogFormat {
    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Auto => "auto",
            LogFormat::Json => "json",
            LogFormat::Pretty => "pretty",
        }
    }
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(LogFormat::Auto),
            "json" => Ok(LogFormat::Json),
            "pretty" => Ok(LogFormat::Pretty),
            other => Err(format!(
                "log_format must be auto, json or pretty, found {other:?}"
            )),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            data_dir: PathBuf::from("./tessera-data"),
            database_url: None,
            access_token_lifetime: Duration::from_secs(5 * 60),
            refresh_token_lifetime: Duration::from_secs(24 * 60 * 60),
            rotate_refresh_tokens: true,
            refresh_reuse_grace: Duration::from_secs(10),
            algorithm: Algorithm::HS256,
            signing_key: None,
            signing_key_file: None,
            signing_key_id: None,
            verifying_key: None,
            verifying_key_file: None,
            audience: None,
            issuer: None,
            leeway: Duration::ZERO,
            auth_header_types: vec!["Bearer".to_owned()],
            user_id_claim: "user_id".to_owned(),
            token_type_claim: "token_type".to_owned(),
            jti_claim: "jti".to_owned(),
            update_last_login: true,
            check_user_is_active: true,
            trim_credentials: true,
            login_max_failures_per_username: 5,
            login_max_failures_per_address: 20,
            login_failure_window: Duration::from_secs(15 * 60),
            login_lockout: Duration::from_secs(60),
            login_lockout_max: Duration::from_secs(15 * 60),
            trusted_proxies: Vec::new(),
            max_body_size: 16 * 1024,
            password_hash_memory_kib: 19 * 1024,
            password_hash_iterations: 2,
            password_hash_parallelism: 1,
            password_hash_concurrency: 0,
            prune_interval: Duration::from_secs(60 * 60),
            log_format: LogFormat::Auto,
            shutdown_delay: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(30),
            metrics_listen: None,
            tls_cert_file: None,
            tls_key_file: None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Settings {\n")?;
        f.write_str(&self.redacted())?;
        f.write_str("}")
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("reading configuration file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A layer has a syntax error, an unknown key or a value of the wrong type.
    #[error("{origin}: {message}")]
    Invalid {
        /// Which layer (the file path, "environment", "command line").
        origin: String,
        /// What is wrong (never contains a secret value).
        message: String,
    },
    /// The combination of settings is unusable.
    #[error("{0}")]
    Inconsistent(String),
}

/// Where the layers come from. `Default` means: no file, no environment, no flags.
#[derive(Debug, Default)]
pub struct Sources {
    /// `--config FILE` (takes precedence over `TESSERA_CONFIG`).
    pub config_file: Option<PathBuf>,
    /// Environment variables (normally `std::env::vars()`); only `TESSERA_*` are read.
    pub env: Vec<(String, String)>,
    /// Command-line overrides as `(setting name, value)`.
    pub overrides: Vec<(String, String)>,
}

impl Sources {
    /// The process environment, plus a config file and flag overrides.
    pub fn from_process(config_file: Option<PathBuf>, overrides: Vec<(String, String)>) -> Self {
        Sources {
            config_file,
            env: std::env::vars().collect(),
            overrides,
        }
    }
}

impl Settings {
    /// Loads the layers in order: defaults → TOML file → `TESSERA_*` environment → overrides.
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let mut table = toml::Table::new();

        let file = sources.config_file.clone().or_else(|| {
            sources
                .env
                .iter()
                .find(|(k, _)| k == ENV_CONFIG_FILE)
                .map(|(_, v)| PathBuf::from(v))
        });
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let origin = path.display().to_string();
            let file_table: toml::Table = toml::from_str(&text).map_err(|e| {
                ConfigError::Invalid {
                    origin: origin.clone(),
                    // toml's message quotes the offending line, which may hold a secret: keep
                    // only the first line of the description.
                    message: e
                        .message()
                        .lines()
                        .next()
                        .unwrap_or("syntax error")
                        .to_owned(),
                }
            })?;
            check_known(file_table.keys(), &origin)?;
            table.extend(file_table);
        }

        let mut env_layer = toml::Table::new();
        for (name, value) in &sources.env {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if name == ENV_CONFIG_FILE || name == ENV_LOG || RESERVED_ENV.contains(&name.as_str()) {
                continue;
            }
            let key = key.to_ascii_lowercase();
            if !KNOWN_KEYS.contains(&key.as_str()) {
                return Err(ConfigError::Invalid {
                    origin: "environment".to_owned(),
                    message: format!("unknown setting {name}"),
                });
            }
            env_layer.insert(key, toml::Value::String(value.clone()));
        }
        table.extend(env_layer);

        let mut flag_layer = toml::Table::new();
        for (key, value) in &sources.overrides {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                return Err(ConfigError::Invalid {
                    origin: "command line".to_owned(),
                    message: format!("unknown setting {key}"),
                });
            }
            flag_layer.insert(key.clone(), toml::Value::String(value.clone()));
        }
        table.extend(flag_layer);

        let settings: Settings =
            Settings::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Invalid {
                origin: "configuration".to_owned(),
                message: e.message().to_owned(),
            })?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Inconsistent(m.to_owned()));
        if self.signing_key.is_some() && self.signing_key_file.is_some() {
            return bad("set signing_key or signing_key_file, not both");
        }
        if self.verifying_key.is_some() && self.verifying_key_file.is_some() {
            return bad("set verifying_key or verifying_key_file, not both");
        }
        if self.auth_header_types.is_empty()
            || self
                .auth_header_types
                .iter()
                .any(|t| t.is_empty() || t.chars().any(|c| c.is_whitespace()))
        {
            return bad("auth_header_types must list at least one scheme without spaces");
        }
        for (name, value) in [
            ("user_id_claim", &self.user_id_claim),
            ("token_type_claim", &self.token_type_claim),
            ("jti_claim", &self.jti_claim),
        ] {
            if value.is_empty() {
                return Err(ConfigError::Inconsistent(format!(
                    "{name} must not be empty"
                )));
            }
        }
        if self.access_token_lifetime.is_zero() || self.refresh_token_lifetime.is_zero() {
            return bad("token lifetimes must be positive");
        }
        // Beyond this a token's `exp` is no longer a plausible NumericDate for any verifier.
        let ten_years = Duration::from_secs(10 * 366 * 24 * 60 * 60);
        if self.access_token_lifetime > ten_years || self.refresh_token_lifetime > ten_years {
            return bad("token lifetimes must be at most 10 years");
        }
        if self.prune_interval.is_zero() {
            return bad("prune_interval must be positive");
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return bad("set both tls_cert_file and tls_key_file, or neither");
        }
        if self.metrics_listen == Some(self.listen) && self.listen.port() != 0 {
            return bad("metrics_listen must differ from listen");
        }
        if self.login_failure_window.is_zero() || self.login_lockout.is_zero() {
            return bad("login_failure_window and login_lockout must be positive");
        }
        if self.login_lockout_max < self.login_lockout {
            return bad("login_lockout_max must be at least login_lockout");
        }
        if self.max_body_size < 1024 {
            return bad("max_body_size must be at least 1024 bytes");
        }
        if argon2::Params::new(
            self.password_hash_memory_kib,
            self.password_hash_iterations,
            self.password_hash_parallelism,
            None,
        )
        .is_err()
        {
            return bad("password_hash_* parameters are not valid Argon2id parameters");
        }
        Ok(())
    }

    /// The SQLite file used when `database_url` is not set.
    pub fn default_database_path(&self) -> PathBuf {
        self.data_dir.join("tessera.db")
    }

    /// The effective configuration as TOML, with secrets replaced by `"<redacted>"` and unset
    /// optional settings shown as comments. What `tessera config check` prints.
    pub fn redacted(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let path = |p: &Path| q(&p.display().to_string());
        let dur = |d: &Duration| q(&humantime::format_duration(*d).to_string());
        let secret = |set: bool| set.then(|| q("<redacted>"));
        let lines: Vec<(&str, Option<String>)> = vec![
            ("listen", Some(q(&self.listen.to_string()))),
            ("data_dir", Some(path(&self.data_dir))),
            (
                "database_url",
                Some(match &self.database_url {
                    Some(url) => q(&redact_url(url)),
                    None => q(&format!(
                        "sqlite://{}",
                        self.default_database_path().display()
                    )),
                }),
            ),
            (
                "access_token_lifetime",
                Some(dur(&self.access_token_lifetime)),
            ),
            (
                "refresh_token_lifetime",
                Some(dur(&self.refresh_token_lifetime)),
            ),
            (
                "rotate_refresh_tokens",
                Some(self.rotate_refresh_tokens.to_string()),
            ),
            ("refresh_reuse_grace", Some(dur(&self.refresh_reuse_grace))),
            ("algorithm", Some(q(self.algorithm.as_str()))),
            ("signing_key", secret(self.signing_key.is_some())),
            (
                "signing_key_file",
                self.signing_key_file.as_deref().map(path),
            ),
            ("signing_key_id", self.signing_key_id.as_deref().map(q)),
            // A public key is not secret, but it is long: say that it is set.
            (
                "verifying_key",
                self.verifying_key.as_ref().map(|_| q("<set>")),
            ),
            (
                "verifying_key_file",
                self.verifying_key_file.as_deref().map(path),
            ),
            ("audience", self.audience.as_deref().map(q)),
            ("issuer", self.issuer.as_deref().map(q)),
            ("leeway", Some(dur(&self.leeway))),
            (
                "auth_header_types",
                Some(
                    toml::Value::Array(
                        self.auth_header_types
                            .iter()
                            .map(|s| toml::Value::String(s.clone()))
                            .collect(),
                    )
                    .to_string(),
                ),
            ),
            ("user_id_claim", Some(q(&self.user_id_claim))),
            ("token_type_claim", Some(q(&self.token_type_claim))),
            ("jti_claim", Some(q(&self.jti_claim))),
            (
                "update_last_login",
                Some(self.update_last_login.to_string()),
            ),
            (
                "check_user_is_active",
                Some(self.check_user_is_active.to_string()),
            ),
            ("trim_credentials", Some(self.trim_credentials.to_string())),
            (
                "login_max_failures_per_username",
                Some(self.login_max_failures_per_username.to_string()),
            ),
            (
                "login_max_failures_per_address",
                Some(self.login_max_failures_per_address.to_string()),
            ),
            (
                "login_failure_window",
                Some(dur(&self.login_failure_window)),
            ),
            ("login_lockout", Some(dur(&self.login_lockout))),
            ("login_lockout_max", Some(dur(&self.login_lockout_max))),
            (
                "trusted_proxies",
                Some(
                    toml::Value::Array(
                        self.trusted_proxies
                            .iter()
                            .map(|n| toml::Value::String(n.to_string()))
                            .collect(),
                    )
                    .to_string(),
                ),
            ),
            ("max_body_size", Some(self.max_body_size.to_string())),
            (
                "password_hash_memory_kib",
                Some(self.password_hash_memory_kib.to_string()),
            ),
            (
                "password_hash_iterations",
                Some(self.password_hash_iterations.to_string()),
            ),
            (
                "password_hash_parallelism",
                Some(self.password_hash_parallelism.to_string()),
            ),
            (
                "password_hash_concurrency",
                Some(self.password_hash_concurrency.to_string()),
            ),
            ("prune_interval", Some(dur(&self.prune_interval))),
            ("log_format", Some(q(self.log_format.as_str()))),
            ("shutdown_delay", Some(dur(&self.shutdown_delay))),
            ("shutdown_timeout", Some(dur(&self.shutdown_timeout))),
            (
                "metrics_listen",
                self.metrics_listen.map(|a| q(&a.to_string())),
            ),
            ("tls_cert_file", self.tls_cert_file.as_deref().map(path)),
            ("tls_key_file", self.tls_key_file.as_deref().map(path)),
        ];
        let mut out = String::new();
        for (key, value) in lines {
            match value {
                Some(v) => out.push_str(&format!("{key} = {v}\n")),
                None if key == "signing_key" && self.signing_key_file.is_none() => {
                    out.push_str("# signing_key: unset (generated in data_dir on first run)\n");
                }
                None => out.push_str(&format!("# {key}: unset\n")),
            }
        }
        out
    }
}

/// Every accepted setting name (the fields of [`Settings`]).
pub const KNOWN_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "rotate_refresh_tokens",
    "refresh_reuse_grace",
    "algorithm",
    "signing_key",
    "signing_key_file",
    "signing_key_id",
    "verifying_key",
    "verifying_key_file",
    "audience",
    "issuer",
    "leeway",
    "auth_header_types",
    "user_id_claim",
    "token_type_claim",
    "jti_claim",
    "update_last_login",
    "check_user_is_active",
    "trim_credentials",
    "login_max_failures_per_username",
    "login_max_failures_per_address",
    "login_failure_window",
    "login_lockout",
    "login_lockout_max",
    "trusted_proxies",
    "max_body_size",
    "password_hash_memory_kib",
    "password_hash_iterations",
    "password_hash_parallelism",
    "password_hash_concurrency",
    "prune_interval",
    "log_format",
    "shutdown_delay",
    "shutdown_timeout",
    "metrics_listen",
    "tls_cert_file",
    "tls_key_file",
];

fn check_known<'a>(
    keys: impl Iterator<Item = &'a String>,
    origin: &str,
) -> Result<(), ConfigError> {
    for key in keys {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            return Err(ConfigError::Invalid {
                origin: origin.to_owned(),
                message: format!("unknown setting `{key}`"),
            });
        }
    }
    Ok(())
}

/// Hides a password in `scheme://user:password@host/...`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The authority ends at the first '/', '?' or '#'; its userinfo at the *last* '@' (a
    // password may contain '@'; URL parsers split there too).
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:<redacted>@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    // libpq-style `?password=…` query parameters too.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => {
                        format!("{k}=<redacted>")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

// ---- value parsers: every layer above the file delivers strings, so each accepts both. ----

fn de_parse<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let v = toml::Value::deserialize(d)?;
    let text = match v {
        toml::Value::String(s) => s,
        toml::Value::Integer(i) => i.to_string(),
        other => {
            return Err(de::Error::custom(format!(
                "expected a string or integer, found {}",
                other.type_str()
            )));
        }
    };
    text.trim().parse().map_err(de::Error::custom)
}

/// An optional [`de_parse`] value; the empty string (environment form) means unset.
fn de_opt_parse<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) if s.trim().is_empty() => Ok(None),
        toml::Value::String(s) => s.trim().parse().map(Some).map_err(de::Error::custom),
        other => Err(de::Error::custom(format!(
            "expected a string, found {}",
            other.type_str()
        ))),
    }
}

fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Boolean(b) => Ok(b),
        toml::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(de::Error::custom(format!(
                "expected true or false, found {s:?}"
            ))),
        },
        other => Err(de::Error::custom(format!(
            "expected a boolean, found {}",
            other.type_str()
        ))),
    }
}

/// Integers are seconds (as simplejwt's `LEEWAY`); strings are humantime ("5m", "1d", "90s").
fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Integer(i) => u64::try_from(i)
            .map(Duration::from_secs)
            .map_err(|_| de::Error::custom("a duration cannot be negative")),
        toml::Value::String(s) => {
            let s = s.trim();
            if let Ok(secs) = s.parse::<u64>() {
                return Ok(Duration::from_secs(secs));
            }
            humantime::parse_duration(s)
                .map_err(|e| de::Error::custom(format!("invalid duration {s:?}: {e}")))
        }
        other => Err(de::Error::custom(format!(
            "expected a duration like \"5m\", found {}",
            other.type_str()
        ))),
    }
}

/// [`de_string_list`] entries parsed as IP networks (`10.0.0.0/8`, `127.0.0.1`, `::1`).
fn de_networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNetwork>, D::Error> {
    de_string_list(d)?
        .iter()
        .map(|s| s.parse().map_err(de::Error::custom))
        .collect()
}

/// An array of strings, or one string with comma-separated entries (environment form).
fn de_string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::String(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s),
                other => Err(de::Error::custom(format!(
                    "expected strings, found {}",
                    other.type_str()
                ))),
            })
            .collect(),
        other => Err(de::Error::custom(format!(
            "expected a list of strings, found {}",
            other.type_str()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn database_url_passwords_are_redacted() {
        for (url, shown) in [
            (
                "postgres://u:secret@db/app",
                "postgres://u:<redacted>@db/app",
            ),
            (
                "postgres://u:p@ss@db:5432/app",
                "postgres://u:<redacted>@db:5432/app",
            ),
            (
                "postgres://u@db/app?sslmode=require&password=secret",
                "postgres://u@db/app?sslmode=require&password=<redacted>",
            ),
            (
                "sqlite:///var/lib/tessera/tessera.db",
                "sqlite:///var/lib/tessera/tessera.db",
            ),
            ("postgres://db/app?user=u", "postgres://db/app?user=u"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }

    #[test]
    fn tooling_variables_are_not_settings() {
        let sources = Sources {
            env: env(&[
                ("TESSERA_PYTHON", "/x/.venv/bin/python"),
                ("TESSERA_PG_DIR", "/tmp/pg"),
                ("TESSERA_TEST_DATABASE_URL", "postgres://u:p@127.0.0.1/t"),
            ]),
            ..Default::default()
        };
        assert!(Settings::load(&sources).is_ok());
    }

    #[test]
    fn defaults_match_the_documentation() {
        let s = Settings::load(&Sources::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(s.data_dir, PathBuf::from("./tessera-data"));
        assert_eq!(s.access_token_lifetime, Duration::from_secs(300));
        assert_eq!(s.refresh_token_lifetime, Duration::from_secs(86_400));
        assert!(s.rotate_refresh_tokens);
        assert_eq!(s.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(s.algorithm, Algorithm::HS256);
        assert_eq!(s.auth_header_types, vec!["Bearer"]);
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\naccess_token_lifetime = \"10m\"\nleeway = 3\nrotate_refresh_tokens = false\n",
        )
        .unwrap();
        let s = Settings::load(&Sources {
            config_file: Some(file),
            env: env(&[
                ("TESSERA_ACCESS_TOKEN_LIFETIME", "15m"),
                ("TESSERA_LISTEN", "127.0.0.1:9100"),
                ("TESSERA_AUTH_HEADER_TYPES", "Bearer, JWT"),
                ("HOME", "/root"),
            ]),
            overrides: vec![("listen".into(), "127.0.0.1:9200".into())],
        })
        .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9200");
        assert_eq!(s.access_token_lifetime, Duration::from_secs(900));
        assert_eq!(s.leeway, Duration::from_secs(3));
        assert!(!s.rotate_refresh_tokens);
        assert_eq!(s.auth_header_types, vec!["Bearer", "JWT"]);
    }

    #[test]
    fn config_file_comes_from_tessera_config() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "algorithm = \"HS512\"\n").unwrap();
        let s = Settings::load(&Sources {
            env: env(&[("TESSERA_CONFIG", file.to_str().unwrap())]),
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(s.algorithm, Algorithm::HS512);
    }

    #[test]
    fn unknown_keys_are_errors_in_every_layer() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "acess_token_lifetime = \"5m\"\n").unwrap();
        let err = Settings::load(&Sources {
            config_file: Some(file),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("acess_token_lifetime"), "{err}");

        let err = Settings::load(&Sources {
            env: env(&[("TESSERA_LISTN", "x")]),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("TESSERA_LISTN"), "{err}");

        let err = Settings::load(&Sources {
            overrides: vec![("nope".into(), "1".into())],
            ..Sources::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn bad_values_are_errors() {
        for (k, v) in [
            ("TESSERA_ALGORITHM", "none"),
            ("TESSERA_LISTEN", "localhost"),
            ("TESSERA_ROTATE_REFRESH_TOKENS", "maybe"),
            ("TESSERA_ACCESS_TOKEN_LIFETIME", "soon"),
            ("TESSERA_PASSWORD_HASH_MEMORY_KIB", "1"),
            ("TESSERA_PRUNE_INTERVAL", "0s"),
            ("TESSERA_REFRESH_TOKEN_LIFETIME", "0"),
            ("TESSERA_ACCESS_TOKEN_LIFETIME", "100years"),
            ("TESSERA_LOG_FORMAT", "xml"),
            ("TESSERA_METRICS_LISTEN", "localhost"),
            ("TESSERA_TLS_CERT_FILE", "cert.pem"),
            ("TESSERA_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TESSERA_LOGIN_LOCKOUT", "0s"),
            ("TESSERA_LOGIN_LOCKOUT_MAX", "1s"),
            ("TESSERA_LOGIN_MAX_FAILURES_PER_USERNAME", "-1"),
        ] {
            assert!(
                Settings::load(&Sources {
                    env: env(&[(k, v)]),
                    ..Sources::default()
                })
                .is_err(),
                "{k}={v} accepted"
            );
        }
    }

    #[test]
    fn operations_settings_load() {
        let s = Settings::load(&Sources {
            env: env(&[
                ("TESSERA_LOG_FORMAT", "json"),
                ("TESSERA_SHUTDOWN_TIMEOUT", "5s"),
                ("TESSERA_METRICS_LISTEN", "127.0.0.1:9100"),
                ("TESSERA_TLS_CERT_FILE", "/etc/tessera/cert.pem"),
                ("TESSERA_TLS_KEY_FILE", "/etc/tessera/key.pem"),
            ]),
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.shutdown_timeout, Duration::from_secs(5));
        assert_eq!(s.shutdown_delay, Duration::ZERO);
        assert_eq!(s.metrics_listen.unwrap().to_string(), "127.0.0.1:9100");
        assert!(s.tls_key_file.is_some());
        let d = Settings::default();
        assert_eq!(d.log_format, LogFormat::Auto);
        assert_eq!(d.shutdown_timeout, Duration::from_secs(30));
        assert!(d.metrics_listen.is_none() && d.tls_cert_file.is_none());
    }

    #[test]
    fn login_throttle_settings_load() {
        let d = Settings::default();
        assert_eq!(
            (
                d.login_max_failures_per_username,
                d.login_max_failures_per_address
            ),
            (5, 20)
        );
        assert_eq!(d.login_failure_window, Duration::from_secs(900));
        assert!(d.trusted_proxies.is_empty());
        let s = Settings::load(&Sources {
            env: env(&[
                ("TESSERA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1"),
                ("TESSERA_LOGIN_MAX_FAILURES_PER_ADDRESS", "0"),
                ("TESSERA_LOGIN_LOCKOUT", "30s"),
            ]),
            ..Sources::default()
        })
        .unwrap();
        let shown: Vec<String> = s.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        assert_eq!(s.login_max_failures_per_address, 0);
        assert_eq!(s.login_lockout, Duration::from_secs(30));
        // `config check` output loads back.
        let table: toml::Table = toml::from_str(&s.redacted()).unwrap();
        assert_eq!(
            table["trusted_proxies"].as_array().unwrap()[1].as_str(),
            Some("10.0.0.0/8")
        );
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::load(&Sources {
            env: env(&[
                ("TESSERA_SIGNING_KEY", "super-secret-value-0123456789abcdef"),
                ("TESSERA_DATABASE_URL", "postgres://u:hunter2@db/tessera"),
            ]),
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(
            s.signing_key.as_ref().unwrap().expose_secret(),
            "super-secret-value-0123456789abcdef"
        );
        let shown = format!("{s:?}\n{}", s.redacted());
        assert!(!shown.contains("super-secret-value"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
        // The output is valid TOML and loads back to the same settings.
        let table: toml::Table = toml::from_str(&s.redacted()).unwrap();
        assert_eq!(table["listen"].as_str(), Some("127.0.0.1:8000"));
    }

    #[test]
    fn invalid_toml_does_not_echo_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "signing_key = \"topsecretvalue\n").unwrap();
        let err = Settings::load(&Sources {
            config_file: Some(file),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(!err.to_string().contains("topsecretvalue"), "{err}");
    }
}
