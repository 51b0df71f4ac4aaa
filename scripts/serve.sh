#!/usr/bin/env bash
# Builds Clerk (release) and starts `clerk serve` on the bundled content (the ticket store, SQLite by default,
# arrives with the escalation issue).
# Extra arguments go to `clerk serve` (e.g. --http-port 0).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release --product clerk
exec .build/release/clerk serve "$@"
