//! Liveness and observability: `GET /healthz` (is the service up, can it reach its database)
//! and `GET /metrics` (Prometheus text: requests and latencies per route, pool state).

mod handlers;
pub mod metrics;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(handlers::healthz))
        .route("/metrics", web::get().to(handlers::metrics));
}
