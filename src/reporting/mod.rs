//! Reporting upward and outward (issue 7): the province export of a unit's period in JSON, CSV
//! and XLSX ([`content`], [`formats`]), the periodic report page ([`report`]), the leader's page
//! that reaches all of them (`/reports`, [`pages`]), the province mode
//! that imports communes' exports and ranks them ([`province`]) and the public results page
//! ([`public`]).
//!
//! Every figure comes from the statistics engine (`stats::query::run` over the
//! roll-ups): the same numbers as `GET /api/v1/stats` for the same dates, never a second
//! implementation. The aggregates of one unit and period are small (a few hundred groups at most),
//! so files are generated from them on a blocking thread rather than streamed row by row.

pub mod content;
pub mod formats;
pub mod handlers;
pub mod pages;
pub mod plausible;
pub mod province;
pub mod public;
pub mod report;
pub mod signing;
pub mod upload;

use actix_web::web;

/// Reporting's part of the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::export,
    handlers::schema,
    handlers::periodic_report,
    handlers::province_import,
    handlers::ranking_json,
    handlers::ranking_page,
    handlers::public_page,
    handlers::public_json,
))]
struct Api;

pub fn api() -> utoipa::openapi::OpenApi {
    <Api as utoipa::OpenApi>::openapi()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/exports/province", web::get().to(handlers::export))
        .route("/api/v1/exports/schema.json", web::get().to(handlers::schema))
        .route("/reports", web::get().to(handlers::reports_page))
        .route("/reports/periodic", web::get().to(handlers::periodic_report))
        .route("/api/v1/province/exports", web::post().to(handlers::province_import))
        .route("/api/v1/province/ranking", web::get().to(handlers::ranking_json))
        .route("/province/ranking", web::get().to(handlers::ranking_page))
        .route("/province/upload", web::get().to(handlers::upload_page))
        .route("/province/keys", web::get().to(handlers::keys_page))
        .route("/province/keys", web::post().to(handlers::register_key))
        .route("/province/keys/{key_id}/revoke", web::post().to(handlers::revoke_key))
        .route("/public/{unit}", web::get().to(handlers::public_page))
        .route("/api/v1/public/{unit}", web::get().to(handlers::public_json));
}
