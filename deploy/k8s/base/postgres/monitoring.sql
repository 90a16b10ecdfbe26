-- Kubernetes only, run by CloudNativePG after deploy/postgres/init.sql when it creates the
-- cluster. Its metrics exporter runs the custom queries (queries.yaml) as pg_monitor, which
-- may read no table of a service. It gets one function instead, owned by csirt-triage's role:
-- the count of overdue escalation timers, never a case's content. The table is created later
-- (triage's migrations), so the query is resolved when the function runs.
CREATE SCHEMA IF NOT EXISTS monitoring;
REVOKE ALL ON SCHEMA monitoring FROM PUBLIC;
GRANT USAGE ON SCHEMA monitoring TO pg_monitor;

CREATE OR REPLACE FUNCTION monitoring.triage_escalations(OUT overdue bigint, OUT oldest_overdue_seconds double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
    IF to_regclass('triage.timers') IS NULL THEN
        overdue := 0;
        oldest_overdue_seconds := 0;
        RETURN;
    END IF;
    -- Due for over two minutes and not fired, or failing (a failed timer is moved forward and
    -- counts its attempts).
    EXECUTE $query$
        SELECT count(*) FILTER (WHERE due_at < now() - interval '2 minutes' OR attempts > 0),
               coalesce(extract(epoch FROM now() - min(due_at) FILTER (WHERE due_at < now())), 0)
        FROM triage.timers
        WHERE kind = 'escalation'
    $query$ INTO overdue, oldest_overdue_seconds;
END
$function$;

ALTER FUNCTION monitoring.triage_escalations() OWNER TO triage;
REVOKE ALL ON FUNCTION monitoring.triage_escalations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION monitoring.triage_escalations() TO pg_monitor;
