# Pipeline scenarios of the fault suite (issue #17 items 2-4), sourced by Tests/faults/run.sh
# after its helpers (log, check, now, since, publish, load_ids): the whole chain — incident-intake,
# csirt-triage and the notifier as release executables, an SMTP sink and a webhook receiver —
# and one fault per scenario:
#
#   triage-kill      csirt-triage SIGKILLed while it works through a backlog, started again
#   notifier-kill    the notifier SIGKILLed while it sends, started again
#   smtp-refuse      the SMTP relay answers 451 to every message, then is down (connection
#                    refused), then comes back
#   webhook-500      the webhook endpoint answers 500 to every post, then 200 again
#   broker-cluster   a 3-node RabbitMQ cluster (stack.sh cluster): the node leading the quorum
#                    queues is stopped while reports flow, and started again
#   db-failover      a PostgreSQL primary with a synchronous hot standby (stack.sh pgpair), the
#                    services on a multi-host URI with target_session_attrs=read-write: the
#                    primary is stopped (fenced) and the standby promoted while reports flow
#
# After each fault it waits until everything settled and checks (pl_verify):
#   - every confirmed report is stored, none twice;
#   - every stored report is in exactly one case (pl_case_links: the one place that says how);
#   - every stored report led to at least one sent notification, and every notification row is
#     sent (none queued, failed or stuck sending);
#   - each sent e-mail row is exactly one message in the SMTP sink (by Message-ID) and each sent
#     webhook row exactly one delivery at the receiver (by webhook-id). The only exception are
#     sends in hand when the notifier was killed or the database went away (in-hand.txt): one
#     may have reached the relay before the ledger could mark it, and is sent again after its
#     lease with the same id (at-least-once, as the notifier documents). Those are counted and
#     printed, as are the resends the webhook receiver dropped; any other duplicate fails;
#   - every queue of the three services is empty (dead-letter queues included), every outbox drained;
#   - each service answers /readyz 200 again.
# Reports carry no correlationKey and each names an asset of its own (isms-bench publish
# --assets distinct), so each opens a case of its own also once related reports join cases (#16).
#
# Each environment (pipeline, cluster, failover) has its own vhost and database; the services
# listen on ISMS_FAULTS_PIPELINE_PORT_BASE (default 48301) + 0, 1, 2, the sinks on + 24 and + 89.

pl_reports=${ISMS_FAULTS_PIPELINE_REPORTS:-200}
pl_rate=${ISMS_FAULTS_PIPELINE_RATE:-40}
pl_base=${ISMS_FAULTS_PIPELINE_PORT_BASE:-48301}
pl_intake_port=$pl_base
pl_triage_port=$((pl_base + 1))
pl_notifier_port=$((pl_base + 2))
pl_smtp_port=$((pl_base + 24))
pl_webhook_port=$((pl_base + 89))
pl_settle_bound=${ISMS_FAULTS_PIPELINE_SETTLE:-240}
pl_failover_gap=${ISMS_FAULTS_FAILOVER_GAP:-5}     # seconds between the primary's stop and the promotion
pl_support="$root/Tests/NotifierTests/Support"

pl_env=""          # the environment in use: pipeline, cluster or failover
pl_amqp=""         # the services' broker URL (with the vhost)
pl_db=""           # the services' database URL
pl_ctl_node=""     # empty: the test stack's broker; 1-3: a cluster node (for rabbitmqctl)
pl_vhost=""
pl_dir=""
declare -A pl_pid=()
pl_cluster_started=no   # whether this run started the cluster / the pair (the clean-up stops them)
pl_pair_started=no

# rabbitmqctl on the broker of the environment.
pl_ctl() {
    if [[ -n $pl_ctl_node ]]; then "$stack" --profile test cluster ctl "$pl_ctl_node" "$@"
    else "$stack" --profile test rabbitmqctl "$@"; fi
}
pl_sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$pl_db" "$@"; }

# The one place that says which case holds which report: (report_id uuid, case_id) for every
# intake record. Today a case is opened by one report (triage.cases.source_id is intake's id);
# when cases gather reports (#16), this becomes a query over the case's report table.
pl_case_links() {
    echo "SELECT r.report_id, c.id AS case_id FROM intake.reports r
          JOIN triage.cases c ON c.source_kind = 'incident-report' AND c.source_id = r.intake_id::text"
}

# --- services and sinks -------------------------------------------------------------------

