#!/usr/bin/env bash
# PostgreSQL and RabbitMQ for development and tests: on loopback, private ports, data inside
# this folder, no systemd. Runs as root (CI and the dev machines are root); PostgreSQL runs as
# the `postgres` user, RabbitMQ as root with a private HOME and Erlang cookie.
#
#   stack.sh [--profile dev|test] install|up|down|status|env|reset [postgres|rabbitmq]
#   stack.sh [--profile dev|test] psql [ARGS...]              psql as postgres on the profile's db
#   stack.sh [--profile dev|test] pg_dump [ARGS...]           pg_dump as postgres (the API suite's My Number search)
#   stack.sh [--profile dev|test] rabbitmqctl|rabbitmq-diagnostics|rabbitmq-plugins [ARGS...]
#   stack.sh [--profile dev|test] cluster up|down|reset|status|env|stop N|kill N|start N|ctl N ARGS
#       a 3-node RabbitMQ cluster (isms-c1..3@localhost) beside the single broker, for the fault
#       suite's broker-cluster scenario
#   stack.sh [--profile dev|test] pgpair up|down|reset|status|env|stop a|b [immediate]|promote a|b|rebuild a|b
#       a PostgreSQL primary (a) and a synchronous hot standby (b), for the fault suite's
#       db-failover scenario; `rebuild` makes a node the other's standby again (docs/operations.md)
#
# Profiles:   AMQP   management prometheus dist  epmd   PostgreSQL  database
#   dev       56720  56721      56722      56723 56724  55432       isms
#   test      46720  46721      46722      46723 46724  45432       isms_test
#
# The cluster listens on ISMS_STACK_CLUSTER_PORT_BASE (default: the profile's base + 1, so test
# 4673) followed by one digit: AMQP of nodes 1-3 on 0-2, Erlang distribution on 6-8, its own
# epmd on 9. The pair: a on ISMS_STACK_PGPAIR_PORT (default the PostgreSQL port + 1), b on + 1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
init_sql="$root/deploy/postgres/init.sql"

profile=${ISMS_STACK_PROFILE:-dev}
args=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --profile) profile=${2:?--profile needs dev or test}; shift 2 ;;
        --profile=*) profile=${1#--profile=}; shift ;;
        *) args+=("$1"); shift ;;
    esac
done
set -- "${args[@]+"${args[@]}"}"
command=${1:-}
[[ $# -gt 0 ]] && shift

case $profile in
    dev) base=5672; pg_port=55432; database=isms ;;
    test) base=4672; pg_port=45432; database=isms_test ;;
    *) echo "stack.sh: unknown profile '$profile' (dev or test)" >&2; exit 2 ;;
esac
# Two checkouts on one machine (a CI run beside a developer's stack) can move a profile:
# ISMS_STACK_PORT_BASE=3672 gives AMQP 36720, management 36721, ...; ISMS_STACK_PG_PORT the database.
base=${ISMS_STACK_PORT_BASE:-$base}
pg_port=${ISMS_STACK_PG_PORT:-$pg_port}
amqp_port=${base}0 mgmt_port=${base}1 prom_port=${base}2 dist_port=${base}3 epmd_port=${base}4
cluster_base=${ISMS_STACK_CLUSTER_PORT_BASE:-$((base + 1))}
pgpair_port=${ISMS_STACK_PGPAIR_PORT:-$((pg_port + 1))}

