#!/usr/bin/env bash
# Make sure the PostgreSQL server (127.0.0.1:5432) and Redis (127.0.0.1:6379) the tests use run.
set -uo pipefail
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 30); do
      (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && break
      sleep 1
    done
  fi
fi
# Redis (the deployment tests' Celery broker), with the machine's own start command
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && command -v redis-server >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
exit 0
