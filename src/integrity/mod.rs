//! Genuine results: integrity signals on responses (desk network, too fast, same device, burst),
//! their review by leaders, evidence per officer and period ([`evidence`]), offer rates from the one-stop system's daily caseload, the integrity
//! report, and the retention job that purges client hashes and case links. Its commands are
//! `cli::integrity`'s; follow-ups of comments and complaints are their own capability,
//! `followups`.
//!
//! An answer's own flags are set in its submission transaction ([`checks`]); the earlier answers
//! it shows to be part of a pattern are flagged within a second or two by [`spread`]. A flagged
//! response is kept, still accepted (201), and held out of the statistics through
//! `stats::rollup::set_held` until a leader reviews it genuine.

pub mod checks;
pub mod evidence;
pub mod handlers;
pub mod model;
pub mod pages;
pub mod retention;
pub mod spread;
pub mod store;

use actix_web::web;

/// Integrity's part of the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::report, handlers::flagged, handlers::review, handlers::cases_daily))]
struct Api;

pub fn api() -> utoipa::openapi::OpenApi {
    <Api as utoipa::OpenApi>::openapi()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/integrity", web::get().to(handlers::report))
        .route("/api/v1/integrity/flagged", web::get().to(handlers::flagged))
        .route("/api/v1/integrity/responses/{id}/review", web::post().to(handlers::review))
        .route("/api/v1/cases/daily", web::post().to(handlers::cases_daily))
        .route("/integrity", web::get().to(pages::integrity))
        .route("/integrity/responses/{id}/review", web::post().to(pages::review));
}
