//! One module per `tessera` subcommand.
//!
//! Each module exposes a clap `Args` struct and `pub(crate) fn run(args) -> anyhow::Result<ExitCode>`;
//! `main.rs` adds one `Command` variant per module. Helpers shared by several commands live here.

pub(crate) mod config;
pub(crate) mod keys;
pub(crate) mod migrate;
pub(crate) mod serve;
pub(crate) mod token;
pub(crate) mod user;

use std::ffi::OsStr;
use std::fmt;
use std::io::Read;
use std::path::Path;

use anyhow::Context as _;
use clap::builder::{PossibleValue, TypedValueParser};
use tessera_jwt::Algorithm;

/// A mistake in how the command was invoked that clap cannot see by itself (e.g. `--secret`
/// with an RSA algorithm). `main` reports it like clap does, with exit code 2.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns a [`UsageError`] wrapped for `?`.
pub(crate) fn usage_error<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError(message.into()).into())
}

/// Parses `--alg` with the exact, case-sensitive JOSE names and lists them in `--help`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AlgorithmParser;

impl TypedValueParser for AlgorithmParser {
    type Value = Algorithm;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Algorithm, clap::Error> {
        let invalid = || {
            let mut err = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            if let Some(arg) = arg {
                err.insert(
                    clap::error::ContextKind::InvalidArg,
                    clap::error::ContextValue::String(arg.to_string()),
                );
            }
            err.insert(
                clap::error::ContextKind::InvalidValue,
                clap::error::ContextValue::String(value.to_string_lossy().into_owned()),
            );
            err.insert(
                clap::error::ContextKind::ValidValue,
                clap::error::ContextValue::Strings(
                    Algorithm::ALL
                        .iter()
                        .map(|a| a.as_str().to_owned())
                        .collect(),
                ),
            );
            err
        };
        value
            .to_str()
            .and_then(|s| s.parse::<Algorithm>().ok())
            .ok_or_else(invalid)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            Algorithm::ALL
                .iter()
                .map(|a| PossibleValue::new(a.as_str())),
        ))
    }
}

/// Whether `alg` is one of the RSA algorithms (RS* PKCS#1 v1.5 or PS* PSS, RFC 7518 §3.3/§3.5).
pub(crate) fn is_rsa(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    )
}

/// The token argument: the token itself, or `-` to read it from stdin. Surrounding whitespace
/// (a trailing newline from `echo` or a file) is removed.
pub(crate) fn read_token(arg: &str) -> anyhow::Result<String> {
    let token = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the token from stdin")?;
        text.trim().to_owned()
    } else {
        arg.trim().to_owned()
    };
    if token.is_empty() {
        anyhow::bail!("no token given");
    }
    Ok(token)
}

/// Reads an HMAC secret from a file. One trailing line ending (`\n` or `\r\n`) is removed, so a
/// secret written by an editor or `echo` works; every other byte is part of the secret.
pub(crate) fn read_secret_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes =
        std::fs::read(path).with_context(|| format!("reading secret file {}", path.display()))?;
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    if bytes.is_empty() {
        anyhow::bail!("secret file {} is empty", path.display());
    }
    Ok(bytes)
}
