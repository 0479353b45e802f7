//! HTTP: the province export, its schema, the periodic report, the province import and ranking,
//! and the public results page with its JSON twin.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::PgConnection;
use futures_util::StreamExt as _;
use serde::Serialize;

use super::content::{self, ExportRequest, Period};
use super::province::Ranking;
use super::public::PublicResults;
use super::{formats, pages, province, public, report, signing, upload};
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
    /// The key id that signed it, or `unsigned`.
    pub key_id: String,
}

/// Builds the content from the statistics engine, writes it in `format`, and records the export
/// (who, when, hashes) in the audit log. Runs on a blocking thread.
pub fn generate(
    conn: &mut PgConnection,
    instruments: &Instruments,
    secret: &[u8],
    req: &ExportRequest,
    format: Format,
) -> Result<Generated, AppError> {
    let g = render_export(conn, instruments, secret, req, format)?;
    audit_export(conn, req, &g)?;
    Ok(g)
}

/// The export file, read only (so it may run on the read replica), signed with the unit's export
/// key when it has one (`signing`; `secret` opens the sealed key), marked unsigned when not.
pub fn render_export(
    conn: &mut PgConnection,
    instruments: &Instruments,
    secret: &[u8],
    req: &ExportRequest,
    format: Format,
) -> Result<Generated, AppError> {
    let c = content::build(conn, instruments, req)?;
    let mut doc = c.document()?;
    let block = signing::block_for(conn, secret, &req.unit, content::canonical(&doc.content).as_bytes())?;
    let key_id = block.label().to_string();
    doc.signature = Some(block);
    // the CSV and the XLSX carry the whole document, whatever fields it has, for the import
    let embedded = || serde_json::to_string(&doc).map_err(|e| AppError::internal(e.to_string()));
    let bytes = match format {
        Format::Json => serde_json::to_vec_pretty(&doc).map_err(|e| AppError::internal(e.to_string()))?,
        Format::Csv => formats::csv(&c, &doc.sha256, &key_id, &embedded()?).map_err(AppError::internal)?,
        Format::Xlsx => {
            let sheets = formats::sheets(&c, &doc.sha256, &key_id, instruments.combined());
            formats::xlsx(&sheets, Some(&embedded()?)).map_err(AppError::internal)?
        }
    };
    Ok(Generated {
        filename: format!("sipas-{}-{}.{}", req.unit, req.period.key, format.as_str()),
        export_id: c.export_id,
        sha256: doc.sha256,
        key_id,
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
            "key_id": g.key_id,
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
        formula: crate::stats::query::parse_formula(params.get("formula"))?,
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
        ("formula" = Option<String>, Query, description = "How statements are scored: share45 (the share of answers at levels 4 and 5, the default) or mean100 (the mean level on 1–5 shown as 0–100); the file states it in measure.formula. 400 invalid_formula otherwise"),
    ),
    responses(
        (status = 200, description = "The export, signed with the unit's Ed25519 key when it has one (`X-Export-Id`, `X-Content-SHA256`, `X-Signature-Key-Id`: the key id or `unsigned`); its JSON Schema is /api/v1/exports/schema.json",
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
    check_known(&params, &["period", "format", "unit", "formula"])?;
    let format = parse_format(&params)?;
    let req = export_request(&state, &caller, &params)?;
    let instruments = state.instruments.clone();
    // the file is read where statistics are read; the audit row is written on the primary, and
    // the file is handed out only once it is recorded
    let rendered = req.clone();
    let secret = state.secret.clone();
    let g = state.read(move |conn| render_export(conn, &instruments, &secret, &rendered, format)).await?;
    let g = db::run(&state.pool, move |conn| audit_export(conn, &req, &g).map(|()| g)).await?;
    tracing::info!(export.id = %g.export_id, export.format = g.format.as_str(), key.id = %g.key_id, "province export");
    Ok(HttpResponse::Ok()
        .content_type(g.format.content_type())
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", g.filename)))
        .insert_header(("X-Export-Id", g.export_id))
        .insert_header(("X-Content-SHA256", g.sha256))
        .insert_header(("X-Signature-Key-Id", g.key_id))
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
        ("formula" = Option<String>, Query, description = "share45 (the default) or mean100, stated on the page"),
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
    check_known(&params, &["period", "unit", "formula"])?;
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

/// What a province import stored, and what became of each file.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ProvinceImport)]
pub struct ImportBody {
    imported: Vec<Imported>,
    files: Vec<upload::FileOutcome>,
}

/// A refused import: the error shape, and what became of each file (`refused` with the reason in
/// Vietnamese and English, or `not_stored`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ProvinceImportRefused)]
pub struct RefusedBody {
    /// `export_refused`.
    error: &'static str,
    message: String,
    files: Vec<upload::FileOutcome>,
}

/// The most one uploaded file may hold (a genuine export is tens to a few hundred kilobytes).
pub const FILE_LIMIT: usize = 4 * 1024 * 1024;
/// The most one upload may hold, all files together; each is spooled to a temporary file as it
/// arrives, so this bounds the disk used, not the memory.
pub const REQUEST_LIMIT: usize = 64 * 1024 * 1024;
/// The most files one upload may carry.
pub const MAX_FILES: usize = 500;

fn too_large(what: String) -> AppError {
    AppError::client(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", what)
}

fn file_too_large(name: &str) -> AppError {
    too_large(format!(
        "`{name}` is over {} MB, the most one export file may hold; nothing was stored.",
        FILE_LIMIT / 1024 / 1024
    ))
}

fn upload_too_large() -> AppError {
    too_large(format!(
        "The upload is over {} MB, the most one upload may hold; send fewer files at a time. Nothing was stored.",
        REQUEST_LIMIT / 1024 / 1024
    ))
}

/// One received file: its name, and its bytes in memory (a request body) or spooled to an
/// unnamed temporary file (a multipart part).
type Received = (String, Box<dyn std::io::Read + Send>);

/// Appends `chunk` to one file's bytes, within the file's and the request's limits.
fn take(buf: &mut Vec<u8>, total: &mut usize, chunk: &[u8], name: &str) -> Result<(), AppError> {
    *total += chunk.len();
    if *total > REQUEST_LIMIT {
        return Err(upload_too_large());
    }
    if buf.len() + chunk.len() > FILE_LIMIT {
        return Err(file_too_large(name));
    }
    buf.extend_from_slice(chunk);
    Ok(())
}

/// Receives the upload as it streams in: a `multipart/form-data` body (each part with a file
/// name is a file; other parts are skipped) or, for any other type, the body as one file. At
/// most one file's bytes are in memory at a time: each part is written to an unnamed temporary
/// file once complete. Past [`FILE_LIMIT`] or [`REQUEST_LIMIT`] the rest is not read: 413.
async fn receive(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<Received>, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > REQUEST_LIMIT) {
        return Err(upload_too_large());
    }
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let mut total = 0;
    if !multipart {
        let mut buf = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| AppError::bad_request("malformed_upload", e.to_string()))?;
            take(&mut buf, &mut total, &chunk, "body")?;
        }
        return Ok(vec![("body".to_string(), Box::new(std::io::Cursor::new(buf)))]);
    }
    let bad = |e: actix_multipart::MultipartError| {
        AppError::bad_request("malformed_upload", format!("The multipart body cannot be read: {e}."))
    };
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut files: Vec<Received> = Vec::new();
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(bad)?;
        let name = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_string);
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad)?;
            match &name {
                Some(n) => take(&mut buf, &mut total, &chunk, n)?,
                // a form's other fields count towards the request, and are dropped
                None => take(&mut Vec::new(), &mut total, &chunk, "")?,
            }
        }
        let Some(name) = name else { continue };
        if files.len() == MAX_FILES {
            return Err(too_large(format!(
                "The upload has more than {MAX_FILES} files; send fewer at a time. Nothing was stored."
            )));
        }
        let spooled = web::block(move || -> std::io::Result<std::fs::File> {
            use std::io::{Seek, Write};
            let mut f = tempfile::tempfile()?;
            f.write_all(&buf)?;
            f.rewind()?;
            Ok(f)
        })
        .await?
        .map_err(AppError::internal)?;
        files.push((name, Box::new(spooled)));
    }
    Ok(files)
}

