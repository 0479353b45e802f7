#!/usr/bin/env bash
# Answers through the service against PostgreSQL's own ceiling, in one run on one durable cluster
# (fsync and synchronous_commit on):
#  1. the service (release build) answers fresh tokens with POST /api/v1/responses/{token},
#     driven by wrk (bench/answer.lua) with CLIENTS connections for SECONDS_EACH seconds, each
#     token answered once, each request from its own resident (X-Forwarded-For + User-Agent);
#  2. pgbench runs bench/ceiling.sql — spend the token, insert the response and its answers,
#     commit — with the same number of clients for the same time, on other tokens.
# Prints answers/s, the ceiling, their ratio, p50/p99 latency of both, the service's peak RSS
# (VmHWM), and checks that every 201 is a stored response, that no invitation has two responses,
# and the flagged share. ROUNDS (default 3) alternations of service and pgbench on a shared
# machine, each on its own tokens; the median ratio is the figure.
# MIXES (default "mixed satisfied") are the ratings of step 1, each run in every round before the
# ceiling (bench/answer.lua): "mixed" 1 % top scores over 500 officers, "satisfied" 70 % top
# scores on three officers (a satisfied commune at a busy hour, issue 15); the last line compares
# their median ratios.
#
#   bench/answers.sh                 # N=150000 CLIENTS=64 SECONDS_EACH=20
#   MIXES=mixed bench/answers.sh     # the mixed ratings only
#   RUST_LOG=info bench/answers.sh   # the cost of one log line per request and per answer
# Environment: N tokens per side (split over the rounds), ROUNDS, HISTORY (responses of
# `sipas demo` loaded first, default 100000), CLIENTS, SECONDS_EACH, PORT, DB_POOL_SIZE, RUST_LOG (default
# warn), BENCH_DIR (default /tmp/sipas-bench-answers), PGPORT (default 5498), KEEP=1 leaves the
# cluster running, EXTRA_ENV="VAR=value ..." passed to the service.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_DIR=${BENCH_DIR:-/tmp/sipas-bench-answers}
export PGPORT=${PGPORT:-5498}
source bench/cluster.sh
N=${N:-150000}
CLIENTS=${CLIENTS:-64}
SECONDS_EACH=${SECONDS_EACH:-20}
MIXES=${MIXES:-mixed satisfied}
PORT=${PORT:-18091}
# A known secret, so the SQL below can compute the tokens' keyed hashes as the service does
# (kernel::survey_secrets::token_hash); the service and `sipas demo` read it from the environment.
export SECRET_KEY=${SECRET_KEY:-sipas-bench-answers-secret-not-for-production}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
bench_service_setup
DB=sipas_answers
bench_psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export DATABASE_URL
DATABASE_URL=$(bench_url $DB)
"$BIN" migrate >/dev/null 2>&1
# A history first, as any running service has (HISTORY responses of `sipas demo`, default 100000;
# 0 for none). Without one, the service meets empty tables: each connection plans its statements
# and foreign-key checks on them at its first use and keeps those plans (sequential scans) while
# the tables grow, until autovacuum's first ANALYZE a minute later; that measured a first round at
# a quarter of the ceiling, which no service with data sees.
if [ "${HISTORY:-100000}" -gt 0 ]; then
    "$BIN" demo --responses "${HISTORY:-100000}" >/dev/null 2>&1
fi

# 20 communes of 25 officers each, two procedures
{
    echo "code,name,province_code"
    for u in $(seq -w 1 20); do echo "X$u,UBND xã Thử $u,08"; done
} > "$WORK/units.csv"
{
    echo "code,name,unit_code"
    for u in $(seq -w 1 20); do for o in $(seq -w 1 25); do echo "X${u}CB$o,Cán bộ $o xã $u,X$u"; done; done
} > "$WORK/officers.csv"
cat > "$WORK/procedures.csv" <<CSV
code,name,field_code,field_name
1.001193,Đăng ký khai sinh,HOTICH,Hộ tịch
2.000815,Chứng thực bản sao từ bản chính giấy tờ,CHUNGTHUC,Chứng thực
CSV
for k in units officers procedures; do "$BIN" import $k "$WORK/$k.csv" >/dev/null 2>&1; done

