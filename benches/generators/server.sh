# Shared by the generator benches (sourced): a work folder ($work) removed on exit,
# nginx answering `return 200` on PORT with one worker pinned to SERVER_CPU (over TLS
# when TLS=1, its certificate signed by a CA made in $work: $work/ca.pem), `say`, and
# the measuring of a generator pinned to GENERATOR_CPU. The sourcing script sets PORT,
# SERVER_CPU and GENERATOR_CPU.

nginx_pid=""
work=$(mktemp -d)
trap cleanup EXIT

say() { echo "generators: $*" >&2; }

cleanup() {
    if [[ -n "$nginx_pid" ]]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}

# A CA and a certificate for 127.0.0.1 it signed (P-256), in $work.
make_certificates() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=bench-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
        -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$work/ext"
    openssl x509 -req -days 2 -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
        -CAcreateserial -extfile "$work/ext" -out "$work/server.pem" 2>/dev/null
}

start_server() {
    local tls=""
    if [[ ${TLS:-0} == 1 ]]; then
        make_certificates
        tls=" ssl; ssl_certificate $work/server.pem; ssl_certificate_key $work/server.key"
    fi
    cat >"$work/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 32768; }
http {
    access_log off;
    server {
        listen 127.0.0.1:${PORT} reuseport${tls};
        location / { return 200 "ok\n"; }
    }
}
NGINX
    local nginx_bin
    nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
    taskset -c "$SERVER_CPU" "$nginx_bin" -c "$work/nginx.conf" -p "$work" &
    nginx_pid=$!
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null && return
        sleep 0.1
    done
    say "nginx did not start: $(cat "$work/nginx-error.log")"
    exit 1
}

# Runs a generator pinned to the generator CPU; leaves "requests seconds-of-cpu rss-kb"
# in $work/last.
measure() {
    local name=$1 count_requests=$2
    shift 2
    taskset -c "$GENERATOR_CPU" /usr/bin/time -f "%U %S %M" -o "$work/time" "$@" >"$work/out" 2>&1 || {
        say "$name failed:"; tail -5 "$work/out" >&2; return 1
    }
    local requests user sys rss
    requests=$($count_requests)
    read -r user sys rss <"$work/time"
    echo "$requests $(echo "$user + $sys" | bc -l) $rss" >"$work/last"
}

wrk_requests() { grep -oE '^ *[0-9]+ requests in' "$work/out" | grep -oE '[0-9]+'; }
karigar_requests() { jq '.totals.count' "$work/kp/summary.json"; }

# The last measure of NAME, a run of DURATION s, added to its requests per second, CPU
# µs per request and peak MB.
record() {
    local name=$1 requests cpu rss
    read -r requests cpu rss <"$work/last"
    echo "$requests / $DURATION" | bc -l >>"$work/$name.rps"
    echo "$cpu * 1000000 / $requests" | bc -l >>"$work/$name.cpu"
    echo "$rss / 1024" | bc -l >>"$work/$name.rss"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
