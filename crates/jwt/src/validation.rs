//! What a decoded token must satisfy besides its signature.

use crate::claims;
use crate::error::{Error, ErrorKind};
use crate::json::{self, DEFAULT_MAX_DEPTH};

/// Default maximum token size in bytes (8 KiB): larger than any session token, small enough
/// that no parsing work grows unbounded (RFC 8725 §3.11 is about inputs sizes too).
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 8192;

/// Claim validation options. The defaults are the secure ones: `exp` required, no leeway,
/// `nbf` and `iat` checked when present.
///
/// `aud`, `iss` and `sub` are only compared when configured (like simplejwt, which disables
/// PyJWT's audience check when no audience is set); their types are always checked.
#[derive(Clone, Debug)]
pub struct Validation {
    pub(crate) leeway: u64,
    pub(crate) require_exp: bool,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Vec<String>,
    pub(crate) subject: Option<String>,
    pub(crate) required: Vec<String>,
    pub(crate) expected: Vec<(String, String)>,
    pub(crate) max_token_size: usize,
    pub(crate) max_depth: usize,
}

impl Default for Validation {
    fn default() -> Self {
        Validation::new()
    }
}

impl Validation {
    /// `exp` required, leeway 0, `nbf`/`iat` checked when present, no `aud`/`iss`/`sub`,
    /// tokens up to 8 KiB, JSON nesting up to 32 levels.
    pub fn new() -> Self {
        Validation {
            leeway: 0,
            require_exp: true,
            issuer: None,
            audience: Vec::new(),
            subject: None,
            required: Vec::new(),
            expected: Vec::new(),
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// Seconds of clock skew tolerated for `exp`, `nbf` and `iat`.
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Whether a token without `exp` is rejected (default: yes).
    pub fn require_exp(mut self, required: bool) -> Self {
        self.require_exp = required;
        self
    }

    /// `iss` must be present and equal to `iss`.
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self
    }

    /// Adds an accepted audience: `aud` must be present and contain at least one accepted value.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience.push(aud.into());
        self
    }

    /// `sub` must be present and equal to `sub`.
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.subject = Some(sub.into());
        self
    }

    /// Claims that must be present, checked in this order (after the registered claims).
    pub fn required_claims(mut self, names: &[&str]) -> Self {
        self.required.extend(names.iter().map(|n| (*n).to_owned()));
        self
    }

    /// Claim `name` must be a string equal to `value` (e.g. `token_type` = `access`). Missing:
    /// [`ErrorKind::MissingClaim`]; different or not a string: [`ErrorKind::ClaimMismatch`].
    pub fn expect_claim(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.expected.push((name.into(), value.into()));
        self
    }

    /// Maximum token length in bytes (default 8192), checked before any decoding.
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = bytes;
        self
    }

    /// Maximum JSON nesting depth of header and payload (default 32; the top-level object is
    /// depth 1).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Checks the registered claims, required claims and expected values, in the documented
    /// order, against the payload's top-level members.
    pub(crate) fn check(&self, payload: &json::Object<'_>, now: u64) -> Result<(), Error> {
        let leeway = self.leeway as f64;
        let now = now as f64;

        // RFC 7519 §4.1.4: the current time must be before exp.
        let reg = &payload.registered;
        let exp = reg.exp;
        if let Some(raw) = exp
            && claims::numeric_date("exp", raw)? <= now - leeway
        {
            return Err(Error::new(ErrorKind::Expired, ""));
        }
        if exp.is_none() && self.require_exp {
            return Err(missing("exp"));
        }
        // RFC 7519 §4.1.5: not accepted before nbf.
        if let Some(raw) = reg.nbf
            && claims::numeric_date("nbf", raw)? > now + leeway
        {
            return Err(Error::new(ErrorKind::NotYetValid, ""));
        }
        if let Some(raw) = reg.iat
            && claims::numeric_date("iat", raw)? > now + leeway
        {
            return Err(Error::new(ErrorKind::IssuedInFuture, ""));
        }

        match reg.aud {
            Some(raw) => {
                let matched = claims::audience_matches(raw, &self.audience)?;
                if !self.audience.is_empty() && !matched {
                    return Err(mismatch("aud"));
                }
            }
            None if !self.audience.is_empty() => return Err(missing("aud")),
            None => {}
        }
        check_string(reg.iss, "iss", self.issuer.as_deref())?;
        check_string(reg.sub, "sub", self.subject.as_deref())?;

        for name in &self.required {
            if payload.get(name).is_none() {
                return Err(missing(name));
            }
        }
        for (name, value) in &self.expected {
            let raw = payload.get(name).ok_or_else(|| missing(name))?;
            match json::as_str(raw) {
                Some(actual) if actual == value.as_str() => {}
                _ => return Err(mismatch(name)),
            }
        }
        Ok(())
    }
}

fn missing(name: &str) -> Error {
    Error::new(ErrorKind::MissingClaim(name.to_owned()), "")
}

fn mismatch(name: &str) -> Error {
    Error::new(ErrorKind::ClaimMismatch(name.to_owned()), "")
}

fn check_string(raw: Option<&[u8]>, name: &str, expected: Option<&str>) -> Result<(), Error> {
    match (raw, expected) {
        (Some(raw), expected) => {
            let actual = claims::string(name, raw)?;
            match expected {
                Some(e) if actual != e => Err(mismatch(name)),
                _ => Ok(()),
            }
        }
        (None, Some(_)) => Err(missing(name)),
        (None, None) => Ok(()),
    }
}
