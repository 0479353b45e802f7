#!/usr/bin/env bash
# Every figure of BENCHMARKS.md, in order, on this machine (builds the release binary once).
# Takes about an hour plus the statistics runs (bench/stats.sh at 10 million responses needs
# ~30 GB of disk and hours). Output goes to the terminal and to bench-results-<date>.txt.
#
#   bench/all.sh
#   SKIP_STATS=1 bench/all.sh        # everything but bench/stats.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=target}"
export CARGO_TARGET_DIR
OUT=${OUT:-bench-results-$(date +%Y%m%d-%H%M).txt}
cargo build --release --locked -q
export NO_BUILD=1
{
    echo "# $(date -u) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "## answers: group commit (defaults)"
    bench/answers.sh
    echo "## answers: one transaction per answer (ANSWER_BATCH=1)"
    EXTRA_ENV="ANSWER_BATCH=1 ANSWER_WRITERS=16" bench/answers.sh
    echo "## answers: with info logging"
    RUST_LOG=info bench/answers.sh
    echo "## survey page, QR, slips, export"
    bench/pages.sh
    echo "## hot counter rows against append-only deltas"
    bench/contention.sh
    echo "## synchronous standby against a single primary"
    bench/standby.sh
    echo "## time to the first write after kill -9 of the primary, pg_auto_failover"
    bench/autofailover.sh
    MONITOR_SETTINGS="pgautofailover.primary_demote_timeout=10s pgautofailover.node_considered_unhealthy_timeout=5s" bench/autofailover.sh
    if [ "${SKIP_STATS:-0}" != 1 ]; then
        echo "## statistics"
        bench/stats.sh 1000000 10000000
    fi
} 2>&1 | tee "$OUT"