pl_write_routes() {
    # Every incident.reported / incident.case-opened goes to one mailbox and one webhook, at once
    # (no grouping, no reminders), so each event yields exactly two ledger rows to account for.
    cat >"$pl_dir/routes.yaml" <<EOF
receivers:
  - name: fault-mail
    endpoints:
      - { name: fault-mail, kind: email, address: "csirt@faults.example", language: ja }
  - name: fault-hook
    endpoints:
      - { name: fault-hook, kind: webhook, address: "http://127.0.0.1:$pl_webhook_port/hooks/faults", format: generic, language: ja }
route:
  repeatInterval: never
  routes:
    - matchers: ['type = incident.reported.v1']
      receiver: fault-mail
      continue: true
    - matchers: ['type = incident.reported.v1']
      receiver: fault-hook
      continue: true
    - matchers: ['type = incident.case-opened.v1']
      receiver: fault-mail
      continue: true
    - matchers: ['type = incident.case-opened.v1']
      receiver: fault-hook
EOF
}

pl_start_smtp() {
    python3 "$pl_support/smtp_sink.py" --daemon --dir "$pl_dir/mail" --port "$pl_smtp_port" >>"$pl_dir/smtp-sink.log" 2>&1 </dev/null &
    pl_pid[smtp]=$!
    local waited=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$pl_smtp_port") 2>/dev/null; do sleep 0.1; waited=$((waited + 1)); [[ $waited -lt 100 ]] || return 1; done
}

pl_start_webhook() {
    python3 "$pl_support/webhook_receiver.py" --daemon --keep-repeats --dir "$pl_dir/webhooks" --port "$pl_webhook_port" \
        --secret whsec_ZGV2LXdlYmhvb2stc2VjcmV0 >>"$pl_dir/webhook-receiver.log" 2>&1 </dev/null &
    pl_pid[webhook]=$!
}

pl_port_of() { case $1 in incident-intake) echo "$pl_intake_port" ;; csirt-triage) echo "$pl_triage_port" ;; notifier) echo "$pl_notifier_port" ;; esac; }

pl_start() { # SERVICE
    local name=$1
    env ISMS_AMQP_URL="$pl_amqp" ISMS_DATABASE_URL="$pl_db" ISMS_HTTP_PORT="$(pl_port_of "$name")" \
        ISMS_LOG_LEVEL="${ISMS_FAULTS_LOG_LEVEL:-notice}" ISMS_OUTBOX_POLL_MS=200 \
        ISMS_NOTIFIER_SMTP_URL="smtp://127.0.0.1:$pl_smtp_port?starttls=never" ISMS_NOTIFIER_ROUTES="$pl_dir/routes.yaml" \
        ISMS_NOTIFIER_FILE_DIR="$pl_dir/files" ISMS_NOTIFIER_SEND_TIMEOUT_S=5 ISMS_NOTIFIER_LEASE_S=20 \
        ISMS_NOTIFIER_RETRY_INITIAL_S=1 ISMS_NOTIFIER_RETRY_MAX_S=4 ISMS_NOTIFIER_MAX_ATTEMPTS=200 \
        "$bin/$name" >>"$pl_dir/$name.log" 2>&1 &
    pl_pid[$name]=$!
}

pl_stop() { # SERVICE|smtp|webhook SIGNAL
    local pid=${pl_pid[$1]:-}
    [[ -n $pid ]] || return 0
    kill -"$2" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pl_pid[$1]=""
}

pl_ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$(pl_port_of "$1")/readyz") == 200 ]]; }

# Seconds until every service answers /readyz 200, or "timeout" after BOUND seconds.
pl_wait_ready() { # BOUND
    local start name
    start=$(now)
    for name in incident-intake csirt-triage notifier; do
        until pl_ready "$name"; do
            if awk -v e="$(since "$start")" -v b="$1" 'BEGIN { exit !(e > b) }'; then echo "timeout($name)"; return 1; fi
            sleep 0.2
        done
    done
    since "$start"
}

# Samples /readyz of the three services every 0.2 s into FILE ("<service> <code>") until stopped.
pl_sample_readiness() { # FILE
    while true; do
        local name
        for name in incident-intake csirt-triage notifier; do
            echo "$name $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$(pl_port_of "$name")/readyz")"
        done
        sleep 0.2
    done >>"$1"
}

# --- environments -------------------------------------------------------------------------

