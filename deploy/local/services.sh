#!/usr/bin/env bash
# The five services and the web console on this machine, in the background, against the dev stack:
#
#   services.sh [--profile dev|test] start    start each service unless running; wait until each answers /healthz
#   services.sh [--profile dev|test] stop     SIGTERM each, wait up to 30 s (in-flight work commits and acks), then SIGKILL
#   services.sh [--profile dev|test] status   pid and /readyz of each
#
# The dev profile (make run) listens on 8081-8086; the test profile (the API and browser suites of
# make test) on 48081-48086 with its own sinks, so both run side by side.
# Logs: deploy/local/run[-test]/logs/<service>.log; pid files: deploy/local/run[-test]/<service>.pid.
# Binaries: $ISMS_BIN (default .build/debug). Each service gets ISMS_AMQP_URL from the dev stack,
# its own ISMS_DATABASE_URL (its role, which can touch only its schema), ISMS_HTTP_PORT, and
# ISMS_LOG_FORMAT=json. The web console also gets the five services' URLs, the broker's
# management URL (its operations page) and its own public URL (the base of enrolment links),
# which the notifier gets too: acknowledgement links in mail open the console.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
bin=${ISMS_BIN:-$root/.build/debug}
profile=dev
if [[ ${1:-} == --profile ]]; then profile=${2:?--profile needs dev or test}; shift 2; fi
case $profile in
    dev) run="$here/run" port_base=0 ;;
    test) run="$here/run-test" port_base=40000 ;;
    *) echo "services.sh: unknown profile '$profile' (dev or test)" >&2; exit 2 ;;
esac

# service:database-role:http-port
services=(
    incident-intake:intake:$((8081 + port_base))
    csirt-triage:triage:$((8082 + port_base))
    audit-scheduler:audit:$((8083 + port_base))
    contractor-monitor:contractor:$((8084 + port_base))
    notifier:notifier:$((8085 + port_base))
    web-console:console:$((8086 + port_base))
)
console_url="http://127.0.0.1:$((8086 + port_base))"

# Local stand-ins for the ward's mail server and CSIRT's webhook endpoint, so notifications have
# somewhere real to go: an SMTP sink (aiosmtpd) and a receiver that checks Standard Webhooks
# signatures. Each writes what it receives under deploy/local/run/.
smtp_port=$((8025 + port_base))
webhook_port=$((8090 + port_base))
webhook_secret=whsec_ZGV2LXdlYmhvb2stc2VjcmV0
sinks=(smtp-sink webhook-receiver)

start_sinks() {
    local support="$root/Tests/NotifierTests/Support"
    if ! alive smtp-sink; then
        setsid python3 "$support/smtp_sink.py" --daemon --dir "$run/mail" --port "$smtp_port" >>"$run/logs/smtp-sink.log" 2>&1 </dev/null &
        echo $! >"$run/smtp-sink.pid"
        echo "smtp-sink started (pid $!, smtp :$smtp_port, mail in deploy/local/run/mail/)"
    fi
    if ! alive webhook-receiver; then
        setsid python3 "$support/webhook_receiver.py" --daemon --dir "$run/webhooks" --port "$webhook_port" --secret "$webhook_secret" \
            >>"$run/logs/webhook-receiver.log" 2>&1 </dev/null &
        echo $! >"$run/webhook-receiver.pid"
        echo "webhook-receiver started (pid $!, http :$webhook_port, deliveries in deploy/local/run/webhooks/)"
    fi
}

stop_sinks() {
    local name pid
    for name in "${sinks[@]}"; do
        pid=$(pid_of "$name") || continue
        kill -TERM "$pid" 2>/dev/null && echo "stopping $name (pid $pid)"
    done
}

pid_of() { [[ -s $run/$1.pid ]] && cat "$run/$1.pid"; }
alive() { local pid; pid=$(pid_of "$1") && kill -0 "$pid" 2>/dev/null; }

