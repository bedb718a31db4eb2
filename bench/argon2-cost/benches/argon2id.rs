//! One Argon2id verification (what a login costs the server) at the configured parameters.
//!
//! `cargo bench` writes Criterion's estimate to
//! `$CARGO_TARGET_DIR/criterion/argon2id/verify/new/estimates.json`, which bench/run.sh copies
//! for bench/lib/report.py.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn argon2id(c: &mut Criterion) {
    let argon2 = argon2_cost::hasher();
    // A fixed salt: the cost of Argon2 does not depend on the salt's value.
    let salt = SaltString::from_b64("YmVuY2hzYWx0YmVuY2hzYWx0").expect("valid salt");
    let phc = argon2
        .hash_password(b"correct horse battery staple", &salt)
        .expect("hash")
        .to_string();
    let parsed = PasswordHash::new(&phc).expect("own PHC string parses");

    let mut group = c.benchmark_group("argon2id");
    // Each iteration takes tens of milliseconds: ten samples are plenty and keep the run short.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("verify", |b| {
        b.iter(|| {
            argon2
                .verify_password(black_box(b"correct horse battery staple"), &parsed)
                .expect("matches")
        })
    });
    group.finish();
}

criterion_group!(benches, argon2id);
criterion_main!(benches);