# Creates the environment's vhost and database, starts the sinks and the three services.
# DECLARE_SERVER, when given, is the broker node the topology is declared through first.
pl_open() { # NAME AMQP_SERVER DB_SERVER [DB_QUERY [DECLARE_SERVER]]   (servers: URLs without vhost/database)
    local name=$1 amqp_server=$2 db_server=$3 db_query=${4:-} declare_server=${5:-$2}
    pl_close
    # The services read deploy/config (routes' templates, triage's rules) relative to the checkout.
    cd "$root"
    pl_env=$name
    pl_vhost="faults-$name"
    local database="isms_faults_$name"
    pl_dir="$work/$name"
    mkdir -p "$pl_dir/mail" "$pl_dir/webhooks" "$pl_dir/files"
    pl_amqp="$amqp_server/$pl_vhost"
    pl_db="$db_server/$database$db_query"
    pl_admin_db="$db_server/postgres$db_query"
    psql -X -q -v ON_ERROR_STOP=1 "$pl_admin_db" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" \
        -c "CREATE DATABASE $database ENCODING 'UTF8' TEMPLATE template0"
    psql -X -q -v ON_ERROR_STOP=1 "$pl_db" -f "$root/deploy/postgres/init.sql" >/dev/null
    pl_sql -c "CREATE TABLE public.fault_ids (scenario text NOT NULL, kind text NOT NULL, id uuid NOT NULL)" -c "CREATE INDEX ON public.fault_ids (id)"
    pl_ctl -q delete_vhost "$pl_vhost" >/dev/null 2>&1 || true
    pl_ctl -q add_vhost "$pl_vhost" >/dev/null
    pl_ctl -q set_permissions -p "$pl_vhost" isms '.*' '.*' '.*' >/dev/null
    ISMS_AMQP_URL="$declare_server/$pl_vhost" "$bin/isms" topology declare >/dev/null
    pl_write_routes
    pl_start_smtp
    pl_start_webhook
    local service
    for service in incident-intake csirt-triage notifier; do pl_start "$service"; done
    if ! pl_wait_ready 90 >/dev/null; then
        log "$name: the services did not become ready; last log lines:"
        for service in incident-intake csirt-triage notifier; do tail -n 5 "$pl_dir/$service.log"; done
        return 1
    fi
    ISMS_DATABASE_URL=$pl_db "$bin/isms" directory import deploy/config/ward.yaml >/dev/null
    ISMS_DATABASE_URL=$pl_db "$bin/isms" producer grant --amqp-user isms --ward --note "fault suite" >/dev/null
    log "$name: intake :$pl_intake_port, triage :$pl_triage_port, notifier :$pl_notifier_port on vhost $pl_vhost; SMTP sink :$pl_smtp_port, webhooks :$pl_webhook_port; logs in $pl_dir"
}

# Stops what pl_open started (services first: a send in flight can still reach its sink).
pl_close() {
    [[ -n $pl_env ]] || return 0
    local service
    for service in incident-intake csirt-triage notifier smtp webhook; do pl_stop "$service" TERM; done
    if [[ ${ISMS_FAULTS_KEEP:-0} != 1 ]]; then
        pl_ctl -q delete_vhost "$pl_vhost" >/dev/null 2>&1 || true
        psql -X -q "$pl_admin_db" -c "DROP DATABASE IF EXISTS isms_faults_$pl_env WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    pl_env=""
}

# --- invariants ---------------------------------------------------------------------------

# Queue name and ready+unacknowledged messages of every queue of the three services in the vhost
# (their work queues and dead-letter queues). The audit scheduler and the contractor monitor do
# not run here: what the topology routes to their queues stays there and is not counted.
pl_queues() {
    pl_ctl -q list_queues -p "$pl_vhost" --no-table-headers name messages_ready messages_unacknowledged 2>/dev/null |
        awk 'NF == 3 && $1 ~ /^(incident-intake|csirt-triage|notifier)\./ { print $1, $2 + $3 }'
}

pl_outboxes_pending() {
    pl_sql -c "SELECT (SELECT count(*) FROM intake.outbox WHERE published_at IS NULL)
                    + (SELECT count(*) FROM triage.outbox WHERE published_at IS NULL)
                    + (SELECT count(*) FROM notifier.outbox WHERE published_at IS NULL)"
}

# One line of figures the settle loop and the checks share:
#   missing  confirmed reports of SCENARIO not stored
#   caseless stored reports not in any case
#   open     notification rows not yet sent (queued, sending, failed, grouped, ...)
#   unnotified stored reports with no sent notification on an event naming their intake id
pl_figures() { # SCENARIO
    pl_sql -c "
WITH links AS ($(pl_case_links))
SELECT concat_ws(' ',
  (SELECT count(*) FROM public.fault_ids f WHERE f.scenario = '$1' AND f.kind = 'confirmed'
      AND NOT EXISTS (SELECT FROM intake.reports r WHERE r.report_id = f.id)),
  (SELECT count(*) FROM intake.reports r WHERE NOT EXISTS (SELECT FROM links l WHERE l.report_id = r.report_id)),
  (SELECT count(*) FROM notifier.notifications WHERE state <> 'sent'),
  (SELECT count(*) FROM intake.reports r WHERE NOT EXISTS (
      SELECT FROM notifier.events e JOIN notifier.notifications n ON n.event_key = e.event_key
      WHERE e.intake_id IN (r.intake_id::text, $(pl_masked_intake_id r.intake_id)) AND n.state = 'sent')))"
}

