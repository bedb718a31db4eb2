//! JSON Web Keys (RFC 7517) and key sets, in and out.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, Family};
use crate::base64url;
use crate::error::{Error, ErrorKind};
use crate::json;
use crate::key::ecdsa::{self, EcKey};
use crate::key::eddsa::EdKey;
use crate::key::rsa::{PrivateParts, RsaKey};
use crate::key::{Key, Material, ec_curve_name};

/// Maximum nesting depth accepted in a JWK or JWKS document.
const JWK_MAX_DEPTH: usize = 16;

/// A JSON Web Key (RFC 7517 §4). Members Tessera does not interpret are kept as they are.
///
/// `Debug` omits the secret members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `k`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwk {
    kty: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_ops: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("use", &self.key_use)
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("crv", &self.crv)
            .field("private", &self.is_private())
            .finish_non_exhaustive()
    }
}

/// A JWK Set (RFC 7517 §5): `{"keys":[...]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys, in order.
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// Parses one JWK strictly: duplicate members and excessive nesting are rejected.
    pub fn from_json(json: &str) -> Result<Jwk, Error> {
        json::parse_object(json.as_bytes(), JWK_MAX_DEPTH)?;
        serde_json::from_str(json).map_err(|_| Error::invalid_key("invalid JWK"))
    }

    fn empty(kty: &str) -> Jwk {
        Jwk {
            kty: kty.to_owned(),
            key_use: None,
            key_ops: None,
            alg: None,
            kid: None,
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
            d: None,
            p: None,
            q: None,
            dp: None,
            dq: None,
            qi: None,
            k: None,
            other: serde_json::Map::new(),
        }
    }

    /// The key type (`kty`): `"RSA"`, `"EC"`, `"OKP"` or `"oct"`.
    pub fn kty(&self) -> &str {
        &self.kty
    }

    /// The key id (`kid`).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm (`alg`), as written.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// The intended use (`use`), e.g. `"sig"`.
    pub fn key_use(&self) -> Option<&str> {
        self.key_use.as_deref()
    }

    /// The curve (`crv`) of EC and OKP keys.
    pub fn crv(&self) -> Option<&str> {
        self.crv.as_deref()
    }

    /// Whether the JWK carries private or secret members.
    pub fn is_private(&self) -> bool {
        self.d.is_some() || self.k.is_some()
    }

    /// A member Tessera does not interpret, by name.
    pub fn other(&self, name: &str) -> Option<&serde_json::Value> {
        self.other.get(name)
    }
}

impl JwkSet {
    /// Parses a JWK Set strictly (duplicate members and excessive nesting are rejected).
    pub fn from_json(json: &str) -> Result<JwkSet, Error> {
        json::parse_object(json.as_bytes(), JWK_MAX_DEPTH)?;
        serde_json::from_str(json).map_err(|_| Error::invalid_key("invalid JWK Set"))
    }
}

fn member<'a>(value: &'a Option<String>, _name: &str) -> Result<&'a str, Error> {
    value
        .as_deref()
        .ok_or_else(|| Error::invalid_key("JWK lacks a required member"))
}

/// JWK members are base64url without padding, canonical (RFC 7518 §6).
fn bytes(value: &Option<String>, name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    base64url::decode(member(value, name)?.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| Error::invalid_key("JWK member is not canonical base64url"))
}

fn curve_algorithm(crv: Option<&str>) -> Option<Algorithm> {
    match crv? {
        "P-256" => Some(Algorithm::ES256),
        "P-384" => Some(Algorithm::ES384),
        "P-521" => Some(Algorithm::ES512),
        _ => None,
    }
}

impl Key {
    /// A key from a JWK. The algorithm comes from the JWK's `alg`, which is required unless
    /// the key type makes it unambiguous (OKP/Ed25519 → EdDSA, EC P-256/384/521 →
    /// ES256/384/512). The `kid` is the JWK's, else the thumbprint. Private JWKs give signing
    /// keys.
    pub fn from_jwk(jwk: &Jwk) -> Result<Key, Error> {
        let alg = match jwk.alg() {
            Some(name) => name.parse::<Algorithm>()?,
            None => match (jwk.kty(), jwk.crv()) {
                ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
                ("EC", crv) => curve_algorithm(crv)
                    .ok_or_else(|| Error::invalid_key("unsupported EC curve"))?,
                _ => {
                    return Err(Error::invalid_key(
                        "JWK has no alg and its key type does not imply one",
                    ));
                }
            },
        };
        Key::from_jwk_with_alg(jwk, alg)
    }

