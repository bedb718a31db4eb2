//! `tessera keys generate`.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use tessera_jwt::{Algorithm, Key};

use super::AlgorithmParser;
use crate::output;

/// Arguments of `tessera keys`.
#[derive(Args)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generate a new signing key and write it to files.
    ///
    /// For RS*, PS*, ES* and EdDSA, writes three files into DIR:
    ///
    ///   <alg>-private.pem       the private key, PKCS#8 PEM, file mode 0600
    ///   <alg>-public.pem        the public key, SPKI PEM
    ///   <alg>-public.jwk.json   the public key as a JWK (with "alg", "use" and "kid")
    ///
    /// and prints their paths and the key id (kid: the RFC 7638 thumbprint, which
    /// `tessera token encode` puts in the header by default). RSA keys are 2048 bits.
    ///
    /// For HS256, HS384 and HS512, writes one file, <alg>-secret.txt (mode 0600): a
    /// random secret as base64url text, encoding as many random bytes as the hash output
    /// (RFC 7518 §3.2). The text itself is the secret, as with simplejwt's SIGNING_KEY,
    /// so it works unchanged with `--secret-file` and as the server's signing_key_file.
    /// HMAC secrets have no kid.
    ///
    /// <alg> is the algorithm name in lower case (es256-private.pem). Existing files are never
    /// overwritten unless --force is given.
    #[command(verbatim_doc_comment)]
    Generate(GenerateArgs),
}

#[derive(Args)]
struct GenerateArgs {
    /// Algorithm the key is for.
    #[arg(long, value_name = "ALG", value_parser = AlgorithmParser)]
    alg: Algorithm,
    /// Directory to write the files into (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

/// Runs `tessera keys …`.
pub(crate) fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::Generate(args) => generate(&args),
    }
}

/// A file to write: name, contents, and whether it is secret (mode 0600).
struct Output {
    name: String,
    contents: String,
    secret: bool,
}

fn generate(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let alg = args.alg;
    let prefix = alg.as_str().to_ascii_lowercase();
    let key = Key::generate(alg)
        .map_err(anyhow::Error::new)
        .with_context(|| format!("generating an {alg} key"))?;

    let files = if alg.is_hmac() {
        vec![Output {
            name: format!("{prefix}-secret.txt"),
            contents: hmac_secret_text(&key)?,
            secret: true,
        }]
    } else {
        let jwk = key
            .to_public_jwk()
            .context("the generated key has no public JWK")?;
        vec![
            Output {
                name: format!("{prefix}-private.pem"),
                contents: key.to_pkcs8_pem().map_err(anyhow::Error::new)?,
                secret: true,
            },
            Output {
                name: format!("{prefix}-public.pem"),
                contents: key.to_public_pem().map_err(anyhow::Error::new)?,
                secret: false,
            },
            Output {
                name: format!("{prefix}-public.jwk.json"),
                contents: serde_json::to_string_pretty(&jwk)? + "\n",
                secret: false,
            },
        ]
    };

    fs::create_dir_all(&args.out)
        .with_context(|| format!("creating directory {}", args.out.display()))?;
    let paths: Vec<PathBuf> = files.iter().map(|f| args.out.join(&f.name)).collect();
    // Check every target before writing any, so a refusal leaves nothing half-written.
    if !args.force {
        for path in &paths {
            // symlink_metadata: a dangling symlink also counts as "exists".
            if path.symlink_metadata().is_ok() {
                bail!(
                    "{} already exists; pass --force to overwrite it",
                    path.display()
                );
            }
        }
    }
    for (file, path) in files.iter().zip(&paths) {
        write_new(path, &file.contents, file.secret, args.force)?;
    }

    let mut report = Vec::new();
    for (file, path) in files.iter().zip(&paths) {
        let note = if file.secret {
            " (secret, mode 0600)"
        } else {
            ""
        };
        report.push(format!("wrote {}{note}", path.display()));
    }
    match key.kid() {
        Some(kid) => report.push(format!("kid: {kid}")),
        None => report
            .push("kid: none (HMAC secrets have no kid; `token encode --kid` sets one)".to_owned()),
    }
    output::print_line(&report.join("\n"))?;
    Ok(ExitCode::SUCCESS)
}

/// The HMAC secret as text: the base64url `k` of the generated key's JWK, which holds
/// hash-output-length random bytes. Using that text (not the raw bytes) as the secret keeps all
/// of their entropy and gives a secret that fits in a config value or environment variable.
fn hmac_secret_text(key: &Key) -> anyhow::Result<String> {
    let jwk = key.to_private_jwk().map_err(anyhow::Error::new)?;
    let value = serde_json::to_value(&jwk)?;
    let secret = value
        .get("k")
        .and_then(serde_json::Value::as_str)
        .context("the generated HMAC key has no \"k\" member")?
        .to_owned();
    // The text must itself be a valid secret for this algorithm (at least the hash length).
    Key::hmac(key.algorithm(), secret.as_bytes())
        .map_err(anyhow::Error::new)
        .context("the generated secret is unusable")?;
    Ok(secret)
}

/// Writes a new file; with `force`, replaces an existing one rather than writing through it
/// (so an existing file's looser mode, or a symlink, cannot expose the new secret).
fn write_new(path: &Path, contents: &str, secret: bool, force: bool) -> anyhow::Result<()> {
    if force && path.symlink_metadata().is_ok() {
        fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
