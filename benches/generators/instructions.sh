#!/usr/bin/env bash
# What one request costs the generator, in counts that repeat where CPU time on this
# machine varies by 10 % and cycle counters are not available: user-space instructions
# (valgrind's callgrind), and what the kernel is asked (system calls and context
# switches, from `perf stat`'s software events), with the CPU time beside them. A change
# to the hot path shows here first; benches/generators/run.sh gives the CPU time beside
# wrk, Goose and k6.
#
# For each model (closed: USERS users; open: each of RATES iterations per second), two
# runs of SHORT and LONG seconds against nginx `return 200`, for each counter:
#   (count of LONG - count of SHORT) / (requests of LONG - requests of SHORT)
# cancels what a run costs once (start-up, the plan, the reports), and keeps what every
# second costs (timers, telemetry, the per-second histograms) spread over its requests.
#
#   bash benches/generators/instructions.sh      # SHORT=4 LONG=12 USERS=10 RATES="50 200"
#
# Needs valgrind, perf, nginx, jq and bc. Not a test: the numbers are the build's and
# the toolchain's. The profiling build (release with line tables) is the one measured.
set -euo pipefail

SHORT=${SHORT:-4}
LONG=${LONG:-12}
USERS=${USERS:-10}
RATES=${RATES:-50 200}
PORT=${PORT:-18081}
SERVER_CPU=${SERVER_CPU:-0}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
url="http://127.0.0.1:${PORT}"
# shellcheck source=benches/generators/server.sh
source "$root/benches/generators/server.sh"

for tool in valgrind perf jq bc; do
    command -v "$tool" >/dev/null || { say "missing $tool (apt-get install $tool)"; exit 2; }
done

# One run of SECONDS; the counters, then the requests, on one line: under callgrind
# ("instructions requests") or under perf stat ("syscalls switches cpu-ms requests").
counted() {
    local tool=$1 seconds=$2
    shift 2
    rm -rf "$work/kp" "$work"/callgrind.* "$work/perf"
    local wrap=(valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.%p")
    [[ $tool == perf ]] && wrap=(perf stat -x, -o "$work/perf" -e raw_syscalls:sys_enter,context-switches,task-clock)
    "${wrap[@]}" "$karigar" scenario "$root/benches/generators/get.toml" --target "$url" \
        --duration "${seconds}s" --quiet --report-dir "$work/kp" "$@" >"$work/out" 2>&1 || {
        say "karigar-perf under $tool failed:"; tail -5 "$work/out" >&2; exit 1
    }
    local counts
    case $tool in
        callgrind) counts=$(awk '/^summary:/ { s += $2 } END { print s }' "$work"/callgrind.*) ;;
        perf) counts=$(awk -F, '$3 ~ /sys_enter|context-switches|task-clock/ { printf "%s ", $1 }' "$work/perf") ;;
    esac
    echo "$counts $(jq '.totals.count' "$work/kp/summary.json")"
}

# Each counter per request at the margin between a SHORT and a LONG run, with TOOL.
per_request() {
    local tool=$1
    shift
    local short long
    read -r -a short <<<"$(counted "$tool" "$SHORT" "$@")"
    read -r -a long <<<"$(counted "$tool" "$LONG" "$@")"
    say "  $tool ${SHORT}s: ${short[*]}; ${LONG}s: ${long[*]}"
    local last=$((${#short[@]} - 1)) out=()
    for ((k = 0; k < last; k++)); do
        out+=("$(echo "scale=2; (${long[$k]} - ${short[$k]}) / (${long[$last]} - ${short[$last]})" | bc)")
    done
    echo "${out[*]}"
}

# A table row: instructions, system calls, context switches and CPU µs per request.
row() {
    local name=$1
    shift
    local instructions kernel
    instructions=$(per_request callgrind "$@")
    read -r -a kernel <<<"$(per_request perf "$@")"
    local cpu_us
    cpu_us=$(echo "scale=1; ${kernel[2]} * 1000 / 1" | bc)
    echo "| $name | ${instructions%.*} | ${kernel[0]} | ${kernel[1]} | $cpu_us |"
}

say "building karigar-perf (profiling profile)"
(cd "$root" && cargo build --profile profiling -q --bin karigar-perf)
karigar="$root/target/profiling/karigar-perf"
start_server

echo "| model | instructions per request | system calls per request | context switches per request | CPU µs per request |"
echo "|---|---|---|---|---|"
say "closed model, $USERS users"
row "closed, $USERS users" --users "$USERS"
for rate in $RATES; do
    say "open model, $rate/s"
    row "open, $rate/s" --rate "$rate/s"
done