    /// A key from a JWK for a given algorithm; a JWK `alg` that differs is refused, as is a
    /// `use` other than `sig`.
    pub fn from_jwk_with_alg(jwk: &Jwk, alg: Algorithm) -> Result<Key, Error> {
        if jwk.alg().is_some_and(|a| a != alg.as_str()) {
            return Err(Error::invalid_key("JWK alg differs from the algorithm"));
        }
        if jwk.key_use().is_some_and(|u| u != "sig") {
            return Err(Error::invalid_key("JWK is not for signatures"));
        }
        let wrong_type = || Error::invalid_key("JWK key type does not fit the algorithm");
        let material = match alg.family() {
            Family::Hmac => {
                if jwk.kty() != "oct" {
                    return Err(wrong_type());
                }
                let secret = bytes(&jwk.k, "k")?;
                let key = Key::hmac(alg, &secret)?;
                return Ok(match jwk.kid() {
                    Some(kid) => key.with_kid(kid),
                    None => key,
                });
            }
            Family::Rsa => {
                if jwk.kty() != "RSA" {
                    return Err(wrong_type());
                }
                if jwk.other.contains_key("oth") {
                    return Err(Error::invalid_key("multi-prime RSA keys are not supported"));
                }
                let n = bytes(&jwk.n, "n")?;
                let e = bytes(&jwk.e, "e")?;
                if jwk.d.is_some() {
                    let parts = PrivateParts {
                        d: bytes(&jwk.d, "d")?,
                        p: bytes(&jwk.p, "p")?,
                        q: bytes(&jwk.q, "q")?,
                        dp: bytes(&jwk.dp, "dp")?,
                        dq: bytes(&jwk.dq, "dq")?,
                        qi: bytes(&jwk.qi, "qi")?,
                    };
                    Material::Rsa(RsaKey::from_private_components(alg, &n, &e, &parts)?)
                } else {
                    Material::Rsa(RsaKey::from_components(alg, &n, &e)?)
                }
            }
            Family::Ecdsa => {
                if jwk.kty() != "EC" || curve_algorithm(jwk.crv()) != Some(alg) {
                    return Err(Error::invalid_key("JWK curve does not fit the algorithm"));
                }
                let x = bytes(&jwk.x, "x")?;
                let y = bytes(&jwk.y, "y")?;
                if jwk.d.is_some() {
                    let d = bytes(&jwk.d, "d")?;
                    Material::Ec(EcKey::from_private_scalar(alg, &d, &x, &y)?)
                } else {
                    Material::Ec(EcKey::from_coordinates(alg, &x, &y)?)
                }
            }
            Family::EdDsa => {
                if jwk.kty() != "OKP" || jwk.crv() != Some("Ed25519") {
                    return Err(wrong_type());
                }
                let x = bytes(&jwk.x, "x")?;
                let d = match jwk.d {
                    Some(_) => Some(bytes(&jwk.d, "d")?),
                    None => None,
                };
                Material::Ed(EdKey::from_raw(&x, d.as_deref().map(Vec::as_slice))?)
            }
        };
        let key = Key::from_material(alg, material);
        Ok(match jwk.kid() {
            Some(kid) => key.with_kid(kid),
            None => key,
        })
    }

    /// The public JWK (`kty`, `crv`, `x`/`y`/`n`/`e`, `alg`, `use: "sig"`, `kid`); `None` for
    /// HMAC keys, which have no public part.
    pub fn to_public_jwk(&self) -> Option<Jwk> {
        let b = |v: &[u8]| Some(base64url::encode(v));
        let mut jwk = match self.material() {
            Material::Hmac(_) => return None,
            Material::Rsa(k) => {
                let mut jwk = Jwk::empty("RSA");
                jwk.n = b(k.n());
                jwk.e = b(k.e());
                jwk
            }
            Material::Ec(k) => {
                let mut jwk = Jwk::empty("EC");
                jwk.crv = Some(ec_curve_name(k).to_owned());
                jwk.x = b(k.x());
                jwk.y = b(k.y());
                jwk
            }
            Material::Ed(k) => {
                let mut jwk = Jwk::empty("OKP");
                jwk.crv = Some("Ed25519".to_owned());
                jwk.x = b(k.x());
                jwk
            }
        };
        jwk.key_use = Some("sig".to_owned());
        jwk.alg = Some(self.algorithm().as_str().to_owned());
        jwk.kid = self.kid().map(str::to_owned);
        Some(jwk)
    }

    /// The JWK including the private or secret members. Errors for public keys.
    pub fn to_private_jwk(&self) -> Result<Jwk, Error> {
        let b = |v: &[u8]| Some(base64url::encode(v));
        if let Material::Hmac(k) = self.material() {
            let mut jwk = Jwk::empty("oct");
            jwk.alg = Some(self.algorithm().as_str().to_owned());
            jwk.kid = self.kid().map(str::to_owned);
            jwk.k = b(k.secret());
            return Ok(jwk);
        }
        if !self.can_sign() {
            return Err(Error::invalid_key("not a private key"));
        }
        let mut jwk = self
            .to_public_jwk()
            .ok_or_else(|| Error::from(ErrorKind::InvalidKey))?;
        match self.material() {
            Material::Rsa(k) => {
                let parts = k.private_parts()?;
                jwk.d = b(&parts.d);
                jwk.p = b(&parts.p);
                jwk.q = b(&parts.q);
                jwk.dp = b(&parts.dp);
                jwk.dq = b(&parts.dq);
                jwk.qi = b(&parts.qi);
            }
            Material::Ec(k) => {
                let d = k.private_scalar()?;
                // RFC 7518 §6.2.2.1: d is the full coordinate length.
                let len = ecdsa::curve(self.algorithm())?.coord_len;
                let mut padded = Zeroizing::new(vec![0u8; len.saturating_sub(d.len())]);
                padded.extend_from_slice(&d);
                jwk.d = b(&padded);
            }
            Material::Ed(k) => jwk.d = b(&k.seed()?),
            Material::Hmac(_) => {}
        }
        Ok(jwk)
    }
}
