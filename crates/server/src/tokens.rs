//! Minting and validating access and refresh tokens (reference §3).
//!
//! Payloads are exactly simplejwt 5.5.1's: `token_type`, `exp`, `iat`, `jti` (32 lowercase hex),
//! `user_id` (a string), then `aud`/`iss` when configured, in that order, compact JSON — so a
//! simplejwt server sharing the HS256 secret accepts them. Validation follows reference §3.6:
//! signature and registered claims first (the JOSE core, with `now` from our clock), then `exp`
//! presence, `jti` presence, token type — each failure mapped to simplejwt's message.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Map;
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
    /// The `jti` claim.
    pub jti: String,
    /// `iat` in whole seconds (0 when absent).
    pub iat: i64,
    /// `exp` in whole seconds.
    pub exp: i64,
    /// The token-type claim, when it is a string.
    pub token_type: Option<String>,
    /// What the user-id claim holds.
    pub user_id: UserIdClaim,
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
        // The claims this service reads, picked out under their configured names while the
        // payload is deserialized: no map of every claim is built per request.
        let seed = ClaimsSeed {
            jti: &self.jti_claim,
            token_type: &self.token_type_claim,
            user_id: &self.user_id_claim,
        };
        let claims =
            tessera_jwt::decode_seed(token, self.keys.verifying(), &self.validation, now, seed)
                .map_err(|e| match e.kind() {
                    ErrorKind::Expired => TokenRejection::Expired,
                    ErrorKind::MissingClaim(name) if name == "exp" => TokenRejection::NoExp,
                    _ => TokenRejection::Invalid,
                })?
                .claims;
        let exp = claims
            .exp
            .as_ref()
            .and_then(Claim::numeric_date)
            .ok_or(TokenRejection::NoExp)?;
        let iat = claims
            .iat
            .as_ref()
            .and_then(Claim::numeric_date)
            .unwrap_or(0);
        // PyJWT ≥ 2.10 refuses a non-string `sub` or `jti` ("Token is invalid").
        if claims
            .sub
            .as_ref()
            .is_some_and(|v| !matches!(v, Claim::Str(_)))
        {
            return Err(TokenRejection::Invalid);
        }
        let jti = match claims.jti {
            None => return Err(TokenRejection::NoId),
            Some(Claim::Str(s)) if !s.is_empty() => s,
            Some(_) => return Err(TokenRejection::Invalid),
        };
        if let Some(kind) = expected {
            match &claims.token_type {
                None => return Err(TokenRejection::NoType),
                Some(Claim::Str(t)) if t == kind.as_str() => {}
                Some(_) => return Err(TokenRejection::WrongType),
            }
        }
        // Only an absent claim is "missing": simplejwt looks up any present value, so `null`
        // and `""` end as "User not found" (or its 500) there, and as `Unusable` here. `"1"`
        // and `1` are both ids, as for simplejwt.
        let user_id = match &claims.user_id {
            None => UserIdClaim::Missing,
            Some(Claim::Str(s)) => parse_id(s).map_or(UserIdClaim::Unusable, UserIdClaim::Id),
            Some(Claim::Int(n)) => UserIdClaim::Id(*n),
            Some(_) => UserIdClaim::Unusable,
        };
        Ok(ValidatedToken {
            jti,
            iat,
            exp,
            token_type: match claims.token_type {
                Some(Claim::Str(t)) => Some(t),
                _ => None,
            },
            user_id,
        })
    }

    /// Reads the user-id claim (`"1"` and `1` both accepted, as simplejwt).
    pub fn user_id(&self, token: &ValidatedToken) -> UserIdClaim {
        token.user_id
    }
}

/// The claims the service reads, as found in a validated payload.
#[derive(Default)]
struct Claims {
    exp: Option<Claim>,
    iat: Option<Claim>,
    sub: Option<Claim>,
    jti: Option<Claim>,
    token_type: Option<Claim>,
    user_id: Option<Claim>,
}

/// One claim's value, as far as the service cares.
#[derive(Clone, Debug, PartialEq)]
enum Claim {
    Str(String),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// `null`, a boolean, an array or an object.
    Other,
}

