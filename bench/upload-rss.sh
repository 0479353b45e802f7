#!/usr/bin/env bash
# SECURITY.md finding 12: the service's memory around province uploads. On `sipas demo` data in
# a private cluster, signed in as province staff (curl, the login form), it reads the service's
# VmRSS and VmHWM (peak) from /proc before and after each of:
#  - a 14 MB file (a genuine JSON export padded with spaces), once as the body and once as a
#    multipart part: refused with 413 before it is held whole;
#  - a 4 MB multipart upload of one genuine export padded to just under the per-file limit: 201;
#  - one multipart upload of 15 such files (60 MB): each read back, verified and stored in turn.
#
#   bench/upload-rss.sh                          # builds the release binary first
#   NO_BUILD=1 BIN=target/debug/sipas bench/upload-rss.sh
# Environment: RESPONSES (demo size, default 5000), PORT, BENCH_DIR (default
# /tmp/sipas-bench-upload), PGPORT (default 5496), KEEP=1 leaves the cluster running.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_DIR=${BENCH_DIR:-/tmp/sipas-bench-upload}
export PGPORT=${PGPORT:-5496}
source bench/cluster.sh
RESPONSES=${RESPONSES:-5000}
PORT=${PORT:-18093}
bench_service_setup
DB=sipas_upload
export DATABASE_URL
DATABASE_URL=$(bench_url "$DB")
bench_psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"$BIN" migrate >/dev/null 2>&1
"$BIN" demo --responses "$RESPONSES" >/dev/null 2>&1
PASSWORD='núi-Đá-xanh-tỉnh-2026'
SIPAS_PASSWORD=$PASSWORD "$BIN" user create --username tinh-bench --role province >/dev/null
UNIT=$(bench_psql -d "$DB" -At -c "SELECT unit_code FROM responses GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
# the commune signs its exports and the province has registered its key (docs/PROVINCE.md)
PUBLIC_KEY=$("$BIN" export-key create --unit "$UNIT" | sed -n 's/^public key: *//p')
"$BIN" province key register --unit "$UNIT" --public-key "$PUBLIC_KEY" >/dev/null
PERIOD=$(bench_psql -d "$DB" -At -c "SELECT extract(year FROM max(submitted_at))::int - 1 FROM responses")
"$BIN" export --period "$PERIOD" --format json --unit "$UNIT" --out "$WORK/genuine.json" >/dev/null
python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1]
g = open(f"{w}/genuine.json", "rb").read()
open(f"{w}/big.json", "wb").write(g + b" " * (14 * 1024 * 1024 - len(g)))
open(f"{w}/near.json", "wb").write(g + b" " * (4 * 1024 * 1024 - 4096 - len(g)))
PY

env BIND_ADDR=127.0.0.1:$PORT RUST_LOG=${RUST_LOG:-warn} "$BIN" serve > "$WORK/service.log" 2>&1 & SERVICE_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT"
JAR="$WORK/cookies"
TOKEN=$(curl -fs -c "$JAR" "$URL/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -fs -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "username=tinh-bench" --data-urlencode "password=$PASSWORD" \
    --data-urlencode "csrf=$TOKEN" --data-urlencode "next=/dashboard" "$URL/login"
mem() { awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {printf "RSS %d MB, peak %d MB", r / 1024, h / 1024}' /proc/$SERVICE_PID/status; }
post() { curl -s -b "$JAR" -o "$WORK/answer.json" -w '%{http_code}' "$@" "$URL/api/v1/province/exports"; }
echo "service: $BIN; export of $UNIT $PERIOD: $(stat -c %s "$WORK/genuine.json") bytes"
echo "idle:                                   $(mem)"
echo "14 MB as the body:          $(post -H 'Content-Type: application/json' --data-binary "@$WORK/big.json")  then $(mem)"
echo "14 MB as a multipart part:  $(post -F "files=@$WORK/big.json")  then $(mem)"
echo "4 MB − 4 KB, one part:      $(post -F "files=@$WORK/near.json")  then $(mem)"
MANY=()
for i in $(seq 15); do cp "$WORK/near.json" "$WORK/near-$i.json"; MANY+=(-F "files=@$WORK/near-$i.json"); done
echo "15 × 4 MB, one upload:      $(post "${MANY[@]}")  then $(mem)   (422 expected: the same export 15 times)"
python3 -c "import json,sys; a=json.load(open(sys.argv[1])); print('  ', a.get('error'), len(a.get('files', [])), 'files named')" "$WORK/answer.json"
