#!/usr/bin/env bash
# First-start initialisation of the compose `db` service, after init.sql: the role the
# streaming replica (compose service db-replica) connects as, and its pg_hba line
# (replication connections match no "all" line). Password from the container's environment.
set -euo pipefail
: "${AGORA_REPLICATION_DB_PASSWORD:?AGORA_REPLICATION_DB_PASSWORD is not set}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v password="$AGORA_REPLICATION_DB_PASSWORD" <<'SQL'
CREATE ROLE agora_replica LOGIN REPLICATION NOSUPERUSER NOBYPASSRLS PASSWORD :'password';
SQL
echo "host replication agora_replica all scram-sha-256" >> "$PGDATA/pg_hba.conf"
