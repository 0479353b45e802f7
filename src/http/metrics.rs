//! Prometheus metrics kept in memory per instance (each instance is scraped on its own, so two
//! instances never need to agree on them).

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::db::Pool;

/// The service's metrics registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
}

impl Metrics {
    #[expect(clippy::expect_used, reason = "start-up: the metric definitions are constants that cannot fail")]
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("sipas_http_requests_total", "HTTP requests by route, method and status"),
            &["route", "method", "status"],
        )
        .expect("metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new("sipas_http_request_duration_seconds", "HTTP request latency by route")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["route", "method"],
        )
        .expect("metric definition");
        let pool_connections = IntGauge::new("sipas_db_pool_connections", "Open database connections")
            .expect("metric definition");
        let pool_idle = IntGauge::new("sipas_db_pool_idle_connections", "Idle database connections")
            .expect("metric definition");
        for m in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
        ] {
            registry.register(m).expect("metric registration");
        }
        Metrics { registry, requests, latency, pool_connections, pool_idle }
    }

    /// Counts one finished request. `route` is the matched pattern (`/s/{token}`), never the
    /// raw path, so tokens stay out of the metrics and the label set stays small.
    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.latency.with_label_values(&[route, method]).observe(elapsed.as_secs_f64());
    }

    /// The text exposition format, with the pool's state read now.
    pub fn render(&self, pool: &Pool) -> String {
        let state = pool.state();
        self.pool_connections.set(i64::from(state.connections));
        self.pool_idle.set(i64::from(state.idle_connections));
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
