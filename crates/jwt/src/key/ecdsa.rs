//! ECDSA keys (RFC 7518 §3.4): P-256, P-384, P-521 with fixed-size `r || s` signatures.

use aws_lc_rs::encoding::{AsBigEndian, AsDer, EcPrivateKeyBin};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair, ParsedPublicKey,
};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::error::Error;

pub(crate) struct Curve {
    signing: &'static EcdsaSigningAlgorithm,
    verifying: &'static EcdsaVerificationAlgorithm,
    /// JWK `crv` name (RFC 7518 §6.2.1.1).
    pub(crate) name: &'static str,
    /// Bytes per coordinate; a JWS signature is exactly twice this (RFC 7518 §3.4).
    pub(crate) coord_len: usize,
}

pub(crate) fn curve(alg: Algorithm) -> Result<Curve, Error> {
    Ok(match alg {
        Algorithm::ES256 => Curve {
            signing: &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            verifying: &signature::ECDSA_P256_SHA256_FIXED,
            name: "P-256",
            coord_len: 32,
        },
        Algorithm::ES384 => Curve {
            signing: &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            verifying: &signature::ECDSA_P384_SHA384_FIXED,
            name: "P-384",
            coord_len: 48,
        },
        Algorithm::ES512 => Curve {
            signing: &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
            verifying: &signature::ECDSA_P521_SHA512_FIXED,
            name: "P-521",
            coord_len: 66,
        },
        _ => return Err(Error::invalid_key("not an ECDSA algorithm")),
    })
}

pub(crate) struct EcKey {
    public: ParsedPublicKey,
    /// Uncompressed SEC1 point `04 || x || y`.
    point: Vec<u8>,
    private: Option<EcdsaKeyPair>,
    coord_len: usize,
    crv: &'static str,
}

impl EcKey {
    fn from_point(alg: Algorithm, point: &[u8]) -> Result<EcKey, Error> {
        let c = curve(alg)?;
        // Only the uncompressed form can be written as JWK x/y without point arithmetic.
        if point.len() != 1 + 2 * c.coord_len || point[0] != 0x04 {
            return Err(Error::invalid_key(
                "EC public key is not an uncompressed point",
            ));
        }
        // aws-lc-rs checks the point is on the curve of `alg` (a wrong curve is refused).
        let public = ParsedPublicKey::new(c.verifying, point)
            .map_err(|_| Error::invalid_key("EC public key does not fit the algorithm's curve"))?;
        Ok(EcKey {
            public,
            point: point.to_vec(),
            private: None,
            coord_len: c.coord_len,
            crv: c.name,
        })
    }

    fn from_pair(alg: Algorithm, pair: EcdsaKeyPair) -> Result<EcKey, Error> {
        let mut key = EcKey::from_point(alg, pair.public_key().as_ref())?;
        key.private = Some(pair);
        Ok(key)
    }

    /// A private key as PKCS#8 or SEC1 `ECPrivateKey` DER; the curve must be the algorithm's.
    pub(crate) fn from_private_der(alg: Algorithm, der: &[u8]) -> Result<EcKey, Error> {
        let pair = EcdsaKeyPair::from_private_key_der(curve(alg)?.signing, der)
            .map_err(|_| Error::invalid_key("not an EC private key on the algorithm's curve"))?;
        EcKey::from_pair(alg, pair)
    }

    /// A public key as SPKI DER (or a bare uncompressed point).
    pub(crate) fn from_public_der(alg: Algorithm, der: &[u8]) -> Result<EcKey, Error> {
        let c = curve(alg)?;
        let point = match super::spki_key_bits(der, super::OID_EC_PUBLIC_KEY) {
            Ok(bits) => bits,
            Err(_) if der.first() == Some(&0x04) => der.to_vec(),
            Err(e) => return Err(e),
        };
        if point.len() != 1 + 2 * c.coord_len {
            return Err(Error::invalid_key(
                "EC public key does not fit the algorithm's curve",
            ));
        }
        EcKey::from_point(alg, &point)
    }

    pub(crate) fn from_coordinates(alg: Algorithm, x: &[u8], y: &[u8]) -> Result<EcKey, Error> {
        let c = curve(alg)?;
        // RFC 7518 §6.2.1.2: coordinates are exactly the full coordinate length.
        if x.len() != c.coord_len || y.len() != c.coord_len {
            return Err(Error::invalid_key("EC coordinates have the wrong length"));
        }
        let mut point = Vec::with_capacity(1 + 2 * c.coord_len);
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        EcKey::from_point(alg, &point)
    }

    pub(crate) fn from_private_scalar(
        alg: Algorithm,
        d: &[u8],
        x: &[u8],
        y: &[u8],
    ) -> Result<EcKey, Error> {
        let c = curve(alg)?;
        if d.len() != c.coord_len {
            return Err(Error::invalid_key("EC private scalar has the wrong length"));
        }
        let public = EcKey::from_coordinates(alg, x, y)?;
        let pair = EcdsaKeyPair::from_private_key_and_public_key(c.signing, d, &public.point)
            .map_err(|_| Error::invalid_key("inconsistent EC private key"))?;
        EcKey::from_pair(alg, pair)
    }

    pub(crate) fn generate(alg: Algorithm) -> Result<EcKey, Error> {
        let pair = EcdsaKeyPair::generate(curve(alg)?.signing)
            .map_err(|_| Error::invalid_key("EC key generation failed"))?;
        EcKey::from_pair(alg, pair)
    }

    /// JWK `crv` name.
    pub(crate) fn crv(&self) -> &'static str {
        self.crv
    }

    pub(crate) fn x(&self) -> &[u8] {
        &self.point[1..1 + self.coord_len]
    }

    pub(crate) fn y(&self) -> &[u8] {
        &self.point[1 + self.coord_len..]
    }

    pub(crate) fn can_sign(&self) -> bool {
        self.private.is_some()
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let pair = self
            .private
            .as_ref()
            .ok_or_else(|| Error::invalid_key("a public key cannot sign"))?;
        let sig = pair
            .sign(&SystemRandom::new(), msg)
            .map_err(|_| Error::invalid_key("ECDSA signing failed"))?;
        Ok(sig.as_ref().to_vec())
    }

    /// RFC 7518 §3.4: the signature is exactly `r || s`, each the coordinate length. aws-lc
    /// rejects r or s outside `[1, n-1]`, so the all-zero signature of CVE-2022-21449 fails.
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        sig.len() == 2 * self.coord_len && self.public.verify_sig(msg, sig).is_ok()
    }

    pub(crate) fn public_der(&self) -> Result<Vec<u8>, Error> {
        self.public
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| Error::invalid_key("EC public key export failed"))
    }

    pub(crate) fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let pair = self
            .private
            .as_ref()
            .ok_or_else(|| Error::invalid_key("not a private key"))?;
        let doc = pair
            .to_pkcs8v1()
            .map_err(|_| Error::invalid_key("EC private key export failed"))?;
        Ok(Zeroizing::new(doc.as_ref().to_vec()))
    }

    pub(crate) fn private_scalar(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let pair = self
            .private
            .as_ref()
            .ok_or_else(|| Error::invalid_key("not a private key"))?;
        let bin: EcPrivateKeyBin<'_> = pair
            .private_key()
            .as_be_bytes()
            .map_err(|_| Error::invalid_key("EC private key export failed"))?;
        Ok(Zeroizing::new(bin.as_ref().to_vec()))
    }
}
