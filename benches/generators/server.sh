# Shared by the generator benches (sourced): a work folder ($work) removed on exit,
# nginx answering `return 200` on PORT with one worker pinned to SERVER_CPU, and `say`.
# The sourcing script sets PORT and SERVER_CPU.

nginx_pid=""
work=$(mktemp -d)
trap cleanup EXIT

say() { echo "generators: $*" >&2; }

cleanup() {
    if [[ -n "$nginx_pid" ]]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}

start_server() {
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
        listen 127.0.0.1:${PORT} reuseport;
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