# The notifier masks every string of an event that looks like a My Number, and an intake id (a
# UUID) whose last group is 12 digits with a valid check digit looks like one: its
# notifier.events.intake_id reads "…-************" (seen once in ~1,600 reports). The link
# accepts that form too; pl_verify prints how many there were.
pl_masked_intake_id() { # SQL-EXPRESSION of a uuid
    echo "regexp_replace($1::text, '-[0-9]{12}\$', '-************')"
}

# Waits until SCENARIO's confirmed reports are stored, each report is in a case and notified,
# every notification row is sent, every queue is empty and every outbox drained, on two
# consecutive looks 1 s apart; prints the seconds or "timeout(...)" after BOUND seconds.
pl_wait_settled() { # SCENARIO BOUND
    local start quiet=0 figures queued pending
    start=$(now)
    while true; do
        figures=$(pl_figures "$1" 2>/dev/null || echo "-1 -1 -1 -1")
        queued=$(pl_queues | awk '{ s += $2 } END { print s + 0 }')
        pending=$(pl_outboxes_pending 2>/dev/null || echo -1)
        if [[ $figures == "0 0 0 0" && $queued == 0 && $pending == 0 ]]; then
            quiet=$((quiet + 1))
            if [[ $quiet -ge 2 ]]; then since "$start"; return 0; fi
        else
            quiet=0
        fi
        if awk -v e="$(since "$start")" -v b="$2" 'BEGIN { exit !(e > b) }'; then
            echo "timeout(missing/caseless/unsent/unnotified=${figures// //} queued=$queued outbox=$pending)"
            return 1
        fi
        sleep 1
    done
}

# Which ledger rows the sinks hold, by Message-ID / webhook-id ("ntf_<row id>"): prints
#   <sent rows> <rows with no message> <rows with 2+ messages> <messages of no sent row>
#   <repeats the receiver dropped> <rows in hand at the fault (in-hand.txt) that arrived twice>
# for KIND (email or webhook).
pl_sink_figures() { # KIND
    local kind=$1
    pl_sql -c "SELECT 'ntf_' || id FROM notifier.notifications WHERE state = 'sent' AND channel_kind = '$kind'" >"$pl_dir/sent-$kind.txt"
    python3 - "$kind" "$pl_dir" <<'PY'
import collections, glob, json, os, re, sys
kind, folder = sys.argv[1], sys.argv[2]
sent = set(open(os.path.join(folder, f"sent-{kind}.txt")).read().split())
in_hand_file = os.path.join(folder, "in-hand.txt")
in_hand = set(open(in_hand_file).read().split()) if os.path.exists(in_hand_file) else set()
seen, repeats = collections.Counter(), 0
if kind == "email":
    for path in glob.glob(os.path.join(folder, "mail", "*.eml")):
        head = open(path, "rb").read().split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        match = re.search(r"^Message-ID:\s*<([^@>]+)@", head, re.M | re.I)
        seen[match.group(1) if match else path] += 1
else:
    for path in glob.glob(os.path.join(folder, "webhooks", "*.json")):
        delivery = json.load(open(path))
        if os.path.basename(path).startswith("repeat-"):
            repeats += 1
        elif not os.path.basename(path).startswith("rejected-"):
            seen[delivery["headers"].get("webhook-id")] += 1
missing = sum(1 for key in sent if seen[key] == 0)
twice = sum(1 for key in sent if seen[key] >= 2 and key not in in_hand)
resent = sum(1 for key in sent if seen[key] >= 2 and key in in_hand)
foreign = sum(count for key, count in seen.items() if key not in sent)
print(len(sent), missing, twice, foreign, repeats, resent)
PY
}

