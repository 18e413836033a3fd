#!/usr/bin/env bash
# Fuzzes the MP4 index (and cut / time-lapse on what it accepts) for SECONDS seconds,
# seeded with the real samples in testdata/media-samples and the generated test media.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on the stable toolchain through
# RUSTC_BOOTSTRAP=1. Exits non-zero when the fuzzer finds a crash (see fuzz/artifacts/).
set -euo pipefail
seconds="${1:?usage: scripts/fuzz-media.sh SECONDS}"
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="$root/fuzz/corpus/mp4_index"
mkdir -p "$corpus"
# Seeds: small files only (libFuzzer's default maximum input is 1 MiB here).
find "$root/testdata/media-samples" "$root/target/test-media" -type f \
    \( -name '*.mp4' -o -name '*.mov' -o -name '*.m4s' \) -size -1024k 2>/dev/null |
    while read -r f; do cp -n "$f" "$corpus/" || true; done
cd "$root/fuzz"
export RUSTC_BOOTSTRAP=1
exec cargo fuzz run mp4_index "$corpus" -- \
    -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=1024 -timeout=10
