//! Ed25519 keys (RFC 8037 §3.1).

use aws_lc_rs::encoding::{AsBigEndian, AsDer, Curve25519SeedBin, Pkcs8V1Der};
use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair, ParsedPublicKey};
use zeroize::Zeroizing;

use crate::error::Error;

const PUBLIC_LEN: usize = 32;

pub(crate) struct EdKey {
    public: ParsedPublicKey,
    x: [u8; PUBLIC_LEN],
    private: Option<Ed25519KeyPair>,
}

impl EdKey {
    fn from_raw_public(x: &[u8]) -> Result<EdKey, Error> {
        let x: [u8; PUBLIC_LEN] = x
            .try_into()
            .map_err(|_| Error::invalid_key("Ed25519 public key must be 32 bytes"))?;
        let public = ParsedPublicKey::new(&signature::ED25519, x)
            .map_err(|_| Error::invalid_key("unusable Ed25519 public key"))?;
        Ok(EdKey {
            public,
            x,
            private: None,
        })
    }

    fn from_pair(pair: Ed25519KeyPair) -> Result<EdKey, Error> {
        let mut key = EdKey::from_raw_public(pair.public_key().as_ref())?;
        key.private = Some(pair);
        Ok(key)
    }

    /// PKCS#8 v1 (as OpenSSL writes) or v2 DER.
    pub(crate) fn from_private_der(der: &[u8]) -> Result<EdKey, Error> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|_| Error::invalid_key("not an Ed25519 private key"))?;
        EdKey::from_pair(pair)
    }

    /// SPKI DER.
    pub(crate) fn from_public_der(der: &[u8]) -> Result<EdKey, Error> {
        let bits = super::spki_key_bits(der, super::OID_ED25519)?;
        EdKey::from_raw_public(&bits)
    }

    pub(crate) fn from_raw(x: &[u8], d: Option<&[u8]>) -> Result<EdKey, Error> {
        match d {
            None => EdKey::from_raw_public(x),
            Some(d) => {
                let pair = Ed25519KeyPair::from_seed_and_public_key(d, x)
                    .map_err(|_| Error::invalid_key("inconsistent Ed25519 private key"))?;
                EdKey::from_pair(pair)
            }
        }
    }

    pub(crate) fn generate() -> Result<EdKey, Error> {
        let pair = Ed25519KeyPair::generate()
            .map_err(|_| Error::invalid_key("Ed25519 key generation failed"))?;
        EdKey::from_pair(pair)
    }

    pub(crate) fn x(&self) -> &[u8] {
        &self.x
    }

    pub(crate) fn can_sign(&self) -> bool {
        self.private.is_some()
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let pair = self
            .private
            .as_ref()
            .ok_or_else(|| Error::invalid_key("a public key cannot sign"))?;
        Ok(pair.sign(msg).as_ref().to_vec())
    }

    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.public.verify_sig(msg, sig).is_ok()
    }

    pub(crate) fn public_der(&self) -> Result<Vec<u8>, Error> {
        self.public
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| Error::invalid_key("Ed25519 public key export failed"))
    }

    pub(crate) fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let pair = self
            .private
            .as_ref()
            .ok_or_else(|| Error::invalid_key("not a private key"))?;
        let der: Pkcs8V1Der<'_> = pair
            .as_der()
            .map_err(|_| Error::invalid_key("Ed25519 private key export failed"))?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    pub(crate) fn seed(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let pair = self
            .private
            .as_ref()
            .ok_or_else(|| Error::invalid_key("not a private key"))?;
        let seed = pair
            .seed()
            .map_err(|_| Error::invalid_key("Ed25519 private key export failed"))?;
        let bin: Curve25519SeedBin<'_> = seed
            .as_be_bytes()
            .map_err(|_| Error::invalid_key("Ed25519 private key export failed"))?;
        Ok(Zeroizing::new(bin.as_ref().to_vec()))
    }
}
