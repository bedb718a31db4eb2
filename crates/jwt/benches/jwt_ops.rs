//! One contestant of `jwt.rs`, run a given number of times with no timing: for instruction
//! counts under `valgrind --tool=callgrind`, which are exact and repeatable where wall-clock
//! times on a shared machine are not. `docs/PERFORMANCE.md` has the commands.
//!
//! Usage: `jwt_ops ALG (verify|sign) (tessera|primitive|jsonwebtoken) ITERATIONS`, or
//! `jwt_ops interleaved ROUNDS [ALG...]` (see `interleaved`).
//!
//! Only `measured` is of interest: run under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*'` and divide the
//! total by ITERATIONS; key generation (random, so of varying cost) stays outside the count.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Contestants, install_jsonwebtoken_provider};
use tessera_jwt::Algorithm;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("interleaved") {
        let rounds = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(200);
        let algs: Vec<Algorithm> = match &args[2.min(args.len())..] {
            [] => Algorithm::ALL.to_vec(),
            names => names
                .iter()
                .map(|a| a.parse().expect("algorithm"))
                .collect(),
        };
        install_jsonwebtoken_provider();
        interleaved(&algs, rounds);
        return;
    }
    let [alg, op, who, n] = args.as_slice() else {
        eprintln!("usage: jwt_ops ALG (verify|sign) (tessera|primitive|jsonwebtoken) ITERATIONS");
        std::process::exit(2);
    };
    let alg: Algorithm = alg.parse().expect("a JOSE algorithm name");
    let n: u64 = n.parse().expect("iteration count");
    install_jsonwebtoken_provider();
    let k = Contestants::one(alg);
    measured(&k, op, who, n);
}

/// The loop callgrind counts (`--toggle-collect='*measured*'`).
#[inline(never)]
fn measured(k: &Contestants, op: &str, who: &str, n: u64) {
    for _ in 0..n {
        match (op, who) {
            ("verify", "tessera") => drop(black_box(k.verify_tessera())),
            ("verify", "primitive") => k.verify_primitive(),
            ("verify", "jsonwebtoken") => drop(black_box(k.verify_theirs())),
            ("sign", "tessera") => drop(black_box(k.sign_tessera())),
            ("sign", "primitive") => drop(black_box(k.sign_primitive())),
            ("sign", "jsonwebtoken") => drop(black_box(k.sign_theirs())),
            _ => panic!("unknown operation {op} {who}"),
        }
    }
}

/// Wall-clock ratios that survive a loaded machine: the contestants of one algorithm and
/// direction take turns in ~1 ms slices, `rounds` times (rotating who goes first), and each
/// ratio is the median over rounds of the ratio *within* a round, so slow phases caused by
/// other processes hit all contestants of a round alike. Prints a Markdown table of median
/// nanoseconds per operation and the median per-round ratios.
fn interleaved(algs: &[Algorithm], rounds: usize) {
    println!(
        "| Alg | Op | tessera | (a) primitive | (b) jsonwebtoken | tessera/(a) | (b)/tessera |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &alg in algs {
        let k = Contestants::one(alg);
        for op in ["verify", "sign"] {
            let mut who = vec!["tessera", "primitive"];
            if k.has_theirs() {
                who.push("jsonwebtoken");
            }
            // Iterations per slice: about 1 ms of work each.
            let per_slice: Vec<u64> = who
                .iter()
                .map(|w| {
                    let start = Instant::now();
                    let mut n = 0u64;
                    while start.elapsed() < Duration::from_millis(20) {
                        measured(&k, op, w, 1);
                        n += 1;
                    }
                    (n / 20).max(1)
                })
                .collect();
            let mut ns: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); who.len()];
            for round in 0..rounds {
                for turn in 0..who.len() {
                    let i = (round + turn) % who.len();
                    let start = Instant::now();
                    measured(&k, op, who[i], per_slice[i]);
                    ns[i].push(start.elapsed().as_nanos() as f64 / per_slice[i] as f64);
                }
            }
            let ratio =
                |a: usize, b: usize| median((0..rounds).map(|r| ns[a][r] / ns[b][r]).collect());
            let (ours, prim) = (median(ns[0].clone()), median(ns[1].clone()));
            let (theirs, theirs_ratio) = if who.len() == 3 {
                (
                    fmt_ns(median(ns[2].clone())),
                    format!("{:.2}x", ratio(2, 0)),
                )
            } else {
                ("n/a".to_owned(), "–".to_owned())
            };
            println!(
                "| {alg} | {op} | {} | {} | {theirs} | {:.2}x | {theirs_ratio} |",
                fmt_ns(ours),
                fmt_ns(prim),
                ratio(0, 1),
            );
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.0} ns")
    }
}
