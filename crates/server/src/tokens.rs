//! Minting and validating access and refresh tokens (reference §3).
//!
//! Payloads are exactly simplejwt 5.5.1's: `token_type`, `exp`, `iat`, `jti` (32 lowercase hex),
//! `user_id` (a string), then `aud`/`iss` when configured, in that order, compact JSON — so a
//! simplejwt server sharing the HS256 secret accepts them. Validation follows reference §3.6:
//! signature and registered claims first (the JOSE core, with `now` from our clock), then `exp`
//! presence, `jti` presence, token type — each failure mapped to simplejwt's message.

use serde_json::{Map, Value};
use tessera_jwt::{ErrorKind, Validation};

use crate::config::Settings;
use crate::error::TokenRejection;
use crate::keys::Keys;

/// The two token types the service issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    /// Short-lived, sent as `Authorization: Bearer`.
    Access,
    /// Long-lived, traded at `/api/token/refresh/`.
    Refresh,
}

impl TokenType {
    /// The `token_type` claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
        }
    }
}

/// A token whose signature and claims were validated.
#[derive(Debug, Clone)]
pub struct ValidatedToken {
    /// All claims.
    pub claims: Map<String, Value>,
    /// The `jti` claim.
    pub jti: String,
    /// `iat` in whole seconds (0 when absent).
    pub iat: i64,
    /// `exp` in whole seconds.
    pub exp: i64,
}

/// What the user-id claim holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserIdClaim {
    /// No such claim.
    Missing,
    /// Present but not a user id of this service (simplejwt answers 500 here).
    Unusable,
    /// A numeric id, from `"1"` or `1`.
    Id(i64),
}

/// Token minting and validation with the service's keys and claim settings.
#[derive(Clone, Debug)]
pub struct Tokens {
    keys: Keys,
    validation: Validation,
    access_lifetime: i64,
    refresh_lifetime: i64,
    user_id_claim: String,
    token_type_claim: String,
    jti_claim: String,
    audience: Option<String>,
    issuer: Option<String>,
}

/// Minting failed (a signing backend failure; never caused by client input).
#[derive(Debug, thiserror::Error)]
#[error("signing a token failed: {0}")]
pub struct MintError(String);

impl Tokens {
    /// Builds the token service from settings and loaded keys.
    pub fn new(settings: &Settings, keys: Keys) -> Tokens {
        let mut validation = Validation::new().leeway(settings.leeway.as_secs());
        if let Some(aud) = &settings.audience {
            validation = validation.audience(aud.clone());
        }
        if let Some(iss) = &settings.issuer {
            validation = validation.issuer(iss.clone());
        }
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Tokens {
            keys,
            validation,
            access_lifetime: secs(settings.access_token_lifetime),
            refresh_lifetime: secs(settings.refresh_token_lifetime),
            user_id_claim: settings.user_id_claim.clone(),
            token_type_claim: settings.token_type_claim.clone(),
            jti_claim: settings.jti_claim.clone(),
            audience: settings.audience.clone(),
            issuer: settings.issuer.clone(),
        }
    }

    /// The keys in use.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Access-token lifetime in seconds.
    pub fn access_lifetime(&self) -> i64 {
        self.access_lifetime
    }

    /// Refresh-token lifetime in seconds.
    pub fn refresh_lifetime(&self) -> i64 {
        self.refresh_lifetime
    }

    /// Signs a token of `kind` for `user_id` with the given identity and times.
    pub fn mint(
        &self,
        kind: TokenType,
        user_id: i64,
        jti: &str,
        iat: i64,
        exp: i64,
    ) -> Result<String, MintError> {
        let mut claims = Map::new();
        claims.insert(self.token_type_claim.clone(), kind.as_str().into());
        claims.insert("exp".to_owned(), exp.into());
        claims.insert("iat".to_owned(), iat.into());
        claims.insert(self.jti_claim.clone(), jti.into());
        // simplejwt ≥ 5.5.1 always emits the id as a string (PR #887).
        claims.insert(self.user_id_claim.clone(), user_id.to_string().into());
        if let Some(aud) = &self.audience {
            claims.insert("aud".to_owned(), aud.as_str().into());
        }
        if let Some(iss) = &self.issuer {
            claims.insert("iss".to_owned(), iss.as_str().into());
        }
        tessera_jwt::encode(self.keys.signing(), &claims).map_err(|e| MintError(e.to_string()))
    }

