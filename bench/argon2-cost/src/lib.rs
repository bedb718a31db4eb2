//! The Argon2id parameters whose cost `benches/argon2id.rs` measures.
//!
//! They are the argon2 crate's defaults, which are OWASP's first recommendation for Argon2id
//! (m = 19 MiB, t = 2, p = 1) and what tessera-server hashes with unless configured otherwise.
//! `ARGON2_M_KIB`, `ARGON2_T` and `ARGON2_P` in the environment measure other values (for a
//! server configured differently); bench/run.sh runs it with the defaults, as it runs Tessera.

use argon2::{Algorithm, Argon2, Params, Version};

/// Reads one parameter from the environment, falling back to the argon2 crate's default.
fn param(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An Argon2id (version 0x13) context with the benchmarked parameters.
///
/// # Panics
/// If the environment names parameters the argon2 crate rejects.
pub fn hasher() -> Argon2<'static> {
    let params = Params::new(
        param("ARGON2_M_KIB", Params::DEFAULT_M_COST),
        param("ARGON2_T", Params::DEFAULT_T_COST),
        param("ARGON2_P", Params::DEFAULT_P_COST),
        None,
    )
    .expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}
