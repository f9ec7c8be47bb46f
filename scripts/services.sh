#!/usr/bin/env bash
# Make sure the PostgreSQL server the tests use (127.0.0.1:5432) is running.
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
exit 0