data="$here/data/$profile"
pg_data="$data/postgres/data"
pg_log="$data/postgres/postgres.log"
pg_socket="$data/postgres/socket"
# A Unix socket path is limited to 107 bytes; a deep checkout falls back to /tmp.
if (( ${#pg_socket} + 20 > 100 )); then pg_socket="/tmp/isms-stack-$profile-pg"; fi
rmq="$data/rabbitmq"

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

say() { printf 'stack(%s): %s\n' "$profile" "$*"; }
die() { printf 'stack(%s): error: %s\n' "$profile" "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- install -----------------------------------------------------------------------------

# chromium and its driver run the web console's browser suite headless (Tests/browser/run.sh),
# Debian's own so that Selenium never downloads a browser; fonts-noto-cjk renders the Japanese
# pages in its screenshots.
apt_packages=(rabbitmq-server librabbitmq-dev postgresql libpq-dev pkg-config curl
    chromium chromium-driver fonts-noto-cjk)
# kubernetes-validate checks the rendered Kubernetes overlays (deploy/k8s/check.sh); schemathesis
# fuzzes the APIs (Tests/api/run.sh); selenium drives chromium (Tests/browser/run.sh).
pip_packages=(aiosmtpd check-jsonschema pyyaml jsonschema kubernetes-validate schemathesis selenium)

deb_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }

install() {
    local missing=() p
    for p in "${apt_packages[@]}"; do deb_installed "$p" || missing+=("$p"); done
    command -v python3 >/dev/null || missing+=(python3)
    if command -v python3 >/dev/null && ! python3 -m pip --version >/dev/null 2>&1; then
        missing+=(python3-pip)
    fi
    if [[ ${#missing[@]} -gt 0 ]]; then
        say "installing ${missing[*]}"
        [[ $(id -u) -eq 0 ]] || die "installing packages needs root"
        # Debian's post-install scripts would start the servers on their default ports (and a
        # failed start leaves the package half-configured): deny service starts meanwhile.
        local policy=/usr/sbin/policy-rc.d created_policy=no
        if [[ ! -e $policy ]]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy"
            chmod 755 "$policy"
            created_policy=yes
        fi
        local status=0
        {
            DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                    "${missing[@]}" >/dev/null
        } || status=$?
        [[ $created_policy == yes ]] && rm -f "$policy"
        [[ $status -eq 0 ]] || die "apt-get failed ($status)"
        # The packages' own servers must not hold the default ports or the cookie.
        pkill_by_pidfile /var/run/rabbitmq/pid || true
    fi

    # kubectl renders the Kubernetes overlays offline (deploy/k8s/check.sh). Not every Debian
    # mirror carries the package (Debian's own kubernetes-client is 1.20, too old for the
    # overlays' Kustomize): failing to install it fails that check, not the whole set-up.
    if ! command -v kubectl >/dev/null; then
        say "installing kubectl"
        [[ $(id -u) -eq 0 ]] || die "installing packages needs root"
        {
            DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubectl >/dev/null
        } || say "warning: apt-get cannot install kubectl here; deploy/k8s/check.sh needs it (kubectl with Kustomize 5)"
    fi

    local missing_py
    read -r -a missing_py < <(python3 - <<'PY'
import importlib.util
modules = {"aiosmtpd": "aiosmtpd", "check_jsonschema": "check-jsonschema",
           "yaml": "pyyaml", "jsonschema": "jsonschema", "kubernetes_validate": "kubernetes-validate",
           "schemathesis": "schemathesis", "selenium": "selenium"}
print(" ".join(p for m, p in modules.items() if importlib.util.find_spec(m) is None))
PY
    )
    if [[ ${#missing_py[@]} -gt 0 ]]; then
        say "installing from PyPI: ${missing_py[*]}"
        local flags=(--quiet --disable-pip-version-check)
        # Debian's own python3 is "externally managed" (PEP 668); a pyenv or venv one is not.
        if [[ -e $(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED ]]; then
            flags+=(--break-system-packages)
        fi
        python3 -m pip install "${flags[@]}" "${missing_py[@]}"
        if command -v pyenv >/dev/null; then pyenv rehash || true; fi
    fi
}

pkill_by_pidfile() { [[ -s $1 ]] && kill "$(cat "$1")" 2>/dev/null; }

# --- PostgreSQL --------------------------------------------------------------------------

as_postgres() { runuser -u postgres -- "$@"; }

require_pg() {
    [[ -n $pg_bin && -x $pg_bin/pg_ctl ]] || die "PostgreSQL server not installed (run: stack.sh install)"
    id postgres >/dev/null 2>&1 || die "no postgres user (run: stack.sh install)"
}

pg_running() { [[ -f $pg_data/PG_VERSION ]] && as_postgres "$pg_bin/pg_ctl" status -D "$pg_data" >/dev/null 2>&1; }

# Every parent of the data folder must be traversable by postgres (a 0700 parent such as
# /root or a mktemp -d folder makes initdb fail with "Permission denied").
make_traversable() {
    local dir=$1
    while [[ $dir != / ]]; do
        if ! as_postgres test -x "$dir"; then
            say "granting search permission on $dir to others (postgres must traverse it)"
            chmod o+x "$dir"
        fi
        dir=$(dirname "$dir")
    done
}

psql_admin() { # psql as the postgres superuser over the private socket
    "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_socket" -p "$pg_port" -U postgres "$@"
}

pg_up() {
    require_pg
    if pg_running; then return 0; fi
    if port_open "$pg_port"; then die "port $pg_port is taken by another process"; fi
    mkdir -p "$data/postgres" "$pg_socket"
    make_traversable "$data/postgres"
    chown postgres: "$data/postgres" "$pg_socket"
    if [[ ! -f $pg_data/PG_VERSION ]]; then
        rm -rf "$pg_data"
        as_postgres "$pg_bin/initdb" -D "$pg_data" --username=postgres \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
        cat >>"$pg_data/postgresql.conf" <<EOF

# --- deploy/local/stack.sh ($profile) ---
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_socket'
max_connections = 200
# An acknowledged message must never vanish: keep durability on.
fsync = on
synchronous_commit = on
EOF
    fi
    as_postgres "$pg_bin/pg_ctl" start -D "$pg_data" -l "$pg_log" -w -t 60 -s \
        || { tail -n 20 "$pg_log" >&2; die "PostgreSQL did not start (log: $pg_log)"; }
}

pg_bootstrap() {
    # The superuser's password makes TCP connections (scram) possible for tests and tools.
    psql_admin -d postgres -c "ALTER ROLE postgres PASSWORD 'postgres'"
    psql_admin -d postgres <<EOF
SELECT format('CREATE DATABASE %I ENCODING ''UTF8'' TEMPLATE template0', '$database')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database') \gexec
EOF
    psql_admin -d "$database" -f "$init_sql"
}

pg_down() { # [hard]: immediate shutdown (the data is about to be deleted)
    [[ -n $pg_bin && -f $pg_data/PG_VERSION ]] || return 0
    if pg_running; then
        local mode=fast
        if [[ ${1:-} == hard ]]; then mode=immediate; fi
        as_postgres "$pg_bin/pg_ctl" stop -D "$pg_data" -m "$mode" -w -t 60 -s
    fi
}

# --- RabbitMQ ----------------------------------------------------------------------------

rmq_env() {
    # Never the /usr/sbin wrappers: they switch to the rabbitmq user, whose cookie differs.
    export PATH="/usr/lib/rabbitmq/bin:$PATH"
    export HOME="$rmq/home"
    export RABBITMQ_NODENAME=rabbit@localhost
    export RABBITMQ_CONF_ENV_FILE="$rmq/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$rmq/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$rmq/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$rmq/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$rmq/mnesia"
    export RABBITMQ_LOG_BASE="$rmq/log"
    export RABBITMQ_PID_FILE="$rmq/rabbit.pid"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT=$amqp_port
    export RABBITMQ_DIST_PORT=$dist_port
    export ERL_EPMD_ADDRESS=127.0.0.1
    export ERL_EPMD_PORT=$epmd_port
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

require_rmq() {
    [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || die "RabbitMQ not installed (run: stack.sh install)"
}

rmq_pid() { [[ -s $rmq/rabbit.pid ]] && cat "$rmq/rabbit.pid"; }
rmq_running() {
    local pid
    pid=$(rmq_pid) || return 1
    kill -0 "$pid" 2>/dev/null
}

rmq_configure() {
    mkdir -p "$rmq/home" "$rmq/mnesia" "$rmq/log"
    if [[ ! -s $rmq/home/.erlang.cookie ]]; then
        (umask 077; head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$rmq/home/.erlang.cookie")
        chmod 400 "$rmq/home/.erlang.cookie"
    fi
    : >"$rmq/rabbitmq-env.conf"
    echo '[].' >"$rmq/advanced.config"
    cat >"$rmq/rabbitmq.conf" <<EOF
# written by deploy/local/stack.sh ($profile)
listeners.tcp.1 = 127.0.0.1:$amqp_port
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt_port
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $prom_port
log.console = false
log.file.level = info
EOF
    if [[ ! -s $rmq/enabled_plugins ]]; then
        rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_prometheus >/dev/null
    fi
}

rmq_up() {
    require_rmq
    rmq_env
    if ! rmq_running; then
        for p in "$amqp_port" "$mgmt_port" "$prom_port" "$dist_port"; do
            if port_open "$p"; then die "port $p is taken by another process"; fi
        done
        rmq_configure
        rm -f "$rmq/rabbit.pid"
        # setsid: the broker must outlive this script and its caller's process group.
        setsid rabbitmq-server >>"$rmq/log/server.out" 2>&1 </dev/null &
        local deadline=$((SECONDS + 90))
        # An await_startup right after the start fails: ping until the node answers first.
        until rabbitmq-diagnostics -q ping >/dev/null 2>&1; do
            if (( SECONDS > deadline )); then
                tail -n 30 "$rmq/log/server.out" >&2
                die "RabbitMQ did not answer within 90 s (logs: $rmq/log)"
            fi
            sleep 0.5
        done
        rabbitmqctl -q await_startup --timeout 60 >/dev/null
    fi
    if [[ ! -f $rmq/users.done ]]; then
        if ! rabbitmqctl -q list_users 2>/dev/null | grep -q '^isms\b'; then
            rabbitmqctl -q add_user isms isms >/dev/null
        fi
        rabbitmqctl -q set_user_tags isms administrator >/dev/null
        rabbitmqctl -q set_permissions -p / isms '.*' '.*' '.*' >/dev/null
        touch "$rmq/users.done"
    fi
}

rmq_down() { # [hard]: kill at once (the data is about to be deleted)
    [[ -d $rmq ]] || return 0
    require_rmq
    rmq_env
    if rmq_running; then
        local pid
        pid=$(rmq_pid)
        if [[ ${1:-} == hard ]]; then
            kill -9 "$pid" 2>/dev/null || true
        else
            rabbitmqctl -q shutdown --timeout 60 >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        fi
        local deadline=$((SECONDS + 60))
        while kill -0 "$pid" 2>/dev/null; do
            if (( SECONDS > deadline )); then kill -9 "$pid" 2>/dev/null || true; break; fi
            sleep 0.2
        done
    fi
    rm -f "$rmq/rabbit.pid"
    # epmd outlives the broker.
    if port_open "$epmd_port"; then epmd -port "$epmd_port" -kill >/dev/null 2>&1 || true; fi
}

# --- RabbitMQ cluster (fault suite) -----------------------------------------------------
#
# Three nodes on loopback with their own names, ports, data and epmd, sharing one Erlang cookie,
# joined into one cluster: quorum queues get a replica on each node and survive the loss of one.
# No plugins: the suite talks to the nodes through rabbitmqctl.

cl="$data/cluster"
cl_node() { echo "isms-c$1@localhost"; }
cl_amqp_port() { echo "$cluster_base$(($1 - 1))"; }
cl_epmd_port="${cluster_base}9"

cl_env() { # N: the environment of node N (and of a CLI talking to it)
    local n=$1
    export PATH="/usr/lib/rabbitmq/bin:$PATH"
    export HOME="$cl/home"
    export RABBITMQ_NODENAME
    RABBITMQ_NODENAME=$(cl_node "$n")
    export RABBITMQ_CONF_ENV_FILE="$cl/rabbitmq-env.conf"
    export RABBITMQ_CONFIG_FILE="$cl/n$n/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$cl/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$cl/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$cl/n$n/mnesia"
    export RABBITMQ_LOG_BASE="$cl/n$n/log"
    export RABBITMQ_PID_FILE="$cl/n$n/rabbit.pid"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT
    RABBITMQ_NODE_PORT=$(cl_amqp_port "$n")
    export RABBITMQ_DIST_PORT="$cluster_base$((n + 5))"
    export ERL_EPMD_ADDRESS=127.0.0.1
    export ERL_EPMD_PORT=$cl_epmd_port
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

cl_pid() { [[ -s $cl/n$1/rabbit.pid ]] && cat "$cl/n$1/rabbit.pid"; }
cl_running() { local pid; pid=$(cl_pid "$1") && kill -0 "$pid" 2>/dev/null; }
cl_ctl() { (cl_env "$1"; shift; rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"); }
cl_queues() { (cl_env "$1"; shift; rabbitmq-queues -n "$RABBITMQ_NODENAME" "$@"); }

cl_configure() {
    mkdir -p "$cl/home"
    if [[ ! -s $cl/home/.erlang.cookie ]]; then
        (umask 077; head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$cl/home/.erlang.cookie")
        chmod 400 "$cl/home/.erlang.cookie"
    fi
    : >"$cl/rabbitmq-env.conf"
    echo '[].' >"$cl/advanced.config"
    echo '[].' >"$cl/enabled_plugins"
    local n
    for n in 1 2 3; do
        mkdir -p "$cl/n$n/mnesia" "$cl/n$n/log"
        cat >"$cl/n$n/rabbitmq.conf" <<EOF
# written by deploy/local/stack.sh ($profile cluster, node $n)
listeners.tcp.1 = 127.0.0.1:$(cl_amqp_port "$n")
log.console = false
log.file.level = info
EOF
    done
}

cl_start() { # N: start node N in the background (returns at once)
    local n=$1 p
    cl_running "$n" && return 0
    for p in "$(cl_amqp_port "$n")" "$cluster_base$((n + 5))"; do
        if port_open "$p"; then die "port $p is taken by another process"; fi
    done
    rm -f "$cl/n$n/rabbit.pid"
    # setsid: the node must outlive this script and its caller's process group.
    (cl_env "$n"; setsid rabbitmq-server >>"$cl/n$n/log/server.out" 2>&1 </dev/null & echo $! >"$cl/n$n/launcher.pid")
}

cl_await() { # N: until node N's broker runs
    local n=$1 deadline=$((SECONDS + 120)) tries=1
    until cl_ctl "$n" -q ping >/dev/null 2>&1; do
        # The cluster's ports lie in Linux's ephemeral range (32768-60999), so a client socket can
        # hold one for a moment and the node dies at boot with eaddrinuse: start it again.
        if ! kill -0 "$(cat "$cl/n$n/launcher.pid" 2>/dev/null)" 2>/dev/null && (( tries < 3 )); then
            say "cluster node $n exited while starting ($(grep -o 'eaddrinuse\|could_not_start_listener[^,]*' "$cl/n$n/log/server.out" | tail -n 1)); starting it again"
            tries=$((tries + 1))
            sleep 2
            cl_start "$n"
        fi
        if (( SECONDS > deadline )); then
            tail -n 30 "$cl/n$n/log/server.out" >&2
            die "cluster node $n did not answer within 120 s (logs: $cl/n$n/log)"
        fi
        sleep 0.5
    done
    cl_ctl "$n" -q await_startup --timeout 120 >/dev/null
}

cl_up() {
    require_rmq
    cl_configure
    if [[ ! -f $cl/formed ]]; then
        # First start: node 1 alone, then 2 and 3 join it.
        cl_start 1
        cl_await 1
        local n
        for n in 2 3; do
            cl_start "$n"
            cl_await "$n"
            cl_ctl "$n" -q stop_app >/dev/null
            cl_ctl "$n" -q join_cluster "$(cl_node 1)" >/dev/null
            cl_ctl "$n" -q start_app >/dev/null
        done
        if ! cl_ctl 1 -q list_users 2>/dev/null | grep -q '^isms\b'; then
            cl_ctl 1 -q add_user isms isms >/dev/null
        fi
        cl_ctl 1 -q set_user_tags isms administrator >/dev/null
        cl_ctl 1 -q set_permissions -p / isms '.*' '.*' '.*' >/dev/null
        touch "$cl/formed"
    else
        # A clustered node waits for its peers at boot: start all three, then wait for each.
        cl_start 1; cl_start 2; cl_start 3
        cl_await 1; cl_await 2; cl_await 3
    fi
}

cl_stop() { # N [kill]: a graceful shutdown, or SIGKILL
    local n=$1 pid
    cl_running "$n" || return 0
    pid=$(cl_pid "$n")
    if [[ ${2:-} == kill ]]; then
        kill -9 "$pid" 2>/dev/null || true
    else
        cl_ctl "$n" -q shutdown --timeout 60 >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    fi
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
        if (( SECONDS > deadline )); then kill -9 "$pid" 2>/dev/null || true; break; fi
        sleep 0.2
    done
    rm -f "$cl/n$n/rabbit.pid"
}

cl_down() { # [kill]
    [[ -d $cl ]] || return 0
    require_rmq
    cl_stop 3 "${1:-}"; cl_stop 2 "${1:-}"; cl_stop 1 "${1:-}"
    # epmd outlives the nodes.
    if port_open "$cl_epmd_port"; then (cl_env 1; epmd -port "$cl_epmd_port" -kill >/dev/null 2>&1) || true; fi
}

cluster_command() {
    local sub=${1:-status}
    [[ $# -gt 0 ]] && shift
    case $sub in
        up) local start; start=$(now); cl_up
            say "cluster up in $(elapsed "$start") s (AMQP 127.0.0.1:$(cl_amqp_port 1), :$(cl_amqp_port 2), :$(cl_amqp_port 3))" ;;
        down) cl_down; say "cluster down" ;;
        reset) cl_down kill; rm -rf "$cl"; say "cluster reset" ;;
        stop) cl_stop "${1:?cluster stop N}" ;;
        kill) cl_stop "${1:?cluster kill N}" kill ;;
        start) cl_start "${1:?cluster start N}"; cl_await "$1" ;;
        ctl) local n=${1:?cluster ctl N ARGS}; shift; cl_ctl "$n" "$@" ;;
        queues) local n=${1:?cluster queues N ARGS}; shift; cl_queues "$n" "$@" ;;
        status)
            local n code=0
            for n in 1 2 3; do
                if cl_running "$n"; then say "cluster node $n ($(cl_node "$n"))  running  amqp 127.0.0.1:$(cl_amqp_port "$n")  pid $(cl_pid "$n")"
                else say "cluster node $n ($(cl_node "$n"))  stopped"; code=3; fi
            done
            return $code ;;
        env)
            local n
            for n in 1 2 3; do echo "export ISMS_CLUSTER_AMQP_URL_$n='amqp://isms:isms@127.0.0.1:$(cl_amqp_port "$n")/%2F'"; done ;;
        *) die "cluster: up|down|reset|status|env|stop N|kill N|start N|ctl N ARGS|queues N ARGS" ;;
    esac
}

# --- PostgreSQL pair (fault suite) -------------------------------------------------------
#
# Two servers, a and b, on loopback. At creation a is the primary and b a hot standby made by
# pg_basebackup, streaming through a replication slot and named in a's synchronous_standby_names:
# a commit returns only once b has it, so no confirmed write is lost when a dies. A promoted b
# runs WITHOUT a synchronous standby until `rebuild a` makes a its standby again; otherwise
# every write would wait for a standby that is gone (docs/architecture.md).

pp="$data/pgpair"
pp_port() { if [[ $1 == a ]]; then echo "$pgpair_port"; else echo $((pgpair_port + 1)); fi; }
pp_other() { if [[ $1 == a ]]; then echo b; else echo a; fi; }
pp_data() { echo "$pp/$1/data"; }
pp_socket() {
    local s="$pp/$1/socket"
    if (( ${#s} + 20 > 100 )); then s="/tmp/isms-stack-$profile-pgpair-$1"; fi
    echo "$s"
}
pp_running() { [[ -f $(pp_data "$1")/PG_VERSION ]] && as_postgres "$pg_bin/pg_ctl" status -D "$(pp_data "$1")" >/dev/null 2>&1; }
pp_psql() { # NODE [ARGS...]: psql as postgres over the node's socket
    local node=$1
    shift
    "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pp_socket "$node")" -p "$(pp_port "$node")" -U postgres -d postgres "$@"
}

pp_settings() { # NODE: what both roles need; the port and socket are the node's own
    cat <<EOF

# --- deploy/local/stack.sh ($profile pgpair, node $1) ---
listen_addresses = '127.0.0.1'
port = $(pp_port "$1")
unix_socket_directories = '$(pp_socket "$1")'
max_connections = 200
fsync = on
synchronous_commit = on
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
# pg_rewind needs it to bring an old primary back as a standby.
wal_log_hints = on
EOF
}

pp_start() { # NODE
    local node=$1
    pp_running "$node" && return 0
    if port_open "$(pp_port "$node")"; then die "port $(pp_port "$node") is taken by another process"; fi
    mkdir -p "$(pp_socket "$node")"
    chown postgres: "$(pp_socket "$node")"
    as_postgres "$pg_bin/pg_ctl" start -D "$(pp_data "$node")" -l "$pp/$node/postgres.log" -w -t 60 -s \
        || { tail -n 20 "$pp/$node/postgres.log" >&2; die "PostgreSQL $node did not start (log: $pp/$node/postgres.log)"; }
}

pp_stop() { # NODE [fast|immediate]
    local node=$1
    [[ -f $(pp_data "$node")/PG_VERSION ]] || return 0
    pp_running "$node" || return 0
    as_postgres "$pg_bin/pg_ctl" stop -D "$(pp_data "$node")" -m "${2:-fast}" -w -t 60 -s
}

# Makes NODE a synchronous standby of the other node, which must be a running primary: a new
# base backup (NODE's old data goes), a slot on the primary, NODE named synchronous there.
pp_make_standby() { # NODE
    local node=$1 primary
    primary=$(pp_other "$node")
    pp_stop "$node" immediate
    rm -rf "$(pp_data "$node")"
    pp_psql "$primary" -c "SELECT pg_drop_replication_slot('$node') FROM pg_replication_slots WHERE slot_name = '$node'" >/dev/null
    # --checkpoint=fast: a spread checkpoint on a busy primary would hold the copy for minutes.
    as_postgres env PGPASSWORD=postgres "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$(pp_port "$primary")" -U postgres \
        -D "$(pp_data "$node")" -X stream -C -S "$node" --checkpoint=fast
    # The copy carries the primary's settings; the node's own, appended last, win.
    {
        pp_settings "$node"
        echo "primary_conninfo = 'host=127.0.0.1 port=$(pp_port "$primary") user=postgres password=postgres application_name=$node'"
        echo "primary_slot_name = '$node'"
        echo "synchronous_standby_names = ''"
    } | as_postgres tee -a "$(pp_data "$node")/postgresql.auto.conf" >/dev/null
    as_postgres touch "$(pp_data "$node")/standby.signal"
    pp_start "$node"
    pp_psql "$primary" -c "ALTER SYSTEM SET synchronous_standby_names = '$node'" -c "SELECT pg_reload_conf()" >/dev/null
    local deadline=$((SECONDS + 60))
    until [[ $(pp_psql "$primary" -At -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$node'") == sync ]]; do
        (( SECONDS > deadline )) && die "$node does not stream synchronously from $primary"
        sleep 0.5
    done
}

pp_up() {
    require_pg
    if [[ ! -f $(pp_data a)/PG_VERSION ]]; then
        rm -rf "$pp"
        mkdir -p "$pp/a" "$pp/b"
        make_traversable "$pp"
        chown postgres: "$pp" "$pp/a" "$pp/b"
        as_postgres "$pg_bin/initdb" -D "$(pp_data a)" --username=postgres \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
        pp_settings a | as_postgres tee -a "$(pp_data a)/postgresql.conf" >/dev/null
        pp_start a
        pp_psql a -c "ALTER ROLE postgres PASSWORD 'postgres'"
        pp_make_standby b
    else
        local node
        for node in a b; do if [[ -f $(pp_data "$node")/PG_VERSION ]]; then pp_start "$node"; fi; done
    fi
}

pp_role() { # NODE -> primary | standby | stopped
    if ! pp_running "$1"; then echo stopped; return; fi
    if [[ $(pp_psql "$1" -At -c "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]]; then echo primary; else echo standby; fi
}

pgpair_command() {
    local sub=${1:-status}
    [[ $# -gt 0 ]] && shift
    case $sub in
        up) local start; start=$(now); pp_up
            say "pgpair up in $(elapsed "$start") s (a :$(pp_port a) $(pp_role a), b :$(pp_port b) $(pp_role b))" ;;
        down) pp_stop b; pp_stop a; say "pgpair down" ;;
        reset) pp_stop b immediate; pp_stop a immediate; rm -rf "$pp"; say "pgpair reset" ;;
        stop) pp_stop "${1:?pgpair stop a|b}" "${2:-fast}" ;;
        start) pp_start "${1:?pgpair start a|b}" ;;
        promote) as_postgres "$pg_bin/pg_ctl" promote -D "$(pp_data "${1:?pgpair promote a|b}")" -w -t 60 -s ;;
        rebuild) pp_make_standby "${1:?pgpair rebuild a|b}"; say "$1 streams synchronously from $(pp_other "$1")" ;;
        role) pp_role "${1:?pgpair role a|b}" ;;
        psql) local node=${1:?pgpair psql a|b}; shift; pp_psql "$node" "$@" ;;
        status)
            local node
            for node in a b; do say "pgpair $node  127.0.0.1:$(pp_port "$node")  $(pp_role "$node")"; done ;;
        env)
            echo "export ISMS_PGPAIR_URL='postgresql://postgres:postgres@127.0.0.1:$(pp_port a),127.0.0.1:$(pp_port b)/postgres?target_session_attrs=read-write'" ;;
        *) die "pgpair: up|down|reset|status|env|stop a|b [immediate]|start a|b|promote a|b|rebuild a|b|role a|b|psql a|b ARGS" ;;
    esac
}

# --- commands ----------------------------------------------------------------------------

component=${1:-all}
case $component in all | postgres | rabbitmq) ;; *) component=all ;; esac
want() { [[ $component == all || $component == "$1" ]]; }

case $command in
    cluster) cluster_command "$@"; exit ;;
    pgpair) pgpair_command "$@"; exit ;;
esac

case $command in
    install)
        install
        ;;
    up)
        start=$(now)
        want postgres && pg_up
        want rabbitmq && rmq_up
        want postgres && pg_bootstrap
        say "up in $(elapsed "$start") s (AMQP 127.0.0.1:$amqp_port, management :$mgmt_port, PostgreSQL :$pg_port/$database)"
        ;;
    down)
        start=$(now)
        want rabbitmq && rmq_down
        want postgres && pg_down
        say "down in $(elapsed "$start") s"
        ;;
    reset)
        want rabbitmq && rmq_down hard
        want postgres && pg_down hard
        if [[ $component == all ]]; then rm -rf "$data"
        elif [[ $component == postgres ]]; then rm -rf "$data/postgres"
        else rm -rf "$rmq"; fi
        say "reset ($component)"
        ;;
    status)
        code=0
        if [[ -n $pg_bin ]] && pg_running; then
            say "postgres  running  127.0.0.1:$pg_port  database $database  data $pg_data"
        else
            say "postgres  stopped"; code=3
        fi
        if rmq_running && port_open "$amqp_port"; then
            say "rabbitmq  running  amqp 127.0.0.1:$amqp_port  management :$mgmt_port  prometheus :$prom_port  pid $(rmq_pid)"
        else
            say "rabbitmq  stopped"; code=3
        fi
        exit $code
        ;;
    env)
        amqp="amqp://isms:isms@127.0.0.1:$amqp_port/%2F"
        echo "export ISMS_AMQP_URL='$amqp'"
        echo "export ISMS_DATABASE_ADMIN_URL='postgresql://isms_admin:isms_admin@127.0.0.1:$pg_port/$database'"
        echo "export ISMS_MANAGEMENT_URL='http://isms:isms@127.0.0.1:$mgmt_port'"
        if [[ $profile == test ]]; then
            echo "export ISMS_TEST_AMQP_URL='$amqp'"
            echo "export ISMS_TEST_DATABASE_URL='postgresql://postgres:postgres@127.0.0.1:$pg_port/$database'"
            echo "export ISMS_TEST_MANAGEMENT_URL='http://isms:isms@127.0.0.1:$mgmt_port'"
        fi
        ;;
    psql)
        require_pg
        exec "$pg_bin/psql" -X -h "$pg_socket" -p "$pg_port" -U postgres -d "$database" "$@"
        ;;
    pg_dump)
        require_pg
        exec "$pg_bin/pg_dump" -h "$pg_socket" -p "$pg_port" -U postgres -d "$database" "$@"
        ;;
    rabbitmqctl | rabbitmq-diagnostics | rabbitmq-plugins | rabbitmq-queues)
        require_rmq
        rmq_env
        exec "/usr/lib/rabbitmq/bin/$command" "$@"
        ;;
    *)
        sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
