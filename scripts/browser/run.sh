#!/usr/bin/env bash
# Browser test of the chat widget against a real `clerk serve`.
#
#   scripts/browser/run.sh [CLERK_BINARY] [CONTENT_DIR] [SCREENSHOT]
#
# Defaults: .build/debug/clerk, the repository root (intents/ and config/), .build/browser/widget.png.
# Builds nothing: build clerk first. Installs Debian's chromium with apt-get when it is missing (as root, or
# through sudo), starts `clerk serve` on free ports with a throw-away SQLite store, waits for its
# "serving HTTP on" line, runs scripts/browser/widget_test.py (which installs websocket-client with pip when
# missing) and stops the server. Exit status: the test's (0 when every check passed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLERK=${1:-${CLERK:-$ROOT/.build/debug/clerk}}
CONTENT=${2:-${CLERK_CONTENT:-$ROOT}}
SCREENSHOT=${3:-${SCREENSHOT:-$ROOT/.build/browser/widget.png}}
PYTHON=${PYTHON:-python3}

if [[ ! -x "$CLERK" ]]; then
    echo "run.sh: no clerk binary at $CLERK (build it first: swift build --product clerk)" >&2
    exit 2
fi

if ! command -v chromium >/dev/null 2>&1; then
    echo "run.sh: installing chromium from Debian's packages" >&2
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo -n); fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clerk-browser.XXXXXX")
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

STORE="sqlite:$WORK/clerk.sqlite"
"$CLERK" serve --content "$CONTENT" --http-port 0 --chat-port 0 --store "$STORE" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!

URL=""
for _ in $(seq 1 600); do
    URL=$(sed -n 's/.*serving HTTP on \(http:\/\/[^ ]*\).*/\1/p' "$WORK/serve.log" | head -n 1)
    [[ -n "$URL" ]] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "run.sh: clerk serve exited before serving HTTP:" >&2
        cat "$WORK/serve.log" >&2
        exit 2
    fi
    sleep 0.1
done
if [[ -z "$URL" ]]; then
    echo "run.sh: clerk serve printed no 'serving HTTP on' line within 60 s:" >&2
    cat "$WORK/serve.log" >&2
    exit 2
fi
echo "run.sh: clerk serve at $URL, store $STORE" >&2

status=0
"$PYTHON" "$ROOT/scripts/browser/widget_test.py" --url "$URL" --store "$STORE" --clerk "$CLERK" \
    --screenshot "$SCREENSHOT" || status=$?
if [[ $status -ne 0 ]]; then
    echo "run.sh: server log (last 40 lines):" >&2
    tail -n 40 "$WORK/serve.log" >&2
fi
exit $status
