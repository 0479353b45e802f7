//! Liveness and observability: `GET /healthz` (is the service up, can it reach its database)
//! and `GET /metrics` (Prometheus text: requests and latencies per route, pool state). The
//! contract, `GET /api/openapi.json`, is `crate::openapi`'s.

mod handlers;

use actix_web::web;

/// Health's part of the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::healthz, handlers::metrics))]
struct Api;

pub fn api() -> utoipa::openapi::OpenApi {
    <Api as utoipa::OpenApi>::openapi()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(handlers::healthz))
        .route("/metrics", web::get().to(handlers::metrics));
}
