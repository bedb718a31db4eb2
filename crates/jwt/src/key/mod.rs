//! Keys: parsed once, bound to exactly one algorithm (RFC 8725 §3.1).

pub(crate) mod ecdsa;
pub(crate) mod eddsa;
pub(crate) mod hmac;
pub(crate) mod rsa;

use std::fmt;
use std::sync::Arc;

use spki::ObjectIdentifier;

use crate::algorithm::{Algorithm, Family};
use crate::base64url;
use crate::error::Error;

use self::ecdsa::EcKey;
use self::eddsa::EdKey;
use self::hmac::HmacKey;
use self::rsa::RsaKey;

pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

pub(crate) enum Material {
    Hmac(HmacKey),
    Rsa(RsaKey),
    Ec(EcKey),
    Ed(EdKey),
}

struct Inner {
    material: Material,
    /// RFC 7638 thumbprint, computed once; `None` for HMAC.
    thumbprint: Option<String>,
}

/// A signing or verifying key, parsed once and bound to exactly one [`Algorithm`].
///
/// Cloning is cheap (the parsed material is shared). `Debug` shows the algorithm and `kid`
/// only, never key material.
#[derive(Clone)]
pub struct Key {
    alg: Algorithm,
    kid: Option<String>,
    /// The base64url header segment `encode` writes with this key, computed whenever `kid`
    /// changes: a token whose header segment equals it needs no header parsing on decode.
    header_segment: Box<str>,
    inner: Arc<Inner>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Key {
    pub(crate) fn from_material(alg: Algorithm, material: Material) -> Key {
        let thumbprint = thumbprint_of(&material);
        Key {
            alg,
            header_segment: header_segment(alg, thumbprint.as_deref()),
            kid: thumbprint.clone(),
            inner: Arc::new(Inner {
                material,
                thumbprint,
            }),
        }
    }

    /// The encoded header segment of the tokens this key signs (see [`crate::header::write`]).
    pub(crate) fn header_segment(&self) -> &str {
        &self.header_segment
    }

    pub(crate) fn material(&self) -> &Material {
        &self.inner.material
    }

    /// An HMAC key (`HS256`/`HS384`/`HS512`). Secrets shorter than the hash output are
    /// refused (RFC 7518 §3.2). HMAC keys have no `kid` unless one is set.
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Key, Error> {
        if !alg.is_hmac() {
            return Err(Error::invalid_key("not an HMAC algorithm"));
        }
        Ok(Key::from_material(
            alg,
            Material::Hmac(HmacKey::new(alg, secret)?),
        ))
    }

    /// A key from PEM: PKCS#8 (`PRIVATE KEY`), SPKI (`PUBLIC KEY`), PKCS#1 (`RSA PRIVATE KEY`,
    /// `RSA PUBLIC KEY`) or SEC1 (`EC PRIVATE KEY`, an `EC PARAMETERS` block is skipped).
    /// RSA keys under 2048 bits and EC keys on another curve than `alg`'s are refused; the
    /// `kid` defaults to the RFC 7638 thumbprint.
    pub fn from_pem(alg: Algorithm, pem: &[u8]) -> Result<Key, Error> {
        let blocks = ::pem::parse_many(pem).map_err(|_| Error::invalid_key("invalid PEM"))?;
        let mut blocks = blocks.iter().filter(|b| b.tag() != "EC PARAMETERS");
        let block = match (blocks.next(), blocks.next()) {
            (Some(block), None) => block,
            _ => return Err(Error::invalid_key("expected exactly one PEM key block")),
        };
        let private = match block.tag() {
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => true,
            "PUBLIC KEY" | "RSA PUBLIC KEY" => false,
            _ => return Err(Error::invalid_key("unsupported PEM label")),
        };
        let expected_family = match block.tag() {
            "RSA PRIVATE KEY" | "RSA PUBLIC KEY" => Some(Family::Rsa),
            "EC PRIVATE KEY" => Some(Family::Ecdsa),
            _ => None,
        };
        if expected_family.is_some_and(|f| f != alg.family()) {
            return Err(Error::invalid_key(
                "PEM key type does not fit the algorithm",
            ));
        }
        if private {
            Key::from_private_der(alg, block.contents())
        } else {
            Key::from_public_der(alg, block.contents())
        }
    }

    /// A key from DER, in any of the encodings [`Key::from_pem`] accepts.
    pub fn from_der(alg: Algorithm, der: &[u8]) -> Result<Key, Error> {
        Key::from_private_der(alg, der).or_else(|_| Key::from_public_der(alg, der))
    }

    fn from_private_der(alg: Algorithm, der: &[u8]) -> Result<Key, Error> {
        let material = match alg.family() {
            Family::Hmac => return Err(hmac_not_pem()),
            Family::Rsa => Material::Rsa(RsaKey::from_private_der(alg, der)?),
            Family::Ecdsa => Material::Ec(EcKey::from_private_der(alg, der)?),
            Family::EdDsa => Material::Ed(EdKey::from_private_der(der)?),
        };
        Ok(Key::from_material(alg, material))
    }

    fn from_public_der(alg: Algorithm, der: &[u8]) -> Result<Key, Error> {
        let material = match alg.family() {
            Family::Hmac => return Err(hmac_not_pem()),
            Family::Rsa => Material::Rsa(RsaKey::from_public_der(alg, der)?),
            Family::Ecdsa => Material::Ec(EcKey::from_public_der(alg, der)?),
            Family::EdDsa => Material::Ed(EdKey::from_public_der(der)?),
        };
        Ok(Key::from_material(alg, material))
    }

    /// A fresh key: HMAC secrets are random bytes of the hash length, RSA keys 2048 bits.
    pub fn generate(alg: Algorithm) -> Result<Key, Error> {
        let material = match alg.family() {
            Family::Hmac => {
                let mut secret = zeroize::Zeroizing::new(vec![0u8; hmac::hash_len(alg)?]);
                aws_lc_rs::rand::fill(&mut secret)
                    .map_err(|_| Error::invalid_key("random generator failed"))?;
                Material::Hmac(HmacKey::new(alg, &secret)?)
            }
            Family::Rsa => Material::Rsa(RsaKey::generate(alg)?),
            Family::Ecdsa => Material::Ec(EcKey::generate(alg)?),
            Family::EdDsa => Material::Ed(EdKey::generate()?),
        };
        Ok(Key::from_material(alg, material))
    }

    /// Sets the key id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Key {
        self.kid = Some(kid.into());
        self.header_segment = header_segment(self.alg, self.kid.as_deref());
        self
    }

