#!/usr/bin/env bash
# Builds Clerk (release) and starts `clerk serve` on the bundled content, with the embedded SQLite ticket store
# (./data/clerk.sqlite): HTTP and the widget on 8080, the line chat protocol on 4242.
# Extra arguments go to `clerk serve` (e.g. --http-port 0).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release --product clerk
exec .build/release/clerk serve "$@"
