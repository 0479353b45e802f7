#!/usr/bin/env bash
# Contention experiment: what concurrent answers cost with a hot counter row per
# (day, officer, procedure, item, level) versus append-only delta rows (what the service does).
#
# Each pgbench transaction is one response's roll-up write: 16 measures (the response, the overall
# rating, the four TT01 indicators, ten SIPAS statements) for the same day, officer and procedure,
# as when one officer's residents answer at the same moment. Durable commits (fsync on,
# synchronous_commit on), like the service.
#
#   bench/contention.sh            # CLIENTS="1 4 16 64", 15 s each
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/cluster.sh
CLIENTS=${CLIENTS:-"1 4 16 64"}
SECONDS_EACH=${SECONDS_EACH:-15}
bench_cluster_start
trap '[ "${KEEP:-0}" = 1 ] || bench_cluster_stop' EXIT
DB=sipas_contention
bench_psql -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
bench_psql -d "$DB" <<'SQL'
-- the naive design: one counter row per cell and measure, updated in place
CREATE TABLE hot_counts (
    day date, unit_code text, officer_code text, procedure_code text, channel text, held boolean,
    item_code text, level smallint, n bigint NOT NULL, scored bigint NOT NULL, points bigint NOT NULL,
    PRIMARY KEY (day, unit_code, officer_code, procedure_code, channel, held, item_code, level));
-- the service's design (same columns as migrations/*_stats_rollups rollup_deltas)
CREATE TABLE rollup_deltas (
    id bigserial PRIMARY KEY, day date NOT NULL, unit_code text NOT NULL, officer_code text NOT NULL,
    procedure_code text NOT NULL, channel text NOT NULL, held boolean NOT NULL, item_code text NOT NULL,
    level smallint NOT NULL, n integer NOT NULL, scored integer NOT NULL, points integer NOT NULL);
SQL
ITEMS="('@response',0),('CASE.OVERALL',5),('TT01.I1',2),('TT01.I3',1),('TT01.I4',1),('TT01.I7',1),('E1.1',4),('E1.2',5),('E2.1',4),('E2.2',4),('E3.1',5),('E3.2',4),('E3.3',4),('E4.1',5),('E4.2',4),('E4.3',4)"
cat > /tmp/sipas-hot.sql <<SQL
INSERT INTO hot_counts SELECT '2026-03-02', 'CHIEMHOA', 'CH01', '1.001193', 'desk', false, i, l, 1, 0, 0
FROM (VALUES $ITEMS) v(i, l) ORDER BY i, l
ON CONFLICT (day, unit_code, officer_code, procedure_code, channel, held, item_code, level)
DO UPDATE SET n = hot_counts.n + excluded.n;
SQL
cat > /tmp/sipas-append.sql <<SQL
INSERT INTO rollup_deltas (day, unit_code, officer_code, procedure_code, channel, held, item_code, level, n, scored, points)
SELECT '2026-03-02', 'CHIEMHOA', 'CH01', '1.001193', 'desk', false, i, l, 1, 0, 0 FROM (VALUES $ITEMS) v(i, l);
SQL
echo "| clients | hot counter rows: tps | latency avg ms | append-only deltas: tps | latency avg ms |"
echo "|---:|---:|---:|---:|---:|"
for C in $CLIENTS; do
    J=$(( C < 2 ? 1 : 2 ))
    H=$(pgbench -n -h "$SOCK" -p "$PGPORT" -U postgres -c "$C" -j "$J" -T "$SECONDS_EACH" -f /tmp/sipas-hot.sql "$DB" 2>/dev/null)
    A=$(pgbench -n -h "$SOCK" -p "$PGPORT" -U postgres -c "$C" -j "$J" -T "$SECONDS_EACH" -f /tmp/sipas-append.sql "$DB" 2>/dev/null)
    tps() { echo "$1" | sed -nE 's/^tps = ([0-9.]+).*/\1/p' | cut -d. -f1; }
    lat() { echo "$1" | sed -nE 's/^latency average = ([0-9.]+) ms/\1/p'; }
    echo "| $C | $(tps "$H") | $(lat "$H") | $(tps "$A") | $(lat "$A") |"
done
