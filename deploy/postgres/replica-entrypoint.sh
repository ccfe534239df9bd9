#!/bin/sh
# The streaming replica: on first start, copy the primary (pg_basebackup -R writes
# standby.signal and primary_conninfo, and -C -S creates the replication slot that keeps the
# WAL the replica still needs), then run as a hot standby.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres -p 5432 -q; do sleep 1; done
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h postgres -p 5432 -U replicator \
    -D "$PGDATA" -R -X stream -C -S replica1 --no-password
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on
