//! Genuine results: integrity signals on responses (desk network, too fast, same device, burst),
//! their review by leaders, offer rates from the one-stop system's daily caseload, the integrity
//! report, follow-ups of comments and complaints (replies shown at the resident's survey
//! address), and the retention job that purges client hashes and case links.
//!
//! Routes: `GET /api/v1/integrity`, `GET /api/v1/integrity/flagged`,
//! `POST /api/v1/integrity/responses/{id}/review`, `POST /api/v1/cases/daily`,
//! `GET /api/v1/followups`, `POST /api/v1/followups/{id}/{reply,assign,status,close}`. Commands
//! (in `cli::integrity`): `sipas purge`, `sipas cases import FILE.csv`; `sipas demo` adds
//! [`staged`] patterns. Staff pages: `GET /integrity`, `POST /integrity/responses/{id}/review`,
//! `GET /followups`, `POST /followups/{id}/{reply,assign,status,close}`.
//!
//! Flagging happens in the submission transaction ([`checks`]); a flagged response is kept, still
//! accepted (201), and held out of the statistics through `stats::rollup::set_held` until a leader
//! reviews it genuine.

pub mod checks;
pub mod handlers;
pub mod model;
pub mod pages;
pub mod retention;
pub mod staged;
pub mod store;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/integrity", web::get().to(handlers::report))
        .route("/api/v1/integrity/flagged", web::get().to(handlers::flagged))
        .route("/api/v1/integrity/responses/{id}/review", web::post().to(handlers::review))
        .route("/api/v1/cases/daily", web::post().to(handlers::cases_daily))
        .route("/api/v1/followups", web::get().to(handlers::followups))
        .route("/api/v1/followups/{id}/reply", web::post().to(handlers::reply))
        .route("/api/v1/followups/{id}/assign", web::post().to(handlers::assign))
        .route("/api/v1/followups/{id}/status", web::post().to(handlers::set_status))
        .route("/api/v1/followups/{id}/close", web::post().to(handlers::close))
        .route("/integrity", web::get().to(pages::integrity))
        .route("/integrity/responses/{id}/review", web::post().to(pages::review))
        .route("/followups", web::get().to(pages::followups))
        .route("/followups/{id}/{action}", web::post().to(pages::change));
}
