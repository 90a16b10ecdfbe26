#!/usr/bin/env bash
# Fault-injection suite (issue #8): the real incident-intake executable on the TEST stack, a
# producer publishing with confirms (isms-bench publish), and one fault per scenario. After each
# fault it checks and prints:
#   - every confirmed report is stored (or dead-lettered with its reason), none is stored twice,
#     no report id that was never attempted is stored, one incident.reported per stored report;
#   - the work queue and the outbox drain; the dead-letter queue holds exactly what it should;
#   - /readyz answers 200 again within the scenario's stated bound.
#
#   Tests/faults/run.sh [SCENARIO...]     (default: all, in the order below)
#   scenarios: baseline broker-restart broker-kill postgres-crash intake-sigkill crash-after-commit
#              crash-before-commit proxy-hold full-queue relay-crash duplicate poison oversize sigterm
#              (intake alone), then triage-kill notifier-kill smtp-refuse webhook-500 broker-cluster
#              db-failover (the whole pipeline: Tests/faults/pipeline.sh says what each proves)
#              and, only when named, storm (100,000 reports as fast as the publisher can; minutes)
#
# intake-sigkill also kills intake's outbox relay mid-batch (it runs in the same process): its
# leased rows are published after the restart, and the check "one incident.reported per stored
# report" holds. crash-after-commit, crash-before-commit and relay-crash use the runtime's
# test-only fault hooks (ISMS_FAULT_CRASH_*, Shared/ServiceRuntime/FaultHook.swift) to die at an
# exact point; proxy-hold puts Tests/faults/holdproxy.py between intake and the broker.
#
# Environment: ISMS_FAULTS_BIN (folder with incident-intake, csirt-triage, notifier, isms and isms-bench; default
# .build/debug), ISMS_FAULTS_REPORTS (reports per scenario, default 3000), ISMS_FAULTS_RATE
# (reports/s, default 300), ISMS_FAULTS_KEEP=1 (keep the vhost, database and logs),
# ISMS_FAULTS_HTTP_PORT (intake's, default 48281), ISMS_FAULTS_PROXY_PORT (default 48290),
# ISMS_FAULTS_STORM_REPORTS (default 100000), ISMS_FAULTS_STORM_BOUND (s to drain, default 900).
#
# It uses its own vhost `faults` and database `isms_faults`, but the broker restart and the
# PostgreSQL crash hit the whole test stack: do not run it while others use that stack.
# Everything it starts is stopped on exit, and the stack is left running.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
bin=${ISMS_FAULTS_BIN:-$root/.build/debug}
stack="$root/deploy/local/stack.sh"
reports=${ISMS_FAULTS_REPORTS:-3000}
rate=${ISMS_FAULTS_RATE:-300}
port=${ISMS_FAULTS_HTTP_PORT:-48281}
proxy_port=${ISMS_FAULTS_PROXY_PORT:-48290}
vhost=faults
database=isms_faults
work=$(mktemp -d /tmp/isms-faults.XXXXXX)
chmod 755 "$work"

for tool in incident-intake csirt-triage notifier isms isms-bench; do
    [[ -x $bin/$tool ]] || { echo "faults: $bin/$tool is missing (build first, or set ISMS_FAULTS_BIN)" >&2; exit 2; }
done

