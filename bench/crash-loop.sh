#!/usr/bin/env bash
# The crash loop at full size, several times: 40 uploads of 20 MiB in 1 MiB chunks, 8 at a
# time, the server SIGKILLed every 0.3 s, ten times per run; each run checks every stored
# file byte for byte and the bytes nothing owns after a clean restart (the test
# `faults::uploads_survive_a_kill_loop`, which CI runs smaller).
#
#   bench/crash-loop.sh [RUNS]      # default 10
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
export DASHVAULT_CRASH_LOOP_UPLOADS="${DASHVAULT_CRASH_LOOP_UPLOADS:-40}"
export DASHVAULT_CRASH_LOOP_MIB="${DASHVAULT_CRASH_LOOP_MIB:-20}"
export DASHVAULT_CRASH_LOOP_PARALLEL="${DASHVAULT_CRASH_LOOP_PARALLEL:-8}"
export DASHVAULT_CRASH_LOOP_KILLS="${DASHVAULT_CRASH_LOOP_KILLS:-10}"
export DASHVAULT_CRASH_LOOP_EVERY_MS="${DASHVAULT_CRASH_LOOP_EVERY_MS:-300}"
cargo nextest run -p dashvault --no-run >/dev/null 2>&1 || cargo nextest run -p dashvault --no-run
passed=0
for run in $(seq 1 "$runs"); do
    if out="$(cargo nextest run -p dashvault --no-capture -E 'test(=faults::uploads_survive_a_kill_loop)' 2>&1)"; then
        passed=$((passed + 1))
        printf 'run %s: %s\n' "$run" "$(grep -o 'crash loop: .*' <<<"$out")"
    else
        printf 'run %s: FAILED\n%s\n' "$run" "$(grep -A5 panicked <<<"$out")"
    fi
done
echo "$passed of $runs runs: every upload intact"
[ "$passed" = "$runs" ]
