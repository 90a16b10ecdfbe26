-- Roles, schemas and privileges of the isms database (BRIEF §6). Idempotent: safe to run on
-- every start. Run as a superuser while connected to the isms database (or isms_test):
--   deploy/local/stack.sh runs it on every `up`; docker-compose mounts it as an init script.
--
-- One schema per service, owned by that service's role, which can touch only its own schema
-- and read `directory`. The web console (role `console`) is one more: its sessions, sign-in
-- attempts and enrolment state live in schema `console`; it writes directory.tokens (its
-- enrolment tokens) through a grant of the directory's own migration, not here. Passwords equal the role names: for local stacks only; production
-- sets real ones (ALTER ROLE ... PASSWORD) from its secret store.
--
-- Objects in a schema must be owned by the schema's role: a migration running as isms_admin
-- does `SET ROLE <owner>` first (isms_admin is a member of every owner role), otherwise the
-- service cannot use the tables and the default privileges below do not apply.

SET client_min_messages = warning;

DO $roles$
DECLARE
    r text;
BEGIN
    -- Operators' role: runs `isms migrate`, `isms directory import`, `isms status`.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'isms_admin') THEN
        CREATE ROLE isms_admin LOGIN CREATEDB CREATEROLE PASSWORD 'isms_admin';
    END IF;

    -- Owner of the organisation directory and API tokens; nobody logs in as it.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'directory_owner') THEN
        CREATE ROLE directory_owner NOLOGIN;
    END IF;

    FOREACH r IN ARRAY ARRAY['intake', 'triage', 'audit', 'contractor', 'notifier', 'console'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', r, r);
        END IF;
    END LOOP;
END
$roles$;

-- The database belongs to the operators' role; nobody else may connect unless granted.
DO $database$
BEGIN
    EXECUTE format('ALTER DATABASE %I OWNER TO isms_admin', current_database());
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format(
        'GRANT CONNECT, TEMPORARY ON DATABASE %I TO intake, triage, audit, contractor, notifier, console',
        current_database());
END
$database$;

-- Nobody creates objects in public (the PostgreSQL 15 default, stated for older servers too).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA IF NOT EXISTS intake AUTHORIZATION intake;
CREATE SCHEMA IF NOT EXISTS triage AUTHORIZATION triage;
CREATE SCHEMA IF NOT EXISTS audit AUTHORIZATION audit;
CREATE SCHEMA IF NOT EXISTS contractor AUTHORIZATION contractor;
CREATE SCHEMA IF NOT EXISTS notifier AUTHORIZATION notifier;
CREATE SCHEMA IF NOT EXISTS console AUTHORIZATION console;
CREATE SCHEMA IF NOT EXISTS directory AUTHORIZATION directory_owner;

-- Owners stay owners even if a schema existed before with another owner.
ALTER SCHEMA intake OWNER TO intake;
ALTER SCHEMA triage OWNER TO triage;
ALTER SCHEMA audit OWNER TO audit;
ALTER SCHEMA contractor OWNER TO contractor;
ALTER SCHEMA notifier OWNER TO notifier;
ALTER SCHEMA console OWNER TO console;
ALTER SCHEMA directory OWNER TO directory_owner;

-- The operators' role can act as every owner (SET ROLE) to migrate, import and repair.
GRANT intake, triage, audit, contractor, notifier, console, directory_owner TO isms_admin;

-- Intake imports the organisation and issues API tokens: it writes the directory.
GRANT directory_owner TO intake;

-- Every service reads the directory: its schema now, and every table directory_owner creates.
GRANT USAGE ON SCHEMA directory TO intake, triage, audit, contractor, notifier, console;
GRANT SELECT ON ALL TABLES IN SCHEMA directory TO intake, triage, audit, contractor, notifier, console;
ALTER DEFAULT PRIVILEGES FOR ROLE directory_owner IN SCHEMA directory
    GRANT SELECT ON TABLES TO intake, triage, audit, contractor, notifier, console;
