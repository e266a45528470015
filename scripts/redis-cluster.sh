#!/usr/bin/env bash
# A local 3-master Redis Cluster for the tests (ports REDIS_CLUSTER_PORTS, default 7101 7102 7103),
# data in var/redis-cluster/; idempotent: does nothing when the cluster is up and its slots are
# covered. Sourced by test.sh (through ensure_redis_cluster); exports TEST_REDIS_CLUSTER_URL.
ensure_redis_cluster() {
  local ports="${REDIS_CLUSTER_PORTS:-7101 7102 7103}"
  local dir; dir="$(pwd)/var/redis-cluster"
  local seeds="" first=""
  for p in $ports; do seeds="${seeds:+$seeds,}redis://127.0.0.1:$p"; first="${first:-$p}"; done
  export TEST_REDIS_CLUSTER_URL="$seeds"
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    say "redis-server/redis-cli missing: the Redis Cluster tests will fail"; return 0
  fi
  if [ "$(redis-cli -p "$first" cluster info 2>/dev/null | tr -d '\r' | grep -c '^cluster_state:ok')" = "1" ]; then return 0; fi
  say "starting a local 3-master Redis Cluster on ports $ports"
  mkdir -p "$dir"
  local addrs=""
  for p in $ports; do
    if ! port_open 127.0.0.1 "$p"; then
      rm -f "$dir/nodes-$p.conf"
      redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes-$p.conf" \
        --save "" --appendonly no --daemonize yes --dir "$dir" --logfile "$dir/redis-$p.log" >&2
    fi
    addrs="$addrs 127.0.0.1:$p"
  done
  for p in $ports; do wait_port 127.0.0.1 "$p" || { say "Redis Cluster node $p did not come up"; return 1; }; done
  # shellcheck disable=SC2086
  redis-cli --cluster create $addrs --cluster-replicas 0 --cluster-yes >&2 || true
  for _ in $(seq 1 50); do
    [ "$(redis-cli -p "$first" cluster info 2>/dev/null | tr -d '\r' | grep -c '^cluster_state:ok')" = "1" ] && return 0
    sleep 0.2
  done
  say "the Redis Cluster did not turn ok"; return 1
}
