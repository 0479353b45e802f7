//! Liveness, observability and the contract: `GET /healthz` (is the service up, can it reach
//! its database), `GET /metrics` (Prometheus text: requests and latencies per route, pool
//! state) and `GET /api/openapi.json` (the external contract, `web/api/openapi.json`).

mod handlers;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(handlers::healthz))
        .route("/metrics", web::get().to(handlers::metrics))
        .route("/api/openapi.json", web::get().to(handlers::openapi));
}
