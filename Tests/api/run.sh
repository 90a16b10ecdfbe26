#!/usr/bin/env bash
# The API suite of `make test`: the five services as built, against the test stack, fuzzed by
# schemathesis with docs/openapi.yaml, one run per tag with a token of a role that may act there.
# Every check is on; any finding fails the suite. Paths carry their own `servers`, so each tag
# runs against its service's port.
#
#   Tests/api/run.sh [TAG...]      default: every tag, after the My Number search
#                                  (Tests/api/mynumber_nowhere.py)
#
# Needs the test stack up (make test starts it) and a debug build. Set ISMS_API_MAX_EXAMPLES to
# fuzz harder than the default (25 per operation).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$root"
isms=${ISMS_BIN:-$root/.build/debug}/isms
services="$root/deploy/local/services.sh"
examples=${ISMS_API_MAX_EXAMPLES:-25}
reports="$root/.build/api-suite"
mkdir -p "$reports"

# A database of its own on the test server, so the swift tests' schemas do not matter.
stack="$root/deploy/local/stack.sh"
"$stack" --profile test psql -q -d postgres -c "DROP DATABASE IF EXISTS isms_api WITH (FORCE)" -c "CREATE DATABASE isms_api"
"$stack" --profile test psql -q -d isms_api -v ON_ERROR_STOP=1 -f "$root/deploy/postgres/init.sql" >/dev/null
eval "$("$stack" --profile test env)"
export ISMS_SERVICES_DATABASE=isms_api
export ISMS_DATABASE_URL="${ISMS_DATABASE_ADMIN_URL%/*}/isms_api" ISMS_LOG_FORMAT=text
"$isms" migrate >/dev/null
"$isms" directory import deploy/config/ward.yaml >/dev/null
"$isms" assets import deploy/config/assets.yaml >/dev/null
"$isms" producer grant --amqp-user isms --ward --note "API suite" >/dev/null

trap '"$services" --profile test stop >/dev/null 2>&1 || true' EXIT
rm -rf "$root/deploy/local/run-test"
# The swift tests share the broker: what they left in the services' queues is not ours to handle.
for queue in $("$stack" --profile test rabbitmqctl -q list_queues name | tail -n +2); do
    "$stack" --profile test rabbitmqctl -q purge_queue "$queue" >/dev/null
done
"$services" --profile test start >/dev/null

token() { "$isms" token issue --role "$1" ${2:+--unit "$2"} --label "api-suite $1${2:+ $2}" --days 1 2>/dev/null; }

# tag:port:role[:unit] — a role that may use most of the tag's operations, so that the fuzzer
# reaches the handlers instead of stopping at 403.
runs=(
    intake:48081:sectionSecurityOfficer:public-relations
    triage:48082:csirt
    audit:48083:generalSecurityOfficer
    contractors:48084:generalSecurityOfficer
    notifications:48085:csirt
    dead-letters:48085:generalSystemAdministrator
)
selected=("$@")
status=0
# First, on a clean system: a My Number typed into every free-text field is nowhere in clear.
if [[ ${#selected[@]} -eq 0 ]]; then
    python3 "$root/Tests/api/mynumber_nowhere.py" || status=1
fi
for entry in "${runs[@]}"; do
    IFS=: read -r tag port role unit <<<"$entry"
    if [[ ${#selected[@]} -gt 0 && ! " ${selected[*]} " == *" $tag "* ]]; then continue; fi
    bearer=$(token "$role" "$unit")
    echo "api: $tag on :$port as $role${unit:+ of $unit}"
    if ! st --config-file "$root/Tests/api/schemathesis.toml" run docs/openapi.yaml \
        --url "http://127.0.0.1:$port" --include-tag "$tag" \
        -H "Authorization: Bearer $bearer" \
        --checks all --max-examples "$examples" --workers 1 --seed 20261205 \
        --no-color --report junit --report-dir "$reports/$tag" \
        >"$reports/$tag.log" 2>&1; then
        status=1
        echo "api: $tag FAILED — findings in .build/api-suite/$tag.log:"
        sed -n '/FAILURES\|Failures\|___/,$p' "$reports/$tag.log" | head -n 120
    else
        echo "api: $tag:$(grep -E '^ +[0-9]+ generated' "$reports/$tag.log" | tail -n 1)"
    fi
done
exit $status
