# Shared by the bench scripts (sourced): logging, ports, and a release `dashvault serve`
# started on a free port and signed in to. Expects `$dashvault` (the binary) and
# `server_pid` in the sourcing script.

log() { printf '\033[1m%s:\033[0m %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() {
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.05
    done
    die "nothing answers on port $1"
}

stop_server() {
    if [ -n "${server_pid:-}" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=
}

# restart_dashvault DATA_DIR [serve args…]: (re)starts the server on its data, on a new
# free port; sets server_pid and port. Its log goes to DATA_DIR.out / .err.
restart_dashvault() {
    local dir=$1
    shift
    stop_server
    port="$(free_port)"
    "$dashvault" serve --listen "127.0.0.1:$port" --data-dir "$dir" "$@" \
        >>"$dir.out" 2>>"$dir.err" &
    server_pid=$!
    wait_port "$port"
}

# start_dashvault DATA_DIR [serve args…]: a server on fresh data, signed in with the
# code it prints; sets server_pid, port and token.
start_dashvault() {
    local dir=$1 code=
    rm -rf "$dir" "$dir.out" "$dir.err"
    restart_dashvault "$@"
    curl -sf -o /dev/null -H 'Content-Type: application/json' \
        -d '{"phone":"+14155550100"}' "http://127.0.0.1:$port/api/v1/auth/code"
    for _ in $(seq 1 100); do
        code="$(grep -o 'code [0-9]\{6\}' "$dir.out" | tail -1 | cut -d' ' -f2)" && [ -n "$code" ] && break
        sleep 0.05
    done
    [ -n "$code" ] || die "no sign-in code printed in $dir.out"
    token="$(curl -sf -H 'Content-Type: application/json' \
        -d "{\"phone\":\"+14155550100\",\"code\":\"$code\"}" \
        "http://127.0.0.1:$port/api/v1/auth/verify" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
}
