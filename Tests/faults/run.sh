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
#   scenarios: baseline broker-restart broker-kill postgres-crash intake-sigkill duplicate poison
#              oversize sigterm
#
# intake-sigkill also kills intake's outbox relay mid-batch (it runs in the same process): its
# leased rows are published after the restart, and the check "one incident.reported per stored
# report" holds.
#
# Environment: ISMS_FAULTS_BIN (folder with incident-intake, isms and isms-bench; default
# .build/debug), ISMS_FAULTS_REPORTS (reports per scenario, default 3000), ISMS_FAULTS_RATE
# (reports/s, default 300), ISMS_FAULTS_KEEP=1 (keep the vhost, database and logs).
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
port=48281
vhost=faults
database=isms_faults
work=$(mktemp -d /tmp/isms-faults.XXXXXX)
chmod 755 "$work"

for tool in incident-intake isms isms-bench; do
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
    stop_intake TERM || true
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

start_intake() {
    ISMS_AMQP_URL=$amqp_url ISMS_DATABASE_URL=$db_url ISMS_HTTP_PORT=$port ISMS_LOG_LEVEL=${ISMS_FAULTS_LOG_LEVEL:-notice} \
        ISMS_OUTBOX_POLL_MS=200 "$bin/incident-intake" >>"$work/intake.log" 2>&1 &
    intake_pid=$!
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
    check "$scenario" "all stored, work queue and outbox drained within 120 s ($settled s)" "$([[ $settled != timeout* ]] && echo 0 || echo 1)"
    check "$scenario" "dead-letter queue grew by $((dlq_now - dlq_before)) (expected $dlq_expected)" "$([[ $((dlq_now - dlq_before)) == "$dlq_expected" ]] && echo 0 || echo 1)"
    check "$scenario" "ready again within ${ready_bound}s (${ready_s}s)" "$([[ $ready_s != timeout ]] && echo 0 || echo 1)"
}

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
    settled=$(wait_settled "$1" 120 || true)
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

all=(baseline broker-restart broker-kill postgres-crash intake-sigkill duplicate poison oversize sigterm)
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
        *) log "unknown scenario $name (one of: ${all[*]})"; exit 2 ;;
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
