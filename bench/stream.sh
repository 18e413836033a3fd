#!/usr/bin/env bash
# Time to the first byte of a cut streamed over HTTP (target <= 50 ms), on the
# filesystem blob store and on S3 (s3s-fs, as the tests use): three consecutive 1-minute
# 1080p30 10 Mbit/s recordings are uploaded to a release `dashvault serve`, then the
# window 0:30-2:30 of that drive is fetched with curl, ROUNDS times each:
#   cold  the first request after a server start (the recordings' indexes are read from
#         the blob store), the server restarted before each round;
#   warm  the same request again (indexes cached).
# Figures are medians of curl's time_starttransfer. A cold request reads each
# recording's first and last 256 KiB (its box headers and its `moov`), all in parallel:
# one round trip of the store.
#
#   bench/stream.sh            # ROUNDS=5
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

ROUNDS="${ROUNDS:-5}"
for tool in ffmpeg python3 curl; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
log "building dashvault (release)"
cargo build --release -p dashvault
dashvault="$PWD/target/release/dashvault"

work="$(mktemp -d "${TMPDIR:-/tmp}/dashvault-stream.XXXXXX")"
server_pid=
s3_pid=
cleanup() {
    stop_server
    if [ -n "$s3_pid" ]; then kill "$s3_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

log "generating three 1-minute 1080p recordings"
ffmpeg -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=180" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=180" \
    -c:v libx264 -preset ultrafast -g 30 -keyint_min 30 -sc_threshold 0 -pix_fmt yuv420p \
    -b:v 10M -minrate 10M -maxrate 10M -bufsize 10M -x264-params nal-hrd=cbr \
    -c:a aac -b:a 128k -f segment -segment_time 60 -reset_timestamps 1 "$work/cam%d.mp4"

upload() { # port token file start
    local size meta location
    size=$(stat -c %s "$3")
    meta="kind $(printf recording | base64),start $(printf '%s' "$4" | base64)"
    location=$(curl -sf -D - -o /dev/null -X POST \
        -H "Authorization: Bearer $2" -H 'Tus-Resumable: 1.0.0' \
        -H "Upload-Length: $size" -H "Upload-Metadata: $meta" \
        "http://127.0.0.1:$1/api/v1/uploads" | tr -d '\r' | awk -F': ' 'tolower($1)=="location" {print $2}')
    [ -n "$location" ] || die "no upload created for $3"
    case "$location" in http*) ;; *) location="http://127.0.0.1:$1$location" ;; esac
    curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $2" -H 'Tus-Resumable: 1.0.0' \
        -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' \
        --data-binary "@$3" "$location" || die "upload of $3 failed"
}

ttfb() { # url token
    curl -sf -o /dev/null -w '%{time_starttransfer}' -H "Authorization: Bearer $2" "$1"
}

median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]) * 1000:.1f}")' "$@"; }

measure() { # name blob-url
    local name=$1 blob=$2 cold=() warm=() drive path
    start_dashvault "$work/$name" --blob-url "$blob"
    upload "$port" "$token" "$work/cam0.mp4" 2026-11-20T07:30:00Z
    upload "$port" "$token" "$work/cam1.mp4" 2026-11-20T07:31:00Z
    upload "$port" "$token" "$work/cam2.mp4" 2026-11-20T07:32:00Z
    drive=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/drives" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
    path="/api/v1/drives/$drive/video?from=2026-11-20T07:30:30Z&to=2026-11-20T07:32:30Z"
    for _ in $(seq 1 "$ROUNDS"); do
        restart_dashvault "$work/$name" --blob-url "$blob"
        cold+=("$(ttfb "http://127.0.0.1:$port$path" "$token")")
        warm+=("$(ttfb "http://127.0.0.1:$port$path" "$token")")
    done
    stop_server
    echo "$name: time to first byte of the 0:30-2:30 cut: cold $(median "${cold[@]}") ms," \
        "warm $(median "${warm[@]}") ms (medians of $ROUNDS; target <= 50 ms)"
}

measure fs "file://$work/fs-blobs"
s3_env="$(scripts/s3-server)"
eval "$s3_env"
s3_pid="$DASHVAULT_TEST_S3_PID"
measure s3 "$DASHVAULT_TEST_S3_URL"
