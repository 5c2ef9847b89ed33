#!/usr/bin/env bash
# Builds the images the Docker stack uses on a machine with no registry:
#   karigar-perf/base:bookworm   Debian 12 (debootstrap + docker import) with
#                                postgresql-15, redis-server, nginx and wget
#   karigar-perf/postgres:15     Postgres 15 that takes the official image's
#                                POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB
#   karigar-perf/redis:7         redis-server (the official image's command line)
#   karigar-perf/backend:latest  the reference backend   (reference/backend/Dockerfile)
#   karigar-perf/frontend:latest the reference frontend  (reference/frontend/Dockerfile)
#   karigar-perf/harness:latest  karigar-perf itself     (docker/harness/Dockerfile), for
#                                generators on engines of several nodes
# An image that already exists is kept (FORCE=1 rebuilds the backend, frontend and harness).
# The backend and frontend images copy binaries from target/release, or target/debug
# when no release build exists (PROFILE=debug|release chooses).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

base=karigar-perf/base:bookworm
packages=postgresql-15,redis-server,nginx-light,wget,ca-certificates

have() { docker image inspect "$1" >/dev/null 2>&1; }
say() { printf '%s %s\n' "$(date +%T)" "$*"; }

# The first Debian mirror this machine's apt already uses: never a hard-coded host.
apt_mirror() {
  local found
  found=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$found" ] || found=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$found" ] || { echo "no Debian mirror found in /etc/apt" >&2; exit 1; }
  echo "$found"
}

build_base() {
  command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install debootstrap" >&2; exit 1; }
  local dir
  dir=$(mktemp -d /tmp/karigar-base.XXXXXX)
  trap 'rm -rf "$dir"' RETURN
  say "debootstrap bookworm ($packages)"
  debootstrap --variant=minbase --include="$packages" bookworm "$dir" "$(apt_mirror)" >"$dir.log" 2>&1 ||
    { tail -n 20 "$dir.log" >&2; exit 1; }
  rm -f "$dir.log"
  # Services must not start at build time, and apt lists are not needed at run time.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
  say "docker import $base"
  tar -C "$dir" -c . | docker import - "$base" >/dev/null
}

# A context folder under target/docker with the Dockerfile and the files it copies.
stage() {
  local name=$1 dockerfile=$2
  shift 2
  local dir=target/docker/$name
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$dockerfile" "$dir/Dockerfile"
  if (($#)); then cp "$@" "$dir/"; fi
  echo "$dir"
}

binary() {
  local profile=${PROFILE:-}
  if [ -z "$profile" ]; then
    if [ -x target/release/$1 ]; then profile=release; else profile=debug; fi
  fi
  [ -x "target/$profile/$1" ] || cargo build --workspace $([ "$profile" = release ] && echo --release) >&2
  echo "target/$profile/$1"
}

build_image() {
  local tag=$1 context=$2
  say "docker build $tag"
  # The legacy builder's deprecation notice is noise here; other output shows on failure.
  docker build -q --build-arg BASE_IMAGE="$base" -t "$tag" "$context" >"$context/build.log" 2>&1 ||
    { cat "$context/build.log" >&2; exit 1; }
}

have "$base" || build_base
have karigar-perf/postgres:15 || build_image karigar-perf/postgres:15 "$(stage postgres docker/postgres/Dockerfile docker/postgres/entrypoint.sh)"
have karigar-perf/redis:7 || build_image karigar-perf/redis:7 "$(stage redis docker/redis/Dockerfile)"
for app in backend frontend; do
  tag=karigar-perf/$app:latest
  if [ -n "${FORCE:-}" ] || ! have "$tag"; then
    build_image "$tag" "$(stage "$app" "reference/$app/Dockerfile" "$(binary "karigar-$app")")"
  fi
done
# The harness itself (generators and coordinators on engines of several nodes).
if [ -n "${FORCE:-}" ] || ! have karigar-perf/harness:latest; then
  build_image karigar-perf/harness:latest "$(stage harness docker/harness/Dockerfile "$(binary karigar-perf)")"
fi
say "images ready"
