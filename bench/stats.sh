#!/usr/bin/env bash
# Statistics benchmark: builds the release binary, fills a fresh database with `sipas demo`, and
# times every yearly grouping of GET /api/v1/stats's computation from the roll-ups and from a naive
# scan of the raw answers. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/stats.sh                 # 1 000 000 responses
#   bench/stats.sh 1000000 10000000
#
# Environment: BENCH_DIR (cluster folder, default /tmp/sipas-bench), REPEAT (roll-up runs per
# query, default 7), NAIVE_REPEAT (default 1), NAIVE_GROUPS (the groupings also timed with the
# naive scan, default all; each takes minutes at 10 million), KEEP=1 to leave the cluster running.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/cluster.sh

SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000000)
REPEAT=${REPEAT:-7}
NAIVE_GROUPS=${NAIVE_GROUPS:-"none procedure field officer unit channel month quarter half year"}
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
    bench_psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
    export DATABASE_URL
    DATABASE_URL=$(bench_url "$DB")
    "$BIN" migrate >/dev/null
    echo
    echo "## $N responses"
    PM=$(head -1 "$BENCH_DIR/pgdata/postmaster.pid")
    # CPU seconds of the cluster: the postmaster, its live children and the ones it has reaped
    pg_cpu() { cat /proc/"$PM"/stat $(pgrep -P "$PM" | sed 's|.*|/proc/&/stat|') 2>/dev/null | awk '{s+=$14+$15+$16+$17} END {print s/100}'; }
    echo "load before the demo: $(uptime | sed 's/.*load/load/')"
    C0=$(pg_cpu)
    /usr/bin/time -f "demo: %e s wall; sipas process %U s user + %S s system CPU, %M KB max resident" "$BIN" demo --responses "$N"
    echo "demo: PostgreSQL CPU $(awk -v a="$(pg_cpu)" -v b="$C0" 'BEGIN {printf "%.1f", a - b}') s; load after: $(uptime | sed 's/.*load/load/')"
    bench_psql -d "$DB" -At -c "SELECT 'raw: ' || (SELECT count(*) FROM invitations) || ' invitations, ' || (SELECT count(*) FROM responses) || ' responses, ' || (SELECT count(*) FROM answers) || ' answers; roll-ups: ' || (SELECT count(*) FROM rollup_day) || ' daily rows, ' || (SELECT count(*) FROM rollup_month) || ' monthly rows; database ' || pg_size_pretty(pg_database_size(current_database()))"
    YEAR=$(bench_psql -d "$DB" -At -c "SELECT extract(year FROM max(submitted_at))::int - 1 FROM responses")
    echo
    echo "Year $YEAR (from=$YEAR-01-01, to=$YEAR-12-31), unit CHIEMHOA as an API key sees it; milliseconds (median of $REPEAT for roll-ups, $NAIVE_REPEAT for the naive scan):"
    echo
    echo "| group_by | roll-ups median | roll-ups max | naive scan | same figures |"
    echo "|---|---:|---:|---:|---|"
    echo "load: $(uptime | sed 's/.*load/load/')"
    echo
    for G in none procedure field officer unit channel month quarter half year; do
        ARGS=(stats --from "$YEAR-01-01" --to "$YEAR-12-31" --group-by "$G" --param unit=CHIEMHOA)
        R=$("$BIN" "${ARGS[@]}" --repeat "$REPEAT" 2>/tmp/sipas-bench-r.txt)
        RM=$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' /tmp/sipas-bench-r.txt)
        RX=$(sed -E 's/.*max_ms=([0-9.]+).*/\1/' /tmp/sipas-bench-r.txt)
        if [[ " $NAIVE_GROUPS " == *" $G "* ]]; then
            NV=$("$BIN" "${ARGS[@]}" --naive --repeat "$NAIVE_REPEAT" 2>/tmp/sipas-bench-n.txt)
            NM=$(sed -E 's/.*median_ms=([0-9.]+).*/\1/' /tmp/sipas-bench-n.txt)
            SAME=$([ "$R" = "$NV" ] && echo yes || echo NO)
        else
            NM="–"
            SAME="–"
        fi
        echo "| $G | $RM | $RX | $NM | $SAME |"
    done
    echo
    echo "load: $(uptime | sed 's/.*load/load/')"
    [ "${KEEP:-0}" = 1 ] || bench_psql -d postgres -c "DROP DATABASE $DB"
done
