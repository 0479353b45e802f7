//! Follow-ups (DESIGN.md §2.6): a response opens one when its resident asks for a reply, rates
//! the case 1–2 with a comment, reports harassment (`TT01.I7`) or extra costs — also when these
//! arrive as additions ([`store::open`], inside the submission transaction). The unit's leader
//! owns it until it is reassigned; it moves new → in_progress → answered → closed, with a deadline
//! of `FOLLOWUP_DAYS` working days; every change is audited. The reply appears, escaped, at the
//! resident's own survey address ([`store::reply_of`]). Closing a harassment complaint as
//! unfounded leaves its case out of TT01.I7, through `stats::rollup::set_i7_unfounded`.

pub mod handlers;
pub mod model;
pub mod pages;
pub mod store;

use actix_web::web;

/// Follow-ups' part of the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::followups,
    handlers::reply,
    handlers::assign,
    handlers::set_status,
    handlers::close
))]
struct Api;

pub fn api() -> utoipa::openapi::OpenApi {
    <Api as utoipa::OpenApi>::openapi()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/followups", web::get().to(handlers::followups))
        .route("/api/v1/followups/{id}/reply", web::post().to(handlers::reply))
        .route("/api/v1/followups/{id}/assign", web::post().to(handlers::assign))
        .route("/api/v1/followups/{id}/status", web::post().to(handlers::set_status))
        .route("/api/v1/followups/{id}/close", web::post().to(handlers::close))
        .route("/followups", web::get().to(pages::followups))
        .route("/followups/{id}/{action}", web::post().to(pages::change));
}
