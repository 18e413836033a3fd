#!/usr/bin/env bash
# Library listing latency with 100 000 clips, on SQLite and on PostgreSQL: seeds one
# user's library straight into the database (bench/list_seed.py: SQL in bulk, not through
# HTTP), starts `dashvault serve` (release) on it, and measures p50/p99 of ROUNDS
# sequential requests (bench/list_measure.py) of GET /api/v1/clips — first page, filtered
# pages, a deep cursor page — of GET /api/v1/drives, and of the MY INCIDENTS page
# /incidents (reported as its status when the server has no such page). Target: p99 under
# 50 ms on both engines.
#
#   bench/list.sh                                  # CLIPS=100000 ROUNDS=500
#   ENGINES=sqlite CLIPS=20000 bench/list.sh
#   DASHVAULT_BIN=target/debug/dashvault bench/list.sh   # skip the release build
#
# PostgreSQL: a fresh database on BENCH_POSTGRES_URL (default DASHVAULT_TEST_POSTGRES_URL,
# else postgres://postgres@127.0.0.1:5432/postgres), dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIPS="${CLIPS:-100000}"
ROUNDS="${ROUNDS:-500}"
ENGINES="${ENGINES:-sqlite postgres}"
PG_ADMIN="${BENCH_POSTGRES_URL:-${DASHVAULT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"

log() { printf '\033[1mbench/list:\033[0m %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in python3 curl sqlite3 psql; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
if [ -n "${DASHVAULT_BIN:-}" ]; then
    dashvault="$DASHVAULT_BIN"
    log "using $dashvault"
else
    log "building dashvault (release)"
    cargo build --release -p dashvault
    dashvault="$PWD/target/release/dashvault"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/dashvault-list-bench.XXXXXX")"
server_pid=
pg_db=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    if [ -n "$pg_db" ]; then psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api() { # method path [body]
    curl -sf -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        ${3:+-d "$3"} "http://127.0.0.1:$port$2"
}
field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

start_server() { # database_url
    port="$(free_port)"
    rm -rf "$work/dv"
    "$dashvault" serve --listen "127.0.0.1:$port" --data-dir "$work/dv" --database-url "$1" \
        >"$work/dv.out" 2>"$work/dv.err" &
    server_pid=$!
    for _ in $(seq 1 400); do
        curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
        kill -0 "$server_pid" 2>/dev/null || die "dashvault serve exited: $(tail -5 "$work/dv.err")"
        sleep 0.05
    done
    die "dashvault serve does not answer on port $port"
}
sign_in() { # sets token
    curl -sf -o /dev/null -H 'Content-Type: application/json' \
        -d '{"phone":"+14155550100"}' "http://127.0.0.1:$port/api/v1/auth/code"
    local code=
    for _ in $(seq 1 100); do
        code="$(grep -o 'code [0-9]\{6\}' "$work/dv.out" | tail -1 | cut -d' ' -f2)" && [ -n "$code" ] && break
        sleep 0.05
    done
    token="$(curl -sf -H 'Content-Type: application/json' \
        -d "{\"phone\":\"+14155550100\",\"code\":\"$code\"}" \
        "http://127.0.0.1:$port/api/v1/auth/verify" | field '["token"]')"
}
stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

bench_engine() { # engine
    local url
    case "$1" in
        sqlite) url="sqlite://$work/bench.db"; rm -f "$work/bench.db"* ;;
        postgres)
            pg_db="dv_bench_$$"
            psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$pg_db\"" || die "cannot create a database on $PG_ADMIN"
            url="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' "$PG_ADMIN" "$pg_db")" ;;
    esac
    start_server "$url"
    sign_in
    local user devices=()
    user="$(api GET /api/v1/me | field '["id"]')"
    for name in car van bike; do
        devices+=("$(api POST /api/v1/devices "{\"model\":\"BlackVue DR900X-2CH\",\"serial\":\"$name\",\"name\":\"$name\"}" | field '["id"]')")
    done
    log "$1: seeding $CLIPS clips"
    local seeded=$SECONDS
    python3 bench/list_seed.py "$1" "$user" "$(IFS=,; echo "${devices[*]}")" "$CLIPS" >"$work/seed.sql"
    case "$1" in
        sqlite) sqlite3 "$work/bench.db" <"$work/seed.sql" ;;
        postgres) psql -q -v ON_ERROR_STOP=1 "$url" -f "$work/seed.sql" ;;
    esac
    log "$1: seeded in $((SECONDS - seeded)) s"
    # A deep page: the cursor of the clip 90 % down the list.
    local deep
    deep="$(api GET "/api/v1/clips?limit=200&to=$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc) - d.timedelta(days=657)).strftime("%Y-%m-%d"))')" |
        field '["next_cursor"]')"
    python3 bench/list_measure.py "$1" "http://127.0.0.1:$port" "$token" "$ROUNDS" \
        "/api/v1/clips" \
        "/api/v1/clips?type=hard_brake,sudden_stop,hard_accel,sharp_turn,swerve,collision" \
        "/api/v1/clips?type=collision" \
        "/api/v1/clips?type=hard_brake&view=road&time_from=07:00&time_to=09:00&device=${devices[0]}" \
        "/api/v1/clips?from=2026-01-01&to=2026-03-31" \
        "/api/v1/clips?cursor=$deep" \
        "/api/v1/drives" \
        "web:/incidents" >>"$work/results.jsonl"
    stop_server
    if [ "$1" = postgres ]; then
        psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)"
        pg_db=
    fi
}

: >"$work/results.jsonl"
for engine in $ENGINES; do
    bench_engine "$engine"
done

python3 - "$work/results.jsonl" "$CLIPS" "$ROUNDS" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"{sys.argv[2]} clips, {sys.argv[3]} sequential requests per line")
print(f"{'engine':9} {'p50 ms':>8} {'p99 ms':>8} {'items':>6}  path")
worst = {}
for r in rows:
    if r["status"] != 200:
        print(f"{r['engine']:9} {'':>8} {'':>8} {'':>6}  {r['path']}: HTTP {r['status']}")
        continue
    print(f"{r['engine']:9} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {str(r['items'] if r['items'] is not None else '-'):>6}  {r['path']}")
    worst[r["engine"]] = max(worst.get(r["engine"], 0), r["p99_ms"])
for engine, p99 in worst.items():
    print(f"{engine}: worst p99 {p99:.2f} ms — target < 50 ms: {'met' if p99 < 50 else 'MISSED'}")
PY