impl Claim {
    /// An already-validated NumericDate as whole seconds (fractions truncated, like simplejwt).
    fn numeric_date(&self) -> Option<i64> {
        match *self {
            Claim::Int(n) => Some(n),
            // Range-checked by the JOSE core already; `as` saturates anyway.
            Claim::Float(f) if f.is_finite() => Some(f.trunc() as i64),
            _ => None,
        }
    }
}

impl<'de> de::Deserialize<'de> for Claim {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Claim, D::Error> {
        d.deserialize_any(ClaimVisitor)
    }
}

struct ClaimVisitor;

impl<'de> Visitor<'de> for ClaimVisitor {
    type Value = Claim;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E>(self, v: &str) -> Result<Claim, E> {
        Ok(Claim::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Claim, E> {
        Ok(Claim::Str(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Claim, E> {
        Ok(Claim::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Claim, E> {
        // Beyond i64: a number, but not an id (as `serde_json::Number::as_i64`).
        Ok(i64::try_from(v).map_or(Claim::Float(v as f64), Claim::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Claim, E> {
        Ok(Claim::Float(v))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Claim, E> {
        Ok(Claim::Other)
    }

    fn visit_unit<E>(self) -> Result<Claim, E> {
        Ok(Claim::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Claim, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Claim::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claim, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Claim::Other)
    }
}

/// Deserializes [`Claims`], with the configurable claim names of the settings.
struct ClaimsSeed<'a> {
    jti: &'a str,
    token_type: &'a str,
    user_id: &'a str,
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = Claims;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Claims, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = Claims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a claims object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims, A::Error> {
        let mut claims = Claims::default();
        while let Some(name) = map.next_key::<ClaimName<'de>>()? {
            let name = name.as_str();
            // Names may coincide (a setting naming `exp` as the id claim): fill every slot.
            let slots = [
                ("exp", &mut claims.exp),
                ("iat", &mut claims.iat),
                ("sub", &mut claims.sub),
                (self.jti, &mut claims.jti),
                (self.token_type, &mut claims.token_type),
                (self.user_id, &mut claims.user_id),
            ];
            let mut wanted = slots.into_iter().filter(|(n, _)| *n == name).peekable();
            if wanted.peek().is_none() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value: Claim = map.next_value()?;
            for (_, slot) in wanted {
                *slot = Some(value.clone());
            }
        }
        Ok(claims)
    }
}

/// A member name, borrowed from the payload when it has no escapes.
enum ClaimName<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl ClaimName<'_> {
    fn as_str(&self) -> &str {
        match self {
            ClaimName::Borrowed(s) => s,
            ClaimName::Owned(s) => s,
        }
    }
}

impl<'de> de::Deserialize<'de> for ClaimName<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<ClaimName<'de>, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = ClaimName<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<ClaimName<'de>, E> {
                Ok(ClaimName::Borrowed(v))
            }

            fn visit_str<E>(self, v: &str) -> Result<ClaimName<'de>, E> {
                Ok(ClaimName::Owned(v.to_owned()))
            }
        }
        d.deserialize_str(NameVisitor)
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

    /// Signs arbitrary claims with the service's key.
    fn signed(t: &Tokens, claims: serde_json::Value) -> String {
        tessera_jwt::encode(t.keys().signing(), &claims).unwrap()
    }

    /// What validation reads from each shape of the claims it uses, as simplejwt reads them.
    #[test]
    fn claims_are_read_by_shape() {
        use serde_json::json;
        let t = tokens();
        let base = |user_id: serde_json::Value| {
            json!({"token_type": "access", "exp": 2_000, "iat": 1_000.9, "jti": "j",
                   "user_id": user_id, "extra": {"nested": [1, {"a": null}]}})
        };
        let id = |user_id| {
            let v = t.validate(&signed(&t, base(user_id)), Some(TokenType::Access), 1_500);
            t.user_id(&v.unwrap())
        };
        assert_eq!(id(json!("42")), UserIdClaim::Id(42));
        assert_eq!(id(json!(42)), UserIdClaim::Id(42));
        for unusable in [
            json!(null),
            json!(""),
            json!(4.2),
            json!("04"),
            json!([1]),
            json!(true),
        ] {
            assert_eq!(id(unusable.clone()), UserIdClaim::Unusable, "{unusable}");
        }
        assert_eq!(id(json!(u64::MAX)), UserIdClaim::Unusable);
        let v = t
            .validate(
                &signed(&t, base(json!("1"))),
                Some(TokenType::Access),
                1_500,
            )
            .unwrap();
        assert_eq!((v.iat, v.exp, v.jti.as_str()), (1_000, 2_000, "j"));
        assert_eq!(v.token_type.as_deref(), Some("access"));

        let mut no_user = base(json!("1"));
        no_user.as_object_mut().unwrap().remove("user_id");
        let v = t.validate(&signed(&t, no_user), None, 1_500).unwrap();
        assert_eq!(t.user_id(&v), UserIdClaim::Missing);

        let refuse = |claims: serde_json::Value, expected| {
            t.validate(&signed(&t, claims), expected, 1_500)
                .unwrap_err()
        };
        let access = Some(TokenType::Access);
        let jti_number = json!({"token_type": "access", "exp": 2_000, "jti": 5, "user_id": "1"});
        assert_eq!(refuse(jti_number, access), TokenRejection::Invalid);
        let jti_empty = json!({"token_type": "access", "exp": 2_000, "jti": "", "user_id": "1"});
        assert_eq!(refuse(jti_empty, access), TokenRejection::Invalid);
        let no_jti = json!({"token_type": "access", "exp": 2_000, "user_id": "1"});
        assert_eq!(refuse(no_jti, access), TokenRejection::NoId);
        let no_type = json!({"exp": 2_000, "jti": "j", "user_id": "1"});
        assert_eq!(refuse(no_type, access), TokenRejection::NoType);
        let type_number = json!({"token_type": 1, "exp": 2_000, "jti": "j", "user_id": "1"});
        assert_eq!(
            refuse(type_number.clone(), access),
            TokenRejection::WrongType
        );
        // Without an expected type a non-string type is no type at all.
        let v = t.validate(&signed(&t, type_number), None, 1_500).unwrap();
        assert_eq!(v.token_type, None);
        let sub_number = json!({"token_type": "access", "exp": 2_000, "jti": "j", "sub": 3});
        assert_eq!(refuse(sub_number, access), TokenRejection::Invalid);
    }

    /// Configured claim names are honoured, escaped member names match, and one member can
    /// serve two settings.
    #[test]
    fn configured_claim_names() {
        use serde_json::json;
        let settings = Settings {
            signing_key: Some("0123456789abcdef0123456789abcdef0123456789abcdef".into()),
            user_id_claim: "uid".into(),
            token_type_claim: "typ".into(),
            jti_claim: "uid".into(),
            ..Settings::default()
        };
        let t = Tokens::new(&settings, Keys::load(&settings).unwrap());
        let token = signed(
            &t,
            json!({"typ": "refresh", "exp": 2_000, "uid": "7", "user_id": "9"}),
        );
        let v = t.validate(&token, Some(TokenType::Refresh), 1_500).unwrap();
        assert_eq!((t.user_id(&v), v.jti.as_str()), (UserIdClaim::Id(7), "7"));
        // `"\u0075id"` is `"uid"`: a name is compared decoded.
        let payload = r#"{"typ":"refresh","exp":2000,"\u0075id":"8"}"#;
        let token = {
            use base64::Engine as _;
            let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
            let input = format!(
                "{}.{}",
                b64(br#"{"alg":"HS256","typ":"JWT"}"#),
                b64(payload.as_bytes())
            );
            let sig = t.keys().signing().sign(input.as_bytes()).unwrap();
            format!("{input}.{}", b64(&sig))
        };
        let v = t.validate(&token, Some(TokenType::Refresh), 1_500).unwrap();
        assert_eq!(t.user_id(&v), UserIdClaim::Id(8));
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
