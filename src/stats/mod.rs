//! Satisfaction statistics: the formulas of DESIGN.md §4 ([`model`]), the roll-ups maintained as
//! answers arrive ([`rollup`], the writers' interface), reading counts ([`store`]), and the read
//! interface: a typed [`query::StatsQuery`] answered as a [`report::Report`], which
//! `GET /api/v1/stats` writes out as it is. [`compare`] (funnel plots, procedure-mix-adjusted
//! scores, changes with their interval) on the intervals of [`inference`] is the comparison
//! interface the dashboard, the integrity page and the reports share; `GET /api/v1/stats/comparison`
//! is its JSON face.

pub mod compare;
mod handlers;
pub mod inference;
pub mod model;
mod pages;
pub mod query;
pub mod report;
pub mod rollup;
pub mod store;
pub mod unit_scores;

use actix_web::web;

/// The statistics' part of the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::stats,
    handlers::comparison,
    handlers::record_unit_indicators,
    handlers::list_unit_indicators
))]
struct Api;

pub fn api() -> utoipa::openapi::OpenApi {
    <Api as utoipa::OpenApi>::openapi()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/stats", web::get().to(handlers::stats));
    cfg.route("/api/v1/stats/comparison", web::get().to(handlers::comparison));
    cfg.route("/api/v1/tt01/unit-indicators", web::post().to(handlers::record_unit_indicators));
    cfg.route("/api/v1/tt01/unit-indicators", web::get().to(handlers::list_unit_indicators));
    cfg.route("/tt01/unit-indicators", web::get().to(pages::page));
    cfg.route("/tt01/unit-indicators", web::post().to(pages::record));
}