/// `POST /api/v1/province/exports`: communes' exports, verified, then stored all or none.
/// Province staff and admins only.
#[utoipa::path(
    post,
    path = "/api/v1/province/exports",
    summary = "Import communes' exports in JSON, CSV or XLSX (province staff and admins)",
    description = "Either one export as the body (any content type; the format is read from the content), or \
`multipart/form-data` with one part per file (each part with a file name is a file). Each file is an export as \
`GET /api/v1/exports/province?format=json|csv|xlsx` wrote it, unchanged: a CSV or XLSX carries the whole JSON \
document, which is what is verified, its Ed25519 signature included (a key the province registered for that \
unit and has not revoked). All files are stored, or none: when one is refused, none is stored and \
`files` names each file's outcome. docs/EXPORTS.md, \"Province mode\".",
    // no API key may: a commune's key is refused (auth::access)
    security(("session" = [])),
    request_body(
        description = "An export file as the body, or multipart/form-data with several",
        content(
            (Object = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Object = "multipart/form-data"),
        )
    ),
    responses(
        (status = 201, description = "Every file verified and stored", body = ImportBody),
        (status = 400, description = "`no_files`: the upload holds no file; `malformed_upload`: the multipart body cannot be read", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: a file over 4 MB, an upload over 64 MB or over 500 files; nothing stored", body = ErrorBody),
        (status = 422, description = "`export_refused`: a file is refused (not an export, changed, unsigned, a signature not valid, a key not registered for the unit, another unit's or revoked, forged, unknown commune, older than the stored one …); nothing stored, `files` says which and why", body = RefusedBody),
        Unauthorized, Forbidden, Unavailable,
    )
)]
pub async fn province_import(
    state: web::Data<AppState>,
    ProvinceCaller(caller): ProvinceCaller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let files = receive(&req, payload).await?;
    if files.is_empty() {
        return Err(AppError::bad_request(
            "no_files",
            "The upload holds no file: choose one or more export files.",
        ));
    }
    let count = files.len();
    let instruments = state.instruments.clone();
    let actor = caller.actor();
    let batch = db::run(&state.pool, move |conn| {
        match upload::import_files(conn, files, instruments.combined(), &actor) {
            Ok(b) => Ok(b),
            Err(upload::BatchError::Db(e)) => Err(e.into()),
            Err(upload::BatchError::Io(e)) => Err(AppError::internal(e)),
        }
    })
    .await?;
    match batch {
        upload::Batch::Stored(files) => {
            tracing::info!(import.files = count, "province import");
            let imported = files
                .iter()
                .filter_map(|f| Some(Imported { unit: f.unit.clone()?, period: f.period.clone()? }))
                .collect();
            Ok(HttpResponse::Created().json(ImportBody { imported, files }))
        }
        upload::Batch::Refused(files) => {
            let why: Vec<String> = files
                .iter()
                .filter(|f| f.status == upload::Status::Refused)
                .filter_map(|f| f.reason.as_ref().map(|r| format!("{}: {}", f.file, r.en)))
                .collect();
            Ok(HttpResponse::UnprocessableEntity().json(RefusedBody {
                error: "export_refused",
                message: format!("The export was refused and nothing was stored: {}.", why.join("; ")),
                files,
            }))
        }
    }
}

