#!/usr/bin/env bash
# What a history gate can see on this machine: `gate calibrate` over RUNS runs against a
# server of set latency (benches/gate/latency_server.rs, BASE_MS per request), then one
# gated run against a server SLOWER_PERCENT slower. Prints the history's noise, the
# smallest change it detects, and whether the slower run was caught (exit 4).
#
#   bash benches/gate/run.sh            # RUNS=5 DURATION=5s USERS=10 BASE_MS=10 SLOWER_PERCENT=10
#   PROFILE=debug bash benches/gate/run.sh
#
# Not a test: the noise, and so what the gate detects, depends on the machine and on
# what else runs on it.
set -euo pipefail

RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}
USERS=${USERS:-10}
BASE_MS=${BASE_MS:-10}
SLOWER_PERCENT=${SLOWER_PERCENT:-10}
PROFILE=${PROFILE:-release}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
server_pid=""

cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

flag=()
[[ "$PROFILE" == release ]] && flag=(--release)
(cd "$root" && cargo build --quiet "${flag[@]}" --bin karigar-perf && cargo build --quiet "${flag[@]}" -p karigar-perf-benches --example latency_server)
bin="$root/target/$PROFILE/karigar-perf"
server="$root/target/$PROFILE/examples/latency_server"

# Starts the fixture server holding each request $1 ms; sets $url.
start_server() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; fi
    "$server" "$1" >"$work/port" &
    server_pid=$!
    for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
    url="http://127.0.0.1:$(head -n 1 "$work/port")"
}

printf 'name = "get"\n[[steps]]\nname = "get"\npath = "/"\n' > "$work/get.toml"
load=(--users "$USERS" --duration "$DURATION")

start_server "$BASE_MS"
"$bin" gate calibrate "$work/get.toml" --runs "$RUNS" --out "$work/history" -- --target "$url" "${load[@]}" \
    | sed -n '/Noise over/,$p'

slower_ms=$(echo "scale=2; $BASE_MS * (100 + $SLOWER_PERCENT) / 100" | bc)
start_server "$slower_ms"
set +e
"$bin" scenario "$work/get.toml" --target "$url" "${load[@]}" --quiet --baseline "$work/history" \
    --report-dir "$work/slower" >"$work/slower.log" 2>&1
code=$?
set -e
echo
echo "a run ${SLOWER_PERCENT}% slower (${slower_ms} ms): exit $code ($([[ $code == 4 ]] && echo caught || echo "not caught"))"
jq -r '.comparison.history.rows[] | select(.gated) |
    "  \(.metric): mean \(.mean * 1000 | round / 1000), new \(.new * 1000 | round / 1000), change \(.change * 1000 | round / 10)%, detects above \(.detectable_change * 1000 | round / 10)% -> \(.verdict)"' \
    "$work/slower/summary.json"
