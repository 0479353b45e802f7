//! HTTP: the province export, its schema, the periodic report, the province import and ranking,
//! and the public results page with its JSON twin.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::PgConnection;
use serde::Serialize;

use super::content::{self, ExportRequest, Period};
use super::province::Ranking;
use super::public::PublicResults;
use super::{formats, pages, province, public, report};
use crate::app::AppState;
use crate::auth::{Caller, PROVINCE_ROLES, ProvinceCaller};
use crate::auth::{Role, StaffPage};
use crate::db;
use crate::error::{AppError, BadQuery, ErrorBody, Forbidden, NotFound, Unauthorized, Unavailable};
use crate::http::assets;
use crate::http::pages::{Layout, PageError};
use crate::instrument::Instruments;

/// The JSON Schema of the export document, served at `/api/v1/exports/schema.json`.
pub const SCHEMA_JSON: &str = include_str!("../../docs/export.schema.json");

/// Largest export file the province import accepts.
pub const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

fn parse_format(params: &HashMap<String, String>) -> Result<Format, AppError> {
    match params.get("format").map(String::as_str) {
        None | Some("") => Ok(Format::Json),
        Some(f) => Format::parse(f)
            .ok_or_else(|| AppError::bad_request("invalid_format", "`format` must be json, csv or xlsx.")),
    }
}

fn check_known(params: &HashMap<String, String>, known: &[&str]) -> Result<(), AppError> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(AppError::bad_request(
            "unknown_parameter",
            format!("`{k}` is not a parameter of this endpoint."),
        )),
        None => Ok(()),
    }
}

/// A generated export file.
pub struct Generated {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub filename: String,
    pub export_id: String,
    pub sha256: String,
}

/// Builds the content from the statistics engine, writes it in `format`, and records the export
/// (who, when, hashes) in the audit log. Runs on a blocking thread.
pub fn generate(
    conn: &mut PgConnection,
    instruments: &Instruments,
    req: &ExportRequest,
    format: Format,
) -> Result<Generated, AppError> {
    let g = render_export(conn, instruments, req, format)?;
    audit_export(conn, req, &g)?;
    Ok(g)
}

/// The export file, read only (so it may run on the read replica).
pub fn render_export(
    conn: &mut PgConnection,
    instruments: &Instruments,
    req: &ExportRequest,
    format: Format,
) -> Result<Generated, AppError> {
    let c = content::build(conn, instruments, req)?;
    let doc = c.document()?;
    let bytes = match format {
        Format::Json => serde_json::to_vec_pretty(&doc).map_err(|e| AppError::internal(e.to_string()))?,
        Format::Csv => formats::csv(&c, &doc.sha256).map_err(AppError::internal)?,
        Format::Xlsx => formats::xlsx(&formats::sheets(&c, &doc.sha256, instruments.current()))
            .map_err(AppError::internal)?,
    };
    Ok(Generated {
        filename: format!("sipas-{}-{}.{}", req.unit, req.period.key, format.as_str()),
        export_id: c.export_id,
        sha256: doc.sha256,
        bytes,
        format,
    })
}

/// Records an export in the audit log (on the primary: it writes).
pub fn audit_export(conn: &mut PgConnection, req: &ExportRequest, g: &Generated) -> Result<(), AppError> {
    crate::kernel::audit::audit(
        conn,
        &req.actor,
        "export.province",
        &format!("{}/{}", req.unit, req.period.key),
        serde_json::json!({
            "export_id": g.export_id,
            "format": g.format.as_str(),
            "content_sha256": g.sha256,
            "file_sha256": crate::kernel::hashing::sha256_hex(&g.bytes),
        }),
    )?;
    Ok(())
}

fn unit_of(caller: &Caller, params: &HashMap<String, String>) -> Result<String, AppError> {
    match params.get("unit").filter(|u| !u.is_empty()) {
        Some(u) if !caller.may_act_for_unit(u) => {
            Err(AppError::forbidden("This API key may export the figures of its own unit only."))
        }
        Some(u) => Ok(u.clone()),
        None => Ok(caller.unit_code().to_string()),
    }
}

