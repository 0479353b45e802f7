#!/usr/bin/env bash
# Statistics benchmark: builds the release binary, fills a fresh database with `sipas demo`, and
# times every yearly grouping of GET /api/v1/stats's computation from the roll-ups and from a naive
# scan of the raw answers. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/stats.sh                 # 1 000 000 responses
#   bench/stats.sh 1000000 10000000
#
# Environment: BENCH_DIR (cluster folder, default /tmp/sipas-bench), REPEAT (roll-up runs per
# query, default 7), NAIVE_REPEAT (default 1), KEEP=1 to leave the cluster running.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/cluster.sh

SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000000)
REPEAT=${REPEAT:-7}
NAIVE_REPEAT=${NAIVE_REPEAT:-1}
: "${CARGO_TARGET_DIR:=target}"
export CARGO_TARGET_DIR

cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/sipas"

bench_cluster_start
trap '[ "${KEEP:-0}" = 1 ] || bench_cluster_stop' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "postgres: $("$PG_BIN/postgres" --version)"

for N in "${SIZES[@]}"; do
    DB="sipas_bench_$N"
    bench_psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    export DATABASE_URL
    DATABASE_URL=$(bench_url "$DB")
    "$BIN" migrate >/dev/null
    echo
    echo "## $N responses"
    /usr/bin/time -f "demo: %e s wall, %M KB max resident (sipas process)" "$BIN" demo --responses "$N"
    bench_psql -d "$DB" -At -c "SELECT 'raw: ' || (SELECT count(*) FROM invitations) || ' invitations, ' || (SELECT count(*) FROM responses) || ' responses, ' || (SELECT count(*) FROM answers) || ' answers; roll-ups: ' || (SELECT count(*) FROM rollup_day) || ' daily rows, ' || (SELECT count(*) FROM rollup_month) || ' monthly rows; database ' || pg_size_pretty(pg_database_size(current_database()))"
    YEAR=$(bench_psql -d "$DB" -At -c "SELECT extract(year FROM max(submitted_at))::int - 1 FROM responses")
    echo
    echo "Year $YEAR (from=$YEAR-01-01, to=$YEAR-12-31), unit CHIEMHOA as an API key sees it; milliseconds (median of $REPEAT for roll-ups, $NAIVE_REPEAT for the naive scan):"
    echo
    echo "| group_by | roll-ups median | roll-ups max | naive scan | same figures |"
    echo "|---|---:|---:|---:|---|"
    for G in none procedure field officer unit channel month quarter half year; do
        ARGS=(stats --from "$YEAR-01-01" --to "$YEAR-12-31" --group-by "$G" --param unit=CHIEMHOA)
        R=$("$BIN" "${ARGS[@]}" --repeat "$REPEAT" 2>/tmp/sipas-bench-r.txt)
        NV=$("$BIN" "${ARGS[@]}" --naive --repeat "$NAIVE_REPEAT" 2>/tmp/sipas-bench-n.txt)
        RM=$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' /tmp/sipas-bench-r.txt)
        RX=$(sed -E 's/.*max_ms=([0-9.]+).*/\1/' /tmp/sipas-bench-r.txt)
        NM=$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' /tmp/sipas-bench-n.txt)
        SAME=$([ "$R" = "$NV" ] && echo yes || echo NO)
        echo "| $G | $RM | $RX | $NM | $SAME |"
    done
done