# The checks of one scenario; READY is pl_wait_ready's answer after the fault, SETTLED pl_wait_settled's.
pl_verify() { # SCENARIO READY READY_BOUND SETTLED
    local scenario=$1 ready_s=$2 ready_bound=$3 settled=$4
    local missing caseless unsent unnotified
    read -r missing caseless unsent unnotified <<<"$(pl_figures "$scenario")"
    local confirmed stored dup multi cases rows
    read -r confirmed stored dup multi cases rows <<<"$(pl_sql -c "
WITH links AS ($(pl_case_links))
SELECT concat_ws(' ',
  (SELECT count(*) FROM public.fault_ids WHERE scenario = '$scenario' AND kind = 'confirmed'),
  (SELECT count(*) FROM intake.reports r WHERE EXISTS (SELECT FROM public.fault_ids f WHERE f.scenario = '$scenario' AND f.kind = 'attempted' AND f.id = r.report_id)),
  (SELECT count(*) FROM (SELECT 1 FROM intake.reports GROUP BY producer, report_id HAVING count(*) > 1) d),
  (SELECT count(*) FROM (SELECT report_id FROM links GROUP BY report_id HAVING count(DISTINCT case_id) > 1) m),
  (SELECT count(*) FROM triage.cases),
  (SELECT count(*) FROM notifier.notifications))")"
    local mail_rows mail_missing mail_twice mail_foreign mail_resent hook_rows hook_missing hook_twice hook_foreign hook_repeats hook_resent ignored
    read -r mail_rows mail_missing mail_twice mail_foreign ignored mail_resent <<<"$(pl_sink_figures email)"
    read -r hook_rows hook_missing hook_twice hook_foreign hook_repeats hook_resent <<<"$(pl_sink_figures webhook)"
    local queues nonempty pending
    queues=$(pl_queues)
    nonempty=$(awk '$2 != 0 { printf "%s%s=%s", sep, $1, $2; sep = "," }' <<<"$queues")
    pending=$(pl_outboxes_pending)
    local masked
    masked=$(pl_sql -c "SELECT count(*) FROM notifier.events WHERE intake_id LIKE '%-************'")
    log "$scenario: $confirmed confirmed, $stored stored; $cases cases and $rows notification rows in $pl_env; ready ${ready_s}s after the fault; settled after ${settled}s"
    [[ $masked == 0 ]] || log "$scenario: $masked event(s) in notifier.events carry an intake id masked as a My Number (a UUID ending in 12 digits)"
    check "$scenario" "every confirmed report is stored ($missing of $confirmed missing), none twice ($dup)" "$([[ $missing == 0 && $dup == 0 ]] && echo 0 || echo 1)"
    check "$scenario" "every stored report is in exactly one case ($caseless in none, $multi in several)" "$([[ $caseless == 0 && $multi == 0 ]] && echo 0 || echo 1)"
    check "$scenario" "every stored report was notified ($unnotified not) and every notification row is sent ($unsent not)" "$([[ $unnotified == 0 && $unsent == 0 && $rows -gt 0 ]] && echo 0 || echo 1)"
    check "$scenario" "SMTP sink: each of $mail_rows sent e-mail rows is exactly one message by Message-ID ($mail_missing none, $mail_twice twice, $mail_foreign of no sent row; $mail_resent sends in hand at the fault arrived twice with one Message-ID)" \
        "$([[ $mail_rows -gt 0 && $mail_missing == 0 && $mail_twice == 0 && $mail_foreign == 0 ]] && echo 0 || echo 1)"
    check "$scenario" "webhook receiver: each of $hook_rows sent webhook rows is exactly one delivery by webhook-id ($hook_missing none, $hook_twice twice, $hook_foreign of no sent row; $hook_repeats resends dropped by webhook-id)" \
        "$([[ $hook_rows -gt 0 && $hook_missing == 0 && $hook_twice == 0 && $hook_foreign == 0 ]] && echo 0 || echo 1)"
    check "$scenario" "the queues of intake, triage and the notifier are empty, dead-letter queues included (${nonempty:-all empty}), every outbox drained ($pending pending)" \
        "$([[ -z $nonempty && $pending == 0 && -n $queues ]] && echo 0 || echo 1)"
    check "$scenario" "settled within ${pl_settle_bound}s (${settled}s)" "$([[ $settled != timeout* ]] && echo 0 || echo 1)"
    check "$scenario" "all three services ready within ${ready_bound}s of the fault's end (${ready_s}s)" "$([[ $ready_s != timeout* ]] && echo 0 || echo 1)"
}

# Publishes SCENARIO's reports in the background (to URL, default the services' broker).
pl_publish() { # SCENARIO [URL]
    "$bin/isms-bench" publish --amqp-url "${2:-$pl_amqp}" --log "$pl_dir/$1.ids" --count "$pl_reports" --rate "$pl_rate" \
        --assets distinct >>"$pl_dir/publisher.out" 2>&1 &
    publisher_pid=$!
}

pl_finish() { # SCENARIO READY READY_BOUND
    wait_publisher || log "$1: the publisher exited with an error (see $pl_dir/publisher.out)"
    pl_load_ids "$1"
    local settled
    settled=$(pl_wait_settled "$1" "$pl_settle_bound" || true)
    pl_verify "$1" "$2" "$3" "$settled"
}

pl_load_ids() { # SCENARIO
    local log_file="$pl_dir/$1.ids"
    { grep '^confirmed ' "$log_file" | cut -d' ' -f2 | sort -u | sed "s/^/$1\tconfirmed\t/" || true
      grep '^attempt ' "$log_file" | cut -d' ' -f2 | sort -u | sed "s/^/$1\tattempted\t/" || true; } >"$pl_dir/ids.tsv"
    pl_sql -c "DELETE FROM public.fault_ids WHERE scenario = '$1'" -c "\copy public.fault_ids FROM '$pl_dir/ids.tsv'"
}

