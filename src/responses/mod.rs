//! Residents' responses: the submission core shared by the JSON API and the survey's HTML form,
//! and `POST /api/v1/responses/{token}`.
//!
//! A token answers once. The first post (201) must rate `CASE.OVERALL`; later posts within the
//! additions window add items (200) and never change one already answered. Exactly once is
//! enforced by the database: one transaction locks the invitation row, and `responses` has a
//! unique key on the invitation.
//!
//! Both faces submit through [`committer`]: writer threads store the submissions waiting at a
//! moment in one transaction (group commit: one WAL flush for many answers) and acknowledge none
//! before it commits. Measured in BENCHMARKS.md ("Answers").

pub mod committer;
mod handlers;
pub mod model;
pub mod store;
pub mod submit;

use actix_web::web;

/// Largest accepted body of answers.
pub const ANSWERS_LIMIT: usize = 16 * 1024;

/// The responses' part of the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::submit))]
struct Api;

pub fn api() -> utoipa::openapi::OpenApi {
    <Api as utoipa::OpenApi>::openapi()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/responses/{token}")
            .app_data(crate::error::json_config(ANSWERS_LIMIT))
            .route(web::post().to(handlers::submit)),
    );
}
