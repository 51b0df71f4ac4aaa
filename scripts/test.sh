#!/usr/bin/env bash
# Runs every test: installs what the build needs, builds, starts a throw-away PostgreSQL (scripts/postgres.sh) for
# the ticket store's conformance suite, runs the Swift test suites (unit and integration, in parallel), checks the
# bundled content's transcripts with the real binary, drives the chat widget in a headless Chromium
# (scripts/browser/run.sh, which installs Debian's chromium when missing), validates docs/openapi.yaml, and checks
# formatting. A CLERK_TEST_POSTGRES_URL already set is used as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build --build-tests
if [ -z "${CLERK_TEST_POSTGRES_URL:-}" ]; then
    postgres_env=$(scripts/postgres.sh)
    eval "$postgres_env"
    trap 'scripts/postgres.sh stop "$CLERK_TEST_POSTGRES_DIR"' EXIT
fi
swift test --skip-build --parallel
.build/debug/clerk lint --strict
.build/debug/clerk test --coverage
scripts/browser/run.sh .build/debug/clerk
if command -v swift >/dev/null && swift format --version >/dev/null 2>&1; then
    swift format lint --strict --recursive Sources Tests
fi
