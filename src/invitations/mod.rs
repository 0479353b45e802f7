//! Issuing surveys: single-use tokens bound to a handed-back case, their QR codes, printable
//! slips, the short typed code and its page, the officer's desk page and the customer screen,
//! and the integration API for one-stop systems.
//!
//! Routes:
//! - `POST /api/v1/invitations`, `POST /api/v1/invitations/batch` (API key): issue, idempotent
//!   by (unit, case number).
//! - `GET /api/v1/invitations/latest` (API key): the caller's latest invitation, for the screen.
//! - `GET /api/v1/procedures?q=`, `GET /api/v1/officers` (API key): the desk's pickers.
//! - `GET /q/{token}.svg`, `GET /q/{token}.png`: the QR of the survey address.
//! - `GET /slips/{token}[?layout=receipt|a4]`, `GET /slips?tokens=a,b,c[&layout=a4|receipt]`:
//!   printable slips.
//! - `GET /c`, `GET /c?code=…`, `GET /c/{code}`: type the short code, be sent to the survey.
//! - `POST /api/v1/desk/pairings` (an admin's session): pair a desk computer with a unit once.
//! - Offline issuing (`offline`): `GET /o/{token}` (a slip the desk signed while offline),
//!   `POST /api/v1/desk/offline-issues` (the desk's queue, reconciled by nonce),
//!   `GET /api/v1/desk/unit-data` (what the desk keeps), `GET /api/v1/desk/keys` and
//!   `POST /api/v1/desk/keys/{id}/revoke` (an admin's), `GET /desk-sw.js` (the service worker).
//! - `GET /desk`, `GET /desk/screen`: the officer's page and the resident-facing screen (their
//!   stylesheets and scripts are `http::assets`').
//! - `GET`/`POST /api/v1/units/{code}/instrument`, `GET`/`POST /questionnaire` (`choice`): the
//!   questionnaire version a unit's new invitations use, chosen by its leader (audited).

mod choice;
pub mod facts;
mod handlers;
pub mod issue;
pub mod model;
pub mod offline;
mod pages;
pub mod qr;
pub mod store;

use actix_web::web;

use crate::error;

/// Largest batch body: 500 items of a few hundred bytes each, or a few kilobytes with their case
/// facts' steps.
pub const BATCH_JSON_LIMIT: usize = 4 * 1024 * 1024;

/// Issuing's part of the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    handlers::create,
    handlers::create_batch,
    handlers::latest,
    handlers::procedures,
    handlers::officers,
    handlers::qr_svg,
    handlers::qr_png,
    handlers::slip_sheet,
    handlers::slip_one,
    handlers::code_page,
    handlers::code_redirect,
    handlers::pair_desk,
    handlers::offline_scan,
    handlers::offline_records,
    handlers::unit_data,
    handlers::desk_keys,
    handlers::revoke_desk_key,
    choice::show,
    choice::choose,
))]
struct Api;

pub fn api() -> utoipa::openapi::OpenApi {
    <Api as utoipa::OpenApi>::openapi()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/invitations", web::post().to(handlers::create))
        .service(
            web::resource("/api/v1/invitations/batch")
                .app_data(error::json_config(BATCH_JSON_LIMIT))
                .route(web::post().to(handlers::create_batch)),
        )
        .route("/api/v1/invitations/latest", web::get().to(handlers::latest))
        .route("/api/v1/procedures", web::get().to(handlers::procedures))
        .route("/api/v1/officers", web::get().to(handlers::officers))
        .route("/q/{token}.svg", web::get().to(handlers::qr_svg))
        .route("/q/{token}.png", web::get().to(handlers::qr_png))
        .route("/slips", web::get().to(handlers::slip_sheet))
        .route("/slips/{token}", web::get().to(handlers::slip_one))
        .route("/c", web::get().to(handlers::code_page))
        .route("/c/{code}", web::get().to(handlers::code_redirect))
        .route("/api/v1/desk/pairings", web::post().to(handlers::pair_desk))
        .route("/api/v1/desk/offline-issues", web::post().to(handlers::offline_records))
        .route("/api/v1/desk/unit-data", web::get().to(handlers::unit_data))
        .route("/api/v1/desk/keys", web::get().to(handlers::desk_keys))
        .route("/api/v1/desk/keys/{id}/revoke", web::post().to(handlers::revoke_desk_key))
        .route("/o/{token}", web::get().to(handlers::offline_scan))
        .route("/desk-sw.js", web::get().to(handlers::service_worker))
        .route("/desk", web::get().to(handlers::desk))
        .route("/desk/screen", web::get().to(handlers::desk_screen))
        .service(
            web::resource("/api/v1/units/{code}/instrument")
                .route(web::get().to(choice::show))
                .route(web::post().to(choice::choose)),
        )
        .service(
            web::resource("/questionnaire")
                .route(web::get().to(choice::page))
                .route(web::post().to(choice::submit)),
        );
}
