#!/usr/bin/env bash
# The project's test command: starts (or installs) PostgreSQL, Redis and a
# Redis Cluster, runs every test with the race detector against them, then
# the router examples' tests (examples/, a module of its own), then each
# fuzz target briefly.
# Real-backend tests FAIL (never skip) when a server is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export REDIS_CLUSTER_URL="${REDIS_CLUSTER_URL:-redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002}"
unset SIMPLEUSER_SKIP_BACKENDS

go test -race -count=1 -timeout 20m ./...

# The router examples: their own module, built against this tree. They
# check the wiring (the kit's code was race-tested above), so no -race.
(cd examples && go vet ./... && go test -count=1 ./...)

fuzztime="${FUZZTIME:-5s}"
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "fuzz: $pkg $target ($fuzztime)"
    # The fuzzing engine itself sometimes stops with "context deadline
    # exceeded" at the end of -fuzztime without a failing input; retry that
    # case once. A real finding (a failing input) fails at once.
    for attempt in 1 2; do
      if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/fuzz.$$.log 2>&1; then
        break
      fi
      if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' /tmp/fuzz.$$.log && ! grep -q 'Failing input written' /tmp/fuzz.$$.log; then
        echo "fuzz: engine timeout without a finding; retrying once"
        continue
      fi
      cat /tmp/fuzz.$$.log; exit 1
    done
    tail -n 2 /tmp/fuzz.$$.log
  done
done