fn export_request(
    state: &AppState,
    caller: &Caller,
    params: &HashMap<String, String>,
) -> Result<ExportRequest, AppError> {
    Ok(ExportRequest {
        unit: unit_of(caller, params)?,
        period: content::parse_period(params.get("period"))?,
        min_n: crate::stats::query::min_n(&state.config, &state.instruments),
        officer_names: state.config.export_officer_names,
        actor: caller.actor(),
        // an officer (session or officer-bound key) exports and reports their own figures only
        officer: caller.officer_scope().map(str::to_string),
    })
}

/// `GET /api/v1/exports/province?period=…&format=json|csv|xlsx`.
#[utoipa::path(
    get,
    path = "/api/v1/exports/province",
    summary = "The period's aggregates for the province, hashed (docs/EXPORTS.md)",
    security(("bearer" = []), ("session" = [])),
    params(
        ("period" = String, Query, description = "A quarter, half-year or year: 2026-Q1, 2026-H1 or 2026"),
        ("format" = Option<String>, Query, description = "json (the default), csv or xlsx"),
        ("unit" = Option<String>, Query, description = "The unit to export; defaults to the caller's own"),
    ),
    responses(
        (status = 200, description = "The export (`X-Export-Id`, `X-Content-SHA256`); its JSON Schema is /api/v1/exports/schema.json",
            content(
                (Object = "application/json"),
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        BadQuery, Unauthorized, Forbidden, NotFound, Unavailable,
    )
)]
pub async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    check_known(&params, &["period", "format", "unit"])?;
    let format = parse_format(&params)?;
    let req = export_request(&state, &caller, &params)?;
    let instruments = state.instruments.clone();
    // the file is read where statistics are read; the audit row is written on the primary, and
    // the file is handed out only once it is recorded
    let rendered = req.clone();
    let g = state.read(move |conn| render_export(conn, &instruments, &rendered, format)).await?;
    let g = db::run(&state.pool, move |conn| audit_export(conn, &req, &g).map(|()| g)).await?;
    tracing::info!(export.id = %g.export_id, export.format = g.format.as_str(), "province export");
    Ok(HttpResponse::Ok()
        .content_type(g.format.content_type())
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", g.filename)))
        .insert_header(("X-Export-Id", g.export_id))
        .insert_header(("X-Content-SHA256", g.sha256))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(g.bytes))
}

/// `GET /api/v1/exports/schema.json`: the JSON Schema of the export document.
#[utoipa::path(
    get,
    path = "/api/v1/exports/schema.json",
    summary = "The JSON Schema of the export document",
    security(()),
    responses((status = 200, description = "A JSON Schema", body = Object, content_type = "application/schema+json"))
)]
pub async fn schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/schema+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(SCHEMA_JSON)
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

fn render(t: &impl Template) -> Result<String, AppError> {
    t.render().map_err(|e| AppError::internal(e.to_string()))
}

