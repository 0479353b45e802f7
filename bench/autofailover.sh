#!/usr/bin/env bash
# Time to the first write on the new primary after the primary's machine dies, with the real
# failover manager: the pg_auto_failover formation that deploy/sipas-formation sets up (a monitor
# and two nodes, here on loopback ports; scram-sha-256 passwords and self-signed TLS, with
# initdb's loopback trust rules removed so the passwords are really used), the primary's keeper and postmaster killed with kill -9
# (its machine gone: nobody restarts it), and a client writing every 100 ms through the URL the
# service uses (both hosts, target_session_attrs=read-write, connect_timeout=2). Prints the time
# from the kill to the first committed write (on the promoted node2; the monitor's log in
# BENCH_DIR/monitor.log has each state change with its time). The service adds
# what the failover drill measures from promotion to its first 201 (tests/api/failover.rs).
#
#   bench/autofailover.sh             # needs postgresql-15-auto-failover and pg-auto-failover-cli
#   MONITOR_SETTINGS="pgautofailover.primary_demote_timeout=10s pgautofailover.node_considered_unhealthy_timeout=5s" bench/autofailover.sh
set -euo pipefail
cd "$(dirname "$0")/.."
D=${BENCH_DIR:-/tmp/sipas-bench-autofailover}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
PORT0=${PORT0:-6540}
command -v pg_autoctl >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-15-auto-failover pg-auto-failover-cli; }
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(runuser -u postgres --)
# the formation as deploy/sipas-formation sets it up: scram-sha-256 passwords, self-signed TLS
export SIPAS_MONITOR_PASSWORD=bench-monitor-pw SIPAS_REPLICATION_PASSWORD=bench-replication-pw
as_pg() { "${RUN_AS[@]}" env PATH="$PG_BIN:$PATH" PG_CONFIG="$PG_BIN/pg_config" PGCTL="$PG_BIN/pg_ctl" HOME="$D" \
    XDG_CONFIG_HOME="$D/config" XDG_DATA_HOME="$D/data" XDG_RUNTIME_DIR="$D/run" \
    SIPAS_MONITOR_PASSWORD="$SIPAS_MONITOR_PASSWORD" SIPAS_REPLICATION_PASSWORD="$SIPAS_REPLICATION_PASSWORD" "$@"; }
# each pg_autoctl in a session of its own, so the cleanup can stop it and everything it started
pids=()
run_node() { setsid "${RUN_AS[@]}" env HOME="$D" XDG_CONFIG_HOME="$D/config" XDG_DATA_HOME="$D/data" \
    XDG_RUNTIME_DIR="$D/run" pg_autoctl run --pgdata "$D/$1" >"$D/$1.log" 2>&1 & pids+=($!); }
cleanup() {
    for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
    sleep 2
    for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
    for n in node2 node1 monitor; do as_pg pg_ctl -D "$D/$n" -m immediate -w stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
rm -rf "$D" 2>/dev/null || { sleep 2; rm -rf "$D"; }
mkdir -p "$D/config" "$D/data" "$D/run"
[ "$(id -u)" = 0 ] && chown -R postgres "$D"
# nothing but the formation's own rules on TCP: initdb's loopback `trust` lines go, so every
# connection between the nodes and the monitor needs the passwords sipas-formation set up
no_trust() { sed -i -E '/^host +(all|replication) +all +(127\.0\.0\.1\/32|::1\/128) +trust/d' "$D/$1/pg_hba.conf"; }
as_pg env PGDATA="$D/monitor" PGPORT="$PORT0" deploy/sipas-formation monitor localhost >"$D/monitor.create.log" 2>&1
no_trust monitor
run_node monitor
sleep 3
# MONITOR_SETTINGS="pgautofailover.primary_demote_timeout=10s pgautofailover.node_considered_unhealthy_timeout=5s"
# shortens the monitor's waits (defaults: 30 s and 20 s); docs/PROVINCE.md says what they protect
for kv in ${MONITOR_SETTINGS:-}; do
    as_pg psql -X -q -p "$PORT0" -d pg_auto_failover -c "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}'"
done
if [ -n "${MONITOR_SETTINGS:-}" ]; then
    as_pg psql -X -q -p "$PORT0" -d pg_auto_failover -c "SELECT pg_reload_conf()" >/dev/null
fi
node() { # name port
    as_pg env PGDATA="$D/$1" PGPORT="$2" MONITOR_PORT="$PORT0" deploy/sipas-formation node localhost localhost \
        >"$D/$1.create.log" 2>&1
    no_trust "$1"
    # the bench's own client (below) signs in as postgres over TCP with a password too
    run_node "$1"
}
state() { as_pg env PGDATA="$D/monitor" deploy/sipas-formation state 2>/dev/null; }
wait_state() { # pattern seconds
    for _ in $(seq 1 $(( $2 * 2 ))); do state | grep -Eq "$1" && return 0; sleep 0.5; done
    state; return 1
}
node node1 $((PORT0 + 1))
node1_pid=${pids[-1]}
wait_state 'node_1 .*\| *single *\| *single' 120
# (the keeper may be restarting PostgreSQL right after `single`: try for a while)
for _ in $(seq 1 60); do
    as_pg psql -X -q -p $((PORT0 + 1)) -d sipas <<< "ALTER USER postgres PASSWORD 'bench-client-pw';" 2>/dev/null && break
    sleep 0.5
done
printf '*:*:sipas:postgres:bench-client-pw\n' >> "$D/.pgpass"
node node2 $((PORT0 + 2))
wait_state 'node_2 .*\| *secondary *\| *secondary' 300
wait_state 'node_1 .*\| *primary *\| *primary' 60
state
url="host=localhost,localhost port=$((PORT0 + 1)),$((PORT0 + 2)) dbname=sipas user=postgres sslmode=require target_session_attrs=read-write connect_timeout=2 options='-c statement_timeout=5000'"
as_pg psql -X -q "$url" -c "CREATE TABLE IF NOT EXISTS drill (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())"
as_pg psql -X -q -t -A "$url" -c "SHOW synchronous_standby_names"
# the primary's machine dies: every process of node1 (its keeper, the keeper's postgres
# supervisor, the postmaster) at once with kill -9, so nothing restarts it
tree() { for c in $(pgrep -P "$1" || true); do tree "$c"; done; echo "$1"; }
victims=$(tree "$node1_pid"; head -1 "$D/node1/postmaster.pid")
kill -STOP $victims 2>/dev/null || true
kill -9 $victims 2>/dev/null || true
keeper=$node1_pid
t0=$(date +%s.%N)
promoted=""
while :; do
    now=$(date +%s.%N)
    if [ -z "$promoted" ] && state | grep -Eq 'node_2 .*\|[[:space:]]+(wait_primary|primary)[[:space:]]+\|'; then
        promoted=$(echo "$now - $t0" | bc)
    fi
    if as_pg psql -X -q "$url" -c "INSERT INTO drill DEFAULT VALUES" >/dev/null 2>&1; then
        first=$(echo "$now - $t0" | bc)
        break
    fi
    if (( $(echo "$now - $t0 > 180" | bc) )); then echo "no write within 180 s"; state; exit 1; fi
    sleep 0.1
done
state
printf 'kill -9 of the primary (keeper %s) → first committed write on node2 through the multi-host URL: %.1f s\n' "${keeper:-?}" "$first"
