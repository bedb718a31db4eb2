//! RSA keys: RSASSA-PKCS1-v1_5 (RFC 7518 §3.3) and RSASSA-PSS (RFC 7518 §3.5).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeyPairComponents, KeySize, PublicKey, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey, RsaEncoding, RsaParameters};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::error::Error;

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used". 8192 is aws-lc's ceiling.
const MIN_BITS: usize = 2048;
const MAX_BITS: usize = 8192;

pub(crate) struct RsaKey {
    public: ParsedPublicKey,
    n: Vec<u8>,
    e: Vec<u8>,
    private: Option<KeyPair>,
    encoding: &'static dyn RsaEncoding,
}

/// The private members of an RSA JWK (RFC 7518 §6.3.2), big-endian.
pub(crate) struct PrivateParts {
    pub(crate) d: Zeroizing<Vec<u8>>,
    pub(crate) p: Zeroizing<Vec<u8>>,
    pub(crate) q: Zeroizing<Vec<u8>>,
    pub(crate) dp: Zeroizing<Vec<u8>>,
    pub(crate) dq: Zeroizing<Vec<u8>>,
    pub(crate) qi: Zeroizing<Vec<u8>>,
}

fn params(alg: Algorithm) -> Result<(&'static RsaParameters, &'static dyn RsaEncoding), Error> {
    Ok(match alg {
        Algorithm::RS256 => (
            &signature::RSA_PKCS1_2048_8192_SHA256,
            &signature::RSA_PKCS1_SHA256,
        ),
        Algorithm::RS384 => (
            &signature::RSA_PKCS1_2048_8192_SHA384,
            &signature::RSA_PKCS1_SHA384,
        ),
        Algorithm::RS512 => (
            &signature::RSA_PKCS1_2048_8192_SHA512,
            &signature::RSA_PKCS1_SHA512,
        ),
        Algorithm::PS256 => (
            &signature::RSA_PSS_2048_8192_SHA256,
            &signature::RSA_PSS_SHA256,
        ),
        Algorithm::PS384 => (
            &signature::RSA_PSS_2048_8192_SHA384,
            &signature::RSA_PSS_SHA384,
        ),
        Algorithm::PS512 => (
            &signature::RSA_PSS_2048_8192_SHA512,
            &signature::RSA_PSS_SHA512,
        ),
        _ => return Err(Error::invalid_key("not an RSA algorithm")),
    })
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn check_size(n: &[u8]) -> Result<(), Error> {
    let n = strip_zeros(n);
    let bits = match n.first() {
        Some(first) => n.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    };
    if bits < MIN_BITS {
        return Err(Error::invalid_key(
            "RSA keys under 2048 bits are refused (RFC 7518 §3.3)",
        ));
    }
    if bits > MAX_BITS {
        return Err(Error::invalid_key("RSA keys over 8192 bits are refused"));
    }
    Ok(())
}

impl RsaKey {
    fn from_public(alg: Algorithm, public: &PublicKey) -> Result<RsaKey, Error> {
        let (verify, encoding) = params(alg)?;
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        check_size(&n)?;
        let public = ParsedPublicKey::new(verify, public.as_ref())
            .map_err(|_| Error::invalid_key("unusable RSA public key"))?;
        Ok(RsaKey {
            public,
            n,
            e,
            private: None,
            encoding,
        })
    }

    fn from_pair(alg: Algorithm, pair: KeyPair) -> Result<RsaKey, Error> {
        let mut key = RsaKey::from_public(alg, pair.public_key())?;
        key.private = Some(pair);
        Ok(key)
    }

    /// A private key as PKCS#8 or PKCS#1 `RSAPrivateKey` DER.
    pub(crate) fn from_private_der(alg: Algorithm, der: &[u8]) -> Result<RsaKey, Error> {
        let pair = KeyPair::from_pkcs8(der)
            .or_else(|_| KeyPair::from_der(der))
            .map_err(|_| Error::invalid_key("not an acceptable RSA private key"))?;
        RsaKey::from_pair(alg, pair)
    }

    /// A public key as SPKI or PKCS#1 `RSAPublicKey` DER.
    pub(crate) fn from_public_der(alg: Algorithm, der: &[u8]) -> Result<RsaKey, Error> {
        let public = PublicKey::from_der(der)
            .map_err(|_| Error::invalid_key("not an acceptable RSA public key"))?;
        RsaKey::from_public(alg, &public)
    }

    pub(crate) fn from_components(alg: Algorithm, n: &[u8], e: &[u8]) -> Result<RsaKey, Error> {
        let (n, e) = (strip_zeros(n), strip_zeros(e));
        check_size(n)?;
        let (verify, encoding) = params(alg)?;
        let public = PublicKeyComponents { n, e }
            .to_parsed_public_key(verify)
            .map_err(|_| Error::invalid_key("not an acceptable RSA public key"))?;
        Ok(RsaKey {
            public,
            n: n.to_vec(),
            e: e.to_vec(),
            private: None,
            encoding,
        })
    }

    pub(crate) fn from_private_components(
        alg: Algorithm,
        n: &[u8],
        e: &[u8],
        parts: &PrivateParts,
    ) -> Result<RsaKey, Error> {
        let (n, e) = (strip_zeros(n), strip_zeros(e));
        check_size(n)?;
        let components = KeyPairComponents {
            public_key: PublicKeyComponents { n, e },
            d: parts.d.as_slice(),
            p: parts.p.as_slice(),
            q: parts.q.as_slice(),
            dP: parts.dp.as_slice(),
            dQ: parts.dq.as_slice(),
            qInv: parts.qi.as_slice(),
        };
        let pair = KeyPair::from_components(&components)
            .map_err(|_| Error::invalid_key("inconsistent RSA private key"))?;
        RsaKey::from_pair(alg, pair)
    }

    pub(crate) fn generate(alg: Algorithm) -> Result<RsaKey, Error> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| Error::invalid_key("RSA key generation failed"))?;
        RsaKey::from_pair(alg, pair)
    }

    pub(crate) fn n(&self) -> &[u8] {
        &self.n
    }

    pub(crate) fn e(&self) -> &[u8] {
        &self.e
    }

    pub(crate) fn can_sign(&self) -> bool {
        self.private.is_some()
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let pair = self
            .private
            .as_ref()
            .ok_or_else(|| Error::invalid_key("a public key cannot sign"))?;
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(self.encoding, &SystemRandom::new(), msg, &mut sig)
            .map_err(|_| Error::invalid_key("RSA signing failed"))?;
        Ok(sig)
    }

    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.public.verify_sig(msg, sig).is_ok()
    }

    pub(crate) fn public_der(&self) -> Result<Vec<u8>, Error> {
        self.public
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| Error::invalid_key("RSA public key export failed"))
    }

    pub(crate) fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let pair = self
            .private
            .as_ref()
            .ok_or_else(|| Error::invalid_key("not a private key"))?;
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(pair)
            .map_err(|_| Error::invalid_key("RSA private key export failed"))?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The CRT members for a private JWK, read from the PKCS#8 export (aws-lc-rs does not
    /// expose them directly).
    pub(crate) fn private_parts(&self) -> Result<PrivateParts, Error> {
        use pkcs1::der::Decode;
        let pkcs8 = self.pkcs8_der()?;
        let bad = |_| Error::invalid_key("RSA private key export failed");
        let info = pkcs8::PrivateKeyInfoRef::from_der(&pkcs8).map_err(bad)?;
        let key = pkcs1::RsaPrivateKey::from_der(info.private_key.as_bytes()).map_err(bad)?;
        let own = |u: pkcs1::UintRef<'_>| Zeroizing::new(u.as_bytes().to_vec());
        Ok(PrivateParts {
            d: own(key.private_exponent),
            p: own(key.prime1),
            q: own(key.prime2),
            dp: own(key.exponent1),
            dq: own(key.exponent2),
            qi: own(key.coefficient),
        })
    }
}