/// `GET /reports/periodic?period=…`: the printable periodic report of the caller's unit.
#[utoipa::path(
    get,
    path = "/reports/periodic",
    summary = "The printable periodic report (A4)",
    security(("bearer" = []), ("session" = [])),
    params(
        ("period" = String, Query, description = "A quarter, half-year or year: 2026-Q1, 2026-H1 or 2026"),
        ("unit" = Option<String>, Query, description = "The unit; defaults to the caller's own"),
    ),
    responses(
        (status = 200, description = "The report", body = String, content_type = "text/html"),
        BadQuery, Unauthorized, Forbidden, NotFound, Unavailable,
    )
)]
pub async fn periodic_report(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    check_known(&params, &["period", "unit"])?;
    let req = export_request(&state, &caller, &params)?;
    let instruments = state.instruments.clone();
    let page = state.read(move |conn| report::build(conn, &instruments, &req).map(|(_, p)| p)).await?;
    Ok(html(render(&page)?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Imported {
    unit: String,
    period: String,
}

/// What a province import stored.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ProvinceImport)]
pub struct ImportBody {
    imported: Vec<Imported>,
}

/// `POST /api/v1/province/exports`: one JSON export as the body; verified, then stored. Province
/// staff and admins only.
#[utoipa::path(
    post,
    path = "/api/v1/province/exports",
    summary = "Import one commune's JSON export (province staff and admins)",
    // no API key may: a commune's key is refused (auth::access)
    security(("session" = [])),
    request_body(content = Object, content_type = "application/json",
        description = "An export as `GET /api/v1/exports/province?format=json` wrote it, unchanged"),
    responses(
        (status = 201, description = "Verified and stored", body = ImportBody),
        (status = 413, description = "`payload_too_large`: over 16 MB", body = ErrorBody),
        (status = 422, description = "`export_refused`: the hash, schema or instrument does not check; nothing stored", body = ErrorBody),
        Unauthorized, Forbidden, Unavailable,
    )
)]
pub async fn province_import(
    state: web::Data<AppState>,
    ProvinceCaller(caller): ProvinceCaller,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let v = province::verify(&body, state.instruments.current()).map_err(|e| {
        AppError::unprocessable(
            "export_refused",
            format!("The export was refused and nothing was stored: {e}."),
        )
    })?;
    let actor = caller.actor();
    let done = db::run(&state.pool, move |conn| match province::import(conn, &[v], &actor) {
        Ok(done) => Ok(done),
        Err(province::ImportFailure::Refused(e)) => Err(AppError::unprocessable(
            "export_refused",
            format!("The export was refused and nothing was stored: {e}."),
        )),
        Err(province::ImportFailure::Db(e)) => Err(e.into()),
    })
    .await?;
    Ok(HttpResponse::Created().json(ImportBody {
        imported: done.into_iter().map(|(unit, period)| Imported { unit, period }).collect(),
    }))
}

async fn load_ranking(
    state: &AppState,
    params: &HashMap<String, String>,
) -> Result<province::Ranking, AppError> {
    let period: Period = content::parse_period(params.get("period"))?;
    let instruments = state.instruments.clone();
    let min_n = crate::stats::query::min_n(&state.config, &state.instruments);
    state.read(move |conn| Ok(province::ranking(conn, instruments.current(), &period, min_n)?)).await
}

/// `GET /api/v1/province/ranking?period=…&format=json|csv|xlsx`: province staff and admins.
#[utoipa::path(
    get,
    path = "/api/v1/province/ranking",
    summary = "The communes of a period, ranked (province staff and admins)",
    // no API key may: a commune's key is refused (auth::access)
    security(("session" = [])),
    params(("period" = String, Query, description = "A quarter, half-year or year: 2026-Q1, 2026-H1 or 2026"), ("format" = Option<String>, Query, description = "json (the default), csv or xlsx")),
    responses(
        (status = 200, description = "The ranking",
            content(
                (Ranking = "application/json"),
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        BadQuery, Unauthorized, Forbidden, Unavailable,
    )
)]
pub async fn ranking_json(
    state: web::Data<AppState>,
    _caller: ProvinceCaller,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    check_known(&params, &["period", "format"])?;
    let format = parse_format(&params)?;
    let r = load_ranking(&state, &params).await?;
    let name = format!("sipas-ranking-{}.{}", r.period, format.as_str());
    let bytes = match format {
        Format::Json => return Ok(HttpResponse::Ok().json(r)),
        Format::Csv => province::sheet_csv(&province::ranking_sheet(&r)).map_err(AppError::internal)?,
        Format::Xlsx => {
            let sheet = province::ranking_sheet(&r);
            web::block(move || formats::xlsx(&[sheet])).await?.map_err(AppError::internal)?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}

/// `GET /province/ranking?period=…`: the ranking as a printable page, for province staff and
/// admins signed in (others get the sign-in page or 403).
#[utoipa::path(
    get,
    path = "/province/ranking",
    summary = "The ranking as a printable page (province staff and admins signed in)",
    security(("session" = [])),
    params(("period" = String, Query, description = "A quarter, half-year or year: 2026-Q1, 2026-H1 or 2026")),
    responses(
        (status = 200, description = "The ranking page", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in page"),
        (status = 400, description = "A bad `period` (a page)", body = String, content_type = "text/html"),
        (status = 403, description = "Not province staff or an admin (a page)", body = String, content_type = "text/html"),
        (status = 503, description = "The database cannot be reached (a page)", body = String, content_type = "text/html"),
    )
)]
pub async fn ranking_page(
    state: web::Data<AppState>,
    staff: StaffPage,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    staff.require(PROVINCE_ROLES)?;
    check_known(&params, &["period"])?;
    let r = load_ranking(&state, &params).await?;
    Ok(html(render(&report::ranking_page(&r))?))
}

/// The public page of a unit that does not exist or does not publish its results.
const NOT_PUBLISHED: &str = "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Không có trang kết quả</title>\
<link rel=\"icon\" href=\"data:,\"></head><body><main><h1>Không có trang kết quả công khai tại địa chỉ này</h1>\
<p>Đơn vị không tồn tại hoặc chưa công bố kết quả đánh giá. There is no public results page at this address.</p>\
</main></body></html>";

/// How long browsers and proxies may keep the public results.
const PUBLIC_CACHE: &str = "public, max-age=600";

async fn public_results(state: &AppState, unit: String) -> Result<public::PublicResults, AppError> {
    let instruments = state.instruments.clone();
    let min_n = crate::stats::query::min_n(&state.config, &state.instruments);
    state.read(move |conn| public::results(conn, &instruments, &unit, min_n)).await
}

/// `GET /public/{unit}`: the unit's public results page (no sign-in).
#[utoipa::path(
    get,
    path = "/public/{unit}",
    summary = "A unit's public results page",
    security(()),
    params(("unit" = String, Path, description = "The unit's code")),
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html"),
        (status = 404, description = "No such unit, or it does not publish its results", body = String, content_type = "text/html"),
        Unavailable,
    )
)]
pub async fn public_page(
    state: web::Data<AppState>,
    unit: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let r = match public_results(&state, unit.into_inner()).await {
        Err(e) if e.code() == "not_found" => {
            // a person followed a link: answer in a page, not in JSON
            return Ok(HttpResponse::NotFound()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, PUBLIC_CACHE))
                .body(NOT_PUBLISHED));
        }
        other => other?,
    };
    let body = render(&report::public_page(&r))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, PUBLIC_CACHE))
        .body(body))
}