    /// Validates `token` at `now`; `expected = None` skips the type check (verify endpoint).
    pub fn validate(
        &self,
        token: &str,
        expected: Option<TokenType>,
        now: i64,
    ) -> Result<ValidatedToken, TokenRejection> {
        let now = u64::try_from(now).unwrap_or(0);
        let data = tessera_jwt::decode::<Map<String, Value>>(
            token,
            self.keys.verifying(),
            &self.validation,
            now,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::Expired => TokenRejection::Expired,
            ErrorKind::MissingClaim(name) if name == "exp" => TokenRejection::NoExp,
            _ => TokenRejection::Invalid,
        })?;
        let claims = data.claims;
        let exp = claims
            .get("exp")
            .and_then(numeric_date)
            .ok_or(TokenRejection::NoExp)?;
        let iat = claims.get("iat").and_then(numeric_date).unwrap_or(0);
        // PyJWT ≥ 2.10 refuses a non-string `sub` or `jti` ("Token is invalid").
        if claims.get("sub").is_some_and(|v| !v.is_string()) {
            return Err(TokenRejection::Invalid);
        }
        let jti = match claims.get(&self.jti_claim) {
            None => return Err(TokenRejection::NoId),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(TokenRejection::Invalid),
        };
        if let Some(kind) = expected {
            match claims.get(&self.token_type_claim) {
                None => return Err(TokenRejection::NoType),
                Some(Value::String(t)) if t == kind.as_str() => {}
                Some(_) => return Err(TokenRejection::WrongType),
            }
        }
        Ok(ValidatedToken {
            claims,
            jti,
            iat,
            exp,
        })
    }

    /// Reads the user-id claim (`"1"` and `1` both accepted, as simplejwt).
    pub fn user_id(&self, token: &ValidatedToken) -> UserIdClaim {
        // Only an absent claim is "missing": simplejwt looks up any present value, so `null`
        // and `""` end as "User not found" (or its 500) there, and as `Unusable` here.
        match token.claims.get(&self.user_id_claim) {
            None => UserIdClaim::Missing,
            Some(Value::String(s)) => parse_id(s).map_or(UserIdClaim::Unusable, UserIdClaim::Id),
            Some(Value::Number(n)) => n.as_i64().map_or(UserIdClaim::Unusable, UserIdClaim::Id),
            Some(_) => UserIdClaim::Unusable,
        }
    }
}

/// A canonical positive decimal id ("01" and "+1" are not ids).
fn parse_id(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0')
    {
        return None;
    }
    s.parse().ok()
}

/// An already-validated NumericDate as whole seconds (fractions truncated, like simplejwt).
fn numeric_date(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                // Range-checked by the JOSE core already; `as` saturates anyway.
                .map(|f| f.trunc() as i64)
        }),
        _ => None,
    }
}

/// A new random identifier: 128 bits from the OS CSPRNG as 32 lowercase hex characters, the
/// shape of simplejwt's `uuid4().hex` `jti`.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    // Without an OS random source nothing secure can be done; failing loudly is right.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        let settings = Settings {
            signing_key: Some("0123456789abcdef0123456789abcdef0123456789abcdef".into()),
            ..Settings::default()
        };
        Tokens::new(&settings, Keys::load(&settings).unwrap())
    }

    fn payload(token: &str) -> String {
        use base64::Engine as _;
        let part = token.split('.').nth(1).unwrap();
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn payload_layout_is_simplejwts() {
        let t = tokens();
        let token = t
            .mint(
                TokenType::Refresh,
                7,
                "0123456789abcdef0123456789abcdef",
                1_000,
                2_000,
            )
            .unwrap();
        assert_eq!(
            payload(&token),
            r#"{"token_type":"refresh","exp":2000,"iat":1000,"jti":"0123456789abcdef0123456789abcdef","user_id":"7"}"#
        );
        let v = t.validate(&token, Some(TokenType::Refresh), 1_500).unwrap();
        assert_eq!(
            (v.iat, v.exp, t.user_id(&v)),
            (1_000, 2_000, UserIdClaim::Id(7))
        );
        assert_eq!(
            t.validate(&token, Some(TokenType::Access), 1_500)
                .unwrap_err(),
            TokenRejection::WrongType
        );
        assert!(t.validate(&token, None, 1_500).is_ok());
        assert_eq!(
            t.validate(&token, None, 2_000).unwrap_err(),
            TokenRejection::Expired
        );
    }

    #[test]
    fn ids_are_32_lowercase_hex_and_distinct() {
        let a = new_id();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(a, new_id());
    }

    #[test]
    fn user_ids_parse_strictly() {
        assert_eq!(parse_id("12"), Some(12));
        for bad in ["", "abc", "01", "-1", "+1", "1.0", "99999999999999999999"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
