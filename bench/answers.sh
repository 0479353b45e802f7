#!/usr/bin/env bash
# STATUS: written but not yet run end to end (issue 9 is open); expect to fix details on first use.
# Answers through the service against PostgreSQL's own ceiling, on one durable cluster
# (fsync and synchronous_commit on):
#  1. the service (release build) answers N fresh tokens with POST /api/v1/responses/{token},
#     driven by wrk with CLIENTS connections;
#  2. pgbench runs bench/ceiling.sql — spend the token, insert the response and its answers,
#     commit — with the same number of clients, on another N tokens.
# Prints answers/s, the ceiling, their ratio, p50/p99 latency and the service's peak RSS.
#
#   bench/answers.sh                 # N=60000 CLIENTS=64 SECONDS_EACH=20
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/cluster.sh
N=${N:-60000}
CLIENTS=${CLIENTS:-64}
SECONDS_EACH=${SECONDS_EACH:-20}
PORT=${PORT:-18091}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked -q
bench_cluster_start
DB=sipas_answers
SERVICE_PID=
cleanup() {
    [ -n "$SERVICE_PID" ] && kill "$SERVICE_PID" 2>/dev/null && wait "$SERVICE_PID" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] || bench_cluster_stop
}
trap cleanup EXIT
bench_psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
URL=$(bench_url $DB)
export DATABASE_URL=$URL
target/release/sipas migrate >/dev/null
WORK=$(mktemp -d)
cat > "$WORK/units.csv" <<CSV
code,name,province_code
CHIEMHOA,UBND xã Chiêm Hóa,08
CSV
cat > "$WORK/officers.csv" <<CSV
code,name,unit_code
CB01,Nguyễn Thị Lan,CHIEMHOA
CB02,Hoàng Văn Minh,CHIEMHOA
CSV
cat > "$WORK/procedures.csv" <<CSV
code,name,field_code,field_name
1.001193,Đăng ký khai sinh,HOTICH,Hộ tịch
2.000815,Chứng thực bản sao từ bản chính giấy tờ,CHUNGTHUC,Chứng thực
CSV
for k in units officers procedures; do target/release/sipas import $k "$WORK/$k.csv" >/dev/null; done

# 2N invitations straight into the table (issuing is not what is measured here)
bench_psql -d $DB -c "
  INSERT INTO invitations (token, code, unit_code, officer_code, procedure_code, channel,
                           instrument_id, instrument_version, expires_at, issued_by)
  SELECT md5('t' || g || random()::text) || substr(md5(g::text), 1, 8),
         upper(substr(md5('c' || g || random()::text), 1, 12)),
         'CHIEMHOA', CASE WHEN g % 2 = 0 THEN 'CB01' ELSE 'CB02' END,
         CASE WHEN g % 3 = 0 THEN '2.000815' ELSE '1.001193' END, 'desk',
         v.instrument_id, v.version, now() + interval '7 days',
         CASE WHEN g <= $N THEN 'bench-service' ELSE 'bench-pgbench' END
  FROM generate_series(1, 2 * $N) g,
       (SELECT instrument_id, version FROM instrument_versions ORDER BY first_loaded_at DESC LIMIT 1) v;
  CREATE SEQUENCE bench_seq;
  SELECT setval('bench_seq', (SELECT min(id) - 1 FROM invitations WHERE issued_by = 'bench-pgbench'));
  VACUUM ANALYZE;"
bench_psql -d $DB -At -c "SELECT token FROM invitations WHERE issued_by = 'bench-service' ORDER BY random()" > "$WORK/tokens.txt"

echo "== service: $CLIENTS clients, ${SECONDS_EACH}s"
BIND_ADDR=127.0.0.1:$PORT SUBMISSION_LIMIT=100000000 RUST_LOG=${RUST_LOG:-warn} DB_POOL_SIZE=${DB_POOL_SIZE:-16} \
    target/release/sipas serve & SERVICE_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
wrk -t2 -c"$CLIENTS" -d"${SECONDS_EACH}s" --latency -s bench/answer.lua "http://127.0.0.1:$PORT" -- "$WORK/tokens.txt" 2 \
    | tee "$WORK/wrk.txt" | grep -E "answers |requests |latency p|non-2xx"
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$SERVICE_PID/status)
kill "$SERVICE_PID"; wait "$SERVICE_PID" 2>/dev/null || true; SERVICE_PID=
STORED=$(bench_psql -d $DB -At -c "SELECT count(*) FROM responses")
echo "service peak RSS: $((RSS_KB / 1024)) MB; responses stored: $STORED"

echo "== pgbench ceiling: $CLIENTS clients, ${SECONDS_EACH}s"
PGHOST=$SOCK PGPORT=$PGPORT PGUSER=postgres pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" \
    -f bench/ceiling.sql $DB 2>/dev/null | tee "$WORK/pgbench.txt" | grep -E "^tps|latency average|failed"

SERVICE=$(grep -E '^answers ' "$WORK/wrk.txt" | grep -oE '[0-9]+/s' | tr -d '/s')
CEILING=$(grep -oE 'tps = [0-9.]+' "$WORK/pgbench.txt" | head -1 | grep -oE '[0-9.]+')
python3 -c "print(f'answers/s {int($SERVICE)} vs ceiling {float($CEILING):.0f}: ratio {int($SERVICE)/float($CEILING):.2f}')"
