//! The resident's survey: `GET /s/{token}` renders the questionnaire screen by screen (the overall
//! rating alone first, one tap, no JavaScript needed), `POST /s/{token}` takes each screen as a
//! plain HTML form through the submission core of [`crate::responses`]. Vietnamese unless the
//! resident taps English or a language the version is translated into (`?lang=`, then remembered
//! on the token); a large-text switch through `?size=l`.

mod handlers;
pub mod i18n;
mod pages;
pub mod steps;
mod store;

use actix_web::web;

/// The survey's part of the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(handlers::show, handlers::post))]
struct Api;

pub fn api() -> utoipa::openapi::OpenApi {
    <Api as utoipa::OpenApi>::openapi()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/s/{token}")
            .route(web::get().to(handlers::show))
            .route(web::post().to(handlers::post)),
    );
}