# A third of the way through the scenario's reports.
pl_midstream() { sleep "$(awk -v n="$pl_reports" -v r="$pl_rate" 'BEGIN { printf "%.1f", n / r / 3 }')"; }

pl_open_pipeline() {
    [[ $pl_env == pipeline ]] && return 0
    pl_open pipeline "${ISMS_TEST_AMQP_URL%/*}" "${ISMS_TEST_DATABASE_URL%/*}"
}

# --- pipeline scenarios (test stack) ------------------------------------------------------

# A service SIGKILLed while it has work in hand, started again 3 s later.
pl_scenario_kill() { # SCENARIO SERVICE QUEUE
    local scenario=$1 service=$2 queue=$3
    pl_open_pipeline
    log "--- $scenario"
    pl_publish "$scenario"
    pl_midstream
    local depth sent
    depth=$(pl_queues | awk -v q="$queue" '$1 == q { print $2 }')
    sent=$(pl_sql -c "SELECT count(*) FROM notifier.notifications WHERE state = 'sent'")
    pl_stop "$service" KILL
    if [[ $service == notifier ]]; then
        # Sends in hand at the kill: the relay or endpoint may have taken one before the ledger
        # marked it sent, and it goes out again with the same Message-ID / webhook-id
        # (at-least-once, as the notifier documents). These rows alone may arrive twice.
        pl_sql -c "SELECT 'ntf_' || id FROM notifier.notifications WHERE state = 'sending'" >>"$pl_dir/in-hand.txt"
    fi
    log "$scenario: $service killed (SIGKILL) with $depth messages in $queue, $sent notifications sent so far, $(pl_sql -c "SELECT count(*) FROM notifier.notifications WHERE state = 'sending'") sends in hand; starting it again in 3 s"
    sleep 3
    pl_start "$service"
    local ready_s
    ready_s=$(pl_wait_ready 60 || echo timeout)
    pl_finish "$scenario" "$ready_s" 60
}

scenario_triage_kill() { pl_scenario_kill triage-kill csirt-triage csirt-triage.events; }
scenario_notifier_kill() { pl_scenario_kill notifier-kill notifier notifier.events; }

# Retries of channel KIND so far: the delivery log's "retry in … after <error>" entries.
pl_retried() {
    pl_sql -c "SELECT count(*) FROM notifier.delivery_log d JOIN notifier.notifications n ON n.id = d.notification_id
               WHERE n.channel_kind = '$1' AND d.detail LIKE 'retry in %'"
}

# The relay refuses (451 to every DATA) for 10 s, is then down (connection refused) for 10 s,
# and comes back; the notifier retries with back-off (1 s doubling to 4 s in this suite).
scenario_smtp_refuse() {
    pl_open_pipeline
    log "--- smtp-refuse"
    pl_publish smtp-refuse
    pl_midstream
    local before failed_attempts retried_before
    retried_before=$(pl_retried email)
    kill -USR1 "${pl_pid[smtp]}"
    log "smtp-refuse: the SMTP sink answers 451 to every message"
    # A message whose DATA was being answered when the signal came still lands: count from 1 s on.
    sleep 1
    before=$(find "$pl_dir/mail" -name '*.eml' | wc -l)
    sleep 9
    pl_stop smtp TERM
    log "smtp-refuse: the SMTP sink is down (connection refused)"
    sleep 10
    local during
    during=$(( $(find "$pl_dir/mail" -name '*.eml' | wc -l) - before ))
    pl_start_smtp
    failed_attempts=$(( $(pl_retried email) - retried_before ))
    log "smtp-refuse: the SMTP sink is back; $during messages arrived during the last 19 s of the fault; the delivery log holds $failed_attempts e-mail retries since the fault began"
    check smtp-refuse "the notifier met the refusals and the outage ($failed_attempts e-mail retries) and nothing was accepted meanwhile ($during)" \
        "$([[ $failed_attempts -gt 0 && $during == 0 ]] && echo 0 || echo 1)"
    local ready_s
    ready_s=$(pl_wait_ready 60 || echo timeout)
    pl_finish smtp-refuse "$ready_s" 60
}

