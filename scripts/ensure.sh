#!/usr/bin/env bash
# Makes a fresh clone runnable: installs npm dependencies when missing or stale, and makes
# PostgreSQL and Redis reachable (the configured ones; else local ones started; else installed
# with apt when running as root). Sourced by start.sh and test.sh.
set -euo pipefail

say() { printf '[setup] %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/citizencard}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

# host and port of a URL (defaults for the scheme)
url_host() { node -e 'const u=new URL(process.argv[1]);process.stdout.write(u.hostname.replace(/^\[|\]$/g,"")||"127.0.0.1")' "$1"; }
url_port() { node -e 'const u=new URL(process.argv[1]);process.stdout.write(u.port||process.argv[2])' "$1" "$2"; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

is_local() { case "$1" in 127.0.0.1|localhost|::1) return 0 ;; *) return 1 ;; esac; }

wait_port() {
  for _ in $(seq 1 60); do port_open "$1" "$2" && return 0; sleep 0.5; done
  return 1
}

can_install() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; }

ensure_postgres() {
  local host port
  host=$(url_host "$DATABASE_URL"); port=$(url_port "$DATABASE_URL" 5432)
  port_open "$host" "$port" && return 0
  if ! is_local "$host"; then
    say "PostgreSQL at $host:$port is not reachable; check DATABASE_URL"; exit 1
  fi
  if ! command -v pg_ctlcluster >/dev/null; then
    if can_install; then
      say "installing PostgreSQL (apt-get)"
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    else
      say "PostgreSQL is not installed and cannot be installed here (needs root and apt)."
      say "Install PostgreSQL, or set DATABASE_URL to a reachable server, then run again."; exit 1
    fi
  fi
  say "starting local PostgreSQL"
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  wait_port "$host" "$port" || { say "PostgreSQL did not come up on $host:$port"; exit 1; }
  # Trust auth for local connections as postgres (the default DATABASE_URL has no password).
  if ! PGCONNECT_TIMEOUT=3 psql "postgres://postgres@$host:$port/postgres" -Atc 'select 1' >/dev/null 2>&1; then
    say "PostgreSQL is up but postgres@$host refused the connection: allow trust or set DATABASE_URL with a password"
  fi
}

ensure_redis() {
  local host port
  host=$(url_host "$REDIS_URL"); port=$(url_port "$REDIS_URL" 6379)
  port_open "$host" "$port" && return 0
  if ! is_local "$host"; then
    say "Redis at $host:$port is not reachable; check REDIS_URL"; exit 1
  fi
  if ! command -v redis-server >/dev/null; then
    if can_install; then
      say "installing Redis (apt-get)"
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
    else
      say "Redis is not installed and cannot be installed here (needs root and apt)."
      say "Install Redis, or set REDIS_URL to a reachable server, then run again."; exit 1
    fi
  fi
  say "starting local Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2 \
    || redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no >&2
  wait_port "$host" "$port" || { say "Redis did not come up on $host:$port"; exit 1; }
}

# shellcheck source=scripts/redis-cluster.sh
source scripts/redis-cluster.sh  # ensure_redis_cluster: test.sh only

ensure_postgres
ensure_redis
export DATABASE_URL REDIS_URL