    /// Removes the key id (so tokens carry no `kid` and any token `kid` matches).
    pub fn without_kid(mut self) -> Key {
        self.kid = None;
        self.header_segment = header_segment(self.alg, None);
        self
    }

    /// The key id: by default the RFC 7638 thumbprint for asymmetric keys, none for HMAC.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key signs or verifies with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Whether the key can sign (HMAC keys and private keys).
    pub fn can_sign(&self) -> bool {
        match self.material() {
            Material::Hmac(_) => true,
            Material::Rsa(k) => k.can_sign(),
            Material::Ec(k) => k.can_sign(),
            Material::Ed(k) => k.can_sign(),
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url); `None` for HMAC keys.
    pub fn thumbprint(&self) -> Option<String> {
        self.inner.thumbprint.clone()
    }

    /// The private key as PKCS#8 PEM (`PRIVATE KEY`). Errors for public and HMAC keys.
    pub fn to_pkcs8_pem(&self) -> Result<String, Error> {
        let der = match self.material() {
            Material::Hmac(_) => return Err(hmac_not_pem()),
            Material::Rsa(k) => k.pkcs8_der()?,
            Material::Ec(k) => k.pkcs8_der()?,
            Material::Ed(k) => k.pkcs8_der()?,
        };
        Ok(pem_encode("PRIVATE KEY", der.to_vec()))
    }

    /// The public key as SPKI PEM (`PUBLIC KEY`). Errors for HMAC keys.
    pub fn to_public_pem(&self) -> Result<String, Error> {
        let der = match self.material() {
            Material::Hmac(_) => return Err(hmac_not_pem()),
            Material::Rsa(k) => k.public_der()?,
            Material::Ec(k) => k.public_der()?,
            Material::Ed(k) => k.public_der()?,
        };
        Ok(pem_encode("PUBLIC KEY", der))
    }

    /// The JWS Signature (RFC 7515 §5.1) over a JWS Signing Input (`header.payload`, still
    /// base64url-encoded) with this key's algorithm. Low-level: [`encode`](crate::encode)
    /// builds whole tokens.
    pub fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        if !self.can_sign() {
            return Err(Error::invalid_key("a public key cannot sign"));
        }
        self.signature(signing_input).map(|s| s.as_slice().to_vec())
    }