# The webhook endpoint answers 500 to every post for 15 s, then 204 again.
scenario_webhook_500() {
    pl_open_pipeline
    log "--- webhook-500"
    pl_publish webhook-500
    pl_midstream
    local before during failed_attempts retried_before
    retried_before=$(pl_retried webhook)
    kill -USR1 "${pl_pid[webhook]}"
    log "webhook-500: the webhook receiver answers 500 to every post"
    # A post being stored when the signal came still lands: count from 1 s on.
    sleep 1
    before=$(find "$pl_dir/webhooks" -name '0*.json' | wc -l)
    sleep 14
    during=$(( $(find "$pl_dir/webhooks" -name '0*.json' | wc -l) - before ))
    kill -USR2 "${pl_pid[webhook]}"
    failed_attempts=$(( $(pl_retried webhook) - retried_before ))
    log "webhook-500: the receiver answers 204 again; $during deliveries stored during the last 14 s of the fault; the delivery log holds $failed_attempts webhook retries since the fault began"
    check webhook-500 "the notifier met the 500s ($failed_attempts webhook retries) and nothing was stored meanwhile ($during)" \
        "$([[ $failed_attempts -gt 0 && $during == 0 ]] && echo 0 || echo 1)"
    local ready_s
    ready_s=$(pl_wait_ready 60 || echo timeout)
    pl_finish webhook-500 "$ready_s" 60
}

# --- broker cluster -----------------------------------------------------------------------

# "<queue> <leader node> <replicas online>" for every quorum queue of the vhost.
pl_quorum_status() {
    pl_ctl -q list_queues -p "$pl_vhost" --formatter json name type leader online 2>/dev/null |
        python3 -c '
import json, sys
for q in json.load(sys.stdin):
    if q.get("type") == "quorum":
        print(q["name"], q.get("leader") or "-", len(q.get("online") or []))'
}

# The services and the publisher talk to node 1 (their client takes one URL); the topology is
# declared through node 2, so the quorum queues' leaders start there (RabbitMQ places a new
# queue's leader on the declaring client's node). Node 2 is stopped gracefully while reports
# flow: each queue elects a new leader among nodes 1 and 3 and keeps every confirmed message.
scenario_broker_cluster() {
    log "--- broker-cluster"
    local t
    t=$(now)
    pl_cluster_started=yes
    if ! "$stack" --profile test cluster up >"$work/cluster-up.log" 2>&1; then
        check broker-cluster "the 3-node cluster started ($(tail -n 1 "$work/cluster-up.log"))" 1
        return 0
    fi
    log "broker-cluster: cluster of three nodes up after $(since "$t") s"
    eval "$("$stack" --profile test cluster env)"
    pl_close
    pl_ctl_node=1
    pl_open cluster "${ISMS_CLUSTER_AMQP_URL_1%/*}" "${ISMS_TEST_DATABASE_URL%/*}" "" "${ISMS_CLUSTER_AMQP_URL_2%/*}"
    local leaders leader victim
    leaders=$(pl_quorum_status)
    leader=$(awk '$1 == "incident-intake.commands" { print $2 }' <<<"$leaders")
    log "broker-cluster: quorum queue leaders: $(awk '{ printf "%s%s on %s", sep, $1, $2; sep = ", " }' <<<"$leaders")"
    victim=$(sed -n 's/^isms-c\([0-9]\)@.*/\1/p' <<<"$leader")
    check broker-cluster "the work queues' leader is not the node the services use (leader of incident-intake.commands: $leader)" "$([[ -n $victim && $victim != 1 ]] && echo 0 || echo 1)"
    [[ -n $victim && $victim != 1 ]] || victim=2
    pl_publish broker-cluster
    pl_midstream
    t=$(now)
    local sampler
    pl_sample_readiness "$pl_dir/readiness.txt" &
    sampler=$!
    "$stack" --profile test cluster stop "$victim"
    log "broker-cluster: node $victim (leader) stopped after $(since "$t") s"
    local moved
    moved=$(pl_quorum_status | awk -v v="isms-c$victim@" 'index($2, v) == 1 { n++ } END { print n + 0 }')
    check broker-cluster "every quorum queue elected a leader on a surviving node ($moved still led by node $victim)" "$([[ $moved == 0 ]] && echo 0 || echo 1)"
    sleep 10
    "$stack" --profile test cluster start "$victim"
    log "broker-cluster: node $victim back after $(since "$t") s"
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    local unready
    unready=$(awk '$2 != 200' "$pl_dir/readiness.txt" | wc -l)
    log "broker-cluster: /readyz samples other than 200 while node $victim was away: $unready (the services' own node stayed up)"
    local ready_s
    ready_s=$(pl_wait_ready 60 || echo timeout)
    pl_finish broker-cluster "$ready_s" 60
    local members
    members=$(pl_quorum_status | awk '$3 < 3 { n++ } END { print n + 0 }')
    check broker-cluster "after the restart every quorum queue has its three members online again ($members short)" "$([[ $members == 0 ]] && echo 0 || echo 1)"
    pl_close
    pl_ctl_node=""
    "$stack" --profile test cluster down >/dev/null
}


# --- database fail-over -------------------------------------------------------------------