"$stack" --profile test up >/dev/null
eval "$("$stack" --profile test env)"
amqp_url="${ISMS_TEST_AMQP_URL%/*}/$vhost"
db_url="${ISMS_TEST_DATABASE_URL%/*}/$database"
admin_db_url="${ISMS_TEST_DATABASE_URL%/*}/postgres"
mgmt=${ISMS_TEST_MANAGEMENT_URL#http://}
mgmt_auth=${mgmt%@*}
mgmt_host=${mgmt#*@}
pg_data="$root/deploy/local/data/test/postgres/data"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

intake_pid=""
publisher_pid=""
proxy_pid=""
settle_bound=120
failures=0
results=()

log() { printf 'faults: %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$db_url" "$@"; }
api() { curl -sf -u "$mgmt_auth" -H 'content-type: application/json' "$@"; }

cleanup() {
    local status=$?
    [[ -n $publisher_pid ]] && kill "$publisher_pid" 2>/dev/null && wait "$publisher_pid" 2>/dev/null || true
    [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null || true
    stop_intake TERM || true
    pl_cleanup
    # A fault may have left a server down: the stack must be as we found it.
    "$stack" --profile test up >/dev/null 2>&1 || true
    if [[ ${ISMS_FAULTS_KEEP:-0} != 1 ]]; then
        api -X DELETE "http://$mgmt_host/api/vhosts/$vhost" >/dev/null 2>&1 || true
        psql -X -q "$admin_db_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
        rm -rf "$work"
    else
        log "kept vhost $vhost, database $database and logs in $work"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the service --------------------------------------------------------------------------

start_intake() { # [VAR=value...]: extra environment (a fault hook, another broker URL)
    env ISMS_AMQP_URL="$amqp_url" ISMS_DATABASE_URL="$db_url" ISMS_HTTP_PORT="$port" ISMS_LOG_LEVEL="${ISMS_FAULTS_LOG_LEVEL:-notice}" \
        ISMS_OUTBOX_POLL_MS=200 "$@" "$bin/incident-intake" >>"$work/intake.log" 2>&1 &
    intake_pid=$!
}

# Waits up to BOUND seconds for incident-intake to exit by itself; sets exit_status to its exit
# status ("running" if it did not exit). Not in a $(...): only this shell can wait for intake.
wait_intake_exit() { # BOUND
    local waited=0
    exit_status=0
    while kill -0 "$intake_pid" 2>/dev/null; do
        if [[ $waited -ge $(($1 * 10)) ]]; then exit_status=running; return 1; fi
        sleep 0.1
        waited=$((waited + 1))
    done
    wait "$intake_pid" 2>/dev/null || exit_status=$?
    intake_pid=""
}

# The value of a counter on intake's /metrics (summed over label sets matching PATTERN).
metric() { # PATTERN
    curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | awk -v p="$1" '$0 !~ /^#/ && $0 ~ p { s += $NF } END { printf "%d", s }'
}

stop_intake() { # SIGNAL: TERM waits for a graceful end, KILL does not
    [[ -n $intake_pid ]] || return 0
    kill -"$1" "$intake_pid" 2>/dev/null || true
    local status=0
    wait "$intake_pid" 2>/dev/null || status=$?
    intake_pid=""
    return $status
}

ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz") == 200 ]]; }

# Seconds until /readyz stops answering 200, or fails after BOUND seconds.
wait_unready() {
    local bound=$1 start
    start=$(now)
    while ready; do
        if awk -v e="$(since "$start")" -v b="$bound" 'BEGIN { exit !(e > b) }'; then echo "timeout"; return 1; fi
        sleep 0.2
    done
    since "$start"
}

# Seconds until /readyz answers 200, or fails after BOUND seconds.
wait_ready() {
    local bound=$1 start
    start=$(now)
    until ready; do
        if awk -v e="$(since "$start")" -v b="$bound" 'BEGIN { exit !(e > b) }'; then echo "timeout"; return 1; fi
        sleep 0.2
    done
    since "$start"
}

queue_depth() { # NAME -> ready+unacked, from the broker itself (the management API's figures lag by seconds)
    "$stack" --profile test rabbitmqctl -q list_queues -p "$vhost" --no-table-headers name messages_ready messages_unacknowledged 2>/dev/null |
        awk -v q="$1" '$1 == q { print $2 + $3; found = 1 } END { if (!found) print -1 }'
}

publish() { # LOG [ARGS...]: in the background
    local file=$1
    shift
    "$bin/isms-bench" publish --amqp-url "$amqp_url" --log "$file" "$@" >>"$work/publisher.out" 2>&1 &
    publisher_pid=$!
}

wait_publisher() {
    local status=0
    wait "$publisher_pid" || status=$?
    publisher_pid=""
    return $status
}

# --- invariants ---------------------------------------------------------------------------

check() { # NAME CONDITION-DESCRIPTION OK(0/1)
    if [[ $3 == 0 ]]; then printf '  ok    %s\n' "$2"; else printf '  FAIL  %s\n' "$2"; failures=$((failures + 1)); results+=("$1: $2"); fi
}

# Loads LOG's confirmed and attempted report ids into public.fault_ids under SCENARIO.
load_ids() { # SCENARIO LOG
    grep '^confirmed ' "$2" | cut -d' ' -f2 | sort -u | sed "s/^/$1\tconfirmed\t/" >"$work/ids.tsv" || true
    grep '^attempt ' "$2" | cut -d' ' -f2 | sort -u | sed "s/^/$1\tattempted\t/" >>"$work/ids.tsv" || true
    sql -c "DELETE FROM public.fault_ids WHERE scenario = '$1'" -c "\copy public.fault_ids FROM '$work/ids.tsv'"
}

missing() { # SCENARIO -> confirmed ids of SCENARIO that are not stored
    sql -c "SELECT count(*) FROM public.fault_ids f WHERE f.scenario = '$1' AND f.kind = 'confirmed'
            AND NOT EXISTS (SELECT FROM intake.reports r WHERE r.report_id = f.id)"
}

# Waits until every confirmed report of SCENARIO is stored, the work queue is empty and the
# outbox has nothing pending, twice in a row 1 s apart (a restarted quorum queue can report 0
# messages before it has recovered its log); prints the seconds, or fails after BOUND seconds.
wait_settled() { # SCENARIO BOUND
    local start quiet=0 depth pending lost
    start=$(now)
    while true; do
        lost=$(missing "$1" 2>/dev/null || echo -1)
        depth=$(queue_depth incident-intake.commands 2>/dev/null || echo -1)
        pending=$(sql -c "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL" 2>/dev/null || echo -1)
        if [[ $lost == 0 && $depth == 0 && $pending == 0 ]]; then
            quiet=$((quiet + 1))
            if [[ $quiet -ge 2 ]]; then since "$start"; return 0; fi
        else
            quiet=0
        fi
        if awk -v e="$(since "$start")" -v b="$2" 'BEGIN { exit !(e > b) }'; then echo "timeout(missing=$lost queue=$depth outbox=$pending)"; return 1; fi
        sleep 1
    done
}

# Checks SCENARIO's reports; DLQ_EXPECTED new messages in the dead-letter queue.
verify() { # SCENARIO STARTED_AT(ISO) DLQ_EXPECTED DLQ_BEFORE READY_SECONDS READY_BOUND SETTLED
    local scenario=$1 started=$2 dlq_expected=$3 dlq_before=$4 ready_s=$5 ready_bound=$6 settled=$7
    local counts
    counts=$(sql -c "
SELECT concat_ws(' ',
  (SELECT count(*) FROM public.fault_ids WHERE scenario = '$scenario' AND kind = 'confirmed'),
  (SELECT count(*) FROM public.fault_ids f WHERE f.scenario = '$scenario' AND f.kind = 'confirmed'
      AND NOT EXISTS (SELECT FROM intake.reports r WHERE r.report_id = f.id)),
  (SELECT count(*) FROM (SELECT 1 FROM intake.reports GROUP BY producer, report_id HAVING count(*) > 1) d),
  (SELECT count(*) FROM intake.reports r WHERE r.recorded_at >= '$started'
      AND NOT EXISTS (SELECT FROM public.fault_ids f WHERE f.kind = 'attempted' AND f.id = r.report_id)),
  (SELECT count(*) FROM intake.reports) - (SELECT count(*) FROM intake.outbox WHERE routing_key = 'incident.reported.v1'),
  (SELECT count(*) FROM intake.reports r WHERE EXISTS (SELECT FROM public.fault_ids f WHERE f.scenario = '$scenario' AND f.kind = 'attempted' AND f.id = r.report_id)))")
    local confirmed missing dup unexpected event_gap stored
    read -r confirmed missing dup unexpected event_gap stored <<<"$counts"
    local dlq_now
    dlq_now=$(queue_depth incident-intake.commands.dlq)
    log "$scenario: $confirmed confirmed, $stored stored, ready again after ${ready_s}s, settled after ${settled}s"
    check "$scenario" "every confirmed report is stored ($missing of $confirmed missing)" "$([[ $missing == 0 ]] && echo 0 || echo 1)"
    check "$scenario" "no report stored twice ($dup duplicates)" "$([[ $dup == 0 ]] && echo 0 || echo 1)"
    check "$scenario" "no report ids that were never published ($unexpected)" "$([[ $unexpected == 0 ]] && echo 0 || echo 1)"
    check "$scenario" "one incident.reported per stored report (difference $event_gap)" "$([[ $event_gap == 0 ]] && echo 0 || echo 1)"
    check "$scenario" "all stored, work queue and outbox drained within ${settle_bound} s ($settled s)" "$([[ $settled != timeout* ]] && echo 0 || echo 1)"
    check "$scenario" "dead-letter queue grew by $((dlq_now - dlq_before)) (expected $dlq_expected)" "$([[ $((dlq_now - dlq_before)) == "$dlq_expected" ]] && echo 0 || echo 1)"
    check "$scenario" "ready again within ${ready_bound}s (${ready_s}s)" "$([[ $ready_s != timeout ]] && echo 0 || echo 1)"
}

# The pipeline, broker-cluster and database fail-over scenarios (issue #17), with their helpers.
source "$here/pipeline.sh"

# --- setup --------------------------------------------------------------------------------

log "work folder $work; binaries from $bin; $reports reports at $rate/s per scenario"
psql -X -q -v ON_ERROR_STOP=1 "$admin_db_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database ENCODING 'UTF8' TEMPLATE template0"
psql -X -q -v ON_ERROR_STOP=1 "$db_url" -f "$root/deploy/postgres/init.sql" >/dev/null
sql -c "CREATE TABLE public.fault_ids (scenario text NOT NULL, kind text NOT NULL, id uuid NOT NULL)" -c "CREATE INDEX ON public.fault_ids (id)"
api -X DELETE "http://$mgmt_host/api/vhosts/$vhost" >/dev/null 2>&1 || true
api -X PUT "http://$mgmt_host/api/vhosts/$vhost" -d '{}' >/dev/null
api -X PUT "http://$mgmt_host/api/permissions/$vhost/isms" -d '{"configure":".*","write":".*","read":".*"}' >/dev/null
# The whole topology, so intake's events are routed as in production.
ISMS_AMQP_URL=$amqp_url "$bin/isms" topology declare >/dev/null
start_intake
wait_ready 60 >/dev/null || { log "intake did not start; log:"; tail -n 30 "$work/intake.log"; exit 1; }
( cd "$root" && ISMS_DATABASE_URL=$db_url "$bin/isms" directory import deploy/config/ward.yaml >/dev/null )
ISMS_DATABASE_URL=$db_url "$bin/isms" producer grant --amqp-user isms --ward --note "fault suite" >/dev/null

# --- scenarios ----------------------------------------------------------------------------

begin() { # NAME: prints the header, sets started/dlq_before
    log "--- $1"
    started=$(sql -c "SELECT now()")
    dlq_before=$(queue_depth incident-intake.commands.dlq)
}

finish() { # NAME LOG DLQ_EXPECTED READY_BOUND [READY_SECONDS]
    local ready_s=${5:-}
    [[ -n $ready_s ]] || ready_s=$(wait_ready "$4" || echo timeout)
    load_ids "$1" "$2"
    local settled
    settled=$(wait_settled "$1" "$settle_bound" || true)
    verify "$1" "$started" "$3" "$dlq_before" "$ready_s" "$4" "$settled"
}

midstream() { sleep "$(awk -v n="$reports" -v r="$rate" 'BEGIN { printf "%.1f", n / r / 3 }')"; }

scenario_baseline() {
    begin baseline
    publish "$work/baseline.log" --count "$reports" --rate "$rate"
    wait_publisher
    finish baseline "$work/baseline.log" 0 5
}

scenario_broker_restart() {
    begin broker-restart
    publish "$work/broker.log" --count "$reports" --rate "$rate"
    midstream
    local t
    t=$(now)
    "$stack" --profile test down rabbitmq >/dev/null
    log "broker stopped gracefully after $(since "$t") s; starting it again"
    "$stack" --profile test up rabbitmq >/dev/null
    log "broker back after $(since "$t") s"
    local ready_s
    ready_s=$(wait_ready 60 || echo timeout)
    wait_publisher
    finish broker-restart "$work/broker.log" 0 60 "$ready_s"
}

scenario_broker_kill() {
    begin broker-kill
    publish "$work/broker-kill.log" --count "$reports" --rate "$rate"
    midstream
    local t pid
    t=$(now)
    pid=$(cat "$root/deploy/local/data/test/rabbitmq/rabbit.pid")
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    log "broker killed (SIGKILL); starting it again"
    "$stack" --profile test up rabbitmq >/dev/null
    log "broker back after $(since "$t") s"
    local ready_s
    ready_s=$(wait_ready 60 || echo timeout)
    wait_publisher
    finish broker-kill "$work/broker-kill.log" 0 60 "$ready_s"
}

scenario_postgres_crash() {
    begin postgres-crash
    publish "$work/postgres.log" --count "$reports" --rate "$rate"
    midstream
    runuser -u postgres -- "$pg_bin/pg_ctl" stop -D "$pg_data" -m immediate -w -s
    log "PostgreSQL stopped (immediate); restarting in 3 s"
    sleep 3
    "$stack" --profile test up postgres >/dev/null
    local ready_s
    ready_s=$(wait_ready 30 || echo timeout)
    wait_publisher
    finish postgres-crash "$work/postgres.log" 0 30 "$ready_s"
}

scenario_intake_sigkill() {
    begin intake-sigkill
    publish "$work/sigkill.log" --count "$reports" --rate "$rate"
    midstream
    stop_intake KILL || true
    log "incident-intake killed (SIGKILL); restarting in 2 s"
    sleep 2
    start_intake
    local ready_s
    ready_s=$(wait_ready 30 || echo timeout)
    wait_publisher
    finish intake-sigkill "$work/sigkill.log" 0 30 "$ready_s"
}

scenario_duplicate() {
    begin duplicate
    # Reports already confirmed in the baseline, published again byte for byte.
    local before
    before=$(sql -c "SELECT count(*) FROM intake.reports")
    cp "$work/baseline.log" "$work/duplicate.log"
    publish "$work/duplicate.log" --repeat-from "$work/baseline.log" --count 500
    wait_publisher
    sleep 2
    finish duplicate "$work/duplicate.log" 0 5
    local after
    after=$(sql -c "SELECT count(*) FROM intake.reports")
    check duplicate "republishing 500 stored reports stores nothing new ($((after - before)) new rows)" "$([[ $after == "$before" ]] && echo 0 || echo 1)"
}

scenario_poison() {
    begin poison
    local rejections_before
    rejections_before=$(sql -c "SELECT count(*) FROM intake.rejections")
    publish "$work/poison-garbage.log" --invalid garbage --count 1
    wait_publisher
    publish "$work/poison-schema.log" --invalid schema --count 1
    wait_publisher
    # A valid stream after the poison: it must not be held up.
    publish "$work/poison.log" --count 300 --rate "$rate"
    wait_publisher
    sleep 2
    finish poison "$work/poison.log" 1 5
    local reason rejections_after
    reason=$(api -X POST "http://$mgmt_host/api/queues/$vhost/incident-intake.commands.dlq/get" \
        -d '{"count":50,"ackmode":"ack_requeue_true","encoding":"auto"}' |
        python3 -c 'import json,sys; m=json.load(sys.stdin); print(" | ".join(str(x["properties"].get("headers",{}).get("x-isms-error-code","?"))+": "+str(x["properties"].get("headers",{}).get("x-isms-error-reason","?"))[:80] for x in m))')
    check poison "the garbage message is dead-lettered with its reason ($reason)" "$([[ -n $reason && $reason != *'?: ?'* ]] && echo 0 || echo 1)"
    rejections_after=$(sql -c "SELECT count(*) FROM intake.rejections")
    local stored_invalid
    stored_invalid=$(sql -c "SELECT count(*) FROM intake.reports WHERE report_id IN (SELECT split_part(l, ' ', 2)::uuid FROM unnest(string_to_array('$(grep '^confirmed' "$work/poison-schema.log" | tr '\n' ',')', ',')) l WHERE l <> '')")
    check poison "the schema-invalid report is refused and recorded, not stored (rejections +$((rejections_after - rejections_before)), stored $stored_invalid)" \
        "$([[ $((rejections_after - rejections_before)) -ge 1 && $stored_invalid == 0 ]] && echo 0 || echo 1)"
}

scenario_oversize() {
    begin oversize
    local rejections_before stored_before
    rejections_before=$(sql -c "SELECT count(*) FROM intake.rejections")
    stored_before=$(sql -c "SELECT count(*) FROM intake.reports")
    # A 300 KB description (the limit is 64 KiB): refused with its reason, nothing stored.
    publish "$work/oversize-bad.log" --invalid oversize --count 3
    wait_publisher
    publish "$work/oversize.log" --count 100 --rate "$rate"
    wait_publisher
    sleep 2
    finish oversize "$work/oversize.log" 0 5
    local rejections stored reason
    rejections=$(sql -c "SELECT count(*) FROM intake.rejections")
    stored=$(sql -c "SELECT count(*) FROM intake.reports")
    reason=$(sql -c "SELECT errors->0->>'code' FROM intake.rejections ORDER BY id DESC LIMIT 1")
    check oversize "3 oversize reports refused with a reason (rejections +$((rejections - rejections_before)), last code '$reason'), only the 100 valid stored (+$((stored - stored_before)))" \
        "$([[ $((rejections - rejections_before)) == 3 && $((stored - stored_before)) == 100 ]] && echo 0 || echo 1)"
}

scenario_sigterm() {
    begin sigterm
    publish "$work/sigterm.log" --count "$reports" --rate "$rate"
    midstream
    local t status=0
    t=$(now)
    stop_intake TERM || status=$?
    local stop_s
    stop_s=$(since "$t")
    check sigterm "incident-intake stops on SIGTERM under load within 30 s (${stop_s}s, exit $status)" \
        "$([[ $status == 0 ]] && awk -v s="$stop_s" 'BEGIN { exit !(s <= 30) }' && echo 0 || echo 1)"
    start_intake
    local ready_s
    ready_s=$(wait_ready 30 || echo timeout)
    wait_publisher
    finish sigterm "$work/sigterm.log" 0 30 "$ready_s"
}

# --- faults at exact points (test-only hooks in the runtime, see Shared/ServiceRuntime/FaultHook.swift)

# The ids the fault hook VAR wrote to intake.log when it killed the process.
hook_ids() { # VAR
    grep -a "fault hook $1=" "$work/intake.log" | tail -n 1 | sed 's/.* in hand: //'
}

# How many of these CloudEvent ids are in intake's inbox (committed).
inbox_count() { # IDS...
    local list
    list=$(printf '%s,' "$@")
    sql -c "SELECT count(*) FROM intake.inbox WHERE split_part(message_key, ' ', 2) = ANY(string_to_array('${list%,}', ','))"
}

duplicates_metric() { metric 'isms_messages_consumed_total.*outcome="duplicate"'; }

# SIGKILL of the consumer at POINT (after-commit: committed, not acknowledged; before-commit:
# handled in the open transaction, not committed) on its 10th batch, in the middle of a stream.
scenario_crash_point() { # after-commit|before-commit
    local point=$1 name="crash-$1" var
    var=ISMS_FAULT_CRASH_$(echo "$point" | tr 'a-z-' 'A-Z_')
    begin "$name"
    stop_intake TERM || true
    start_intake "$var=10"
    wait_ready 30 >/dev/null || true
    publish "$work/$name.log" --count "$reports" --rate "$rate"
    local status ids committed
    wait_intake_exit 60 || true
    status=$exit_status
    check "$name" "incident-intake killed itself with SIGKILL at the hook $var=10 (exit status $status, 137 expected)" "$([[ $status == 137 ]] && echo 0 || echo 1)"
    read -r -a ids <<<"$(hook_ids "$var")"
    committed=$(inbox_count "${ids[@]}")
    if [[ $point == after-commit ]]; then
        check "$name" "the batch in hand at the crash was committed (${committed} of ${#ids[@]} in the inbox)" "$([[ ${#ids[@]} -gt 0 && $committed == "${#ids[@]}" ]] && echo 0 || echo 1)"
    else
        check "$name" "nothing of the batch in hand at the crash was committed (${committed} of ${#ids[@]} in the inbox)" "$([[ ${#ids[@]} -gt 0 && $committed == 0 ]] && echo 0 || echo 1)"
    fi
    sleep 2
    start_intake
    local ready_s
    ready_s=$(wait_ready 30 || echo timeout)
    wait_publisher
    finish "$name" "$work/$name.log" 0 30 "$ready_s"
    local after duplicates
    after=$(inbox_count "${ids[@]}")
    duplicates=$(duplicates_metric)
    check "$name" "every message of that batch is in the inbox once after the restart (${after} of ${#ids[@]})" "$([[ ${#ids[@]} -gt 0 && $after == "${#ids[@]}" ]] && echo 0 || echo 1)"
    if [[ $point == after-commit ]]; then
        check "$name" "the unacknowledged batch was redelivered and absorbed by the inbox (restarted intake counted $duplicates duplicates, at least ${#ids[@]} expected)" \
            "$([[ $duplicates -ge ${#ids[@]} ]] && echo 0 || echo 1)"
    else
        log "$name: the restarted intake counted $duplicates duplicates (only possible for earlier batches whose acknowledgement died with the socket)"
    fi
}

# The outbox relay killed after the broker confirmed a batch and before the rows were marked
# published, while it works through a backlog: the reports were queued with intake stopped.
scenario_relay_crash() {
    begin relay-crash
    local var=ISMS_FAULT_CRASH_AFTER_PUBLISH
    # A queue of our own bound like a consumer of incident.reported: it counts what the relay sends.
    api -X DELETE "http://$mgmt_host/api/queues/$vhost/faults.reported" >/dev/null 2>&1 || true
    api -X PUT "http://$mgmt_host/api/queues/$vhost/faults.reported" -d '{"durable":true,"arguments":{"x-queue-type":"classic"}}' >/dev/null
    api -X POST "http://$mgmt_host/api/bindings/$vhost/e/isms.events/q/faults.reported" -d '{"routing_key":"incident.reported.v1"}' >/dev/null
    stop_intake TERM || true
    local outbox_before
    outbox_before=$(sql -c "SELECT coalesce(max(id), 0) FROM intake.outbox")
    publish "$work/relay.log" --count "$reports"
    wait_publisher
    log "relay-crash: $reports reports published and confirmed with intake stopped; starting it with $var=3"
    start_intake "$var=3"
    local status ids list leased backlog
    wait_intake_exit 60 || true
    status=$exit_status
    check relay-crash "incident-intake killed itself with SIGKILL at the hook $var=3 (exit status $status, 137 expected)" "$([[ $status == 137 ]] && echo 0 || echo 1)"
    read -r -a ids <<<"$(hook_ids "$var")"
    list=$(printf '%s,' "${ids[@]}")
    list="{${list%,}}"
    leased=$(sql -c "SELECT count(*) FROM intake.outbox WHERE id = ANY('$list'::bigint[]) AND published_at IS NULL AND available_at > now()")
    backlog=$(sql -c "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL")
    log "relay-crash: at the crash ${#ids[@]} rows published and confirmed but not marked, $backlog outbox rows unpublished, $(sql -c "SELECT count(*) FROM intake.outbox WHERE id > $outbox_before") of $reports reports stored"
    check relay-crash "the rows in hand were confirmed by the broker but are still unmarked and leased ($leased of ${#ids[@]})" "$([[ ${#ids[@]} -gt 0 && $leased == "${#ids[@]}" ]] && echo 0 || echo 1)"
    sleep 2
    start_intake
    local ready_s
    ready_s=$(wait_ready 30 || echo timeout)
    finish relay-crash "$work/relay.log" 0 30 "$ready_s"
    local unpublished again expected
    unpublished=$(sql -c "SELECT count(*) FROM intake.outbox WHERE id > $outbox_before AND published_at IS NULL")
    again=$(sql -c "SELECT count(*) FROM intake.outbox WHERE id = ANY('$list'::bigint[]) AND published_at IS NOT NULL AND attempts >= 2")
    expected=$(sql -c "SELECT count(*) FROM intake.outbox WHERE id > $outbox_before AND routing_key = 'incident.reported.v1'")
    check relay-crash "every outbox row written in this scenario is marked published ($unpublished unpublished of $expected)" "$([[ $unpublished == 0 && $expected -gt 0 ]] && echo 0 || echo 1)"
    check relay-crash "the rows in hand at the crash were published again after their lease ($again of ${#ids[@]})" "$([[ $again == "${#ids[@]}" ]] && echo 0 || echo 1)"
    # Downstream: every event at least once; the extra copies are exactly what an inbox absorbs.
    sql -c "SELECT message_id FROM intake.outbox WHERE id > $outbox_before AND routing_key = 'incident.reported.v1'" >"$work/relay-expected.txt"
    sql -c "SELECT message_id FROM intake.outbox WHERE id = ANY('$list'::bigint[])" >"$work/relay-crashed.txt"
    local downstream
    downstream=$(api -X POST "http://$mgmt_host/api/queues/$vhost/faults.reported/get" \
        -d "{\"count\":$((expected * 2 + 1000)),\"ackmode\":\"ack_requeue_false\",\"encoding\":\"auto\",\"truncate\":64}" |
        python3 -c '
import collections, json, sys
seen = collections.Counter(m["properties"].get("message_id") for m in json.load(sys.stdin))
expected = set(open(sys.argv[1]).read().split())
crashed = set(open(sys.argv[2]).read().split())
missing = len(expected - set(seen))
stray = len(set(seen) - expected)
extra = sum(seen.values()) - len(seen)
twice = sum(1 for i in crashed if seen[i] >= 2)
print(sum(seen.values()), len(seen), missing, stray, extra, twice)' "$work/relay-expected.txt" "$work/relay-crashed.txt")
    local total distinct missing stray extra twice
    read -r total distinct missing stray extra twice <<<"$downstream"
    log "relay-crash: downstream queue received $total incident.reported, $distinct distinct event ids, $extra extra copies"
    check relay-crash "downstream: every incident.reported of the scenario arrived ($missing of $expected missing), no foreign event ($stray)" "$([[ $missing == 0 && $stray == 0 ]] && echo 0 || echo 1)"
    check relay-crash "downstream: the crashed batch arrived twice ($twice of ${#ids[@]}), nothing else was duplicated ($extra extra copies in all): one effect per event id behind an inbox" \
        "$([[ $twice == "${#ids[@]}" && $extra == "${#ids[@]}" ]] && echo 0 || echo 1)"
    api -X DELETE "http://$mgmt_host/api/queues/$vhost/faults.reported" >/dev/null 2>&1 || true
}

# A proxy between intake and the broker that stops forwarding (sockets stay open), resumes,
# and later resets every connection. Intake's URL asks for 2 s heartbeats.
scenario_proxy_hold() {
    begin proxy-hold
    local broker_port proxied_url
    broker_port=${amqp_url##*:}
    broker_port=${broker_port%%/*}
    proxied_url="${amqp_url/:$broker_port\//:$proxy_port/}?heartbeat=2"
    python3 "$here/holdproxy.py" "$proxy_port" 127.0.0.1 "$broker_port" >"$work/proxy.log" 2>&1 &
    proxy_pid=$!
    stop_intake TERM || true
    start_intake ISMS_AMQP_URL="$proxied_url"
    wait_ready 30 >/dev/null || true
    publish "$work/proxy.log.ids" --count "$reports" --rate "$rate"
    midstream
    local t lost_s held_s depth_held ready_s cut_ready
    t=$(now)
    kill -USR1 "$proxy_pid"
    log "proxy holds intake's traffic in both directions (sockets open, heartbeat 2 s)"
    lost_s=$(wait_unready 20 || echo timeout)
    check proxy-hold "intake notices the silent link and turns unready within 20 s (${lost_s}s)" "$([[ $lost_s != timeout ]] && echo 0 || echo 1)"
    sleep "$(awk -v e="$(since "$t")" 'BEGIN { s = 15 - e; if (s < 0) s = 0; printf "%.1f", s }')"
    depth_held=$(queue_depth incident-intake.commands)
    kill -USR2 "$proxy_pid"
    held_s=$(since "$t")
    ready_s=$(wait_ready 30 || echo timeout)
    log "proxy resumed after ${held_s}s (queue held $depth_held); intake ready ${ready_s}s later"
    sleep 2
    local opened_before opened_after waited=0
    opened_before=$(grep -c '^open' "$work/proxy.log" || true)
    kill -HUP "$proxy_pid"
    log "proxy reset every connection"
    # The consumer and the relay each open a new connection through the proxy.
    while opened_after=$(grep -c '^open' "$work/proxy.log" || true); [[ $opened_after -lt $((opened_before + 2)) && $waited -lt 300 ]]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    cut_ready=$(wait_ready 30 || echo timeout)
    check proxy-hold "after the reset intake reconnected ($((opened_after - opened_before)) new connections, 2 expected) and is ready within 30 s (${cut_ready}s)" \
        "$([[ $cut_ready != timeout && $((opened_after - opened_before)) -ge 2 ]] && echo 0 || echo 1)"
    wait_publisher
    finish proxy-hold "$work/proxy.log.ids" 0 30 "$ready_s"
    local connections
    connections=$(grep -c '^open' "$work/proxy.log" || true)
    log "proxy-hold: intake opened $connections connections through the proxy"
    # SIGTERM while the link is silent: intake must not wait for the broker to come back.
    kill -USR1 "$proxy_pid"
    wait_unready 20 >/dev/null || true
    local stop_t stop_status=0 stop_s
    stop_t=$(now)
    stop_intake TERM || stop_status=$?
    stop_s=$(since "$stop_t")
    check proxy-hold "SIGTERM while the broker link is held stops intake within 30 s (${stop_s}s, exit $stop_status)" \
        "$([[ $stop_status == 0 ]] && awk -v s="$stop_s" 'BEGIN { exit !(s <= 30) }' && echo 0 || echo 1)"
    kill "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
    proxy_pid=""
    start_intake
    wait_ready 30 >/dev/null || true
}

# A stopped consumer and a work queue limited to 300 messages with reject-publish (a policy on
# the fault vhost): the publisher is refused (nack) and retries; nothing confirmed is dropped.
scenario_full_queue() {
    begin full-queue
    local max=300 refused_before
    refused_before=$(grep -c 'publishNacked.*publish failed' "$work/publisher.out" 2>/dev/null || true)
    stop_intake TERM || true
    "$stack" --profile test rabbitmqctl -q set_policy -p "$vhost" --apply-to queues faults-full '^incident-intake\.commands$' \
        "{\"max-length\":$max,\"overflow\":\"reject-publish\"}" >/dev/null
    publish "$work/full.log" --count "$reports" --rate "$rate"
    local deepest=0 depth i
    for ((i = 0; i < 30; i++)); do # 15 s without a consumer
        depth=$(queue_depth incident-intake.commands)
        [[ $depth -gt $deepest ]] && deepest=$depth
        sleep 0.5
    done
    local refused
    refused=$(( $(grep -c 'publishNacked.*publish failed' "$work/publisher.out" || true) - refused_before ))
    log "full-queue: consumer stopped 15 s; deepest queue $deepest (max-length $max); the publisher was refused $refused times so far"
    # A quorum queue checks the limit before it appends a publish to its log, so publishes already
    # in flight can land past it (seen: 301 for 300); bounded means within one window of 100.
    check full-queue "the queue stayed bounded: deepest $deepest, max-length $max (+100 allowed for publishes in flight)" "$([[ $deepest -le $((max + 100)) && $deepest -ge $max ]] && echo 0 || echo 1)"
    check full-queue "the publisher saw the refusals (basic.nack) and retried the window ($refused nacked windows)" "$([[ $refused -gt 0 ]] && echo 0 || echo 1)"
    start_intake
    local ready_s
    ready_s=$(wait_ready 30 || echo timeout)
    wait_publisher
    "$stack" --profile test rabbitmqctl -q clear_policy -p "$vhost" faults-full >/dev/null
    finish full-queue "$work/full.log" 0 30 "$ready_s"
}

# 100,000 reports (ISMS_FAULTS_STORM_REPORTS) as fast as the publisher can: nothing lost, and
# the drain time. Not in the default list (it takes several minutes).
scenario_storm() {
    begin storm
    local count=${ISMS_FAULTS_STORM_REPORTS:-100000} t publish_s
    t=$(now)
    publish "$work/storm.log" --count "$count"
    wait_publisher
    publish_s=$(since "$t")
    log "storm: $count reports offered in ${publish_s}s ($(awk -v n="$count" -v s="$publish_s" 'BEGIN { printf "%.0f", n / s }')/s); queue $(queue_depth incident-intake.commands)"
    check storm "$count reports offered within 60 s (${publish_s}s)" "$(awk -v s="$publish_s" 'BEGIN { exit !(s <= 60) }' && echo 0 || echo 1)"
    settle_bound=${ISMS_FAULTS_STORM_BOUND:-900}
    finish storm "$work/storm.log" 0 5
    settle_bound=120
    local stored_s
    stored_s=$(sql -c "SELECT round(extract(epoch FROM max(recorded_at) - min(recorded_at))::numeric, 1) FROM intake.reports r
        WHERE EXISTS (SELECT FROM public.fault_ids f WHERE f.scenario = 'storm' AND f.kind = 'attempted' AND f.id = r.report_id)")
    log "storm: drained $(since "$t") s after the first publish; first to last stored report ${stored_s}s"
    # Nobody consumes triage's and the notifier's queues here: do not leave 100,000 events in them.
    local queue
    for queue in csirt-triage.events notifier.events; do
        api -X DELETE "http://$mgmt_host/api/queues/$vhost/$queue/contents" >/dev/null 2>&1 || true
    done
}

all=(baseline broker-restart broker-kill postgres-crash intake-sigkill crash-after-commit crash-before-commit proxy-hold
     full-queue relay-crash duplicate poison oversize sigterm
     triage-kill notifier-kill smtp-refuse webhook-500 broker-cluster db-failover)
selected=("$@")
[[ ${#selected[@]} -gt 0 ]] || selected=("${all[@]}")
suite_start=$(now)
for name in "${selected[@]}"; do
    case $name in
        baseline) scenario_baseline ;;
        broker-restart) scenario_broker_restart ;;
        broker-kill) scenario_broker_kill ;;
        postgres-crash) scenario_postgres_crash ;;
        intake-sigkill) scenario_intake_sigkill ;;
        duplicate) [[ -f $work/baseline.log ]] || scenario_baseline; scenario_duplicate ;;
        poison) scenario_poison ;;
        oversize) scenario_oversize ;;
        sigterm) scenario_sigterm ;;
        crash-after-commit) scenario_crash_point after-commit ;;
        crash-before-commit) scenario_crash_point before-commit ;;
        proxy-hold) scenario_proxy_hold ;;
        full-queue) scenario_full_queue ;;
        relay-crash) scenario_relay_crash ;;
        storm) scenario_storm ;;
        triage-kill) scenario_triage_kill ;;
        notifier-kill) scenario_notifier_kill ;;
        smtp-refuse) scenario_smtp_refuse ;;
        webhook-500) scenario_webhook_500 ;;
        broker-cluster) scenario_broker_cluster ;;
        db-failover) scenario_db_failover ;;
        *) log "unknown scenario $name (one of: ${all[*]} storm)"; exit 2 ;;
    esac
done

log "--- whole suite"
lost_total=$(sql -c "SELECT count(DISTINCT f.id) FROM public.fault_ids f WHERE f.kind = 'confirmed' AND NOT EXISTS (SELECT FROM intake.reports r WHERE r.report_id = f.id)")
stray_total=$(sql -c "SELECT count(*) FROM intake.reports r WHERE NOT EXISTS (SELECT FROM public.fault_ids f WHERE f.kind = 'attempted' AND f.id = r.report_id)")
check suite "every report confirmed in any scenario is stored at the end ($lost_total missing)" "$([[ $lost_total == 0 ]] && echo 0 || echo 1)"
check suite "no stored report was never published ($stray_total)" "$([[ $stray_total == 0 ]] && echo 0 || echo 1)"
log "--- done in $(since "$suite_start") s: $failures failed check(s)"
for line in "${results[@]+"${results[@]}"}"; do log "  FAILED $line"; done
[[ $failures == 0 ]]
