#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: initdb in a temporary directory, a server on a
# loopback port with its unix socket in that directory, one database and role for Tessera.
#
#   eval "$(tests/cluster/pg.sh start)"   # sets TESSERA_PG_DIR and TESSERA_TEST_DATABASE_URL
#   tests/cluster/pg.sh stop "$TESSERA_PG_DIR"
#   tests/cluster/pg.sh down DIR / up DIR   # stop and start the server, keeping the data
#                                           # (outage tests: same port, same database)
#
# `start` prints shell assignments on stdout (everything else goes to stderr). It needs the
# PostgreSQL server binaries (Debian: `apt-get install postgresql`); their directory is found with
# pg_config or under /usr/lib/postgresql, or taken from PG_BINDIR.
#
# PostgreSQL refuses to run as root, so as root the cluster directory is owned by the `postgres`
# system user (created by the Debian package) and every server command runs through runuser.
# As any other user the commands run directly.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

find_bindir() {
    if [[ -n "${PG_BINDIR:-}" ]]; then echo "$PG_BINDIR"; return; fi
    local d
    # Newest installed major version first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [[ -x "$d/initdb" ]]; then echo "$d"; return; fi
    done
    if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
        pg_config --bindir; return
    fi
    die "no PostgreSQL server binaries found (apt-get install postgresql, or set PG_BINDIR)"
}

# Runs a command as the cluster's owner.
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Starts the server of cluster DIR on PORT; fails if it does not come up.
server_start() {
    local bindir=$1 dir=$2 port=$3
    # fsync off: a throwaway cluster need not survive a machine crash, and tests run faster.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" \
        >/dev/null 2>&1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bindir dir port password attempt
    bindir=$(find_bindir)
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user (apt-get install postgresql)"
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/tessera-pg.XXXXXX")
    # Leave nothing behind if any step below fails.
    trap 'as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
    chmod 0700 "$dir"
    [[ $EUID -eq 0 ]] && chown postgres: "$dir"
    # The role's password: random, kept only in this private directory and in the printed URL.
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    as_owner bash -c "umask 077; cat > '$dir/pwfile'" <<<"$password"

    # Local (unix socket) connections from the owner are trusted, so this script can create the
    # role; TCP connections, which Tessera makes, need the SCRAM password as in production.
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

    # A free port can be taken between the check and the bind: retry a few times.
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        if server_start "$bindir" "$dir" "$port"; then
            break
        fi
        port=""
    done
    if [[ -z "$port" ]]; then
        tail -n 20 "$dir/server.log" >&2 || true
        die "the server did not start"
    fi

    as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
        -v pw="$password" >/dev/null <<'SQL'
CREATE ROLE tessera LOGIN PASSWORD :'pw';
CREATE DATABASE tessera OWNER tessera;
SQL
    echo "$port" | as_owner bash -c "cat > '$dir/port'"
    trap - EXIT
    echo "TESSERA_PG_DIR='$dir'"
    echo "TESSERA_TEST_DATABASE_URL='postgres://tessera:$password@127.0.0.1:$port/tessera'"
    echo "export TESSERA_PG_DIR TESSERA_TEST_DATABASE_URL"
}

stop() {
    local dir=${1:-} bindir
    [[ -n "$dir" && -d "$dir/data" ]] || die "usage: pg.sh stop DIR (a directory made by pg.sh start)"
    bindir=$(find_bindir)
    # Fast shutdown: disconnect clients and stop; the data is thrown away anyway.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

down() {
    local dir=${1:-}
    [[ -n "$dir" && -d "$dir/data" ]] || die "usage: pg.sh down DIR"
    as_owner "$(find_bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

up() {
    local dir=${1:-}
    [[ -n "$dir" && -f "$dir/port" ]] || die "usage: pg.sh up DIR"
    server_start "$(find_bindir)" "$dir" "$(cat "$dir/port")" || {
        tail -n 20 "$dir/server.log" >&2
        die "the server did not start again"
    }
}

case "${1:-}" in
    start) start ;;
    stop) shift; stop "$@" ;;
    down) shift; down "$@" ;;
    up) shift; up "$@" ;;
    *) echo "usage: pg.sh start | pg.sh stop DIR | pg.sh down DIR | pg.sh up DIR" >&2; exit 2 ;;
esac
