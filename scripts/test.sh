#!/usr/bin/env bash
# Runs every test: installs what the build needs, builds, runs the Swift test suites (unit and integration,
# in parallel), checks the bundled content's transcripts with the real binary, and checks formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build --build-tests
swift test --skip-build --parallel
.build/debug/clerk lint
.build/debug/clerk test
if command -v swift >/dev/null && swift format --version >/dev/null 2>&1; then
    swift format lint --strict --recursive Sources Tests
fi
