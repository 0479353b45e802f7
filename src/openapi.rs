//! The external contract, generated: `GET /api/openapi.json` is the OpenAPI 3.1 document built
//! from the handlers' own `#[utoipa::path]` annotations and the request and response types'
//! `ToSchema`, so it cannot drift from the code. Each capability declares its part in its
//! `mod.rs` (`pub fn api()`, a `#[derive(OpenApi)]` listing its handlers); this module, at the
//! roof because it sees every capability, merges them and adds what is shared (the error shape
//! and the two ways to authenticate). `tests/api/contract.rs` compares the served document with
//! the committed `docs/openapi.json` (`UPDATE_SNAPSHOTS=1 cargo test contract` rewrites it).

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::error::ErrorBody;

/// What the document says about itself, the error shape and the security schemes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "SIPAS desk survey service",
        version = "1",
        description = "The external contract of the service (DESIGN.md §5), generated from the \
                       handlers. Every JSON error has the shape \
                       {\"error\": \"<machine_code>\", \"message\": \"<human sentence>\"}."
    ),
    paths(served),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes)
)]
struct Root;

/// `bearer`: an API key from `sipas api-key create`; `session`: a staff member signed in.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `sipas api-key create`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::session::SESSION_COOKIE,
                "A staff session (sign in at /login)",
            ))),
        );
    }
}

/// The whole document: the root and every capability's part.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Root::openapi();
    for part in [
        crate::health::api(),
        crate::integrity::api(),
        crate::followups::api(),
        crate::invitations::api(),
        crate::reporting::api(),
        crate::responses::api(),
        crate::stats::api(),
        crate::survey::api(),
    ] {
        doc.merge(part);
    }
    document_nul_refusal(&mut doc);
    doc
}

/// Every route refuses a query string that carries a NUL before its handler runs, in JSON
/// (`http::middleware::access_check`), so every operation lists that 400: alone, or as a JSON
/// body beside a page's own 400.
fn document_nul_refusal(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, ContentBuilder, Ref, RefOr, ResponseBuilder};
    const WHY: &str = "`invalid_text`: the query string carries a NUL (%00), which every route refuses";
    let json = || -> Content { ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build() };
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            match operation.responses.responses.get_mut("400") {
                None => {
                    let refusal =
                        ResponseBuilder::new().description(WHY).content("application/json", json()).build();
                    operation.responses.responses.insert("400".into(), refusal.into());
                }
                Some(RefOr::T(page)) if !page.content.contains_key("application/json") => {
                    page.content.insert("application/json".into(), json().into());
                    page.description = format!("{}; or (JSON) {WHY}", page.description);
                }
                Some(_) => {}
            }
        }
    }
}

/// The document as served, written once per worker when the routes are configured.
struct Served(String);

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    summary = "This document",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
async fn served(doc: web::Data<Served>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(doc.0.clone())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    let body = document().to_pretty_json().unwrap_or_default();
    cfg.app_data(web::Data::new(Served(body))).route("/api/openapi.json", web::get().to(served));
}
