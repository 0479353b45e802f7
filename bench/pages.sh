#!/usr/bin/env bash
# The read side and printing, on `sipas demo` data in one durable cluster:
#  - the survey page GET /s/{token} (fresh, unanswered tokens), requests/s with wrk;
#  - QR codes GET /q/{token}.svg and .png, per second with wrk;
#  - 1 000 slips on A4: the ten sheets GET /slips?tokens=…(100 each)&layout=a4 and the 1 000 QR
#    SVGs a browser then fetches (8 at a time), wall time;
#  - the province export of the demo's busiest full year, GET /api/v1/exports/province?period=YYYY
#    in json, csv and xlsx: time, size, and the service's peak RSS (VmHWM) after each.
#
#   bench/pages.sh                    # RESPONSES=1000000
# Environment: RESPONSES (demo size), CLIENTS (wrk connections, default 16), SECONDS_EACH (10),
# PORT, BENCH_DIR (default /tmp/sipas-bench-pages), PGPORT (default 5497), REUSE=1 keeps an
# existing demo database, KEEP=1 leaves the cluster running.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_DIR=${BENCH_DIR:-/tmp/sipas-bench-pages}
export PGPORT=${PGPORT:-5497}
source bench/cluster.sh
RESPONSES=${RESPONSES:-1000000}
CLIENTS=${CLIENTS:-16}
SECONDS_EACH=${SECONDS_EACH:-10}
PORT=${PORT:-18092}
bench_service_setup
DB=sipas_pages_$RESPONSES
export DATABASE_URL
DATABASE_URL=$(bench_url "$DB")
load() { cut -d' ' -f1-3 /proc/loadavg; }
if [ "${REUSE:-0}" != 1 ] || ! bench_psql -d "$DB" -c "SELECT 1" >/dev/null 2>&1; then
    bench_psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    "$BIN" migrate >/dev/null 2>&1
    echo "== sipas demo --responses $RESPONSES (load $(load))"
    /usr/bin/time -f "demo: %e s wall, %M KB peak RSS" "$BIN" demo --responses "$RESPONSES" 2>&1 | tail -3
fi
# fresh invitations to look at, copied from the demo's (issuing is measured elsewhere). They are
# written with their token and code in clear, as a release before issue 21 (finding 14) did, and
# read back before the service starts: its start-up converts them (keyed hashes and a seal, the
# clear columns emptied), and the slips need the seal to print the typed code.
bench_psql -d "$DB" -c "
  DELETE FROM invitations i WHERE issued_by = 'bench-pages' AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.invitation_id = i.id);
  INSERT INTO invitations (token, code, unit_code, officer_code, procedure_code, channel,
                           instrument_id, instrument_version, issued_at, expires_at, issued_by)
  SELECT md5('p' || g || random()::text) || substr(md5(g::text), 1, 8), upper(substr(md5('q' || g || random()::text), 1, 12)),
         t.unit_code, t.officer_code, t.procedure_code, 'desk', t.instrument_id, t.instrument_version,
         now() - interval '1 hour', now() + interval '7 days', 'bench-pages'
  FROM generate_series(1, 20000) g, (SELECT * FROM invitations WHERE unit_code = 'CHIEMHOA' LIMIT 1) t;" >/dev/null
bench_psql -d "$DB" -At -c "SELECT token FROM invitations WHERE issued_by = 'bench-pages' ORDER BY random()" > "$WORK/tokens.txt"
KEY=$("$BIN" api-key create --unit CHIEMHOA --name bench 2>/dev/null | tail -1)
YEAR=$(bench_psql -d "$DB" -At -c "SELECT extract(year FROM max(submitted_at))::int - 1 FROM responses WHERE invitation_id NOT IN (SELECT id FROM invitations WHERE issued_by = 'bench-pages')")

env BIND_ADDR=127.0.0.1:$PORT RUST_LOG=${RUST_LOG:-warn} "$BIN" serve > "$WORK/service.log" 2>&1 & SERVICE_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT"
rss() { awk '/VmHWM/ {printf "%d MB", $2 / 1024}' /proc/$SERVICE_PID/status; }
echo "machine: $(nproc) cores; service idle VmHWM $(rss)"
for what in "survey page|/s/|" "QR SVG|/q/|.svg" "QR PNG|/q/|.png"; do
    IFS='|' read -r name prefix suffix <<< "$what"
    echo "== $name (GET $prefix{token}$suffix), wrk $CLIENTS connections ${SECONDS_EACH}s, load before $(load)"
    wrk -t2 -c"$CLIENTS" -d"${SECONDS_EACH}s" -s bench/get.lua "$URL" -- "$WORK/tokens.txt" "$prefix" "$suffix" | tail -1
done

echo "== 1 000 slips on A4 (10 sheets of 100, then their 1 000 QR SVGs, 8 at a time), load before $(load)"
head -1000 "$WORK/tokens.txt" > "$WORK/slips.txt"
START=$(date +%s.%N)
split -l 100 "$WORK/slips.txt" "$WORK/sheet."
for f in "$WORK"/sheet.*; do
    curl -fs -o /dev/null "$URL/slips?layout=a4&tokens=$(paste -sd, "$f")"
done
SHEETS=$(date +%s.%N)
sed "s|^|url = \"$URL/q/|; s|\$|.svg\"\noutput = \"/dev/null\"|" "$WORK/slips.txt" > "$WORK/curl.cfg"
curl -fsZ --no-progress-meter --parallel-max 8 -K "$WORK/curl.cfg"
END=$(date +%s.%N)
python3 -c "print(f'sheets {($SHEETS - $START):.2f} s, QR SVGs {($END - $SHEETS):.2f} s, total {($END - $START):.2f} s')"

echo "== province export of $YEAR (unit CHIEMHOA), load before $(load)"
for fmt in json csv xlsx; do
    curl -fs -H "Authorization: Bearer $KEY" -o "$WORK/export.$fmt" -w "$fmt: %{time_total} s, %{size_download} bytes" \
        "$URL/api/v1/exports/province?period=$YEAR&format=$fmt"
    echo ", service VmHWM after: $(rss)"
done
echo "load after: $(load)"
