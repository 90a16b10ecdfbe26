# The whole system on one Debian machine, without systemd or Docker.
#
#   make run          install what is missing, start PostgreSQL + RabbitMQ (dev profile), build,
#                     migrate, load the organisation, start the six services (the five and the
#                     web console) in the background, print console enrolment links
#   make down         stop the services (SIGTERM), then the dev stack
#   make test         isolated test stack (test profile), build and run every test, the API and
#                     browser suites, check deploy/
#   make test-unit    the unit tests alone, without any server
#   make status       the services, the dev stack, and `isms status`
#   make logs         follow the services' logs
#   make build        swift build (debug)
#   make clean        swift package clean, forget run state
#   make distclean    also delete both stacks' data and .build
#   make test-faults  fault-injection suite;  make bench  throughput benchmark

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Each recipe runs as one shell script (variables, traps and `cd` carry from line to line).
.ONESHELL:

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
export PATH := $(if $(wildcard /opt/swift/usr/bin),/opt/swift/usr/bin:)$(PATH)

STACK := $(ROOT)/deploy/local/stack.sh
SERVICES := $(ROOT)/deploy/local/services.sh
ISMS := $(ROOT)/.build/debug/isms
WARD := $(ROOT)/deploy/config/ward.yaml

SWIFT_BUILD_FLAGS ?=
SWIFT_TEST_FLAGS ?=

# Compose against the Compose Specification and Package.swift; contract fixtures against their
# JSON Schemas. All offline.
define CHECK_DEPLOY
python3 -m check_jsonschema --builtin-schema vendor.compose-spec docker-compose.yml && \
deploy/check-compose.sh && \
python3 deploy/check-fixtures.py && \
deploy/k8s/check.sh
endef

.PHONY: help build run down test test-unit check-deploy test-faults bench status logs clean distclean

help:
	@sed -n '3,16p' "$(ROOT)/Makefile" | sed 's/^# \{0,1\}//'

build:
	@cd "$(ROOT)"
	swift build $(SWIFT_BUILD_FLAGS)

run:
	@cd "$(ROOT)"
	$(STACK) install
	$(STACK) --profile dev up
	swift build $(SWIFT_BUILD_FLAGS)
	eval "$$($(STACK) --profile dev env)"
	export ISMS_DATABASE_URL="$$ISMS_DATABASE_ADMIN_URL" ISMS_LOG_FORMAT=text
	"$(ISMS)" migrate
	"$(ISMS)" directory import "$(WARD)"
	"$(ISMS)" assets import "$(ROOT)/deploy/config/assets.yaml"
	"$(ISMS)" producer grant --amqp-user isms --ward --note "local operator (make run)"
	$(SERVICES) start
	cat "$(ROOT)/deploy/local/welcome.txt"
	# One-use enrolment links (24 h) for a person of each kind of home page: a CSIRT member
	# (queue, TOTP), a section's staff (reports), the CISO (decisions, TOTP).
	echo "Enrol in the console (each link works once, for 24 hours):"
	for person in csirt-lead family-registry-staff deputy-mayor; do
	    link=$$("$(ISMS)" user invite --person "$$person")
	    printf '  %-22s %s\n' "$$person" "$$link"
	done

down:
	@$(SERVICES) stop
	$(STACK) --profile dev down

# Builds first (no server needed), then a fresh test stack that is stopped however the run
# ends. Tests run in one process (the servers are shared), then the API suite runs the built
# services against it, then the browser suite drives the web console in headless chromium;
# the exit code is the first failure's (tests, API suite, browser suite, deploy checks).
test:
	@cd "$(ROOT)"
	$(STACK) install
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	$(STACK) --profile test reset
	trap '$(STACK) --profile test down' EXIT
	$(STACK) --profile test up
	eval "$$($(STACK) --profile test env)"
	status=0
	ISMS_TEST_STACK_CONTROL=1 swift test --skip-build --no-parallel $(SWIFT_TEST_FLAGS) || status=$$?
	# The API suite: the services as built, fuzzed against docs/openapi.yaml (Tests/api/run.sh).
	Tests/api/run.sh || { rc=$$?; [[ $$status -ne 0 ]] || status=$$rc; }
	# The browser suite: the console and the services as built, one scenario (Tests/browser/run.sh).
	Tests/browser/run.sh || { rc=$$?; [[ $$status -ne 0 ]] || status=$$rc; }
	( $(CHECK_DEPLOY) ) || { rc=$$?; [[ $$status -ne 0 ]] || status=$$rc; }
	exit $$status

# The unit tests alone, with no server: integration suites (tagged `integration`) are skipped.
test-unit:
	@cd "$(ROOT)"
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	ISMS_TEST_UNIT_ONLY=1 swift test --skip-build --no-parallel $(SWIFT_TEST_FLAGS)

check-deploy:
	@cd "$(ROOT)"
	$(CHECK_DEPLOY)

# The suite drives the release executables (what runs in production), built here first; it
# restarts the test stack's servers, so it is a run of its own (bench/README.md). `storm` is a
# separate scenario: `ISMS_FAULTS_SCENARIOS=storm make test-faults`.
test-faults:
	@cd "$(ROOT)"
	$(STACK) install
	for product in incident-intake csirt-triage notifier isms isms-bench; do swift build -c release --product $$product $(SWIFT_BUILD_FLAGS); done
	ISMS_FAULTS_BIN="$$(swift build -c release --show-bin-path)" exec Tests/faults/run.sh $${ISMS_FAULTS_SCENARIOS:-}

bench:
	@cd "$(ROOT)"
	if ! grep -q '"isms-bench"' Package.swift; then echo "bench: not yet available (isms-bench)"; exit 1; fi
	$(STACK) install
	$(STACK) --profile test up
	eval "$$($(STACK) --profile test env)"
	# The services run as their own release executables (their memory is measured per process).
	for product in incident-intake csirt-triage notifier audit-scheduler web-console isms-bench; do swift build -c release --product $$product $(SWIFT_BUILD_FLAGS); done
	"$$(swift build -c release --show-bin-path)/isms-bench"

status:
	@$(SERVICES) status || true
	$(STACK) --profile dev status || true
	eval "$$($(STACK) --profile dev env)"
	export ISMS_DATABASE_URL="$$ISMS_DATABASE_ADMIN_URL" ISMS_LOG_FORMAT=text
	"$(ISMS)" status

logs:
	@tail -n 50 -F "$(ROOT)"/deploy/local/run/logs/*.log

clean:
	@cd "$(ROOT)"
	rm -rf deploy/local/run
	swift package clean

distclean:
	@cd "$(ROOT)"
	$(SERVICES) stop
	$(STACK) --profile dev reset
	$(STACK) --profile test reset
	rm -rf deploy/local/run .build
