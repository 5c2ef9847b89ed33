#!/usr/bin/env bash
# The load over TLS. nginx (`return 200`, one worker, TLS with a certificate signed by a
# CA made for the run) pinned to CPU 0; wrk and karigar-perf (closed model,
# benches/generators/get.toml, USERS connections for DURATION s, trusting the CA with
# --ca-cert) pinned to CPU 1 in turn; a Markdown table of medians over RUNS runs:
# requests per second, CPU µs per request (user + system, from /usr/bin/time) and peak
# RSS. Then karigar-perf with MANY_USERS `--clients per-user` users for DURATION s,
# each on TLS connections of its own with its cookie jar: peak RSS and requests.
#
#   bash benches/generators/tls.sh            # RUNS=3 DURATION=10 USERS=50 MANY_USERS=2000
#
# Needs nginx, wrk, openssl, GNU time, taskset, jq and bc (benches/generators/run.sh
# installs them). Not a test: the numbers depend on the machine.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
USERS=${USERS:-50}
MANY_USERS=${MANY_USERS:-2000}
PORT=${PORT:-18443}
SERVER_CPU=${SERVER_CPU:-0}
GENERATOR_CPU=${GENERATOR_CPU:-1}
TLS=1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
url="https://127.0.0.1:${PORT}/"
# shellcheck source=benches/generators/server.sh
source "$root/benches/generators/server.sh"

say "building karigar-perf (release)"
(cd "$root" && cargo build --release -q --bin karigar-perf)
karigar="$root/target/release/karigar-perf"
start_server

karigar_perf() { # USERS [ARGS...]
    local users=$1
    shift
    rm -rf "$work/kp"
    measure karigar-perf karigar_requests "$karigar" scenario "$root/benches/generators/get.toml" \
        --target "${url%/}" --ca-cert "$work/ca.pem" --users "$users" --duration "${DURATION}s" \
        --quiet --report-dir "$work/kp" "$@"
}

for run in $(seq "$RUNS"); do
    say "run $run/$RUNS: wrk, $USERS connections, ${DURATION}s"
    measure wrk wrk_requests wrk -t1 -c"$USERS" -d"${DURATION}s" "$url"
    record wrk
    say "run $run/$RUNS: karigar-perf, $USERS users, ${DURATION}s"
    karigar_perf "$USERS"
    record karigar-perf
done
say "karigar-perf, $MANY_USERS users with --clients per-user, ${DURATION}s"
karigar_perf "$MANY_USERS" --clients per-user
read -r many_requests _ many_rss <"$work/last"

echo "Over TLS: generators on CPU $GENERATOR_CPU against nginx on CPU $SERVER_CPU, $USERS connections, ${DURATION} s, median of $RUNS runs:"
echo
echo "| generator | requests/s | CPU µs per request | peak RSS MB |"
echo "|---|---|---|---|"
for name in wrk karigar-perf; do
    printf '| %s | %.0f | %.1f | %.0f |\n' "$name" "$(median <"$work/$name.rps")" \
        "$(median <"$work/$name.cpu")" "$(median <"$work/$name.rss")"
done
echo
echo "karigar-perf, $MANY_USERS users with --clients per-user over TLS, ${DURATION} s: peak $((many_rss / 1024)) MB, $many_requests requests."
