#!/usr/bin/env bash
# Benchmarks `dashvault media` against ffmpeg (and cp) on the same inputs, in one run.
#
#   1. cut 0:30–2:30 across three consecutive 1-minute 1080p30 10 Mbit/s files, to a file:
#      ours vs `ffmpeg -ss 30 -to 150 -f concat … -c copy` (input seeking, its fastest form)
#      vs `cp` of a file as large as ours; also ffmpeg with -ss/-to as output options.
#   2. time-lapse of a 60-minute drive (60 × 1-minute 640x360 files, keyframe every second):
#      ours (--speed 30) vs an ffmpeg re-encode with select=key,setpts.
#   3. peak RSS (/usr/bin/time -v) of ours while cutting 2 and 30 minutes out of a 4 GiB
#      file (built with ffmpeg -c copy, deleted afterwards).
#
# Contenders alternate within each round (hyperfine, one run each per round), with the
# page cache warm for all; the figures are medians over ROUNDS rounds (default 5; 3 for
# the time-lapse, TL_ROUNDS).
# Inputs are generated once under target/bench-media/. Needs ffmpeg, hyperfine, python3.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/target/bench-media"
rounds="${ROUNDS:-5}"
tl_rounds="${TL_ROUNDS:-3}" # the ffmpeg re-encode of an hour takes minutes
mkdir -p "$work"
cd "$root"
cargo build --release -p dashvault >&2
bin="$root/target/release/dashvault"
cd "$work"

gen_minute() { # name size bitrate
    [ -f "$1" ] && return
    ffmpeg -v error -y -f lavfi -i "testsrc2=size=$2:rate=30:duration=60" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=60" \
        -c:v libx264 -preset ultrafast -g 30 -keyint_min 30 -sc_threshold 0 -pix_fmt yuv420p \
        -b:v "$3" -minrate "$3" -maxrate "$3" -bufsize "$3" -x264-params nal-hrd=cbr \
        -c:a aac -b:a 128k "tmp.$1"
    mv "tmp.$1" "$1"
}

# Median wall time (seconds) of command number $2 across round files $1*.json.
median() {
    python3 - "$1" "$2" <<'PY'
import glob, json, statistics, sys
times = [json.load(open(f))["results"][int(sys.argv[2])]["times"][0] for f in sorted(glob.glob(sys.argv[1] + "*.json"))]
print(f"{statistics.median(times):.4f}")
PY
}

# Each run starts without its output file (OUTPUTS, one per command, removed untimed by
# hyperfine's --prepare): overwriting the previous round's output would also time ext4
# freeing its blocks and flushing the new data at close (its `auto_da_alloc` for
# truncated files), which is not cutting.
rounds_of() { # prefix rounds command...
    local prefix=$1 n=$2 out prepare=()
    shift 2
    for out in $OUTPUTS; do prepare+=(--prepare "rm -f $out"); done
    rm -f "$prefix"*.json
    for r in $(seq 1 "$n"); do
        hyperfine -N --runs 1 --style none "${prepare[@]}" \
            --export-json "$prefix$r.json" "$@" >/dev/null 2>&1 ||
            hyperfine --runs 1 --style none "${prepare[@]}" \
                --export-json "$prefix$r.json" "$@" >/dev/null
    done
}

ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

echo "== inputs" >&2
gen_minute m1080.mp4 1920x1080 10M
for i in 1 2 3; do [ -f "cam$i.mp4" ] || cp m1080.mp4 "cam$i.mp4"; done
printf "file '%s'\n" "$work/cam1.mp4" "$work/cam2.mp4" "$work/cam3.mp4" > cut.txt

echo "== 1. cut 0:30-2:30 across three 1-minute 1080p files" >&2
"$bin" media cut --from 30 --to 150 -o ours.mp4 cam1.mp4 cam2.mp4 cam3.mp4
cp ours.mp4 same-size.bin
OUTPUTS="ours.mp4 ffmpeg.mp4 cp.bin ffmpeg-out.mp4" rounds_of cut "$rounds" \
    "$bin media cut --from 30 --to 150 -o ours.mp4 cam1.mp4 cam2.mp4 cam3.mp4" \
    "ffmpeg -v error -y -ss 30 -to 150 -f concat -safe 0 -i cut.txt -c copy ffmpeg.mp4" \
    "cp same-size.bin cp.bin" \
    "ffmpeg -v error -y -f concat -safe 0 -i cut.txt -ss 30 -to 150 -c copy ffmpeg-out.mp4"
ours=$(median cut 0); ff=$(median cut 1); cpt=$(median cut 2); ffout=$(median cut 3)
size=$(stat -c %s ours.mp4)
echo "cut: output $size bytes; ours ${ours}s, ffmpeg ${ff}s, cp ${cpt}s;" \
    "ffmpeg/ours = $(ratio "$ff" "$ours")x (target >= 3), ours/cp = $(ratio "$ours" "$cpt")x (target <= 1.5);" \
    "ffmpeg with output seeking (-ss after -i) ${ffout}s = $(ratio "$ffout" "$ours")x ours"

echo "== 2. time-lapse of a 60-minute drive" >&2
gen_minute m360.mp4 640x360 2M
drive=()
for i in $(seq -w 1 60); do [ -f "drive$i.mp4" ] || cp m360.mp4 "drive$i.mp4"; drive+=("drive$i.mp4"); done
printf "file '$work/%s'\n" "${drive[@]}" > drive.txt
OUTPUTS="tl-ours.mp4 tl-ffmpeg.mp4" rounds_of tl "$tl_rounds" \
    "$bin media timelapse --speed 30 -o tl-ours.mp4 ${drive[*]}" \
    "ffmpeg -v error -y -f concat -safe 0 -i drive.txt -an -vf select=key,setpts=N/30/TB -r 30 -c:v libx264 -preset ultrafast tl-ffmpeg.mp4"
ours=$(median tl 0); ff=$(median tl 1)
echo "timelapse 60 min: ours ${ours}s, ffmpeg re-encode ${ff}s; ffmpeg/ours = $(ratio "$ff" "$ours")x (target >= 20);" \
    "output $(ffprobe -v error -show_entries format=duration -of csv=p=0 tl-ours.mp4)s (ours)," \
    "$(ffprobe -v error -show_entries format=duration -of csv=p=0 tl-ffmpeg.mp4)s (ffmpeg)"

echo "== 3. peak memory cutting from a 4 GiB file" >&2
n=$(( (4 * 1024 * 1024 * 1024) / $(stat -c %s m1080.mp4) + 1 ))
for i in $(seq 1 "$n"); do echo "file '$work/m1080.mp4'"; done > big.txt
ffmpeg -v error -y -f concat -safe 0 -i big.txt -c copy big.mp4
big=$(stat -c %s big.mp4)
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
rss_probe=$(rss "$bin" media probe big.mp4)
rss_2=$(rss "$bin" media cut --from 1200 --to 1320 -o big-2min.mp4 big.mp4)
rss_30=$(rss "$bin" media cut --from 600 --to 2400 -o big-30min.mp4 big.mp4)
echo "4 GiB input ($big bytes): peak RSS probe ${rss_probe} KiB, cut 2 min ${rss_2} KiB," \
    "cut 30 min ($(stat -c %s big-30min.mp4) bytes) ${rss_30} KiB (target < 65536 KiB)"
rm -f big.mp4 big-2min.mp4 big-30min.mp4
