//! Key construction, export and selection.

use tessera_jwt::{Algorithm, ErrorKind, Key};

#[test]
fn pem_export_reimports_to_the_same_key() {
    for alg in Algorithm::ALL.into_iter().filter(|a| !a.is_hmac()) {
        let key = Key::generate(alg).unwrap();
        let private = Key::from_pem(alg, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
        let public = Key::from_pem(alg, key.to_public_pem().unwrap().as_bytes()).unwrap();
        assert_eq!(private.thumbprint(), key.thumbprint(), "{alg}");
        assert_eq!(public.thumbprint(), key.thumbprint(), "{alg}");
        assert_eq!(key.kid(), key.thumbprint().as_deref());
        assert!(private.can_sign());
        assert!(!public.can_sign());
    }
}

#[test]
fn hmac_secret_shorter_than_the_hash_is_refused() {
    for (alg, len) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let err = Key::hmac(alg, &vec![7u8; len - 1]).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidKey);
        assert!(Key::hmac(alg, &vec![7u8; len]).is_ok());
    }
}

#[test]
fn debug_never_shows_key_material() {
    let key = Key::hmac(Algorithm::HS256, b"super-secret-value-super-secret-value").unwrap();
    let shown = format!("{key:?}");
    assert!(!shown.contains("super-secret"), "{shown}");
    assert!(shown.contains("HS256"));
}
