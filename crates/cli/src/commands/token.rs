//! `tessera token decode|verify|encode`.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{ArgGroup, Args, Subcommand};
use serde_json::{Map, Value};
use tessera_jwt::{Algorithm, ErrorKind, Key, KeySet, Validation, danger};

use super::{AlgorithmParser, read_secret_file, read_token, usage_error};
use crate::{clock, keyfile, output, timefmt};

/// Arguments of `tessera token`.
#[derive(Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

// No `Debug` derives on argument structs here: they may hold `--secret`, which must never print.
#[derive(Subcommand)]
enum TokenCommand {
    /// Show a token's header and claims, WITHOUT verifying its signature (no key needed).
    Decode(DecodeArgs),
    /// Verify a token's signature and claims; print its payload if valid.
    ///
    /// Exit status: 0 valid (payload JSON on stdout), 1 invalid (reason on stderr), 2 usage error.
    Verify(VerifyArgs),
    /// Create a signed token; print it on stdout.
    Encode(EncodeArgs),
}

#[derive(Args)]
struct DecodeArgs {
    /// The token, or `-` to read it from stdin.
    #[arg(value_name = "TOKEN|-")]
    token: String,
    /// Print exactly one compact JSON object, {"header":{…},"payload":{…}}.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(group(ArgGroup::new("key_source").required(true).args(["key", "jwks", "secret", "secret_file"])))]
struct VerifyArgs {
    /// The token, or `-` to read it from stdin.
    #[arg(value_name = "TOKEN|-")]
    token: String,
    /// Key file: PEM or DER (private or public), or a JWK. The algorithm comes from --alg or the
    /// key (Ed25519 → EdDSA, P-256 → ES256, …); an RSA key without --alg accepts the token's alg
    /// only if that is an RSA algorithm.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// JWK set file ({"keys":[…]}); the key is chosen by the token's kid and alg.
    #[arg(long, value_name = "FILE")]
    jwks: Option<PathBuf>,
    /// HMAC secret (HS256 unless --alg). Visible to other local users in the process list:
    /// prefer --secret-file.
    // Generated secrets are base64url and may begin with `-`: take them as values.
    #[arg(long, value_name = "STRING", allow_hyphen_values = true)]
    secret: Option<String>,
    /// File holding the HMAC secret (one trailing newline is ignored).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// The only algorithm to accept.
    #[arg(long, value_name = "ALG", value_parser = AlgorithmParser)]
    alg: Option<Algorithm>,
    /// Require this audience in `aud` (repeat to accept any of several).
    #[arg(long, value_name = "AUD")]
    aud: Vec<String>,
    /// Require this issuer in `iss`.
    #[arg(long, value_name = "ISS")]
    iss: Option<String>,
    /// Seconds of clock skew tolerated for exp, nbf and iat.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    leeway: u64,
}

#[derive(Args)]
#[command(group(ArgGroup::new("key_source").required(true).args(["key", "secret", "secret_file"])))]
struct EncodeArgs {
    /// Signing algorithm.
    #[arg(long, value_name = "ALG", value_parser = AlgorithmParser)]
    alg: Algorithm,
    /// Private key file: PEM, DER or JWK (e.g. from `tessera keys generate`).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// HMAC secret. Visible to other local users in the process list: prefer --secret-file.
    // Generated secrets are base64url and may begin with `-`: take them as values.
    #[arg(long, value_name = "STRING", allow_hyphen_values = true)]
    secret: Option<String>,
    /// File holding the HMAC secret (one trailing newline is ignored).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Key id for the header (default: the key's RFC 7638 thumbprint; none for HMAC).
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Claims: a JSON object, or @FILE to read it from a file (@- for stdin). Order is kept.
    #[arg(long, value_name = "JSON|@FILE")]
    claims: Option<String>,
    /// Set `exp` to now + DURATION (e.g. 30s, 5m, 1h30m, 1d), and `iat` to now if absent.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    exp: Option<std::time::Duration>,
}

/// Runs `tessera token …`.
pub(crate) fn run(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let now = clock::now();
    match args.command {
        TokenCommand::Decode(args) => decode(&args, now),
        TokenCommand::Verify(args) => verify(args, now),
        TokenCommand::Encode(args) => encode(args, now),
    }
}

fn decode(args: &DecodeArgs, now: u64) -> anyhow::Result<ExitCode> {
    let token = read_token(&args.token)?;
    // The library's message already names the problem ("malformed token: invalid JSON").
    let decoded = danger::decode_unverified(&token)?;
    if args.json {
        let object = serde_json::json!({ "header": decoded.header, "payload": decoded.claims });
        output::print_line(&object.to_string())?;
    } else {
        output::print_line(&pretty(&decoded, now)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The readable view of `token decode`.
fn pretty(decoded: &danger::UnverifiedToken, now: u64) -> anyhow::Result<String> {
    let mut text = String::from(
        "Signature: NOT VERIFIED (decoding needs no key and proves nothing; \
         use `tessera token verify` to check it)\n\n",
    );
    text.push_str("Header:\n");
    text.push_str(&serde_json::to_string_pretty(&decoded.header)?);
    text.push_str("\n\nPayload:\n");
    text.push_str(&serde_json::to_string_pretty(&decoded.claims)?);
    text.push('\n');

    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let times: Vec<String> = [
        ("exp", "Expires:         "),
        ("iat", "Issued at:       "),
        ("nbf", "Not valid before:"),
    ]
    .into_iter()
    .filter_map(|(claim, label)| {
        let value = decoded.claims.get(claim)?;
        Some(format!("{label} {}", describe_time(claim, value, now)))
    })
    .collect();
    if !times.is_empty() {
        text.push('\n');
        text.push_str(&times.join("\n"));
        text.push('\n');
    }
    text.push_str(&format!(
        "\nSignature: {} bytes, not verified\n",
        decoded.signature.len()
    ));
    Ok(text.trim_end().to_owned())
}

/// One time claim as `2026-12-04 14:52:03 UTC (expires in 4m 12s)`.
fn describe_time(claim: &str, value: &Value, now: i64) -> String {
    // RFC 7519 §2: a NumericDate is a JSON number of seconds, possibly non-integer.
    let secs = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 1e17)
            // Truncation toward -inf is intended: a date is shown to the second.
            .map(|f| f.floor() as i64)
    });
    let Some((seconds, date)) = secs.and_then(|s| Some((s, timefmt::utc_date(s)?))) else {
        return if value.is_number() {
            format!("{value} (out of range)")
        } else {
            format!("{value} (not a NumericDate)")
        };
    };
    let phrase = match claim {
        "exp" => timefmt::exp_phrase(seconds, now),
        "iat" => timefmt::iat_phrase(seconds, now),
        _ => timefmt::nbf_phrase(seconds, now),
    };
    format!("{date} ({phrase})")
}

fn verify(args: VerifyArgs, now: u64) -> anyhow::Result<ExitCode> {
    let token = read_token(&args.token)?;
    // Only ever used to name the algorithm in an error, or to pick among the RSA algorithms for
    // an RSA key given without --alg (see `keyfile`).
    let header_alg = || {
        danger::decode_unverified(&token)
            .ok()
            .and_then(|t| t.header.get("alg")?.as_str()?.parse::<Algorithm>().ok())
    };

    let keys = if let Some(path) = &args.key {
        KeySet::from(keyfile::load(path, args.alg, header_alg)?)
    } else if let Some(path) = &args.jwks {
        let json = std::fs::read_to_string(path)
            .with_context(|| format!("reading JWK set {}", path.display()))?;
        let all = KeySet::from_jwks(&json).map_err(|err| {
            let single = serde_json::from_str::<Value>(&json)
                .is_ok_and(|v| v.get("kty").is_some() && v.get("keys").is_none());
            let hint = if single {
                " (it holds a single JWK: pass it with --key)"
            } else {
                ""
            };
            anyhow::Error::new(err)
                .context(format!("{} is not a usable JWK set{hint}", path.display()))
        })?;
        let mut keys = KeySet::new();
        for key in all
            .iter()
            .filter(|k| args.alg.is_none_or(|a| k.algorithm() == a))
        {
            keys.push(key.clone());
        }
        if keys.is_empty() {
            bail!("{} has no usable verification key", path.display());
        }
        keys
    } else {
        KeySet::from(hmac_key(
            args.alg,
            args.secret,
            args.secret_file.as_deref(),
        )?)
    };

    let mut validation = Validation::new().leeway(args.leeway);
    for aud in args.aud {
        validation = validation.audience(aud);
    }
    if let Some(iss) = args.iss {
        validation = validation.issuer(iss);
    }

    match tessera_jwt::decode::<Map<String, Value>>(&token, &keys, &validation, now) {
        Ok(data) => {
            output::print_line(&Value::Object(data.claims).to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => match rejection_reason(err.kind(), header_alg(), &keys) {
            Some(reason) => Err(anyhow::anyhow!(reason)),
            // The library's message carries the detail ("malformed token: non-canonical
            // base64url", "invalid key: ...").
            None => Err(err.into()),
        },
    }
}

/// The short reason printed for an invalid token, where it says more than the library's own
/// message; `None` to print the library's message. The token itself is never printed.
fn rejection_reason(
    kind: &ErrorKind,
    header_alg: Option<Algorithm>,
    keys: &KeySet,
) -> Option<String> {
    let reason = match kind {
        ErrorKind::UnsupportedAlgorithm => "unsupported algorithm in the token header".to_owned(),
        ErrorKind::NoMatchingKey => {
            let mut algs: Vec<&str> = keys.iter().map(|k| k.algorithm().as_str()).collect();
            algs.sort_unstable();
            algs.dedup();
            let token_alg = header_alg.map_or("?", |a| a.as_str());
            format!(
                "wrong algorithm or key id: the token is {token_alg}, the key(s) are {}",
                algs.join(", ")
            )
        }
        ErrorKind::InvalidSignature => "invalid signature".to_owned(),
        ErrorKind::Expired => "token expired".to_owned(),
        ErrorKind::NotYetValid => "token not valid yet (nbf is in the future)".to_owned(),
        ErrorKind::IssuedInFuture => "token issued in the future (iat)".to_owned(),
        ErrorKind::MissingClaim(claim) => format!("missing required \"{claim}\" claim"),
        ErrorKind::ClaimMismatch(claim) => format!("\"{claim}\" claim does not match"),
        _ => return None,
    };
    Some(reason)
}

/// An HMAC key from --secret or --secret-file (one of them is set; clap checked that).
fn hmac_key(
    alg: Option<Algorithm>,
    secret: Option<String>,
    secret_file: Option<&std::path::Path>,
) -> anyhow::Result<Key> {
    let alg = alg.unwrap_or(Algorithm::HS256);
    if !alg.is_hmac() {
        return usage_error(format!(
            "--secret and --secret-file are HMAC secrets (HS256, HS384, HS512), not {alg} keys; \
             use --key"
        ));
    }
    let bytes = match (secret, secret_file) {
        (Some(secret), _) => secret.into_bytes(),
        (None, Some(path)) => read_secret_file(path)?,
        (None, None) => return usage_error("an HMAC secret is required"),
    };
    Key::hmac(alg, &bytes)
        .map_err(anyhow::Error::new)
        .with_context(|| format!("unusable {alg} secret"))
}

fn encode(args: EncodeArgs, now: u64) -> anyhow::Result<ExitCode> {
    let mut claims = match &args.claims {
        Some(arg) => parse_claims(arg)?,
        None => Map::new(),
    };
    if let Some(lifetime) = args.exp {
        let exp = now
            .checked_add(lifetime.as_secs())
            .context("--exp is too far in the future")?;
        // `insert` keeps an existing member's position (preserve_order); a new one goes last.
        claims.insert("exp".to_owned(), exp.into());
        claims.entry("iat").or_insert_with(|| now.into());
    }

    let key = match &args.key {
        Some(path) => keyfile::load(path, Some(args.alg), || None)?,
        None => hmac_key(Some(args.alg), args.secret, args.secret_file.as_deref())?,
    };
    if !key.can_sign() {
        bail!("the key is a public key; encoding needs the private key");
    }
    let key = match args.kid {
        Some(kid) => key.with_kid(kid),
        None => key,
    };
    let token = tessera_jwt::encode(&key, &claims)
        .map_err(anyhow::Error::new)
        .context("cannot sign the token")?;
    output::print_line(&token)?;
    Ok(ExitCode::SUCCESS)
}

/// `--claims JSON|@FILE|@-` as a JSON object, members in their original order.
fn parse_claims(arg: &str) -> anyhow::Result<Map<String, Value>> {
    let (text, origin) = match arg.strip_prefix('@') {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading claims from stdin")?;
            (text, "stdin".to_owned())
        }
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| format!("reading claims file {path}"))?,
            path.to_owned(),
        ),
        None => (arg.to_owned(), "--claims".to_owned()),
    };
    let Strict(value) =
        serde_json::from_str(&text).with_context(|| format!("{origin} is not valid JSON"))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => bail!("{origin} must be a JSON object"),
    }
}

/// A JSON value read like `serde_json::Value`, except that a member name repeated in an object,
/// at any depth, is an error: the library refuses such tokens (RFC 8725 §3.11 strictness), so
/// `encode` must not quietly keep the last value.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate member {name:?}"
                )));
            }
            let Strict(value) = map.next_value()?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}
