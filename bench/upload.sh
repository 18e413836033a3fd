#!/usr/bin/env bash
# Upload throughput of `dashvault serve` against rustus (crates.io, run with
# --force-fsync true since dashvault fsyncs too), both on the filesystem backend: 8
# parallel 200 MiB uploads in 8 MiB chunks with tus-js-client, the two servers alternated
# ROUNDS times because disk speed here drifts. Then dashvault's peak RSS (VmHWM) while it
# takes 50 concurrent uploads. Targets: >= 1.0x rustus's throughput, < 100 MiB RSS.
#
#   bench/upload.sh                      # ROUNDS=3 PARALLEL=8 SIZE_MIB=200 CHUNK_MIB=8
#   ROUNDS=5 bench/upload.sh
#
# Installs what it needs when missing: the release binary, rustus into
# target/bench-tools, tus-js-client into target/tus-clients (as scripts/test does).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-3}"
PARALLEL="${PARALLEL:-8}"
SIZE_MIB="${SIZE_MIB:-200}"
CHUNK_MIB="${CHUNK_MIB:-8}"
RSS_UPLOADS="${RSS_UPLOADS:-50}"
RSS_SIZE_MIB="${RSS_SIZE_MIB:-40}"

dashvault="$PWD/target/release/dashvault"
server_pid=
# shellcheck source=bench/lib.sh
. bench/lib.sh

for tool in ffmpeg node npm python3 curl; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

tools="$PWD/target/bench-tools"
clients="$PWD/target/tus-clients"
if [ ! -x "$tools/bin/rustus" ]; then
    log "installing rustus into $tools (several minutes)"
    cargo install --locked rustus --root "$tools"
fi
if [ ! -d "$clients/node_modules/tus-js-client" ]; then
    log "installing tus-js-client into $clients"
    mkdir -p "$clients"
    cp crates/server/tests/clients/package.json crates/server/tests/clients/package-lock.json "$clients/"
    (cd "$clients" && npm ci --silent --no-audit --no-fund)
fi
log "building dashvault (release)"
cargo build --release -p dashvault

work="$(mktemp -d "${TMPDIR:-/tmp}/dashvault-bench.XXXXXX")"
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# --- Test files: a real 2 s H.264 MP4 made as long as wanted by a trailing `free` box
#     (still a valid video, so dashvault files it as a recording), unique per file.
ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=25 -t 2 -c:v libx264 \
    -pix_fmt yuv420p "$work/base.mp4"
make_files() { # prefix count size_mib
    python3 - "$work/base.mp4" "$work/$1" "$2" "$3" <<'PY'
import os, struct, sys
base, prefix, count, size_mib = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
video = open(base, "rb").read()
block = os.urandom(1 << 20)
for i in range(count):
    pad = (size_mib << 20) - len(video) - 8
    with open(f"{prefix}{i}.mp4", "wb") as f:
        f.write(video + struct.pack(">I", pad + 8) + b"free")
        seed = f"file {prefix} {i} ".encode()
        f.write(seed)
        left = pad - len(seed)
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
PY
}
log "making $PARALLEL files of $SIZE_MIB MiB and $RSS_UPLOADS of $RSS_SIZE_MIB MiB in $work"
make_files bench "$PARALLEL" "$SIZE_MIB"
make_files rss "$RSS_UPLOADS" "$RSS_SIZE_MIB"

start_rustus() { # sets server_pid, port
    port="$(free_port)"
    rm -rf "$work/rustus"
    mkdir -p "$work/rustus"
    "$tools/bin/rustus" --host 127.0.0.1 --port "$port" --data-dir "$work/rustus" --info-dir "$work/rustus" \
        --force-fsync true --max-body-size $((CHUNK_MIB << 21)) >"$work/rustus.log" 2>&1 &
    server_pid=$!
    wait_port "$port"
}
run_client() { # endpoint token files...
    NODE_PATH="$clients/node_modules" node bench/tus-bench.cjs "$1" "$2" $((CHUNK_MIB << 20)) "${@:3}" |
        python3 -c 'import json, sys; print("%.1f" % json.load(sys.stdin)["mib_per_s"])'
}

bench_files=("$work"/bench*.mp4)
ours=()
theirs=()
for round in $(seq 1 "$ROUNDS"); do
    start_dashvault "$work/dv" --max-upload-size $((1 << 40))
    ours+=("$(run_client "http://127.0.0.1:$port/api/v1/uploads" "$token" "${bench_files[@]}")")
    stop_server
    start_rustus
    theirs+=("$(run_client "http://127.0.0.1:$port/files" - "${bench_files[@]}")")
    stop_server
    log "round $round: dashvault ${ours[-1]} MiB/s, rustus ${theirs[-1]} MiB/s"
done

start_dashvault "$work/dv" --max-upload-size $((1 << 40))
run_client "http://127.0.0.1:$port/api/v1/uploads" "$token" "$work"/rss*.mp4 >/dev/null
rss_kib="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
stop_server

python3 - "$ROUNDS" "${ours[*]}" "${theirs[*]}" "$rss_kib" "$RSS_UPLOADS" "$PARALLEL" "$SIZE_MIB" "$CHUNK_MIB" <<'PY'
import statistics, sys
rounds, ours, theirs, rss_kib, rss_uploads, parallel, size, chunk = sys.argv[1:]
ours = [float(x) for x in ours.split()]
theirs = [float(x) for x in theirs.split()]
ratios = [a / b for a, b in zip(ours, theirs)]
print(f"{parallel} parallel uploads of {size} MiB in {chunk} MiB chunks, {rounds} alternated rounds")
print(f"dashvault MiB/s: {ours}  median {statistics.median(ours):.1f}")
print(f"rustus    MiB/s: {theirs}  median {statistics.median(theirs):.1f}")
print(f"ratio per round: {[round(r, 2) for r in ratios]}  median {statistics.median(ratios):.2f}x (target >= 1.0x)")
print(f"dashvault peak RSS with {rss_uploads} concurrent uploads: {int(rss_kib) / 1024:.1f} MiB (target < 100 MiB)")
PY
