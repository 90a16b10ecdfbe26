-- Kubernetes only, run by CloudNativePG before deploy/postgres/init.sql when it creates the
-- cluster: the service roles exist already, without a password, so init.sql leaves them alone
-- (it gives new roles local-only passwords equal to their names). The operator then sets
-- each role's password from its Secret (Cluster spec.managed.roles).
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['intake', 'triage', 'audit', 'contractor', 'notifier', 'console'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', r);
        END IF;
    END LOOP;
END
$roles$;
