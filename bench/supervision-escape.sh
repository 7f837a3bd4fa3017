#!/bin/sh
# Issue 19's "50 runs with zero orphans": agents that flood from their first byte, spawned,
# restarted and reconnected after a daemon kill -9, 50 rounds in one daemon sandbox; then
# every agent is stopped and removed and no holder or fenced process may remain.
# Run from the repository root after `npx tsc -p tsconfig.json && node scripts/bundle.js`.
set -eu
CELISTRA_ESCAPE_ROUNDS="${1:-50}" exec node --test --test-timeout=3600000 \
  --test-name-pattern='stay supervised' dist/test/daemon-supervision-escape.test.js
