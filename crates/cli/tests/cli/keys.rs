//! `tessera keys generate`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::util::{Dir, path_str};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn asymmetric_keys_write_private_public_and_jwk_files() {
    for alg in ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"] {
        let dir = Dir::new();
        let run = dir.run(&["keys", "generate", "--alg", alg]);
        let out = run.ok();
        let lower = alg.to_ascii_lowercase();
        let private = dir.path().join(format!("{lower}-private.pem"));
        let public = dir.path().join(format!("{lower}-public.pem"));
        let jwk = dir.path().join(format!("{lower}-public.jwk.json"));

        for path in [&private, &public, &jwk] {
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(out.contains(name), "{alg}: {name} not reported in {out}");
        }
        assert_eq!(mode(&private), 0o600, "{alg} private key mode");
        assert_eq!(mode(&public) & 0o077, 0o044 & mode(&public), "{alg}");
        let private_pem = std::fs::read_to_string(&private).unwrap();
        assert!(
            private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "{alg}"
        );
        let public_pem = std::fs::read_to_string(&public).unwrap();
        assert!(
            public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"),
            "{alg}"
        );
        // The private key never leaks to stdout.
        assert!(!out.contains("PRIVATE KEY"), "{alg}: {out}");

        let jwk: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&jwk).unwrap()).unwrap();
        assert_eq!(jwk["alg"], alg, "{alg}: {jwk}");
        assert_eq!(jwk["use"], "sig", "{alg}: {jwk}");
        assert!(
            jwk.get("d").is_none(),
            "{alg}: public JWK holds private member d"
        );
        let kid = out.lines().find_map(|l| l.strip_prefix("kid: ")).unwrap();
        assert_eq!(jwk["kid"], kid, "{alg}");
    }
}

#[test]
fn hmac_writes_one_secret_file_usable_with_secret_file() {
    for (alg, min_len) in [("HS256", 32), ("HS384", 48), ("HS512", 64)] {
        let dir = Dir::new();
        let run = dir.run(&["keys", "generate", "--alg", alg]);
        let name = format!("{}-secret.txt", alg.to_ascii_lowercase());
        let path = dir.path().join(&name);
        assert!(run.ok().contains(&name));
        assert_eq!(mode(&path), 0o600, "{alg}");
        let secret = std::fs::read_to_string(&path).unwrap();
        assert!(secret.len() >= min_len, "{alg}: {} bytes", secret.len());
        assert!(
            !run.ok().contains(&secret),
            "the secret must not be printed"
        );
        let entries = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(entries, 1, "{alg}: only the secret file");

        let token = dir.encode(&["--alg", alg, "--secret-file", &name, "--exp", "1h"]);
        dir.run(&["token", "verify", &token, "--alg", alg, "--secret", &secret])
            .ok();
    }
}

/// A secret that begins with `-` (base64url secrets can) is a value, not an option.
#[test]
fn a_secret_may_begin_with_a_hyphen() {
    let dir = Dir::new();
    let secret = "-W0123456789abcdef0123456789abcdef";
    let token = dir.encode(&["--alg", "HS256", "--secret", secret, "--exp", "1h"]);
    dir.run(&["token", "verify", &token, "--secret", secret])
        .ok();
}

#[test]
fn two_generations_differ() {
    let dir = Dir::new();
    let a = Dir::new();
    let kid1 = dir.generate("EdDSA").unwrap();
    let kid2 = a.generate("EdDSA").unwrap();
    assert_ne!(kid1, kid2);
    dir.generate("HS256");
    a.generate("HS256");
    assert_ne!(dir.read("hs256-secret.txt"), a.read("hs256-secret.txt"));
}

#[test]
fn out_writes_into_a_directory_creating_it() {
    let dir = Dir::new();
    let run = dir.run(&[
        "keys",
        "generate",
        "--alg",
        "ES256",
        "--out",
        "keys/current",
    ]);
    run.ok();
    let sub = dir.path().join("keys/current");
    assert_eq!(mode(&sub.join("es256-private.pem")), 0o600);
    assert!(sub.join("es256-public.pem").is_file());
    assert!(sub.join("es256-public.jwk.json").is_file());
    assert!(!dir.path().join("es256-private.pem").exists());
    assert!(
        run.ok().contains("keys/current/es256-private.pem"),
        "{}",
        run.ok()
    );
}

#[test]
fn existing_files_are_not_overwritten_without_force() {
    let dir = Dir::new();
    dir.generate("ES256");
    let private = dir.read("es256-private.pem");
    let jwk = dir.read("es256-public.jwk.json");
    // Only one of the three targets exists: nothing at all is written.
    std::fs::remove_file(dir.path().join("es256-public.pem")).unwrap();

    let err = dir
        .run(&["keys", "generate", "--alg", "ES256"])
        .fails(1)
        .to_owned();
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(dir.read("es256-private.pem"), private);
    assert_eq!(dir.read("es256-public.jwk.json"), jwk);
    assert!(
        !dir.path().join("es256-public.pem").exists(),
        "nothing half-written"
    );

    // --force replaces them, and a loosened mode on the old file does not carry over.
    let private_path = dir.path().join("es256-private.pem");
    std::fs::set_permissions(&private_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    dir.run(&["keys", "generate", "--alg", "ES256", "--force"])
        .ok();
    assert_ne!(dir.read("es256-private.pem"), private);
    assert_eq!(mode(&private_path), 0o600);
    assert!(dir.path().join("es256-public.pem").is_file());
}

#[test]
fn a_dangling_symlink_counts_as_existing() {
    let dir = Dir::new();
    let target = dir.path().join("elsewhere");
    std::os::unix::fs::symlink(&target, dir.path().join("hs256-secret.txt")).unwrap();
    dir.run(&["keys", "generate", "--alg", "HS256"]).fails(1);
    assert!(
        !target.exists(),
        "wrote through a symlink: {}",
        path_str(&target)
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new();
    dir.run(&["keys", "generate"]).fails(2);
    dir.run(&["keys", "generate", "--alg", "none"]).fails(2);
    dir.run(&["keys", "generate", "--alg", "ES257"]).fails(2);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