# N invitations per mix and N for pgbench straight into the table (issuing is not what is
# measured here), issued an hour ago as at a desk (an answer seconds after issue is flagged
# too_fast): the mixed ones over the 500 officers, the satisfied ones on three officers of X01
# The invitations table keeps tokens and codes only as keyed hashes (issue 21, finding 14): the
# clear tokens stay in bench_tokens, the hashes are computed in SQL with plain sha256() over the
# same length-prefixed fields as kernel::hashing::keyed_hash, and the rows carry no seal (nothing
# here asks for a token back).
bench_psql -d $DB -c "
  CREATE FUNCTION bench_keyed_hash(secret text, label text, value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN encode(sha256(
      int8send(octet_length(convert_to(secret, 'UTF8'))) || convert_to(secret, 'UTF8') ||
      int8send(octet_length(convert_to(label, 'UTF8'))) || convert_to(label, 'UTF8') ||
      int8send(octet_length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8')), 'hex');
  CREATE TABLE bench_tokens AS
  SELECT g, md5('t' || g || random()::text) || substr(md5(g::text), 1, 8) AS token,
         upper(substr(md5('c' || g || random()::text), 1, 12)) AS code
  FROM generate_series(1, CASE WHEN '$MIXES' LIKE '%satisfied%' THEN 3 ELSE 2 END * $N) g;
  INSERT INTO invitations (token_hash, code_hash, unit_code, officer_code, procedure_code, channel,
                           instrument_id, instrument_version, issued_at, expires_at, issued_by)
  SELECT bench_keyed_hash('$SECRET_KEY', 'survey-token', t.token),
         bench_keyed_hash('$SECRET_KEY', 'survey-code', t.code),
         CASE WHEN g > 2 * $N THEN 'X01' ELSE 'X' || lpad((1 + g % 20)::text, 2, '0') END,
         CASE WHEN g > 2 * $N THEN 'X01CB0' || (1 + g % 3)
              ELSE 'X' || lpad((1 + g % 20)::text, 2, '0') || 'CB' || lpad((1 + (g / 20) % 25)::text, 2, '0') END,
         CASE WHEN g % 3 = 0 THEN '2.000815' ELSE '1.001193' END, 'desk',
         v.instrument_id, v.version, now() - interval '1 hour', now() + interval '7 days',
         CASE WHEN g <= $N THEN 'bench-service' WHEN g <= 2 * $N THEN 'bench-pgbench' ELSE 'bench-satisfied' END
  FROM bench_tokens t,
       (SELECT instrument_id, version FROM instrument_versions ORDER BY first_loaded_at DESC LIMIT 1) v
  ORDER BY g;
  CREATE SEQUENCE bench_seq;
  SELECT setval('bench_seq', (SELECT min(id) - 1 FROM invitations WHERE issued_by = 'bench-pgbench'));" >/dev/null
bench_psql -d $DB -c "VACUUM ANALYZE" >/dev/null
if [ "${STATEMENTS:-0}" = 1 ]; then
    bench_psql -d $DB -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
fi
bench_psql -d $DB -At -c "SELECT token FROM bench_tokens WHERE g <= $N ORDER BY random()" > "$WORK/tokens-mixed.txt"
bench_psql -d $DB -At -c "SELECT token FROM bench_tokens WHERE g > 2 * $N ORDER BY random()" > "$WORK/tokens-satisfied.txt"

# CPU accounting, in clock ticks: "service postgres busy" (busy: the whole machine, not idle).
# PostgreSQL is the postmaster and its children at the moment of reading (backends that exited
# during the run are missed, so its share is a lower bound).
cpu_of() {
    local t=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
cpu_snapshot() {
    local pm
    pm=$(head -1 "$BENCH_DIR/pgdata/postmaster.pid")
    # shellcheck disable=SC2046
    echo "$(cpu_of "$SERVICE_PID") $(cpu_of "$pm" $(pgrep -P "$pm")) $(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)"
}
cpu_report() {
    local hz=$(getconf CLK_TCK)
    read -r s0 p0 b0 <<< "$1"
    read -r s1 p1 b1 <<< "$2"
    python3 -c "
s, p, b, n, hz = $s1 - $s0, $p1 - $p0, $b1 - $b0, max(int('${3:-0}' or 0), 1), $hz
print(f'CPU: service {s / hz:.1f} s, PostgreSQL {p / hz:.1f} s, all else (wrk, ...) {(b - s - p) / hz:.1f} s; '
      f'per answer: service {s / hz / n * 1000:.2f} ms, PostgreSQL {p / hz / n * 1000:.2f} ms, all {b / hz / n * 1000:.2f} ms')"
}

echo "machine: $(nproc) cores; $("$PG_BIN/postgres" --version); fsync=$(bench_psql -d $DB -At -c 'SHOW fsync'), synchronous_commit=$(bench_psql -d $DB -At -c 'SHOW synchronous_commit')"
ROUNDS=${ROUNDS:-3}
PER_ROUND=$((N / ROUNDS))
declare -A RATIOS SERVICE_RATE
# run_service MIX ROUND: one service run of the mix on the round's own tokens; sets SERVICE_RATE[MIX]
run_service() {
local MIX=$1 R=$2 ISSUER
ISSUER=$([ "$MIX" = satisfied ] && echo bench-satisfied || echo bench-service)
sed -n "$(( (R - 1) * PER_ROUND + 1 )),$(( R * PER_ROUND ))p" "$WORK/tokens-$MIX.txt" > "$WORK/round.txt"
BEFORE=$(bench_psql -d $DB -At -c "SELECT count(*) FROM responses r JOIN invitations i ON i.id = r.invitation_id AND i.issued_by = '$ISSUER'")
echo "== service, $MIX ratings: $CLIENTS clients, ${SECONDS_EACH}s, RUST_LOG=${RUST_LOG:-warn}${EXTRA_ENV:+, $EXTRA_ENV}, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
env BIND_ADDR=127.0.0.1:$PORT SUBMISSION_LIMIT=1000000 TRUSTED_PROXIES=127.0.0.1 RUST_LOG=${RUST_LOG:-warn} \
    DB_POOL_SIZE=${DB_POOL_SIZE:-16} ${EXTRA_ENV:-} "$BIN" serve > "$WORK/service.log" 2>&1 & SERVICE_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
CPU_BEFORE=$(cpu_snapshot)
# residents of the satisfied mix are numbered after those of the mixed one (no shared address)
local FIRST=$(( (R - 1) * PER_ROUND ))
[ "$MIX" = satisfied ] && FIRST=$((FIRST + N))
wrk -t2 -c"$CLIENTS" -d"${SECONDS_EACH}s" --timeout 10s --latency -s bench/answer.lua "http://127.0.0.1:$PORT" -- "$WORK/round.txt" 2 \
    "$FIRST" "$MIX" > "$WORK/wrk.txt"
CPU_AFTER=$(cpu_snapshot)
CREATED=$(sed -nE 's/^answers \(201\) ([0-9]+).*/\1/p' "$WORK/wrk.txt")
grep -E "^(answers|requests|latency p|not 201)" "$WORK/wrk.txt"
cpu_report "$CPU_BEFORE" "$CPU_AFTER" "$CREATED"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$SERVICE_PID/status)
if [ "${STATEMENTS:-0}" = 1 ]; then
    echo "-- statements of the service run (pg_stat_statements), by total time:"
    bench_psql -d $DB -c "SELECT calls, round(total_exec_time::numeric) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
        left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY total_exec_time DESC LIMIT 25"
    bench_psql -d $DB -c "SELECT pg_stat_statements_reset()" >/dev/null
fi
kill "$SERVICE_PID"; wait "$SERVICE_PID" 2>/dev/null || true; SERVICE_PID=
grep -E "ERROR|WARN" "$WORK/service.log" | head -5 || true
bench_psql -d $DB -At -F' ' -c "
  SELECT count(*) - $BEFORE, count(*) FILTER (WHERE r.held),
         (SELECT count(*) FROM (SELECT invitation_id FROM responses GROUP BY 1 HAVING count(*) > 1) d),
         count(*) FILTER (WHERE EXISTS (SELECT 1 FROM integrity_flags f WHERE f.response_id = r.id))
  FROM responses r JOIN invitations i ON i.id = r.invitation_id AND i.issued_by = '$ISSUER'" > "$WORK/stored.txt"
read -r STORED HELD DOUBLE FLAGGED < "$WORK/stored.txt"
echo "service peak RSS (VmHWM): $((RSS_KB / 1024)) MB; 201s: $CREATED, responses stored: $STORED (held $HELD, flagged $FLAGGED in all rounds), invitations with two responses: $DOUBLE"
# wrk stops at the deadline without reading the answers still in flight (at most one per
# connection): those are stored but not counted as 201s
if [ "$DOUBLE" != 0 ] || [ "$STORED" -lt "$CREATED" ] || [ "$STORED" -gt $((CREATED + CLIENTS)) ]; then
    echo "MISMATCH: 201s and stored responses differ by more than the requests in flight"
fi
SERVICE_RATE[$MIX]=$(sed -nE 's/^answers \(201\) [0-9]+: ([0-9]+)\/s/\1/p' "$WORK/wrk.txt")
}

for R in $(seq "$ROUNDS"); do
echo "#### round $R of $ROUNDS"
for MIX in $MIXES; do run_service "$MIX" "$R"; done

echo "== pgbench ceiling (bench/ceiling.sql): $CLIENTS clients, ${SECONDS_EACH}s, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$WORK"/pgbench_log.*
(cd "$WORK" && pgbench -n -h "$SOCK" -p "$PGPORT" -U postgres -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -l \
    -f "$OLDPWD/bench/ceiling.sql" $DB > pgbench.txt 2>&1) || true
grep -E "^tps|latency average|failed|aborted" "$WORK/pgbench.txt" || tail -5 "$WORK/pgbench.txt"
# per-transaction log: client tx latency_us ...; percentiles over all transactions
PG_LAT=$(cat "$WORK"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "p50 %.2f ms, p99 %.2f ms", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')
echo "pgbench latency $PG_LAT; load after: $(cut -d' ' -f1-3 /proc/loadavg)"

CEILING=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$WORK/pgbench.txt" | head -1)
for MIX in $MIXES; do
    RATIO=$(python3 -c "print(f'{int(${SERVICE_RATE[$MIX]})/float($CEILING):.2f}')")
    RATIOS[$MIX]="${RATIOS[$MIX]:-} $RATIO"
    echo "== round $R, $MIX: answers/s ${SERVICE_RATE[$MIX]} vs ceiling ${CEILING%.*}: ratio $RATIO"
done
done
median() { printf '%s\n' $1 | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p"; }
for MIX in $MIXES; do
    echo "== $MIX: ratios${RATIOS[$MIX]}; median $(median "${RATIOS[$MIX]}")"
done
if [[ " $MIXES " == *" mixed "* && " $MIXES " == *" satisfied "* ]]; then
    python3 -c "print(f'== satisfied / mixed (medians): {$(median "${RATIOS[satisfied]}") / $(median "${RATIOS[mixed]}"):.2f}')"
fi
