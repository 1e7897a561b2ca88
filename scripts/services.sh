#!/usr/bin/env bash
# Make sure PostgreSQL and Redis are installed and running on 127.0.0.1, as
# the tests expect (DATABASE_URL / REDIS_URL defaults), a 6-node Redis
# Cluster on 127.0.0.1:7000-7005 (REDIS_CLUSTER_URL, scripts/redis-cluster.sh),
# and that Chromium is
# installed for the exampleapp's real-browser test (TestBrowserE2E, which
# fails without it). Installs them from Debian's packages on a fresh
# machine. Idempotent.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
need_pkg() {
  if [ -z "$apt_updated" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "services: installing PostgreSQL"
  need_pkg postgresql postgresql-client
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "services: starting PostgreSQL $ver"
  conf=/etc/postgresql/$ver/main
  # trust auth on loopback for the test user, as on the dev machines
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf/pg_hba.conf"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -c 'create database test' >/dev/null
fi

# Redis
if ! command -v redis-server >/dev/null 2>&1; then
  echo "services: installing Redis"
  need_pkg redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping

# Redis Cluster: 6 nodes on 127.0.0.1:7000-7005 (REDIS_CLUSTER_URL).
bash "$(dirname "$0")/redis-cluster.sh"

# Chromium (headless), for TestBrowserE2E; SIMPLEUSER_CHROMIUM names another binary.
if [ -z "${SIMPLEUSER_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "services: installing Chromium"
  need_pkg chromium
fi
