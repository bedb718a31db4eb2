#!/usr/bin/env bash
# Tessera's server benchmark suite (issue 5). One command; see bench/README.md.
#
# Builds Tessera (release), the axum "hello" ceiling and the Django + DRF + simplejwt reference,
# then drives each in turn, alone on the machine's loopback, with wrk at one fixed concurrency
# for a fixed time per scenario. Writes bench/results.json and the generated part of
# bench/RESULTS.md. Every server listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
LIB="$BENCH_DIR/lib"

DURATION=10
CONCURRENCY=64
THREADS=2
USERS=64
SERVERS="hello,tessera,django"
SCENARIOS="me,me-eddsa,me-es256,verify,verify-size,refresh,login,me-during-login,rss256,sweep,scale,budget,ready"
BUILD=1
WORK=""
RESULTS_JSON="$BENCH_DIR/results.json"
RESULTS_MD="$BENCH_DIR/RESULTS.md"
READY_RUNS=5

usage() {
    cat <<EOF
Usage: bench/run.sh [options]

  -d, --duration SECS      seconds per scenario (default $DURATION)
  -c, --concurrency N      open connections per scenario (default $CONCURRENCY)
  -t, --threads N          wrk threads (default $THREADS)
  -u, --users N            benchmark users created on each server (default $USERS)
  -s, --scenarios LIST     comma-separated subset of:
                           $SCENARIOS
  -S, --servers LIST       comma-separated subset of: hello,tessera,django (default all)
      --no-build           use the binaries already built
      --work DIR           scratch directory (default bench/.work/<timestamp>)
      --results FILE       machine-readable results (default bench/results.json)
      --markdown FILE      markdown report to update (default bench/RESULTS.md)
  -h, --help
EOF
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        -d|--duration) DURATION="$2"; shift 2 ;;
        -c|--concurrency) CONCURRENCY="$2"; shift 2 ;;
        -t|--threads) THREADS="$2"; shift 2 ;;
        -u|--users) USERS="$2"; shift 2 ;;
        -s|--scenarios) SCENARIOS="$2"; shift 2 ;;
        -S|--servers) SERVERS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --work) WORK="$2"; shift 2 ;;
        --results) RESULTS_JSON="$2"; shift 2 ;;
        --markdown) RESULTS_MD="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

# Bounded load only: the suite is for a developer's machine, never a stress test of others'.
(( DURATION >= 1 && DURATION <= 120 )) || { echo "run.sh: duration must be 1..120 s" >&2; exit 2; }
(( CONCURRENCY >= 1 && CONCURRENCY <= 1024 )) || { echo "run.sh: concurrency must be 1..1024" >&2; exit 2; }
(( THREADS >= 1 && THREADS <= CONCURRENCY )) || { echo "run.sh: threads must be 1..concurrency" >&2; exit 2; }

has() { [[ ",$1," == *",$2,"* ]]; }
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

WORK="${WORK:-$BENCH_DIR/.work/$(date +%Y%m%d-%H%M%S)}"
RAW="$WORK/raw"
mkdir -p "$RAW"
log "scratch: $WORK"

HELLO_ADDR=127.0.0.1:18100
DJANGO_ADDR=127.0.0.1:18200
TESSERA_ADDR=127.0.0.1:18300
TESSERA_BIN="$ROOT/target/release/tessera"
# The load generator logs in as a few users from one address, many at once: the login limits
# (docs/security.md, "Brute-force protection") would answer most of that with 429. And one
# access-log line per request would measure the log sink, not the server.
export TESSERA_LOGIN_MAX_FAILURES_PER_USERNAME=0 TESSERA_LOGIN_MAX_FAILURES_PER_ADDRESS=0
export TESSERA_LOG=info,access=off
HELLO_BIN="$ROOT/target/bench-hello/release/bench-hello"
VENV="$BENCH_DIR/.venv"
PREFIX=bench
# A benchmark-only password, made fresh for every run; it never leaves this machine's loopback.
BENCH_PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export BENCH_PASSWORD BENCH_LIB="$LIB" BENCH_THREADS="$THREADS"

# --- processes -----------------------------------------------------------------------------

SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        # gunicorn's workers are children of the pid we started: remember them, so that none
        # can outlive their master and keep the port.
        local children
        children=$(pgrep -P "$SERVER_PID" 2>/dev/null || true)
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" $children 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT
# A signal ends the run (the EXIT trap then stops the server); without this, bash would run the
# handler and carry on with the next scenario.
trap 'exit 130' INT TERM

wait_ready() { # ADDR: poll /readyz until 200 (30 s at most)
    for _ in $(seq 600); do
        if [[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://$1/readyz")" == 200 ]]; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited; see $WORK/*.log"; exit 1; }
        sleep 0.05
    done
    log "server on $1 not ready within 30 s"; exit 1
}

# The server's processes: the main pid and, for gunicorn, its workers.
server_pids() { echo "$SERVER_PID" $(pgrep -P "$SERVER_PID" 2>/dev/null || true); }

# Peak RSS (VmHWM) is reset before every scenario (proc(5): writing 5 to clear_refs resets the
# peak resident set size), so each scenario reports its own peak, summed over the processes.
rss_reset() { for p in $(server_pids); do echo 5 > "/proc/$p/clear_refs" 2>/dev/null || true; done; }
rss_peak_kib() {
    local total=0 v
    for p in $(server_pids); do
        v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        total=$(( total + ${v:-0} ))
    done
    echo "$total"
}

cpu_split() { # "USER SYSTEM": clock ticks used so far by the server's processes
    local user=0 sys=0 p u s
    for p in $(server_pids); do
        read -r u s < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo 0 0)
        user=$(( user + ${u:-0} )) sys=$(( sys + ${s:-0} ))
    done
    echo "$user $sys"
}
cpu_ticks() { # user+system clock ticks used so far by the server's processes
    local user sys
    read -r user sys < <(cpu_split)
    echo $(( user + sys ))
}

# After a scenario, wait until the server has finished the requests still queued when wrk
# stopped (a closed-loop generator leaves up to one per connection; behind a slow password hash
# that is many seconds of work) so that it cannot spill into the next scenario: until its CPU
# use stays under ~10% of one core for a quarter second (at most 3 minutes).
wait_idle() {
    local before after
    for _ in $(seq 720); do
        before=$(cpu_ticks); sleep 0.25; after=$(cpu_ticks)
        (( after - before <= 2 )) && return 0
    done
    log "server still busy after 3 minutes; continuing"
}

expect_200() { # DESCRIPTION CURL-ARGS...: one request must answer 200 before a scenario starts
    local what="$1"; shift
    local code
    code=$(curl -s --max-time 60 -o "$WORK/last-check.body" -w '%{http_code}' "$@") || code=000
    if [[ "$code" != 200 ]]; then
        log "$what: expected 200, got $code: $(head -c 300 "$WORK/last-check.body")"
        return 1
    fi
}

# --- one scenario --------------------------------------------------------------------------

# wrk_run SERVER SCENARIO ADDR SCRIPT CONNECTIONS THREADS DURATION [ENV=VALUE...]
# Runs wrk once, writes $RAW/SERVER.SCENARIO.json (wrk summary) and .rss (peak RSS in KiB).
wrk_run() {
    local server="$1" scenario="$2" addr="$3" script="$4" conns="$5" threads="$6" dur="$7"
    shift 7
    local out="$RAW/$server.$scenario"
    log "$server $scenario: ${dur}s at $conns connections, $threads wrk threads"
    rss_reset
    # The machine's load when the scenario starts: on a shared machine, the honest caveat.
    cut -d' ' -f1 /proc/loadavg > "$out.load"
    # The server's own CPU time over the scenario (user and system apart, all its threads): per
    # request it does not depend on how much of the machine others were using, unlike requests/s.
    local user0 sys0 user1 sys1
    read -r user0 sys0 < <(cpu_split)
    env "$@" BENCH_OUT="$out.json" BENCH_THREADS="$threads" \
        wrk -t"$threads" -c"$conns" -d"${dur}s" --timeout 30s -s "$LIB/$script" "http://$addr" \
        > "$out.wrk.txt" 2>&1
    read -r user1 sys1 < <(cpu_split)
    # "TOTAL HZ USER": total and user ticks over the scenario, and ticks per second.
    echo "$(( user1 + sys1 - user0 - sys0 )) $(getconf CLK_TCK) $(( user1 - user0 ))" > "$out.cpu"
    rss_peak_kib > "$out.rss"
    wait_idle
    python3 - "$out.json" <<'PY' >&2
import json, sys
r = json.load(open(sys.argv[1]))
rate = r["requests"] / (r["duration_us"] / 1e6)
l = r["latency_us"]
print(f"    {rate:10.0f} req/s  p50 {l['p50']/1000:.2f} ms  p99 {l['p99']/1000:.2f} ms  "
      f"errors {sum(r['errors'].values())} non2xx {r['non2xx']}")
PY
}

# The scenarios every server that implements them runs alike. TOKENS: access tokens (one per
# line), REFRESH: refresh tokens, ADDR: where the server listens.
common_scenarios() {
    local server="$1" addr="$2" tokens="$3" refresh="$4" secret_file="$5"
    local first
    first=$(head -n1 "$tokens")

    if has "$SCENARIOS" me; then
        expect_200 "$server me" -H "Authorization: Bearer $first" "http://$addr/api/me/"
        wrk_run "$server" me "$addr" get_bearer.lua "$CONCURRENCY" "$THREADS" "$DURATION" \
            BENCH_TOKENS="$tokens" BENCH_PATH=/api/me/
    fi
    if has "$SCENARIOS" verify; then
        expect_200 "$server verify" -H 'Content-Type: application/json' \
            -d "{\"token\":\"$first\"}" "http://$addr/api/token/verify/"
        wrk_run "$server" verify "$addr" post_token.lua "$CONCURRENCY" "$THREADS" "$DURATION" \
            BENCH_TOKENS="$tokens" BENCH_PATH=/api/token/verify/ BENCH_FIELD=token
    fi
    if has "$SCENARIOS" verify-size && [[ -n "$secret_file" ]]; then
        # Token size: the same verify with access tokens padded to 1 KiB and 4 KiB.
        local size
        for size in 1024 4096; do
            python3 "$LIB/bigtoken.py" "$secret_file" "$size" 64 > "$WORK/$server.tokens-$size"
            expect_200 "$server verify-$size" -H 'Content-Type: application/json' \
                -d "{\"token\":\"$(head -n1 "$WORK/$server.tokens-$size")\"}" \
                "http://$addr/api/token/verify/"
            wrk_run "$server" "verify-$size" "$addr" post_token.lua "$CONCURRENCY" "$THREADS" \
                "$DURATION" BENCH_TOKENS="$WORK/$server.tokens-$size" \
                BENCH_PATH=/api/token/verify/ BENCH_FIELD=token
        done
    fi
    if has "$SCENARIOS" refresh && [[ -n "$refresh" ]]; then
        wrk_run "$server" refresh "$addr" refresh.lua "$CONCURRENCY" "$THREADS" "$DURATION" \
            BENCH_TOKENS="$refresh"
    fi
    local login_body
    login_body=$(printf '{"username":"%s0001","password":"%s"}' "$PREFIX" "$BENCH_PASSWORD")
    if has "$SCENARIOS" login && [[ -n "$refresh" ]]; then
        expect_200 "$server login" -H 'Content-Type: application/json' -d "$login_body" \
            "http://$addr/api/token/"
        wrk_run "$server" login "$addr" login.lua "$CONCURRENCY" "$THREADS" "$DURATION" \
            BENCH_USERS="$USERS" BENCH_PREFIX="$PREFIX"
    fi
    if has "$SCENARIOS" me-during-login && [[ -n "$refresh" ]]; then
        # A login flood at the suite's concurrency, started first so that it saturates the
        # password-hash pool, and /api/me/ at the same concurrency while it runs; one wrk thread
        # each, so the load generator uses as many threads as in every other scenario.
        local flood_dur=$(( DURATION + 2 ))
        expect_200 "$server login" -H 'Content-Type: application/json' -d "$login_body" \
            "http://$addr/api/token/"
        expect_200 "$server me" -H "Authorization: Bearer $first" "http://$addr/api/me/"
        rss_reset
        env BENCH_OUT="$RAW/$server.login-flood.json" BENCH_THREADS=1 BENCH_USERS="$USERS" \
            BENCH_PREFIX="$PREFIX" wrk -t1 -c"$CONCURRENCY" -d"${flood_dur}s" --timeout 30s \
            -s "$LIB/login.lua" "http://$addr" > "$RAW/$server.login-flood.wrk.txt" 2>&1 &
        local flood=$!
        sleep 1
        wrk_run "$server" me-during-login "$addr" get_bearer.lua "$CONCURRENCY" 1 "$DURATION" \
            BENCH_TOKENS="$tokens" BENCH_PATH=/api/me/
        wait "$flood"
        rss_peak_kib > "$RAW/$server.me-during-login.rss"
        wait_idle
    fi
    if has "$SCENARIOS" rss256; then
        expect_200 "$server me" -H "Authorization: Bearer $first" "http://$addr/api/me/"
        wrk_run "$server" rss256 "$addr" get_bearer.lua 256 "$THREADS" "$DURATION" \
            BENCH_TOKENS="$tokens" BENCH_PATH=/api/me/
    fi
    if has "$SCENARIOS" sweep; then
        # How latency and throughput grow with concurrency: /api/me/ at 1 and 16 connections
        # (64 is `me`, 256 is `rss256`).
        local c
        for c in 1 16; do
            expect_200 "$server me" -H "Authorization: Bearer $first" "http://$addr/api/me/"
            wrk_run "$server" "me-c$c" "$addr" get_bearer.lua "$c" "$(( c < THREADS ? c : THREADS ))" \
                "$DURATION" BENCH_TOKENS="$tokens" BENCH_PATH=/api/me/
        done
    fi
}

# Sessions minted by logging in before the scenarios: one access token per user, and the
# refresh tokens of the rotation scenario, which needs at least one per connection (see
# lib/refresh.lua) plus a few spare per wrk thread.
mint_count() {
    local n=$(( CONCURRENCY + 4 * THREADS ))
    (( n < USERS )) && n=$USERS
    echo "$n"
}

machine_info() {
    python3 - "$RAW/machine.json" "$CONCURRENCY" "$THREADS" "$DURATION" "$USERS" <<'PY'
import json, os, platform, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
json.dump({
    "cpu": cpu, "cores": os.cpu_count(), "memory": mem, "kernel": platform.release(),
    "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
    "rustc": sh("rustc --version"), "wrk": sh("wrk -v 2>&1 | head -n1"),
    "python": sh("python3 --version"),
    "concurrency": int(sys.argv[2]), "wrk_threads": int(sys.argv[3]),
    "duration_s": int(sys.argv[4]), "users": int(sys.argv[5]),
    "date": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
    # "-dirty": the working tree had changes (the binary may not be the commit's).
    "tessera_commit": sh("git -C '%s' describe --always --dirty --abbrev=7 --match none"
                         % os.environ["ROOT"]),
}, open(sys.argv[1], "w"), indent=1)
PY
}

# --- build ---------------------------------------------------------------------------------

command -v wrk >/dev/null || { log "wrk not found: apt-get install -y wrk"; exit 1; }
if [[ $BUILD == 1 ]]; then
    if has "$SERVERS" tessera; then
        log "building tessera (release)"
        cargo build --release -p tessera-cli --manifest-path "$ROOT/Cargo.toml"
    fi
    if has "$SERVERS" hello; then
        log "building bench-hello (release)"
        cargo build --release --manifest-path "$BENCH_DIR/hello/Cargo.toml" \
            --target-dir "$ROOT/target/bench-hello"
    fi
    if has "$SERVERS" tessera && has "$SCENARIOS" login; then
        log "criterion: one Argon2id verification at the default parameters"
        # Criterion writes its estimates under $CARGO_TARGET_DIR/criterion.
        (cd "$BENCH_DIR/argon2-cost" && CARGO_TARGET_DIR="$ROOT/target/bench-argon2" \
            cargo bench --bench argon2id -- --noplot) > "$WORK/argon2-cost.log" 2>&1
        cp "$ROOT/target/bench-argon2/criterion/argon2id/verify/new/estimates.json" \
            "$RAW/argon2id-verify.estimates.json"
    fi
    if has "$SERVERS" tessera && { has "$SCENARIOS" me-eddsa || has "$SCENARIOS" me-es256; }; then
        # The Criterion figure each asymmetric /api/me/ is held to: the signature verify alone,
        # from bench/crypto-backends (aws-lc-rs, Tessera's backend), run for just those two.
        log "criterion: EdDSA and ES256 verify (bench/crypto-backends, aws-lc-rs)"
        (cd "$BENCH_DIR/crypto-backends" && cargo bench --bench backends -- \
            '^(EdDSA|ES256) verify/aws-lc-rs$' --warm-up-time 1 --measurement-time 3 --noplot) \
            > "$WORK/crypto-verify.log" 2>&1
        python3 - "$BENCH_DIR/crypto-backends/target/criterion" "$RAW/verify-cost.json" <<'PY'
import json, sys
base, out = sys.argv[1], sys.argv[2]
cost = {}
for alg, group in (("eddsa", "EdDSA verify"), ("es256", "ES256 verify")):
    with open(f"{base}/{group}/aws-lc-rs/new/estimates.json") as f:
        cost[alg] = json.load(f)["median"]["point_estimate"] / 1000  # ns -> µs
json.dump(cost, open(out, "w"))
PY
    fi
    if has "$SERVERS" django; then
        if [[ ! -x "$VENV/bin/gunicorn" ]]; then
            log "installing Django + DRF + simplejwt + gunicorn into bench/.venv"
            python3 -m venv "$VENV"
            "$VENV/bin/pip" install -q -r "$BENCH_DIR/django/requirements.txt"
        fi
    fi
fi
export ROOT
machine_info

# A leftover server on one of the suite's ports would answer in place of the one started here
# (which then fails to bind), and its figures would be reported as that server's: refuse.
for addr in "$HELLO_ADDR" "$DJANGO_ADDR" "$TESSERA_ADDR"; do
    if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
        log "something already listens on $addr (a server left from an earlier run?); stop it first"
        exit 1
    fi
done

# --- hello: the HTTP ceiling ---------------------------------------------------------------

if has "$SERVERS" hello; then
    log "== hello (HTTP ceiling) on $HELLO_ADDR"
    HELLO_LISTEN="$HELLO_ADDR" "$HELLO_BIN" > "$WORK/hello.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "$HELLO_ADDR"
    # hello ignores the token; any token-shaped lines keep the request sizes alike.
    python3 "$LIB/bigtoken.py" <(echo hello-bench-secret-hello-bench-secret) 250 "$USERS" \
        > "$WORK/hello.tokens"
    SCENARIOS_SAVED="$SCENARIOS"
    SCENARIOS="$(echo "$SCENARIOS" | tr ',' '\n' | { grep -xE 'me|verify|rss256|sweep' || true; } | paste -sd, -)"
    common_scenarios hello "$HELLO_ADDR" "$WORK/hello.tokens" "" ""
    SCENARIOS="$SCENARIOS_SAVED"
    stop_server
    if has "$SCENARIOS" budget; then
        # The ceiling with a known CPU cost per request (a busy-wait, HELLO_WORK_NS): what that
        # much work per request does to requests/s here, the load generator's share included.
        # 60 µs is about one ES256 verify: the ceiling at that scenario's request rate.
        for us in 1 2 3 4 60; do
            HELLO_LISTEN="$HELLO_ADDR" HELLO_WORK_NS=$((us * 1000)) "$HELLO_BIN" \
                >> "$WORK/hello.log" 2>&1 &
            SERVER_PID=$!
            wait_ready "$HELLO_ADDR"
            expect_200 "hello me-work$us" "http://$HELLO_ADDR/api/me/"
            wrk_run hello "me-work$us" "$HELLO_ADDR" get_bearer.lua "$CONCURRENCY" "$THREADS" \
                "$DURATION" BENCH_TOKENS="$WORK/hello.tokens" BENCH_PATH=/api/me/
            stop_server
        done
    fi
    if has "$SCENARIOS" ready; then
        env HELLO_LISTEN="$HELLO_ADDR" python3 "$LIB/ready.py" "$HELLO_ADDR" "$READY_RUNS" \
            -- "$HELLO_BIN" > "$RAW/hello.ready.json"
    fi
fi

# --- Tessera ---------------------------------------------------------------------------------

start_tessera() { # ALG KEYFILE
    env TESSERA_DATA_DIR="$WORK/tessera-data" TESSERA_LISTEN="$TESSERA_ADDR" \
        TESSERA_ALGORITHM="$1" TESSERA_SIGNING_KEY_FILE="$2" \
        "$TESSERA_BIN" serve >> "$WORK/tessera.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "$TESSERA_ADDR"
}

if has "$SERVERS" tessera; then
    log "== tessera on $TESSERA_ADDR (fresh data dir $WORK/tessera-data)"
    KEYS="$WORK/keys"
    for alg in HS256 EdDSA ES256; do
        "$TESSERA_BIN" keys generate --alg "$alg" --out "$KEYS" > /dev/null
    done
    HS_KEY="$KEYS/hs256-secret.txt"
    export TESSERA_DATA_DIR="$WORK/tessera-data"
    log "creating $USERS users (Argon2id each; $(nproc) at a time)"
    printf '%s\n' "$BENCH_PASSWORD" | "$TESSERA_BIN" user create "${PREFIX}0001" \
        --email "${PREFIX}0001@example.com" --password-stdin > /dev/null
    seq 2 "$USERS" | xargs -P "$(nproc)" -I{} sh -c \
        'n=$(printf "%s%04d" "$0" "$1"); printf "%s\n" "$BENCH_PASSWORD" | "$2" user create "$n" --email "$n@example.com" --password-stdin > /dev/null' \
        "$PREFIX" {} "$TESSERA_BIN"

    start_tessera HS256 "$HS_KEY"
    log "minting $(mint_count) sessions by logging in"
    python3 "$LIB/mint.py" "http://$TESSERA_ADDR" "$(mint_count)" --users "$USERS" \
        --prefix "$PREFIX" --access "$WORK/tessera.access" --refresh "$WORK/tessera.refresh"
    head -n "$USERS" "$WORK/tessera.access" > "$WORK/tessera.tokens"
    common_scenarios tessera "$TESSERA_ADDR" "$WORK/tessera.tokens" "$WORK/tessera.refresh" "$HS_KEY"
    stop_server

    for alg in EdDSA ES256; do
        lower=$(echo "$alg" | tr 'A-Z' 'a-z')
        if has "$SCENARIOS" "me-$lower"; then
            start_tessera "$alg" "$KEYS/$lower-private.pem"
            python3 "$LIB/mint.py" "http://$TESSERA_ADDR" "$USERS" --users "$USERS" \
                --prefix "$PREFIX" --access "$WORK/tessera.$lower.access" \
                --refresh "$WORK/tessera.$lower.refresh"
            expect_200 "tessera me-$lower" \
                -H "Authorization: Bearer $(head -n1 "$WORK/tessera.$lower.access")" \
                "http://$TESSERA_ADDR/api/me/"
            wrk_run tessera "me-$lower" "$TESSERA_ADDR" get_bearer.lua "$CONCURRENCY" \
                "$THREADS" "$DURATION" BENCH_TOKENS="$WORK/tessera.$lower.access" \
                BENCH_PATH=/api/me/
            stop_server
        fi
    done

    tessera_ready() { # NAME
        log "tessera readiness with the existing data dir ($READY_RUNS starts)"
        env TESSERA_LISTEN="$TESSERA_ADDR" TESSERA_ALGORITHM=HS256 TESSERA_SIGNING_KEY_FILE="$HS_KEY" \
            python3 "$LIB/ready.py" "$TESSERA_ADDR" "$READY_RUNS" -- "$TESSERA_BIN" serve \
            > "$RAW/tessera.$1.json"
    }
    has "$SCENARIOS" ready && tessera_ready ready

    if has "$SCENARIOS" scale; then
        # How costs grow with users and sessions: the same scenarios against a store grown to
        # 100,000 users and 100,000 live sessions with 4 generations each (400,000 refresh-token
        # rows) on top of what the run left behind.
        log "growing the store to 100k users / 100k sessions (lib/grow.py)"
        python3 "$LIB/grow.py" "$WORK/tessera-data/tessera.db" 100000 100000 4 \
            > "$RAW/tessera.scale-store.json"
        start_tessera HS256 "$HS_KEY"
        python3 "$LIB/mint.py" "http://$TESSERA_ADDR" "$(mint_count)" --users "$USERS" \
            --prefix "$PREFIX" --access "$WORK/tessera.scale.access" \
            --refresh "$WORK/tessera.scale.refresh"
        head -n "$USERS" "$WORK/tessera.scale.access" > "$WORK/tessera.scale.tokens"
        wrk_run tessera me-scale "$TESSERA_ADDR" get_bearer.lua "$CONCURRENCY" "$THREADS" \
            "$DURATION" BENCH_TOKENS="$WORK/tessera.scale.tokens" BENCH_PATH=/api/me/
        wrk_run tessera verify-scale "$TESSERA_ADDR" post_token.lua "$CONCURRENCY" "$THREADS" \
            "$DURATION" BENCH_TOKENS="$WORK/tessera.scale.tokens" BENCH_PATH=/api/token/verify/ \
            BENCH_FIELD=token
        wrk_run tessera refresh-scale "$TESSERA_ADDR" refresh.lua "$CONCURRENCY" "$THREADS" \
            "$DURATION" BENCH_TOKENS="$WORK/tessera.scale.refresh"
        stop_server
        has "$SCENARIOS" ready && tessera_ready ready-scale
    fi
    du -sk "$WORK/tessera-data" | cut -f1 > "$RAW/tessera.datadir.kib"
    unset TESSERA_DATA_DIR
fi

# --- Django + DRF + simplejwt under gunicorn -------------------------------------------------

if has "$SERVERS" django; then
    log "== django + simplejwt (gunicorn) on $DJANGO_ADDR"
    mkdir -p "$WORK/django"
    head -c 48 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_' > "$WORK/django/signing.key"
    export BENCH_DJANGO_DB="$WORK/django/db.sqlite3" BENCH_DJANGO_LISTEN="$DJANGO_ADDR"
    BENCH_DJANGO_SECRET_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
    BENCH_DJANGO_SIGNING_KEY="$(cat "$WORK/django/signing.key")"
    export BENCH_DJANGO_SECRET_KEY BENCH_DJANGO_SIGNING_KEY
    (cd "$BENCH_DIR/django" && "$VENV/bin/python" manage.py migrate -v0 &&
        printf '%s\n' "$BENCH_PASSWORD" |
        "$VENV/bin/python" manage.py bench_users "$USERS" --prefix "$PREFIX" > /dev/null)
    DJANGO_CMD=("$VENV/bin/gunicorn" --chdir "$BENCH_DIR/django" -c "$BENCH_DIR/django/gunicorn.conf.py" benchsite.wsgi:application)
    "${DJANGO_CMD[@]}" > "$WORK/django.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "$DJANGO_ADDR"
    log "minting $(mint_count) sessions by logging in (PBKDF2: slow)"
    python3 "$LIB/mint.py" "http://$DJANGO_ADDR" "$(mint_count)" --users "$USERS" \
        --prefix "$PREFIX" --access "$WORK/django.access" --refresh "$WORK/django.refresh"
    head -n "$USERS" "$WORK/django.access" > "$WORK/django.tokens"
    common_scenarios django "$DJANGO_ADDR" "$WORK/django.tokens" "$WORK/django.refresh" \
        "$WORK/django/signing.key"
    stop_server
    if has "$SCENARIOS" ready; then
        python3 "$LIB/ready.py" "$DJANGO_ADDR" "$READY_RUNS" -- "${DJANGO_CMD[@]}" \
            > "$RAW/django.ready.json"
    fi
fi

# --- report ----------------------------------------------------------------------------------

python3 "$LIB/report.py" "$RAW" "$RESULTS_JSON" "$RESULTS_MD"
log "results: $RESULTS_JSON and $RESULTS_MD (raw: $RAW)"
