# Sourced by the benchmark scripts: a private PostgreSQL cluster for benchmarks, on a Unix socket
# under $BENCH_DIR, tuned modestly for a 2-core, 24 GB machine, durable (fsync on).
# PG_MAX_WAL_SIZE (default 4GB) bounds the WAL kept between checkpoints, which is most of the
# disk a 10-million-response load needs beyond its data. PG_EXTRA_OPTS adds server options, e.g. "-c shared_preload_libraries=pg_stat_statements".
set -euo pipefail

BENCH_DIR=${BENCH_DIR:-/tmp/sipas-bench}
PG_BIN=${PG_BIN:-$(dirname "$(command -v initdb || echo /usr/lib/postgresql/15/bin/initdb)")}
PGPORT=${PGPORT:-5499}
SOCK="$BENCH_DIR/sock"

bench_cluster_start() {
    mkdir -p "$BENCH_DIR" "$SOCK"
    if [ "$(id -u)" = 0 ]; then
        RUN_AS=(runuser -u postgres --)
        chown -R postgres "$BENCH_DIR"
    else
        RUN_AS=()
    fi
    if [ ! -f "$BENCH_DIR/pgdata/PG_VERSION" ]; then
        "${RUN_AS[@]}" "$PG_BIN/initdb" -D "$BENCH_DIR/pgdata" -U postgres -A trust -E UTF8 --no-locale >/dev/null
    fi
    if ! "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$BENCH_DIR/pgdata" status >/dev/null 2>&1; then
        "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$BENCH_DIR/pgdata" -l "$BENCH_DIR/postgres.log" -w start -o \
            "-c listen_addresses='' -c unix_socket_directories='$SOCK' -p $PGPORT \
             -c shared_buffers=2GB -c work_mem=64MB -c maintenance_work_mem=1GB \
             -c max_wal_size=${PG_MAX_WAL_SIZE:-4GB} -c checkpoint_timeout=30min -c effective_cache_size=12GB \
             -c max_connections=100 ${PG_EXTRA_OPTS:-}" >/dev/null
    fi
}

bench_cluster_stop() {
    "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$BENCH_DIR/pgdata" -m fast -w stop >/dev/null || true
}

bench_url() {
    echo "postgres://postgres@/$1?host=$SOCK&port=$PGPORT"
}

bench_psql() {
    psql -X -q -h "$SOCK" -p "$PGPORT" -U postgres "$@"
}

# For scripts that run the service: builds the release binary (unless NO_BUILD=1) into $BIN,
# starts the cluster, makes the scratch folder $WORK, and on exit stops the service
# ($SERVICE_PID), the cluster (unless KEEP=1) and removes $WORK.
bench_service_setup() {
    : "${CARGO_TARGET_DIR:=target}"
    export CARGO_TARGET_DIR
    BIN=${BIN:-$CARGO_TARGET_DIR/release/sipas}
    [ "${NO_BUILD:-0}" = 1 ] || cargo build --release --locked -q
    bench_cluster_start
    SERVICE_PID=
    WORK=$(mktemp -d)
    trap bench_service_cleanup EXIT
}

bench_service_cleanup() {
    if [ -n "$SERVICE_PID" ]; then kill "$SERVICE_PID" 2>/dev/null; wait "$SERVICE_PID" 2>/dev/null || true; fi
    [ "${KEEP:-0}" = 1 ] || bench_cluster_stop
    rm -rf "$WORK"
}
