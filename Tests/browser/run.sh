#!/usr/bin/env bash
# The browser suite of `make test`: the web console and the five services as built, on the test
# profile's ports, driven through one scenario of issue 15 by Selenium in Debian's headless
# chromium (Tests/browser/console_test.py: enrolment with TOTP, a report with a mistake, CSIRT's
# queue and case, the CISO's approval, another section's 404s, CSRF, two related reports filed
# through intake's API that become one case, split and merged back (issue #16), locking, language).
#
#   Tests/browser/run.sh
#
# Needs the test stack up (make test starts it), a debug build (web-console included) and
# chromium, chromium-driver and selenium (deploy/local/stack.sh install). Screenshots of the
# main pages, and of every browser when a step fails, go to Tests/browser/screenshots/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$root"
bin=${ISMS_BIN:-$root/.build/debug}
isms=$bin/isms
stack="$root/deploy/local/stack.sh"
services="$root/deploy/local/services.sh"
logs="$root/deploy/local/run-test/logs"

fail() { echo "browser: $*" >&2; exit 1; }

# Everything this suite needs, named, before anything starts.
[[ -x $isms ]] || fail "$isms not built (swift build)"
for tool in chromium chromedriver; do
    command -v "$tool" >/dev/null || fail "$tool is missing (deploy/local/stack.sh install)"
done
python3 -c 'import selenium' 2>/dev/null || fail "the Python package selenium is missing (deploy/local/stack.sh install)"

# A database of its own on the test server, as the API suite has: neither the swift tests'
# schemas nor the API suite's reports are seen by the scenario (its queue starts empty).
"$stack" --profile test psql -q -d postgres -c "DROP DATABASE IF EXISTS isms_browser WITH (FORCE)" -c "CREATE DATABASE isms_browser"
"$stack" --profile test psql -q -d isms_browser -v ON_ERROR_STOP=1 -f "$root/deploy/postgres/init.sql" >/dev/null
eval "$("$stack" --profile test env)"
export ISMS_SERVICES_DATABASE=isms_browser
export ISMS_DATABASE_URL="${ISMS_DATABASE_ADMIN_URL%/*}/isms_browser" ISMS_LOG_FORMAT=text
"$isms" migrate >/dev/null
"$isms" directory import deploy/config/ward.yaml >/dev/null
"$isms" assets import deploy/config/assets.yaml >/dev/null
"$isms" producer grant --amqp-user isms --ward --note "browser suite" >/dev/null

trap '"$services" --profile test stop >/dev/null 2>&1 || true' EXIT
rm -rf "$root/deploy/local/run-test" "$root/Tests/browser/screenshots"
# The swift tests and the API suite share the broker: what they left in the services' queues
# would open cases the scenario does not expect.
for queue in $("$stack" --profile test rabbitmqctl -q list_queues name | tail -n +2); do
    "$stack" --profile test rabbitmqctl -q purge_queue "$queue" >/dev/null
done
# The five services, then web-console (services.sh starts it after them and waits until each
# answers /healthz): role console on isms_browser, port 48086, the services at
# 127.0.0.1:48081-48085, the test broker's management URL, public URL http://127.0.0.1:48086.
if ! "$services" --profile test start; then
    [[ -x $bin/web-console ]] || fail "web-console not built ($bin/web-console): swift build --product web-console"
    fail "the services did not start (logs: deploy/local/run-test/logs/)"
fi

export ISMS_BIN="$bin" ISMS_CONSOLE_URL=http://127.0.0.1:48086
status=0
python3 "$root/Tests/browser/console_test.py" || status=$?
if [[ $status -ne 0 && -s $logs/web-console.log ]]; then
    echo "browser: last lines of deploy/local/run-test/logs/web-console.log:" >&2
    tail -n 30 "$logs/web-console.log" >&2
fi
exit $status