# The services' database is a primary (a) with a synchronous hot standby (b); their URL names
# both hosts with target_session_attrs=read-write, so libpq connects to whichever accepts writes.
# While reports flow, a is stopped at once (immediate: a crash) and then b is promoted. The old
# primary goes first on purpose: fenced before the promotion, it can never take a write that b
# lacks (a commit waiting for its synchronous standby is already visible on the primary).
# Then the operator's step of docs/operations.md: a is rebuilt as b's synchronous standby.
scenario_db_failover() {
    log "--- db-failover"
    pl_close
    pl_ctl_node=""
    local t
    t=$(now)
    pl_pair_started=yes
    "$stack" --profile test pgpair reset >/dev/null
    if ! "$stack" --profile test pgpair up >"$work/pgpair-up.log" 2>&1; then
        check db-failover "the primary and its standby started ($(tail -n 1 "$work/pgpair-up.log"))" 1
        return 0
    fi
    eval "$("$stack" --profile test pgpair env)"
    log "db-failover: primary a and synchronous standby b up after $(since "$t") s; services on ${ISMS_PGPAIR_URL/postgres:postgres@/}"
    pl_open failover "${ISMS_TEST_AMQP_URL%/*}" "${ISMS_PGPAIR_URL%/postgres\?*}" "?${ISMS_PGPAIR_URL#*\?}"
    local sync
    sync=$("$stack" --profile test pgpair psql a -At -c "SELECT application_name || ':' || sync_state FROM pg_stat_replication")
    check db-failover "b streams from a as its synchronous standby ($sync)" "$([[ $sync == b:sync ]] && echo 0 || echo 1)"
    pl_publish db-failover
    pl_midstream
    local sampler
    pl_sample_readiness "$pl_dir/readiness.txt" &
    sampler=$!
    t=$(now)
    "$stack" --profile test pgpair stop a immediate
    log "db-failover: primary a stopped (immediate) after $(since "$t") s; promoting b in ${pl_failover_gap} s (a fail-over manager's detection time)"
    sleep "$pl_failover_gap"
    "$stack" --profile test pgpair promote b
    # Sends in hand when the database went away: sent, perhaps, but not marked (the mark needs the
    # database), so they go out again with the same Message-ID / webhook-id after their lease.
    pl_sql -c "SELECT 'ntf_' || id FROM notifier.notifications WHERE state = 'sending'" >>"$pl_dir/in-hand.txt"
    log "db-failover: standby b promoted $(since "$t") s after the fault began ($(wc -l <"$pl_dir/in-hand.txt") sends in hand); roles: a $("$stack" --profile test pgpair role a), b $("$stack" --profile test pgpair role b)"
    local ready_s
    ready_s=$(pl_wait_ready 120 || echo timeout)
    sleep 1
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    local service unready summary="" any=0
    for service in incident-intake csirt-triage notifier; do
        unready=$(awk -v s="$service" '$1 == s && $2 != 200' "$pl_dir/readiness.txt" | wc -l)
        summary+="$service $unready, "
        [[ $unready -gt 0 ]] && any=$((any + 1))
    done
    log "db-failover: /readyz samples other than 200 (every 0.2 s): ${summary%, }; all ready ${ready_s}s after the promotion"
    check db-failover "readiness went false while the database was away (services with unready samples: $any of 3)" "$([[ $any -gt 0 ]] && echo 0 || echo 1)"
    pl_finish db-failover "$ready_s" 120
    local server_port b_port=${ISMS_PGPAIR_URL#*,127.0.0.1:}
    b_port=${b_port%%/*}
    server_port=$(pl_sql -c "SELECT inet_server_port()")
    check db-failover "the multi-host URL now leads to b (port $server_port, b is $b_port)" "$([[ $server_port == "$b_port" ]] && echo 0 || echo 1)"
    # The operator's step afterwards (docs/operations.md): the old primary becomes the standby.
    t=$(now)
    "$stack" --profile test pgpair rebuild a >/dev/null
    sync=$("$stack" --profile test pgpair psql b -At -c "SELECT application_name || ':' || sync_state FROM pg_stat_replication")
    log "db-failover: a rebuilt as b's standby in $(since "$t") s ($sync)"
    check db-failover "after 'stack.sh pgpair rebuild a', a streams from b as its synchronous standby ($sync)" "$([[ $sync == a:sync ]] && echo 0 || echo 1)"
    pl_close
    "$stack" --profile test pgpair reset >/dev/null
}

# Called by run.sh's clean-up: nothing these scenarios started outlives the suite.
pl_cleanup() {
    pl_close || true
    pl_ctl_node=""
    if [[ $pl_cluster_started == yes ]]; then "$stack" --profile test cluster down >/dev/null 2>&1 || true; fi
    if [[ $pl_pair_started == yes ]]; then "$stack" --profile test pgpair reset >/dev/null 2>&1 || true; fi
}