async fn load_ranking(state: &AppState, period: Period) -> Result<province::Ranking, AppError> {
    let instruments = state.instruments.clone();
    let min_n = crate::stats::query::min_n(&state.config, &state.instruments);
    state.read(move |conn| Ok(province::ranking(conn, instruments.combined(), &period, min_n)?)).await
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
    let r = load_ranking(&state, content::parse_period(params.get("period"))?).await?;
    let name = format!("sipas-ranking-{}.{}", r.period, format.as_str());
    let bytes = match format {
        Format::Json => return Ok(HttpResponse::Ok().json(r)),
        Format::Csv => province::sheet_csv(&province::ranking_sheet(&r)).map_err(AppError::internal)?,
        Format::Xlsx => {
            let sheet = province::ranking_sheet(&r);
            web::block(move || formats::xlsx(&[sheet], None)).await?.map_err(AppError::internal)?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}

/// `GET /province/ranking[?period=…]`: the ranking page of province staff and admins signed in
/// (others get the sign-in page or 403): the period picker, the chosen period's ranking with
/// every commune of the master data (those that did not submit listed as such), its downloads.
/// Without a period it opens on the latest period with imports; a bad period or parameter shows
/// the picker with a Vietnamese message (400).
#[utoipa::path(
    get,
    path = "/province/ranking",
    summary = "The ranking page with its period picker (province staff and admins signed in)",
    security(("session" = [])),
    params(("period" = Option<String>, Query, description = "A quarter, half-year or year: 2026-Q1, 2026-H1 or 2026; defaults to the latest period with imports")),
    responses(
        (status = 200, description = "The ranking page", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in page"),
        (status = 400, description = "A bad `period` or an unknown parameter: the picker and a Vietnamese message (a page)", body = String, content_type = "text/html"),
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
    let imported = state.read(|conn| Ok(province::imported_periods(conn)?)).await?;
    let today = crate::kernel::time::today();
    let requested = params.get("period").map(String::as_str).filter(|p| !p.is_empty());
    let problem = if let Some(k) = params.keys().find(|k| k.as_str() != "period") {
        Some(format!(
            "Địa chỉ có tham số «{k}» mà trang này không dùng. Chọn kỳ báo cáo trong danh sách rồi bấm «Xem xếp hạng»."
        ))
    } else {
        requested.filter(|p| Period::parse(p).is_none()).map(|p| {
            format!("«{p}» không phải kỳ báo cáo hợp lệ. Chọn một quý, 6 tháng hoặc năm (từ năm 2000 đến 2100) trong danh sách rồi bấm «Xem xếp hạng».")
        })
    };
    let layout = Layout::new(&staff.0, "Xếp hạng các xã, phường", "ranking");
    if let Some(message) = problem {
        let page = pages::ProvinceRankingPage {
            layout,
            periods: pages::ranking_choices(today, &imported, None),
            period: pages::ranking_default(today, &imported),
            message: Some(message),
            note: None,
            ranking: None,
        };
        return crate::http::pages::render(actix_web::http::StatusCode::BAD_REQUEST, &page);
    }
    let key = requested.map(str::to_string).unwrap_or_else(|| pages::ranking_default(today, &imported));
    let period = Period::parse(&key).ok_or_else(|| AppError::internal(format!("no period {key}")))?;
    let note = if imported.is_empty() {
        Some("Chưa có bản xuất nào được nhập: mọi xã, phường được liệt kê là chưa nộp. Nhập bản xuất của các xã tại trang «Nhập bản xuất».".to_string())
    } else if !imported.iter().any(|(k, _)| *k == key) {
        Some(format!(
            "Chưa có xã, phường nào nộp bản xuất của {}: mọi xã được liệt kê là chưa nộp.",
            period.label()
        ))
    } else {
        None
    };
    let r = load_ranking(&state, period).await?;
    let page = pages::ProvinceRankingPage {
        layout,
        periods: pages::ranking_choices(today, &imported, Some(&key)),
        period: key,
        message: None,
        note,
        ranking: Some(report::ranking_view(&r)),
    };
    crate::http::pages::render(actix_web::http::StatusCode::OK, &page)
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
/// its script sends every chosen file in one multipart request to `POST /api/v1/province/exports`
/// with the session and lists each file's outcome.
pub async fn upload_page(staff: StaffPage) -> Result<HttpResponse, PageError> {
    staff.require(PROVINCE_ROLES)?;
    let page = pages::UploadPage {
        layout: Layout::new(&staff.0, "Nhập bản xuất", "upload"),
        js: assets::href("upload.js"),
        file_mb: FILE_LIMIT / 1024 / 1024,
        request_mb: REQUEST_LIMIT / 1024 / 1024,
        max_files: MAX_FILES,
    };
    crate::http::pages::render(actix_web::http::StatusCode::OK, &page)
}

/// The registration form of `/province/keys`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    key_id: String,
    #[serde(default)]
    public_key: String,
}

/// The CSRF token alone (the revoke button).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// The Vietnamese of a registration's refusal (the page speaks Vietnamese; the English follows).
fn key_error_vi(e: &signing::KeyError) -> String {
    use signing::KeyError as K;
    let vi = match e {
        K::UnknownUnit(u) => format!("đơn vị «{u}» không có trong danh mục xã, phường của tỉnh"),
        K::BadPublicKey => {
            "khóa công khai không phải 32 byte base64 của một khóa Ed25519: kiểm tra lại nội dung xã gửi"
                .into()
        }
        K::KeyIdMismatch { given, actual } => format!(
            "mã khóa {given} không khớp với khóa công khai (mã của khóa này là {actual}): khóa bị gõ sai hoặc không phải khóa xã đã đọc"
        ),
        K::Registered { key_id, unit } => format!("khóa {key_id} đã được đăng ký cho đơn vị {unit}"),
        K::NotRegistered(k) => format!("không có khóa đang hiệu lực {k}"),
        other => format!("không đăng ký được khóa ({other})"),
    };
    format!("{vi} ({e}).")
}

async fn keys_view(
    state: &AppState,
    staff: &StaffPage,
    status: actix_web::http::StatusCode,
    notice: Option<String>,
    error: Option<String>,
    form: KeyForm,
) -> Result<HttpResponse, PageError> {
    let (units, keys) =
        db::run(&state.pool, |conn| Ok((pages::units(conn)?, signing::list(conn, None)?))).await?;
    let t = crate::kernel::time::local_datetime;
    let page = pages::KeysPage {
        layout: Layout::new(&staff.0, "Khóa ký của xã", "keys"),
        units,
        keys: keys
            .into_iter()
            .map(|k| pages::KeyRow {
                unit: k.unit_code,
                key_id: k.key_id,
                registered_at: t(k.registered_at),
                registered_by: k.registered_by,
                revoked_at: k.revoked_at.map(t),
            })
            .collect(),
        notice,
        error,
        form_unit: form.unit,
        form_key_id: form.key_id,
        form_public_key: form.public_key,
    };
    crate::http::pages::render(status, &page)
}

/// `GET /province/keys[?done=registered|revoked]`: the registry of communes' export keys.
pub async fn keys_page(
    state: web::Data<AppState>,
    staff: StaffPage,
    params: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    staff.require(PROVINCE_ROLES)?;
    check_known(&params, &["done"])?;
    let notice = match params.get("done").map(String::as_str) {
        Some("registered") => {
            Some("Đã đăng ký khóa. Bản xuất ký bằng khóa này của xã đó từ nay được nhận.".to_string())
        }
        Some("revoked") => {
            Some("Đã thu hồi khóa. Bản xuất ký bằng khóa này không còn được nhận.".to_string())
        }
        _ => None,
    };
    keys_view(&state, &staff, actix_web::http::StatusCode::OK, notice, None, KeyForm::default()).await
}

/// `POST /province/keys`: registers a commune's public key; a refusal shows the page again (422)
/// with the reason and the fields as they were typed.
pub async fn register_key(
    state: web::Data<AppState>,
    staff: StaffPage,
    form: web::Form<KeyForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(PROVINCE_ROLES)?;
    staff.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let (unit, public_key, key_id) = (form.unit.clone(), form.public_key.clone(), form.key_id.clone());
    let actor = staff.0.actor();
    let done = db::run(&state.pool, move |conn| {
        match signing::register(conn, unit.trim(), &public_key, Some(key_id.trim()), &actor) {
            Ok(_) => Ok(Ok(())),
            Err(signing::KeyError::Db(e)) => Err(e.into()),
            Err(e) => Ok(Err(key_error_vi(&e))),
        }
    })
    .await?;
    match done {
        Ok(()) => Ok(crate::http::pages::see_other("/province/keys?done=registered")),
        Err(e) => {
            keys_view(&state, &staff, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, None, Some(e), form)
                .await
        }
    }
}

/// `POST /province/keys/{key_id}/revoke`.
pub async fn revoke_key(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    staff.require(PROVINCE_ROLES)?;
    staff.check_csrf(&form.csrf)?;
    let key_id = path.into_inner();
    let actor = staff.0.actor();
    let revoked = db::run(&state.pool, move |conn| match signing::revoke(conn, &key_id, &actor) {
        Ok(_) => Ok(true),
        Err(signing::KeyError::Db(e)) => Err(e.into()),
        Err(_) => Ok(false),
    })
    .await?;
    if !revoked {
        return Err(PageError::NotFound);
    }
    Ok(crate::http::pages::see_other("/province/keys?done=revoked"))
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