/// `GET /api/v1/public/{unit}`: the same results as JSON, for the provincial portal.
#[utoipa::path(
    get,
    path = "/api/v1/public/{unit}",
    summary = "A unit's public results (the provincial portal)",
    security(()),
    params(("unit" = String, Path, description = "The unit's code")),
    responses(
        (status = 200, description = "The results", body = PublicResults),
        NotFound, Unavailable,
    )
)]
pub async fn public_json(
    state: web::Data<AppState>,
    unit: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let r = public_results(&state, unit.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PUBLIC_CACHE))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(r))
}

/// `GET /province/upload`: the page province staff (and admins) import communes' exports from;
/// its script posts each file to `POST /api/v1/province/exports` with the session.
pub async fn upload_page(staff: StaffPage) -> Result<HttpResponse, PageError> {
    staff.require(PROVINCE_ROLES)?;
    let page = report::UploadPage { css: assets::href("report.css"), js: assets::href("upload.js") };
    Ok(html(render(&page)?))
}

/// `GET /reports[?unit=…]`: the "Báo cáo & xuất dữ liệu" page of a leader's unit (an admin
/// chooses the unit): every export with its period and format, the periodic report and the
/// public page, each one click away.
pub async fn reports_page(
    state: web::Data<AppState>,
    staff: StaffPage,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    staff.require(&[Role::Leader, Role::Admin])?;
    check_known(&params, &["unit"])?;
    let is_admin = staff.0.role() == Role::Admin;
    let all = if is_admin { db::run(&state.pool, |conn| Ok(pages::units(conn)?)).await? } else { Vec::new() };
    let unit = match staff.unit_for(params.get("unit").map(String::as_str)) {
        Ok(u) => u,
        // an admin without a home unit starts on the first unit
        Err(_) if !all.is_empty() => all[0].0.clone(),
        Err(e) => return Err(e),
    };
    let lookup = unit.clone();
    let facts = db::run(&state.pool, move |conn| Ok(pages::unit_facts(conn, &lookup)?)).await?;
    let Some((unit_name, public_on)) = facts else {
        return Err(PageError::App(AppError::not_found("not_found", format!("There is no unit `{unit}`."))));
    };
    let today = crate::kernel::time::today();
    let page = pages::ReportsPage {
        layout: Layout::new(&staff.0, "Báo cáo & xuất dữ liệu", "reports"),
        unit,
        unit_name,
        units: all,
        periods: pages::period_choices(today),
        period: pages::default_period(today),
        public_on,
    };
    Ok(html(render(&page)?))
}
