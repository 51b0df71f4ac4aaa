#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests and benchmarks: no Docker, no system cluster touched.
#
#   eval "$(scripts/postgres.sh)"          # start one; exports CLERK_TEST_POSTGRES_URL and CLERK_TEST_POSTGRES_DIR
#   scripts/postgres.sh stop "$CLERK_TEST_POSTGRES_DIR"   # stop it and delete its files
#
# Installs Debian's postgresql package when no server binaries are found. The cluster lives in a new temporary
# folder, listens on a free port on 127.0.0.1 only, trusts local connections, and has a database `clerk_test`.
# initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user (through runuser); as any
# other user they run as that user. Only the export lines go to standard output; progress goes to standard error.
set -euo pipefail

say() { echo "postgres.sh: $*" >&2; }

# The newest installed server's bin folder, or nothing.
server_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$found" ] && [ -x "$found/initdb" ] && [ -x "$found/pg_ctl" ]; then echo "$found"; fi
}

install_postgres() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            say "PostgreSQL is not installed and this user cannot install it; run: apt-get install postgresql"
            exit 1
        fi
    fi
    say "installing Debian's postgresql package"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
}

# Runs a server command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A port on 127.0.0.1 that nothing answers on.
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    say "found no free port"
    exit 1
}

start() {
    local bin base port
    bin=$(server_bin)
    if [ -z "$bin" ]; then
        install_postgres
        bin=$(server_bin)
        [ -n "$bin" ] || { say "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"; exit 1; }
    fi
    base=$(mktemp -d "${TMPDIR:-/tmp}/clerk-postgres.XXXXXX")
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$base"; fi
    # The server's user must be able to enter the working folder.
    cd /
    as_owner "$bin/initdb" -D "$base/data" -U postgres --auth-local=trust --auth-host=trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$base/initdb.log" 2>&1 || {
        cat "$base/initdb.log" >&2
        say "initdb failed"
        exit 1
    }
    local started=""
    for _ in 1 2 3; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 30 \
            -o "-p $port -k $base -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
            started=yes
            break
        fi
        say "the server did not start on port $port; trying another"
    done
    if [ -z "$started" ]; then
        tail -n 20 "$base/server.log" >&2 || true
        say "could not start PostgreSQL"
        exit 1
    fi
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres clerk_test
    say "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port, files in $base"
    echo "export CLERK_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/clerk_test"
    echo "export CLERK_TEST_POSTGRES_DIR=$base"
}

stop() {
    local base="${1:-}" bin
    [ -n "$base" ] && [ -d "$base/data" ] || { say "usage: postgres.sh stop DIR (a folder printed by start)"; exit 2; }
    bin=$(server_bin)
    cd /
    as_owner "$bin/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || say "the server in $base was not running"
    rm -rf "$base"
}

case "${1:-start}" in
start) start ;;
stop) stop "${2:-}" ;;
*)
    say "usage: postgres.sh [start] | postgres.sh stop DIR"
    exit 2
    ;;
esac
