#!/usr/bin/env bash
# The project's test command (README "Two commands"; docs/contributing.md "The test
# command"). Builds everything, starts a throwaway RabbitMQ and a throwaway PostgreSQL
# on loopback for the tests that need them, runs every test project, stops both, and
# ends with one line: "N passed, N failed".
# FED_FAULTS_PROFILE=long bash tests/run.sh runs the fault suite's long profile instead
# of its short one (six nodes, faults held for minutes; about an hour).
set -uo pipefail
cd "$(dirname "$0")/.."

# DialTraceTests watches from outside what a node dials, with Debian's strace.
if ! command -v strace >/dev/null; then
  echo "Installing Debian's strace for the outbound-connection test..."
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq strace >/dev/null \
    || echo "Could not install strace; DialTraceTests will fail."
fi
# ComposeFileTests checks compose/docker-compose.yml with Debian's docker-compose (no engine
# needed for `config`); HAProxyFrontTests runs the shipped front, compose/haproxy.cfg, with
# Debian's haproxy on loopback (the test starts and stops its own; no service is enabled).
for tool in docker-compose:docker-compose haproxy:haproxy; do
  if ! command -v "${tool%%:*}" >/dev/null && [ ! -x "/usr/sbin/${tool%%:*}" ]; then
    echo "Installing Debian's ${tool##*:} for the tests that use it..."
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${tool##*:}" >/dev/null \
      || echo "Could not install ${tool##*:}; the tests that need it will fail."
  fi
done
# In the long profile it runs past MassTransit's five-minute usage timer.
if [ "${FED_FAULTS_PROFILE:-}" = long ]; then
  export FED_DIAL_TRACE_SECONDS="${FED_DIAL_TRACE_SECONDS:-330}"
fi

# The dashboard's browser tests drive Debian's Chromium (no browser download works here).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the dashboard tests..."
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null \
    || echo "Could not install chromium; the dashboard tests will fail."
fi

# The fediverse interop test (FediverseInteropTests) runs Fedify, pinned in
# tests/fediverse-interop/package-lock.json, on the machine's Node.js.
if [ ! -d tests/fediverse-interop/node_modules/@fedify/fedify ]; then
  echo "Installing Fedify for the fediverse interop test (tests/fediverse-interop)..."
  (cd tests/fediverse-interop && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || echo "Could not install Fedify from npm; the fediverse interop test will fail."
fi
# The load tool's smoke run drives Fedify's side-by-side fan-out (bench/fedify-fanout) at a tiny size.
if [ ! -d bench/fedify-fanout/node_modules/@fedify/fedify ]; then
  echo "Installing Fedify for the load tool's side-by-side fan-out (bench/fedify-fanout)..."
  (cd bench/fedify-fanout && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || echo "Could not install Fedify from npm; the load tool's smoke run will say Fedify was skipped."
fi

results=$(mktemp -d)
rabbit=""       # the throwaway broker's folder: data, logs, Erlang cookie, rabbitmqctl wrapper
rabbit_pid=""
pg=""           # the throwaway PostgreSQL cluster's folder (data, socket, log)
pg_bin=""

stop_rabbitmq() {
  [ -n "$rabbit" ] || return 0
  if [ -n "$rabbit_pid" ] && kill -0 "$rabbit_pid" 2>/dev/null; then
    # `stop PIDFILE` returns once the Erlang VM has exited.
    timeout 60 "$rabbit/rabbitmqctl" -q stop "$rabbit/rabbit.pid" >/dev/null 2>&1 || kill -9 "$rabbit_pid" 2>/dev/null
    wait "$rabbit_pid" 2>/dev/null
  fi
  # The broker started its own epmd on our port; it outlives the broker unless told to go.
  (. "$rabbit/env" && epmd -kill) >/dev/null 2>&1
  rm -rf "$rabbit"
  rabbit=""
}

# Node processes the tests started and did not get to stop (a crashed test host, say).
stop_leftover_nodes() {
  local f pid
  for f in "$results"/pids/*; do
    [ -e "$f" ] || continue
    pid=$(basename "$f")
    # Only if that pid is still one of our nodes (its command line names its data folder).
    if [ -r "/proc/$pid/cmdline" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$(cat "$f")"; then
      kill -9 "$pid" 2>/dev/null
    fi
  done
}

stop_postgres() {
  [ -n "$pg" ] || return 0
  if [ -f "$pg/data/postmaster.pid" ]; then
    as_pg_user "$pg_bin/pg_ctl" -D "$pg/data" -m immediate -w -t 60 stop >/dev/null 2>&1
  fi
  rm -rf "$pg"
  pg=""
}

cleanup() {
  stop_leftover_nodes
  stop_rabbitmq
  stop_postgres
  rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nothing listens on at 127.0.0.1 and not in $taken.
taken=""
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    case " $taken " in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      taken="$taken $p"
      echo "$p"
      return
    fi
  done
}

# Starts RabbitMQ in the background with its own data folder, node name, ports, epmd
# and Erlang cookie (HOME), so it clashes with nothing else on the machine. Installs it
# from the distribution's packages first if it is missing.
start_rabbitmq() {
  local bin=/usr/lib/rabbitmq/bin   # Debian's real scripts; /usr/sbin's wrappers switch user
  if [ ! -x "$bin/rabbitmq-server" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      echo "Installing rabbitmq-server (the tests need a real broker)…"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    fi
    if [ ! -x "$bin/rabbitmq-server" ]; then
      echo "rabbitmq-server is not installed and could not be installed (apt-get install rabbitmq-server as root); the RabbitMQ tests will fail."
      return 1
    fi
  fi
  rabbit=$(mktemp -d /tmp/fed-rabbitmq.XXXXXX)
  local amqp dist epmd
  amqp=$(free_port); dist=$(free_port); epmd=$(free_port)
  cat >"$rabbit/env" <<EOF
export HOME="$rabbit"
export RABBITMQ_NODENAME="fedtest-$$@localhost"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$amqp
export RABBITMQ_DIST_PORT=$dist
export ERL_EPMD_PORT=$epmd
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_MNESIA_BASE="$rabbit/mnesia"
export RABBITMQ_LOG_BASE="$rabbit/log"
export RABBITMQ_PID_FILE="$rabbit/rabbit.pid"
export RABBITMQ_CONF_ENV_FILE="$rabbit/rabbitmq-env.conf"
export RABBITMQ_CONFIG_FILE="$rabbit/rabbitmq"
export RABBITMQ_ADVANCED_CONFIG_FILE="$rabbit/advanced.config"
export RABBITMQ_ENABLED_PLUGINS_FILE="$rabbit/enabled_plugins"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
  touch "$rabbit/rabbitmq-env.conf"
  echo "[]." >"$rabbit/enabled_plugins"
  # Tests run rabbitmqctl through this (virtual hosts, stop_app, start_app).
  cat >"$rabbit/rabbitmqctl" <<EOF
#!/bin/sh
. "$rabbit/env"
exec "$bin/rabbitmqctl" "\$@"
EOF
  chmod +x "$rabbit/rabbitmqctl"
  (. "$rabbit/env" && exec "$bin/rabbitmq-server") >"$rabbit/server.out" 2>&1 &
  rabbit_pid=$!
  rabbit_amqp=$amqp
}

wait_rabbitmq() {
  [ -n "$rabbit" ] || return 1
  if ! timeout 90 "$rabbit/rabbitmqctl" -q wait "$rabbit/rabbit.pid" --timeout 80 >/dev/null 2>&1 \
    || ! (exec 3<>"/dev/tcp/127.0.0.1/$rabbit_amqp") 2>/dev/null; then
    echo "The test RabbitMQ did not start; its output:"
    tail -n 30 "$rabbit/server.out"
    return 1
  fi
  export FED_TEST_RABBITMQ_PORT=$rabbit_amqp
  export FED_TEST_RABBITMQCTL="$rabbit/rabbitmqctl"
  echo "Test RabbitMQ is up on 127.0.0.1:$rabbit_amqp."
}

# initdb and the server refuse to run as root: as root, run them as the distribution's
# postgres user (or a throwaway one).
as_pg_user() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  else
    runuser -u "$pg_user" -- "$@"
  fi
}

# Initialises a throwaway PostgreSQL cluster in a temporary folder and starts it on a
# free loopback port (no Unix socket in a shared folder, trust auth for its own user
# only on loopback). Exports FED_TEST_POSTGRES, a connection string to its maintenance
# database; the storage tests create a database of their own in it.
start_postgres() {
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    pg_bin=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  fi
  if [ ! -x "$pg_bin/initdb" ]; then
    echo "PostgreSQL's initdb was not found (apt-get install postgresql); the PostgreSQL tests will fail."
    return 1
  fi
  pg_user=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    pg_user=postgres
    if ! id "$pg_user" >/dev/null 2>&1; then
      pg_user=fedtestpg
      id "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
    fi
  fi
  pg=$(mktemp -d /tmp/fed-postgres.XXXXXX)
  chmod 755 "$pg"
  [ "$(id -u)" -eq 0 ] && chown "$pg_user" "$pg"
  local port
  port=$(free_port)
  if ! as_pg_user "$pg_bin/initdb" -D "$pg/data" -U fed --auth=trust --no-locale -E UTF8 >"$pg/initdb.log" 2>&1; then
    echo "initdb failed; its output:"; tail -n 20 "$pg/initdb.log"
    return 1
  fi
  # fsync=off: the cluster is thrown away at the end, so durability buys nothing here.
  if ! as_pg_user "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
      -o "-p $port -k $pg -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off" start >/dev/null; then
    echo "The test PostgreSQL did not start; its log:"; tail -n 20 "$pg/server.log"
    return 1
  fi
  export FED_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=fed;Database=postgres"
  echo "Test PostgreSQL is up on 127.0.0.1:$port."
}

# The broker boots (several seconds) while the build runs.
start_rabbitmq
start_postgres

dotnet build Federation.sln -c Release -nologo -clp:ErrorsOnly
build=$?
if [ $build -ne 0 ]; then
  echo "The build failed; no tests ran."
  echo "0 passed, 1 failed"
  exit 1
fi

wait_rabbitmq
export FED_TEST_PID_DIR="$results/pids"
# The fault-injection suite (tests/Federation.Faults.Tests) runs with the other projects:
# its short profile by default, the long one with FED_FAULTS_PROFILE=long. It starts its
# own RabbitMQ and PostgreSQL (it kills them), and writes each scenario's time to converge here.
export FED_FAULTS_RESULTS="$results/faults.tsv"
# Figures other tests measure (the hung-replica front's p99, say), one line each, printed below.
export FED_TEST_MEASUREMENTS="$results/measurements.txt"

status=0
for project in tests/*/*.Tests.csproj; do
  # One results folder per project: trx names carry only a timestamp and could collide.
  dir="$results/$(basename "$project" .csproj)"
  dotnet test "$project" -c Release --no-build -nologo --logger "trx" --results-directory "$dir" "$@" || status=1
done

passed=0
failed=0

if [ -s "$FED_FAULTS_RESULTS" ]; then
  echo "Fault suite ($(cut -f2 "$FED_FAULTS_RESULTS" | head -n 1) profile): seconds to converge after healing, per scenario:"
  cut -f3,4 "$FED_FAULTS_RESULTS" | sort | sed 's/^/  /'
fi

if [ -s "$FED_TEST_MEASUREMENTS" ]; then
  echo "Measured by the tests:"
  sed 's/^/  /' "$FED_TEST_MEASUREMENTS"
fi

# The load tool's smoke profile: every measurement at a tiny size, in seconds, so the
# benchmarks cannot rot. It counts as one check.
echo "Running the load tool's smoke profile (bench/Federation.Load --smoke)..."
if timeout 300 dotnet run -c Release --no-build --project bench/Federation.Load -- --smoke >"$results/load-smoke.txt" 2>&1; then
  passed=$((passed + 1))
  echo "Load tool smoke run: passed."
else
  failed=$((failed + 1))
  echo "Load tool smoke run: FAILED. Its output:"
  tail -n 40 "$results/load-smoke.txt"
fi

# The wire contract: buf lint, and buf breaking against the latest release (tests/releases/)
# (tests/proto-compat/check.sh; docs/protocol.md "Compatibility"). It counts as one check.
echo "Checking the wire contract against the latest release (tests/proto-compat/check.sh)..."
if timeout 300 bash tests/proto-compat/check.sh >"$results/proto-compat.txt" 2>&1; then
  passed=$((passed + 1))
  tail -n 1 "$results/proto-compat.txt"
else
  failed=$((failed + 1))
  echo "Wire contract check: FAILED. Its output:"
  tail -n 40 "$results/proto-compat.txt"
fi

for f in "$results"/*/*.trx; do
  [ -e "$f" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$f")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  x=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${x:-0}))
done

if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
  # dotnet test failed without a failed test (a crashed test host, say): count it.
  failed=1
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
