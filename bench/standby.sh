#!/usr/bin/env bash
# The throughput cost of the synchronous standby, measured in one run: one durable primary
# (fsync on) and a streaming standby made with pg_basebackup -R on this machine; pgbench commits
# answer-shaped transactions (a response row and its three answers, one commit each, as the
# service's lone submissions do) with CLIENTS clients for SECONDS_EACH seconds each round, alternating
#   single:  synchronous_standby_names = ''             (the primary alone acknowledges)
#   sync:    synchronous_standby_names = 'bench_standby', synchronous_commit = on
#   apply:   the same with synchronous_commit = remote_apply
# ROUNDS times (default 3), and prints each round's commits/s and the median ratio sync/single.
# Both servers share this machine's disk and cores, so this is the cost of the protocol (a flush
# on the standby and a round trip) without a network; between machines add the round trip.
# The service's group commit (ANSWER_BATCH) divides the number of commits per answer, so its
# own cost is at most this one.
#
#   bench/standby.sh          # CLIENTS=64 SECONDS_EACH=15 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/sipas-bench-standby}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
CLIENTS=${CLIENTS:-64}
SECONDS_EACH=${SECONDS_EACH:-15}
ROUNDS=${ROUNDS:-3}
P="$BENCH_DIR/primary" S="$BENCH_DIR/standby"
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(runuser -u postgres --)
stop() {
    for d in "$S" "$P"; do "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$d/pgdata" -m fast -w stop >/dev/null 2>&1 || true; done
}
trap stop EXIT
stop
rm -rf "$BENCH_DIR"
mkdir -p "$P" "$S"
[ "$(id -u)" = 0 ] && chown -R postgres "$BENCH_DIR"
pg() { "${RUN_AS[@]}" "$PG_BIN/$@"; }
opts="-c listen_addresses='' -c unix_socket_directories='%s' -p 5432 -c shared_buffers=1GB -c max_connections=200 -c max_wal_size=4GB"
pg initdb -D "$P/pgdata" -U postgres -A trust -E UTF8 --no-locale >/dev/null
pg pg_ctl -D "$P/pgdata" -l "$P/log" -w start -o "$(printf -- "$opts" "$P")" >/dev/null
pg pg_basebackup -D "$S/pgdata" -h "$P" -p 5432 -U postgres -R -X stream -c fast
echo "primary_conninfo = 'host=$P port=5432 user=postgres application_name=bench_standby'" |
    "${RUN_AS[@]}" tee -a "$S/pgdata/postgresql.auto.conf" >/dev/null
pg pg_ctl -D "$S/pgdata" -l "$S/log" -w start -o "$(printf -- "$opts" "$S")" >/dev/null
q() { pg psql -X -q -t -A -h "$P" -p 5432 -U postgres -d postgres -c "$1"; }
q "CREATE TABLE responses (id bigserial PRIMARY KEY, token text NOT NULL UNIQUE, submitted_at timestamptz NOT NULL DEFAULT now())"
q "CREATE TABLE answers (response_id bigint NOT NULL REFERENCES responses, item_code text NOT NULL, value int NOT NULL, PRIMARY KEY (response_id, item_code))"
cat > "$BENCH_DIR/answer.sql" <<'SQL'
BEGIN;
INSERT INTO responses (token) VALUES (md5(random()::text || clock_timestamp()::text));
INSERT INTO answers VALUES (currval('responses_id_seq'), 'CASE.OVERALL', 4), (currval('responses_id_seq'), 'TT01.I1', 2), (currval('responses_id_seq'), 'TT01.I3', 1);
COMMIT;
SQL
chmod 644 "$BENCH_DIR/answer.sql"
mode() {
    case $1 in
        single) q "ALTER SYSTEM SET synchronous_standby_names = ''"; q "ALTER SYSTEM SET synchronous_commit = 'on'" ;;
        sync) q "ALTER SYSTEM SET synchronous_standby_names = 'bench_standby'"; q "ALTER SYSTEM SET synchronous_commit = 'on'" ;;
        apply) q "ALTER SYSTEM SET synchronous_standby_names = 'bench_standby'"; q "ALTER SYSTEM SET synchronous_commit = 'remote_apply'" ;;
    esac
    q "SELECT pg_reload_conf()" >/dev/null
    sleep 1
}
declare -A results
for r in $(seq 1 "$ROUNDS"); do
    for m in single sync apply; do
        mode $m
        tps=$(pg pgbench -n -h "$P" -p 5432 -U postgres -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -f "$BENCH_DIR/answer.sql" postgres 2>/dev/null |
            awk '/^tps/ {print int($3)}')
        results[$m]="${results[$m]:-} $tps"
        printf 'round %d %-6s %6d commits/s\n' "$r" "$m" "$tps"
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(echo "${results[single]}" | median); y=$(echo "${results[sync]}" | median); a=$(echo "${results[apply]}" | median)
stored=$(q "SELECT count(*) FROM responses")
replayed=$(pg psql -X -q -t -A -h "$S" -p 5432 -U postgres -d postgres -c "SELECT count(*) FROM responses")
echo "median commits/s: single $s, sync $y ($(awk -v a="$y" -v b="$s" 'BEGIN {printf "%.2f", a/b}')× single), remote_apply $a ($(awk -v a="$a" -v b="$s" 'BEGIN {printf "%.2f", a/b}')× single); $stored responses on the primary, $replayed on the standby"
