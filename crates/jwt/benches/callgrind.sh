#!/usr/bin/env bash
# Instruction counts (valgrind's callgrind) per operation for every algorithm and contestant of
# benches/jwt.rs: exact and repeatable on a shared, noisy machine, unlike wall-clock time. Prints
# a Markdown table: instructions per operation for tessera, primitive (a) and jsonwebtoken (b),
# and the ratios the targets in docs/PERFORMANCE.md are stated in.
#
# Usage (from anywhere in the repository): crates/jwt/benches/callgrind.sh [ALG...]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

bin=$(cargo bench -p tessera-jwt --bench jwt_ops --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .target.name == "jwt_ops") | .executable')
[ -x "$bin" ] || { echo "jwt_ops bench binary not built" >&2; exit 1; }

algs=("$@")
[ ${#algs[@]} -gt 0 ] || algs=(HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)

# Instructions per operation: callgrind counts only inside `measured` (key generation, whose
# cost is random, stays outside), divided by the iteration count.
count() { # alg op who n
    local out
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --collect-atstart=no \
        --toggle-collect='*jwt_ops*measured*' "$bin" "$1" "$2" "$3" "$4" 2>&1 >/dev/null)
    local total
    total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' <<<"$out")
    [ -n "$total" ] || { echo "callgrind failed for $*: $out" >&2; exit 1; }
    echo $((total / $4))
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || b == 0 || a == "") print "–"; else printf "%.2fx", a / b }'; }

echo "| Alg | Op | tessera (Ir) | (a) primitive | (b) jsonwebtoken | tessera/(a) | (b)/tessera |"
echo "|---|---|---|---|---|---|---|"
for alg in "${algs[@]}"; do
    case $alg in
        HS*) n=2000 ;;
        *) n=20 ;;
    esac
    for op in verify sign; do
        ours=$(count "$alg" "$op" tessera "$n")
        prim=$(count "$alg" "$op" primitive "$n")
        if [ "$alg" = ES512 ]; then theirs=""; else theirs=$(count "$alg" "$op" jsonwebtoken "$n"); fi
        echo "| $alg | $op | $ours | $prim | ${theirs:-n/a} | $(ratio "$ours" "$prim") | $(ratio "$theirs" "$ours") |"
    done
done