    /// Signs `msg` with this key's own algorithm.
    pub(crate) fn signature(&self, msg: &[u8]) -> Result<Signature, Error> {
        Ok(match self.material() {
            Material::Hmac(k) => {
                let mut tag = [0u8; hmac::MAX_TAG_LEN];
                let n = k.sign(msg, &mut tag);
                Signature::Tag(tag, n)
            }
            Material::Rsa(k) => Signature::Heap(k.sign(msg)?),
            Material::Ec(k) => Signature::Heap(k.sign(msg)?),
            Material::Ed(k) => Signature::Heap(k.sign(msg)?),
        })
    }

    /// Whether `signature` is a valid JWS Signature over `signing_input` with this key's own
    /// algorithm (never the token's). Low-level: [`decode`](crate::decode) also validates the
    /// token's format and claims.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        let (msg, sig) = (signing_input, signature);
        match self.material() {
            Material::Hmac(k) => k.verify(msg, sig),
            Material::Rsa(k) => k.verify(msg, sig),
            Material::Ec(k) => k.verify(msg, sig),
            Material::Ed(k) => k.verify(msg, sig),
        }
    }
}

fn header_segment(alg: Algorithm, kid: Option<&str>) -> Box<str> {
    base64url::encode(crate::header::write(alg, kid).as_bytes()).into_boxed_str()
}

/// A signature: HMAC tags stay on the stack.
pub(crate) enum Signature {
    Tag([u8; hmac::MAX_TAG_LEN], usize),
    Heap(Vec<u8>),
}

impl Signature {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Signature::Tag(tag, n) => &tag[..*n],
            Signature::Heap(v) => v,
        }
    }
}

fn hmac_not_pem() -> Error {
    Error::invalid_key("HMAC keys are secrets, not PEM/DER keys")
}

fn pem_encode(tag: &str, der: Vec<u8>) -> String {
    let block = ::pem::Pem::new(tag, der);
    ::pem::encode_config(
        &block,
        ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
    )
}

/// The raw public key bits of an SPKI whose algorithm is `oid`.
pub(crate) fn spki_key_bits(der: &[u8], oid: ObjectIdentifier) -> Result<Vec<u8>, Error> {
    use spki::der::Decode;
    let bad = || Error::invalid_key("not an acceptable SubjectPublicKeyInfo");
    let info = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| bad())?;
    if info.algorithm.oid != oid {
        return Err(Error::invalid_key(
            "public key type does not fit the algorithm",
        ));
    }
    info.subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(bad)
}

/// RFC 7638 §3: SHA-256 over the required members, sorted, no whitespace.
fn thumbprint_of(material: &Material) -> Option<String> {
    let b = base64url::encode;
    let json = match material {
        Material::Hmac(_) => return None,
        Material::Rsa(k) => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b(k.e()), b(k.n())),
        Material::Ec(k) => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            ec_curve_name(k),
            b(k.x()),
            b(k.y())
        ),
        Material::Ed(k) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b(k.x())),
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, json.as_bytes());
    Some(b(digest.as_ref()))
}

pub(crate) fn ec_curve_name(k: &EcKey) -> &'static str {
    k.crv()
}