start() {
    mkdir -p "$run/logs" "$run/mail" "$run/webhooks"
    start_sinks
    eval "$("$here/stack.sh" --profile "$profile" env)"
    # The services connect as their own roles, on the profile's server and database.
    local database_base=${ISMS_DATABASE_ADMIN_URL#*@}
    # The API suite gives the services a database of its own (ISMS_SERVICES_DATABASE).
    if [[ -n ${ISMS_SERVICES_DATABASE:-} ]]; then database_base="${database_base%/*}/$ISMS_SERVICES_DATABASE"; fi
    # The routes name the local webhook receiver's port; the test profile's receiver has its own.
    local routes="$root/deploy/config/notification-routes.yaml"
    if [[ $webhook_port != 8090 ]]; then
        sed "s#127.0.0.1:8090/#127.0.0.1:$webhook_port/#" "$routes" >"$run/notification-routes.yaml"
        routes="$run/notification-routes.yaml"
    fi
    # The console calls the services over HTTP on this profile's ports (the CLI's variables).
    local console_env=(
        ISMS_INCIDENT_INTAKE_URL="http://127.0.0.1:$((8081 + port_base))"
        ISMS_CSIRT_TRIAGE_URL="http://127.0.0.1:$((8082 + port_base))"
        ISMS_AUDIT_SCHEDULER_URL="http://127.0.0.1:$((8083 + port_base))"
        ISMS_CONTRACTOR_MONITOR_URL="http://127.0.0.1:$((8084 + port_base))"
        ISMS_NOTIFIER_URL="http://127.0.0.1:$((8085 + port_base))"
        ISMS_MANAGEMENT_URL="$ISMS_MANAGEMENT_URL"
    )
    local entry name role port extra
    for entry in "${services[@]}"; do
        IFS=: read -r name role port <<<"$entry"
        if alive "$name"; then
            echo "$name already running (pid $(pid_of "$name"))"
            continue
        fi
        [[ -x $bin/$name ]] || { echo "services.sh: $bin/$name not built" >&2; exit 1; }
        extra=()
        if [[ $name == web-console ]]; then extra=("${console_env[@]}"); fi
        # The stack's superuser and administrator URLs are the operator's, not a service's.
        env -u ISMS_DATABASE_ADMIN_URL -u ISMS_TEST_DATABASE_URL -u ISMS_TEST_AMQP_URL -u ISMS_TEST_MANAGEMENT_URL \
            ISMS_AMQP_URL="$ISMS_AMQP_URL" \
            ISMS_DATABASE_URL="postgresql://$role:$role@$database_base" \
            ISMS_HTTP_PORT="$port" ISMS_LOG_FORMAT=json \
            ISMS_NOTIFIER_SMTP_URL="smtp://127.0.0.1:$smtp_port?starttls=never" \
            ISMS_NOTIFIER_ROUTES="$routes" \
            ISMS_CONSOLE_PUBLIC_URL="$console_url" \
            "${extra[@]}" \
            setsid "$bin/$name" >>"$run/logs/$name.log" 2>&1 </dev/null &
        echo $! >"$run/$name.pid"
        echo "$name started (pid $!, http :$port, log deploy/local/run/logs/$name.log)"
    done
    for entry in "${services[@]}"; do
        IFS=: read -r name role port <<<"$entry"
        local deadline=$((SECONDS + 20))
        until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; do
            if ! alive "$name"; then
                echo "services.sh: $name exited; last lines of its log:" >&2
                tail -n 20 "$run/logs/$name.log" >&2
                exit 1
            fi
            if (( SECONDS > deadline )); then
                echo "services.sh: $name does not answer http://127.0.0.1:$port/healthz" >&2
                exit 1
            fi
            sleep 0.25
        done
    done
}

stop() {
    local entry name pid pids=()
    for entry in "${services[@]}"; do
        name=${entry%%:*}
        pid=$(pid_of "$name") || continue
        if kill -TERM "$pid" 2>/dev/null; then
            pids+=("$pid")
            echo "stopping $name (pid $pid)"
        fi
    done
    local deadline=$((SECONDS + 30)) any
    while :; do
        any=no
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && any=yes; done
        [[ $any == yes && $SECONDS -lt $deadline ]] || break
        sleep 0.2
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            echo "pid $pid did not stop within 30 s: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    # After the services: a notification still being sent can reach its sink.
    stop_sinks
    rm -f "$run"/*.pid
}

status() {
    local entry name role port code=0 ready
    for entry in "${services[@]}"; do
        IFS=: read -r name role port <<<"$entry"
        if alive "$name"; then
            ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
            printf '%-20s running  pid %-7s :%s  /readyz %s\n' "$name" "$(pid_of "$name")" "$port" "$ready"
        else
            printf '%-20s stopped\n' "$name"
            code=3
        fi
    done
    return $code
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
