//! Sign and verify+validate of a simplejwt-sized access token for every algorithm, side by side
//! with (a) the bare primitive and (b) the `jsonwebtoken` crate, in one run. Targets, figures and
//! the machine are in `docs/PERFORMANCE.md`; run with
//! `cargo bench -p tessera-jwt --bench jwt -- --warm-up-time 1 --measurement-time 3`.
//!
//! Each group is one algorithm and one direction, with up to three lines:
//! - `tessera`: `tessera_jwt::encode` / `tessera_jwt::decode` (strict parsing, key selection,
//!   signature, claims validation against the clock);
//! - `primitive`: the least any JWS library must do. HS*: HMAC (pre-keyed RustCrypto state, the
//!   fastest HMAC measured in `bench/crypto-backends`) over the signing input, plus, for verify,
//!   base64url-decoding the three segments. Others: the bare aws-lc-rs sign, or verify with a
//!   pre-parsed public key, over the signing input;
//! - `jsonwebtoken`: `jsonwebtoken::encode` / `jsonwebtoken::decode` (with its default
//!   validation, `exp` checked) on the provider given by `TESSERA_BENCH_JSONWEBTOKEN`
//!   (`aws_lc` by default, the faster of its two here; `rust_crypto` to compare). It has no ES512.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};

use common::{Contestants, install_jsonwebtoken_provider};

fn bench(c: &mut Criterion) {
    eprintln!("jsonwebtoken provider: {}", install_jsonwebtoken_provider());
    for k in Contestants::all() {
        let mut g = c.benchmark_group(format!("{} verify", k.alg));
        g.bench_function("tessera", |b| b.iter(|| k.verify_tessera()));
        g.bench_function("primitive", |b| b.iter(|| k.verify_primitive()));
        if k.has_theirs() {
            g.bench_function("jsonwebtoken", |b| b.iter(|| k.verify_theirs()));
        }
        g.finish();

        let mut g = c.benchmark_group(format!("{} sign", k.alg));
        g.bench_function("tessera", |b| b.iter(|| k.sign_tessera()));
        g.bench_function("primitive", |b| b.iter(|| k.sign_primitive()));
        if k.has_theirs() {
            g.bench_function("jsonwebtoken", |b| b.iter(|| k.sign_theirs()));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
