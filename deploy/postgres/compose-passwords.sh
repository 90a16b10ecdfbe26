#!/usr/bin/env bash
# docker-compose only, run by the postgres image once, after init.sql (docker-entrypoint-initdb.d):
# gives every role of init.sql its password from deploy/compose.env instead of the local
# stacks' passwords (the role names). psql's :'var' quotes each value as a literal.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v admin="$ISMS_DB_ADMIN_PASSWORD" -v intake="$ISMS_DB_INTAKE_PASSWORD" \
    -v triage="$ISMS_DB_TRIAGE_PASSWORD" -v audit="$ISMS_DB_AUDIT_PASSWORD" \
    -v contractor="$ISMS_DB_CONTRACTOR_PASSWORD" -v notifier="$ISMS_DB_NOTIFIER_PASSWORD" \
    -v console="$ISMS_DB_CONSOLE_PASSWORD" <<'SQL'
ALTER ROLE isms_admin PASSWORD :'admin';
ALTER ROLE intake PASSWORD :'intake';
ALTER ROLE triage PASSWORD :'triage';
ALTER ROLE audit PASSWORD :'audit';
ALTER ROLE contractor PASSWORD :'contractor';
ALTER ROLE notifier PASSWORD :'notifier';
ALTER ROLE console PASSWORD :'console';
SQL
