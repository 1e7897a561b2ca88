#!/usr/bin/env bash
# Make sure a 6-node Redis Cluster (3 masters, 3 replicas) runs on
# 127.0.0.1 ports ${REDIS_CLUSTER_PORT:-7000} to +5, as the cluster tests
# expect (REDIS_CLUSTER_URL, default
# redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002). Each node
# is redis-server --cluster-enabled yes, without persistence, its
# nodes-PORT.conf in $REDIS_CLUSTER_DIR (default /tmp/simpleuser-redis-cluster);
# the cluster is created with redis-cli --cluster create --cluster-replicas 1.
# Idempotent: when every node answers and CLUSTER INFO says cluster_state:ok
# it does nothing. A half-started cluster (some nodes down, or not created)
# is stopped and made afresh (the cluster's keys are test data only).
#
# cluster-require-full-coverage no: while one master is down and not yet
# replaced, only its slots are refused (CLUSTERDOWN), not every slot
# (docs/backends.md, "Redis Cluster").
set -euo pipefail

base="${REDIS_CLUSTER_PORT:-7000}"
dir="${REDIS_CLUSTER_DIR:-/tmp/simpleuser-redis-cluster}"
ports=$(seq "$base" $((base + 5)))

state_ok() {
  for p in $ports; do
    redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 || return 1
  done
  redis-cli -h 127.0.0.1 -p "$base" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  # 6 nodes known, 3 of them replicas (a replica shows up as a master until
  # it has attached)
  [ "$(redis-cli -h 127.0.0.1 -p "$base" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" = 6 ] &&
    [ "$(redis-cli -h 127.0.0.1 -p "$base" cluster nodes | awk '$3 ~ /slave/' | wc -l)" = 3 ]
}

if state_ok; then
  echo "redis-cluster: running on 127.0.0.1:$base-$((base + 5)), cluster_state:ok"
  exit 0
fi

echo "redis-cluster: (re)creating a 6-node cluster on 127.0.0.1:$base-$((base + 5)) in $dir"
for p in $ports; do # stop what is left of an earlier attempt
  redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true
done
rm -rf "$dir" && mkdir -p "$dir"
for p in $ports; do
  redis-server --cluster-enabled yes --port "$p" --bind 127.0.0.1 \
    --cluster-config-file "$dir/nodes-$p.conf" --cluster-node-timeout 2000 \
    --cluster-require-full-coverage no --dir "$dir" --logfile "$dir/redis-$p.log" \
    --daemonize yes --save "" --appendonly no
done
for p in $ports; do
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
nodes=""
for p in $ports; do nodes="$nodes 127.0.0.1:$p"; done
# shellcheck disable=SC2086
redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes >"$dir/create.log"
for _ in $(seq 1 100); do
  state_ok && break
  sleep 0.2
done
if ! state_ok; then
  cat "$dir/create.log"
  redis-cli -h 127.0.0.1 -p "$base" cluster info || true
  echo "redis-cluster: the cluster did not reach cluster_state:ok" >&2
  exit 1
fi
# every node must agree too (gossip spreads the new configuration)
for p in $ports; do
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$p" cluster info | grep -q '^cluster_state:ok' && break
    sleep 0.1
  done
done
echo "redis-cluster: running on 127.0.0.1:$base-$((base + 5)), cluster_state:ok"
