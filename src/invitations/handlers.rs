//! Extract → validate → `db::run` → respond, for every route of issuing. Request and response
//! types of the JSON API live here.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::facts::{RawFacts, RawStep};
use super::issue::{self, Context, IssueError, Outcome};
use super::model::{TypedCode, fold_for_search, is_token_shaped};
use super::pages::{CodeNotice, CodePage, DeskPage, Layout, ScreenPage, SlipView, SlipsPage};
use super::{offline, qr, store};
use crate::app::AppState;
use crate::auth::{Caller, Role, apikeys};
use crate::db;
use crate::error::{
    AppError, BadQuery, ErrorBody, Forbidden, JsonBodyRefusals, NotFound, Unauthorized, Unavailable,
};
use crate::http::client::Client;
use crate::kernel::audit::audit;
use crate::kernel::ratelimit::{self, Limit};
use crate::kernel::survey_secrets;

/// Wrong typed codes: 10 per client per 15 minutes. With 31^7 codes and even a million live
/// invitations, a guesser's chance of landing on one is about 4 × 10^-5 per attempt, so under
/// one in 25 a day per address — for the reward of answering someone else's survey once. A
/// resident who mistypes gets ten tries before a short wait.
pub const TYPED_CODE: Limit = Limit { bucket: "typed-code", max: 10, window_secs: 15 * 60 };

/// Most items in one batch.
pub const BATCH_MAX: usize = 500;
/// Most slips on one sheet request.
pub const SHEET_MAX: usize = 100;
/// Most procedures in one picker answer.
const PROCEDURES_MAX: usize = 30;

/// QR images never change for a token, so browsers and printers may keep them for its lifetime.
const QR_CACHE: &str = "public, max-age=604800, immutable";

// ------------------------------------------------------------------ JSON API

/// A case number may arrive as a string or, from some one-stop systems, a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CaseNumberValue {
    Text(String),
    Number(serde_json::Number),
}

/// Body of `POST /api/v1/invitations` (and each batch item). Every field is optional here so a
/// missing one gets a 422 that names it; an unknown field is a 422 naming it too.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InvitationRequest)]
pub struct IssueBody {
    /// The national procedure code (mã TTHC), such as `1.001193`.
    #[schema(value_type = String, required = true, example = "1.001193")]
    procedure_code: Option<String>,
    /// The officer who handed the case back.
    #[schema(value_type = String, required = true)]
    officer_code: Option<String>,
    /// The unit (desk) the case belongs to; an API key issues for its own unit only.
    #[schema(value_type = String, required = true)]
    unit_code: Option<String>,
    /// The case number (mã hồ sơ), up to 64 characters; the same unit and case number again
    /// answers the same invitation. A number is read as its text.
    #[schema(value_type = Option<String>, max_length = 64)]
    case_number: Option<CaseNumberValue>,
    /// `desk` (the default), `online` or `postal`.
    #[schema(value_type = Option<String>, examples("desk", "online", "postal"))]
    channel: Option<String>,
    /// Case fact: when the desk received the file. RFC 3339, a local (UTC+7) date-time without
    /// offset, or a local date (docs/TT01.md).
    #[schema(value_type = Option<String>, examples("2026-12-03T09:30:00+07:00", "2026-12-03T09:30", "2026-12-03"))]
    received_at: Option<String>,
    /// Case fact: the due date the law allows (ngày hẹn trả). Indicator 1 compares the return
    /// with this local day: before it 2 points, on it 1, after it 0.
    #[schema(value_type = Option<String>, example = "2026-12-10")]
    due_at: Option<String>,
    /// Case fact: the new date promised with the apology letter (Mẫu 04); later than `due_at`,
    /// needs `apology_letter = true`. Stored and shown; it does not make a late case on time.
    #[schema(value_type = Option<String>)]
    extended_due_at: Option<String>,
    /// Case fact: the apology letter (Phiếu xin lỗi và hẹn lại ngày trả kết quả, Mẫu 04) was sent.
    #[schema(value_type = Option<bool>)]
    apology_letter: Option<bool>,
    /// Case fact: when the result was returned; not before `received_at`, not in the future.
    #[schema(value_type = Option<String>)]
    returned_at: Option<String>,
    /// Case fact: up to 50 steps of the file, for indicator 2 (every step done before its due
    /// day 2 points, every step by its due day 1, any late 0). A bad fact is a 422
    /// `invalid_case_facts` naming the field (e.g. `steps[1].done_at`); nothing is written.
    #[schema(value_type = Option<Vec<RawStep>>, max_items = 50)]
    steps: Option<Vec<RawStep>>,
}

impl From<IssueBody> for issue::Request {
    fn from(b: IssueBody) -> Self {
        issue::Request {
            procedure_code: b.procedure_code,
            officer_code: b.officer_code,
            unit_code: b.unit_code,
            case_number: b.case_number.map(|c| match c {
                CaseNumberValue::Text(s) => s,
                CaseNumberValue::Number(n) => n.to_string(),
            }),
            channel: b.channel,
            facts: RawFacts {
                received_at: b.received_at,
                due_at: b.due_at,
                extended_due_at: b.extended_due_at,
                apology_letter: b.apology_letter,
                returned_at: b.returned_at,
                steps: b.steps,
            },
        }
    }
}

/// An issued invitation as the API answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Invitation)]
pub struct InvitationOut {
    /// 128 random bits, URL-safe base64 (22 characters).
    token: String,
    /// The short typed fallback: 8 characters of `23456789ABCDEFGHJKMNPQRSTUVWXYZ`, the last a
    /// check character, upper-case without separator (printed as `XXXX-XXXX`).
    code: String,
    #[schema(format = "uri")]
    survey_url: String,
    #[schema(format = "uri")]
    qr_svg_url: String,
    #[schema(format = "uri")]
    qr_png_url: String,
    /// The printable slip: an 80 mm receipt (add `?layout=a4` for an A4 page).
    #[schema(format = "uri")]
    slip_url: String,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// The questionnaire version the survey asks (the unit's choice when it was issued).
    #[schema(examples("sipas-desk", "sipas-ward-hn"))]
    instrument: String,
    instrument_version: String,
}

impl InvitationOut {
    fn new(inv: &store::Invitation, base: &str) -> Self {
        InvitationOut {
            token: inv.token.clone(),
            code: inv.code.clone(),
            survey_url: survey_url(base, &inv.token),
            qr_svg_url: format!("{base}/q/{}.svg", inv.token),
            qr_png_url: format!("{base}/q/{}.png", inv.token),
            slip_url: format!("{base}/slips/{}", inv.token),
            issued_at: inv.issued_at,
            expires_at: inv.expires_at,
            instrument: inv.instrument_id.clone(),
            instrument_version: inv.instrument_version.clone(),
        }
    }
}

fn survey_url(base: &str, token: &str) -> String {
    format!("{base}/s/{token}")
}

fn refused(r: issue::Refusal) -> AppError {
    let status = match r.status {
        issue::RefusalStatus::Forbidden => StatusCode::FORBIDDEN,
        issue::RefusalStatus::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        issue::RefusalStatus::Conflict => StatusCode::CONFLICT,
    };
    AppError::client(status, r.code, r.message)
}

/// `POST /api/v1/invitations`: 201 with a new invitation, 200 with the one the case already has.
#[utoipa::path(
    post,
    path = "/api/v1/invitations",
    summary = "Issue a survey invitation for a handed-back case",
    security(("bearer" = []), ("session" = [])),
    request_body = IssueBody,
    responses(
        (status = 201, description = "Issued (`Location`: the survey address)", body = InvitationOut),
        (status = 200, description = "Already issued for this unit and case number", body = InvitationOut),
        (status = 409, description = "`invitation_unreadable`: the case number's invitation was sealed under another `SECRET_KEY`", body = ErrorBody),
        JsonBodyRefusals, Unauthorized, Forbidden, Unavailable,
    )
)]
#[tracing::instrument(name = "issue invitation", skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<IssueBody>,
) -> Result<HttpResponse, AppError> {
    let request: issue::Request = body.into_inner().into();
    let actor = caller.actor();
    let instruments = state.instruments.clone();
    let ttl_days = state.config.invitation_ttl_days;
    let secret = state.secret.clone();
    let outcome = db::run(&state.pool, move |conn| {
        use diesel::Connection as _;
        let ctx = Context {
            may_issue_for: &|unit: &str| caller.may_act_for_unit(unit),
            may_credit: &|officer: &str| caller.officer_scope().is_none_or(|own| own == officer),
            preprinted: false,
            actor: &actor,
            instruments: &instruments,
            ttl_days,
            now: Utc::now(),
            secret: &secret,
        };
        conn.transaction(|conn| match issue::issue(conn, &ctx, &request) {
            Ok(outcome) => Ok(outcome),
            Err(IssueError::Refused(r)) => Err(refused(r)),
            Err(IssueError::Db(e)) => Err(e.into()),
        })
    })
    .await?;
    let base = &state.config.public_base_url();
    Ok(match outcome {
        Outcome::Created(inv) => {
            tracing::info!(invitation.id = inv.id, "invitation issued");
            HttpResponse::Created()
                .insert_header((header::LOCATION, survey_url(base, &inv.token)))
                .json(InvitationOut::new(&inv, base))
        }
        Outcome::Existing(inv) => HttpResponse::Ok().json(InvitationOut::new(&inv, base)),
    })
}

/// Body of `POST /api/v1/invitations/batch`. Items are read one by one, so one malformed item
/// gets its own 422 instead of failing the batch.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = InvitationBatchRequest)]
pub struct BatchBody {
    /// Up to 500 invitation requests, each read on its own.
    #[schema(value_type = Vec<IssueBody>, max_items = 500)]
    invitations: Vec<serde_json::Value>,
}

/// One item's outcome: its invitation (201, 200) or its refusal (403, 422).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchItemOut {
    /// The item's position in the request, from 0.
    index: usize,
    /// 201, 200, 403, 409 (`invitation_unreadable`) or 422.
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    invitation: Option<InvitationOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = InvitationBatchResult)]
pub struct BatchOut {
    created: usize,
    existing: usize,
    refused: usize,
    results: Vec<BatchItemOut>,
}

enum ItemResult {
    Done(Outcome),
    Refused(issue::Refusal),
}

/// `POST /api/v1/invitations/batch`: up to [`BATCH_MAX`] items in one transaction; each gets
/// its own status (201, 200, 403 or 422) and the valid ones are issued together.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/batch",
    summary = "Issue many invitations in one transaction",
    security(("bearer" = []), ("session" = [])),
    request_body = BatchBody,
    responses(
        (status = 200, description = "Each item with its own status", body = BatchOut),
        JsonBodyRefusals, Unauthorized, Unavailable,
    )
)]
#[tracing::instrument(name = "issue invitation batch", skip_all)]
pub async fn create_batch(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<BatchBody>,
) -> Result<HttpResponse, AppError> {
    let items = body.into_inner().invitations;
    if items.is_empty() {
        return Err(AppError::unprocessable("empty_batch", "invitations holds no item."));
    }
    if items.len() > BATCH_MAX {
        return Err(AppError::unprocessable(
            "batch_too_large",
            format!("invitations holds {} items; a batch takes at most {BATCH_MAX}.", items.len()),
        ));
    }
    let requests: Vec<Result<issue::Request, issue::Refusal>> = items
        .into_iter()
        .map(|v| {
            serde_json::from_value::<IssueBody>(v).map(Into::into).map_err(|e| issue::Refusal {
                status: issue::RefusalStatus::Unprocessable,
                code: "invalid_item",
                message: format!("This item does not have the expected fields: {e}"),
            })
        })
        .collect();
    let actor = caller.actor();
    let instruments = state.instruments.clone();
    let ttl_days = state.config.invitation_ttl_days;
    let secret = state.secret.clone();
    let results = db::run(&state.pool, move |conn| {
        use diesel::Connection as _;
        let ctx = Context {
            may_issue_for: &|unit: &str| caller.may_act_for_unit(unit),
            may_credit: &|officer: &str| caller.officer_scope().is_none_or(|own| own == officer),
            preprinted: true,
            actor: &actor,
            instruments: &instruments,
            ttl_days,
            now: Utc::now(),
            secret: &secret,
        };
        conn.transaction::<_, AppError, _>(|conn| {
            let mut results = Vec::with_capacity(requests.len());
            for request in &requests {
                let result = match request {
                    Err(r) => ItemResult::Refused(r.clone()),
                    Ok(request) => match issue::issue(conn, &ctx, request) {
                        Ok(outcome) => ItemResult::Done(outcome),
                        Err(IssueError::Refused(r)) => ItemResult::Refused(r),
                        Err(IssueError::Db(e)) => return Err(e.into()),
                    },
                };
                results.push(result);
            }
            Ok(results)
        })
    })
    .await?;
    let base = &state.config.public_base_url();
    let mut out =
        BatchOut { created: 0, existing: 0, refused: 0, results: Vec::with_capacity(results.len()) };
    for (index, result) in results.into_iter().enumerate() {
        let item = match result {
            ItemResult::Done(Outcome::Created(inv)) => {
                out.created += 1;
                BatchItemOut {
                    index,
                    status: 201,
                    invitation: Some(InvitationOut::new(&inv, base)),
                    error: None,
                    message: None,
                }
            }
            ItemResult::Done(Outcome::Existing(inv)) => {
                out.existing += 1;
                BatchItemOut {
                    index,
                    status: 200,
                    invitation: Some(InvitationOut::new(&inv, base)),
                    error: None,
                    message: None,
                }
            }
            ItemResult::Refused(r) => {
                out.refused += 1;
                BatchItemOut {
                    index,
                    status: r.status.code(),
                    invitation: None,
                    error: Some(r.code),
                    message: Some(r.message),
                }
            }
        };
        out.results.push(item);
    }
    tracing::info!(created = out.created, existing = out.existing, refused = out.refused, "batch issued");
    Ok(HttpResponse::Ok().json(out))
}

/// The caller's latest invitation, for the customer screen.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LatestOut {
    invitation: Option<InvitationOut>,
    /// Whether the latest invitation has been answered.
    answered: bool,
    /// Seconds since it was issued (by the server's clock, so screens need no clock of their own).
    age_seconds: Option<i64>,
    /// Where a resident types the short code.
    code_url: String,
}

/// `GET /api/v1/invitations/latest`: the latest invitation the caller issued, for the customer
/// screen, which asks every few seconds.
#[utoipa::path(
    get,
    path = "/api/v1/invitations/latest",
    summary = "The latest invitation the caller issued (the customer screen)",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The latest invitation, if any", body = LatestOut),
        Unauthorized, Unavailable,
    )
)]
pub async fn latest(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    let actor = caller.actor();
    let found = db::run(&state.pool, move |conn| Ok(store::latest_by_issuer(conn, &actor)?)).await?;
    let base = &state.config.public_base_url();
    let now = Utc::now();
    // the screen draws the slip's QR code, so the token is opened from its seal; one sealed under
    // another secret (a dead slip) is shown as none
    let found = found.and_then(|(inv, answered)| Some((inv.open(&state.secret)?, answered)));
    let out = LatestOut {
        answered: found.as_ref().is_some_and(|(_, a)| *a),
        age_seconds: found.as_ref().map(|(inv, _)| (now - inv.issued_at).num_seconds().max(0)),
        invitation: found.as_ref().map(|(inv, _)| InvitationOut::new(inv, base)),
        code_url: format!("{base}/c"),
    };
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(out))
}

#[derive(Debug, Deserialize)]
pub struct ProcedureQuery {
    q: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProcedureOut {
    code: String,
    name: String,
    field_code: String,
    field_name: String,
}

/// The desk's procedure picker.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProceduresOut {
    /// At most 30.
    procedures: Vec<ProcedureOut>,
}

/// `GET /api/v1/procedures?q=`: active procedures whose code or name holds every word of `q`,
/// ignoring case and Vietnamese marks ("khai sinh", "dang ky", "1.0011").
#[utoipa::path(
    get,
    path = "/api/v1/procedures",
    summary = "Active procedures matching a search (the desk's picker)",
    security(("bearer" = []), ("session" = [])),
    params(("q" = Option<String>, Query, max_length = 100,
        description = "Words the code, name or field must all hold (case and marks ignored)")),
    responses(
        (status = 200, description = "Up to 30 procedures", body = ProceduresOut),
        BadQuery, Unauthorized, Unavailable,
    )
)]
pub async fn procedures(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<ProcedureQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner().q.unwrap_or_default();
    if q.chars().count() > 100 {
        return Err(AppError::bad_request("invalid_query", "q is longer than 100 characters."));
    }
    let words: Vec<String> = fold_for_search(&q).split_whitespace().map(str::to_string).collect();
    let all = db::run(&state.pool, |conn| Ok(store::active_procedures(conn)?)).await?;
    let found: Vec<ProcedureOut> = all
        .into_iter()
        .filter(|p| {
            let haystack = fold_for_search(&format!("{} {} {}", p.code, p.name, p.field_name));
            words.iter().all(|w| haystack.contains(w.as_str()))
        })
        .take(PROCEDURES_MAX)
        .map(|p| ProcedureOut {
            code: p.code,
            name: p.name,
            field_code: p.field_code,
            field_name: p.field_name,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ProceduresOut { procedures: found }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfficerOut {
    code: String,
    name: String,
}

/// The active officers the caller may credit when issuing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfficersOut {
    unit_code: String,
    /// For an officer's session: that officer, the only one listed (the desk pre-selects them).
    signed_in_officer: Option<String>,
    officers: Vec<OfficerOut>,
}

/// `GET /api/v1/officers`: the active officers the caller may credit when issuing: every one of
/// the unit for an API key, a leader or an admin; for an officer's session, that officer alone
/// (`signed_in_officer` names them, so the desk pre-selects nobody else).
#[utoipa::path(
    get,
    path = "/api/v1/officers",
    summary = "The active officers the caller may credit (the desk's picker): an officer's session gets itself alone",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The officers", body = OfficersOut),
        Unauthorized, Unavailable,
    )
)]
pub async fn officers(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    let unit = caller.unit_code().to_string();
    let found = db::run(&state.pool, move |conn| Ok(store::active_officers(conn, &unit)?)).await?;
    let own = caller.officer_scope();
    let out: Vec<OfficerOut> = found
        .into_iter()
        .filter(|o| own.is_none_or(|own| own == o.code))
        .map(|o| OfficerOut { code: o.code, name: o.name })
        .collect();
    Ok(HttpResponse::Ok().json(OfficersOut {
        unit_code: caller.unit_code().to_string(),
        signed_in_officer: own.map(str::to_string),
        officers: out,
    }))
}

// ------------------------------------------------------------------ QR codes

/// `GET /q/{token}.svg`: the survey address as an SVG QR code.
#[utoipa::path(
    get,
    path = "/q/{token}.svg",
    summary = "The survey address as a QR code (SVG)",
    security(()),
    params(("token" = String, Path, description = "The invitation's token")),
    responses(
        (status = 200, description = "The QR code, cacheable for a week", body = String, content_type = "image/svg+xml"),
        NotFound, Unavailable,
    )
)]
pub async fn qr_svg(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    qr(&state, path.into_inner(), false).await
}

/// `GET /q/{token}.png`: the survey address as a PNG QR code (at least 400 px).
#[utoipa::path(
    get,
    path = "/q/{token}.png",
    summary = "The survey address as a QR code (PNG, at least 400 px)",
    security(()),
    params(("token" = String, Path, description = "The invitation's token")),
    responses(
        (status = 200, description = "The QR code, cacheable for a week", body = Vec<u8>, content_type = "image/png"),
        NotFound, Unavailable,
    )
)]
pub async fn qr_png(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    qr(&state, path.into_inner(), true).await
}

async fn qr(state: &AppState, token: String, png: bool) -> Result<HttpResponse, AppError> {
    let not_found = || AppError::not_found("not_found", "There is no QR code at this address.");
    if !is_token_shaped(&token) {
        return Err(not_found());
    }
    let lookup = survey_secrets::token_hash(&state.secret, &token);
    let exists = db::run(&state.pool, move |conn| Ok(store::by_token_hash(conn, &lookup)?.is_some())).await?;
    if !exists {
        return Err(not_found());
    }
    let url = survey_url(&state.config.public_base_url(), &token);
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, QR_CACHE));
    if png {
        let bytes = qr::png(&url).map_err(|e| AppError::internal(e.to_string()))?;
        Ok(response.content_type("image/png").body(bytes))
    } else {
        let svg = qr::svg(&url).map_err(|e| AppError::internal(e.to_string()))?;
        Ok(response.content_type("image/svg+xml").body(svg))
    }
}

// ------------------------------------------------------------------ slips

#[derive(Debug, Deserialize)]
pub struct SlipQuery {
    layout: Option<String>,
    tokens: Option<String>,
}

fn layout_of(q: &SlipQuery, default: Layout) -> Result<Layout, AppError> {
    match q.layout.as_deref() {
        None | Some("") => Ok(default),
        Some(l) => Layout::parse(l).ok_or_else(|| {
            AppError::bad_request("invalid_layout", format!("layout `{l}` is neither receipt nor a4."))
        }),
    }
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

fn render(t: &impl Template) -> Result<String, AppError> {
    t.render().map_err(|e| AppError::internal(format!("template: {e}")))
}

async fn slips_page(state: &AppState, tokens: Vec<String>, layout: Layout) -> Result<HttpResponse, AppError> {
    let hashes: Vec<String> = tokens.iter().map(|t| survey_secrets::token_hash(&state.secret, t)).collect();
    let wanted = hashes.clone();
    let rows = db::run(&state.pool, move |conn| Ok(store::slips(conn, &wanted)?)).await?;
    let base = &state.config.public_base_url();
    let mut views = Vec::with_capacity(tokens.len());
    let missing = || AppError::not_found("not_found", "One of these slips does not exist.");
    for hash in &hashes {
        let row = rows.iter().find(|r| r.token_hash.as_ref() == Some(hash)).ok_or_else(missing)?;
        // the slip prints the typed code, which only the seal keeps
        let (token, code) = row
            .sealed
            .as_deref()
            .and_then(|sealed| survey_secrets::open(&state.secret, row.id, sealed))
            .ok_or_else(missing)?;
        let mut view = SlipView::new(row, &token, &code, base);
        // the slip's line in each language the commune translated this version into
        view.lines = state
            .instruments
            .translations_of(&row.instrument_id, &row.instrument_version)
            .iter()
            .filter_map(|t| t.slip.clone().map(|line| (t.lang.clone(), line)))
            .collect();
        views.push(view);
    }
    Ok(html(render(&SlipsPage::new(layout, views, base))?))
}

/// `GET /slips/{token}`: one slip, an 80 mm receipt unless `?layout=a4`.
#[utoipa::path(
    get,
    path = "/slips/{token}",
    summary = "One printable slip",
    security(()),
    params(
        ("token" = String, Path, description = "The invitation's token"),
        ("layout" = Option<String>, Query, description = "`receipt` (80 mm, the default) or `a4`"),
    ),
    responses(
        (status = 200, description = "The slip (HTML, print-ready)", body = String, content_type = "text/html"),
        (status = 400, description = "`invalid_layout`", body = ErrorBody),
        NotFound, Unavailable,
    )
)]
pub async fn slip_one(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<SlipQuery>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let layout = layout_of(&query, Layout::Receipt)?;
    if !is_token_shaped(&token) {
        return Err(AppError::not_found("not_found", "This slip does not exist."));
    }
    slips_page(&state, vec![token], layout).await
}

/// `GET /slips?tokens=a,b,c`: several slips, an A4 sheet unless `?layout=receipt` (then one
/// receipt page each). At most [`SHEET_MAX`] tokens; a repeated token prints once.
#[utoipa::path(
    get,
    path = "/slips",
    summary = "A sheet of printable slips",
    security(()),
    params(
        ("tokens" = String, Query, description = "Up to 100 tokens, comma-separated"),
        ("layout" = Option<String>, Query, description = "`a4` (eight a page, the default) or `receipt` (one page each)"),
    ),
    responses(
        (status = 200, description = "The slips (HTML, print-ready)", body = String, content_type = "text/html"),
        (status = 400, description = "`missing_tokens`, `too_many_tokens` or `invalid_layout`", body = ErrorBody),
        (status = 404, description = "One of the slips does not exist", body = ErrorBody),
        Unavailable,
    )
)]
pub async fn slip_sheet(
    state: web::Data<AppState>,
    query: web::Query<SlipQuery>,
) -> Result<HttpResponse, AppError> {
    let layout = layout_of(&query, Layout::A4)?;
    let mut tokens: Vec<String> = Vec::new();
    for t in query.tokens.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !is_token_shaped(t) {
            return Err(AppError::not_found("not_found", "One of these slips does not exist."));
        }
        if !tokens.iter().any(|k| k == t) {
            tokens.push(t.to_string());
        }
    }
    if tokens.is_empty() {
        return Err(AppError::bad_request("missing_tokens", "Give the slips as ?tokens=TOKEN1,TOKEN2,…"));
    }
    if tokens.len() > SHEET_MAX {
        return Err(AppError::bad_request(
            "too_many_tokens",
            format!("A sheet takes at most {SHEET_MAX} slips; {} were asked for.", tokens.len()),
        ));
    }
    slips_page(&state, tokens, layout).await
}

// ------------------------------------------------------------------ typed codes

#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

enum CodeLookup {
    Found(String),
    NotFound,
    TooMany(i64),
}

/// Counted by the client address (see `http::client`): the peer address of the connection, or
/// the one `X-Forwarded-For` names when the peer is one of `TRUSTED_PROXIES` (from anyone else the
/// header would let a guesser pick a fresh "address" for every attempt).
async fn look_up_code(state: &AppState, client: &Client, typed: &str) -> Result<HttpResponse, AppError> {
    let client = ratelimit::client_hash(&state.secret, TYPED_CODE.bucket, &client.address());
    let parsed = TypedCode::parse(typed).ok();
    let secret = state.secret.clone();
    let found = db::run(&state.pool, move |conn| {
        let now = Utc::now();
        let window = TYPED_CODE.window_start(now);
        if ratelimit::hits(conn, TYPED_CODE.bucket, &client, window)? >= TYPED_CODE.max {
            return Ok(CodeLookup::TooMany(TYPED_CODE.retry_after(now)));
        }
        let token = match &parsed {
            Some(code) => store::by_code_hash(conn, &survey_secrets::code_hash(&secret, code.as_str()))?
                .and_then(|inv| inv.open(&secret)),
            None => None,
        };
        match token {
            Some(inv) => Ok(CodeLookup::Found(inv.token)),
            None => {
                let forget = now - chrono::Duration::hours(ratelimit::FORGET_AFTER_HOURS);
                ratelimit::hit(conn, TYPED_CODE.bucket, &client, window, forget)?;
                Ok(CodeLookup::NotFound)
            }
        }
    })
    .await?;
    let shown: String = typed.chars().take(20).collect();
    Ok(match found {
        CodeLookup::Found(token) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/s/{token}")))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        CodeLookup::NotFound => {
            let page = CodePage { notice: CodeNotice::NotFound, typed: shown, retry_minutes: 0 };
            HttpResponse::NotFound()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(render(&page)?)
        }
        CodeLookup::TooMany(secs) => {
            let page =
                CodePage { notice: CodeNotice::TooMany, typed: shown, retry_minutes: (secs + 59) / 60 };
            HttpResponse::TooManyRequests()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::RETRY_AFTER, secs.to_string()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(render(&page)?)
        }
    })
}

/// `GET /c`: the page to type a code; `GET /c?code=…` (its form, which works without script)
/// looks the code up.
#[utoipa::path(
    get,
    path = "/c",
    summary = "The page to type a short code, and its lookup",
    security(()),
    params(("code" = Option<String>, Query, description = "A typed code (any case; spaces and dashes ignored)")),
    responses(
        (status = 200, description = "The page to type a code", body = String, content_type = "text/html"),
        (status = 303, description = "To the code's survey (`Location: /s/{token}`)"),
        (status = 404, description = "No such code: the page again, with a kind notice", body = String, content_type = "text/html"),
        (status = 429, description = "Too many wrong codes from this client (`Retry-After`)", body = String, content_type = "text/html"),
        Unavailable,
    )
)]
pub async fn code_page(
    state: web::Data<AppState>,
    client: Client,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, AppError> {
    match query.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => {
            Ok(html(render(&CodePage { notice: CodeNotice::None, typed: String::new(), retry_minutes: 0 })?))
        }
        Some(code) => look_up_code(&state, &client, code).await,
    }
}

/// `GET /c/{code}`: 303 to the code's survey, or the code page with a kind 404.
#[utoipa::path(
    get,
    path = "/c/{code}",
    summary = "Go to a short code's survey",
    security(()),
    params(("code" = String, Path, description = "A typed code (any case; spaces and dashes ignored)")),
    responses(
        (status = 303, description = "To the code's survey (`Location: /s/{token}`)"),
        (status = 404, description = "No such code: the code page, with a kind notice", body = String, content_type = "text/html"),
        (status = 429, description = "Too many wrong codes from this client (`Retry-After`)", body = String, content_type = "text/html"),
        Unavailable,
    )
)]
pub async fn code_redirect(
    state: web::Data<AppState>,
    client: Client,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    look_up_code(&state, &client, &path.into_inner()).await
}

// ------------------------------------------------------------------ desk pages

/// `GET /desk`: the officer's page. A signed-in officer or leader issues through their session
/// (an officer as themselves); a desk computer without a sign-in uses the unit's key, which an
/// admin pairs it with once (the pairing form is on this page for an admin) or which is pasted.
pub async fn desk(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let staff = crate::auth::extract::resolve(&req).await?;
    let pair_units = match &staff {
        Some(s) if s.role() == Role::Admin => db::run(&state.pool, |conn| Ok(store::units(conn)?)).await?,
        _ => Vec::new(),
    };
    let (role, username) = signed_in(staff.as_ref());
    Ok(html(render(&DeskPage { role, username, pair_units })?))
}

/// The role and username of the session a desk page is rendered for ("" and "" without one).
fn signed_in(staff: Option<&crate::auth::StaffCaller>) -> (&'static str, String) {
    staff.map(|s| (s.role().as_str(), s.username.clone())).unwrap_or_default()
}

/// Body of `POST /api/v1/desk/pairings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairBody {
    unit_code: Option<String>,
    /// What the desk is called ("Quầy 1"), shown in the list of keys so it can be revoked.
    name: Option<String>,
    /// The raw 32-byte Ed25519 public key the desk's browser made (URL-safe base64): registered
    /// and approved with the pairing, so the desk can sign invitations while the line is down.
    public_key: Option<String>,
}

/// Longest desk name.
const DESK_NAME_MAX: usize = 100;

/// A desk paired with its unit: the new key, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PairOut {
    key_id: i64,
    /// The API key the desk page keeps in the browser (stored server-side only as a hash).
    key: String,
    unit_code: String,
    /// The key's name in the list of keys: "Máy bàn: " and the desk's name.
    name: String,
    /// The desk's signing key as registered (when the pairing carried `public_key`): the id the
    /// desk writes into its offline tokens.
    desk_key_id: Option<i64>,
}

/// `POST /api/v1/desk/pairings` (an admin's session): pairs the computer the admin is signed in
/// on with a unit, once: a new API key of that unit named after the desk, answered once (201) for
/// the desk page to keep in the browser, so nobody pastes a 48-character key. Revoked like any
/// key (`/admin/masterdata`); the creation is in the audit log.
#[utoipa::path(
    post,
    path = "/api/v1/desk/pairings",
    summary = "Pair a desk computer with a unit once (an admin's session): a new key of the unit, shown once",
    security(("session" = [])),
    request_body = PairBody,
    responses(
        (status = 201, description = "Paired: the desk's key", body = PairOut),
        JsonBodyRefusals, Unauthorized, Forbidden, Unavailable,
    )
)]
#[tracing::instrument(name = "pair desk", skip_all)]
pub async fn pair_desk(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PairBody>,
) -> Result<HttpResponse, AppError> {
    let admin = caller.require_role(&[Role::Admin])?;
    let body = body.into_inner();
    let unit = body.unit_code.as_deref().map(str::trim).unwrap_or_default().to_string();
    if unit.is_empty() {
        return Err(AppError::unprocessable("missing_field", "unit_code is required."));
    }
    let name = body.name.as_deref().map(str::trim).unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(AppError::unprocessable("missing_field", "name is required (what the desk is called)."));
    }
    if name.chars().count() > DESK_NAME_MAX {
        return Err(AppError::unprocessable(
            "invalid_name",
            format!("name is longer than {DESK_NAME_MAX} characters."),
        ));
    }
    let public_key = match body.public_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => {
            Some(URL_SAFE_NO_PAD.decode(k).ok().filter(|b| offline::is_usable_key(b)).ok_or_else(|| {
                AppError::unprocessable(
                    "invalid_public_key",
                    "public_key is not a raw Ed25519 public key (32 bytes, URL-safe base64).",
                )
            })?)
        }
    };
    let key_name = format!("Máy bàn: {name}");
    let actor = admin.actor();
    let (unit_for_db, name_for_db) = (unit.clone(), key_name.clone());
    let created = db::run(&state.pool, move |conn| {
        use diesel::Connection as _;
        conn.transaction(|conn| {
            let (key_id, key) = match apikeys::create(conn, &unit_for_db, &name_for_db, &actor) {
                Ok(made) => made,
                Err(apikeys::KeyError::UnknownUnit(_)) => return Ok(None),
                Err(apikeys::KeyError::Db(e)) => return Err(e.into()),
                Err(e) => return Err(AppError::internal(e.to_string())),
            };
            let desk_key = match &public_key {
                None => None,
                Some(public) => {
                    let made = store::insert_desk_key(conn, &unit_for_db, &name_for_db, public, &actor)?
                        .ok_or_else(|| {
                            AppError::client(
                                StatusCode::CONFLICT,
                                "public_key_taken",
                                "This public key is registered already; the desk makes a new pair.",
                            )
                        })?;
                    audit(
                        conn,
                        &actor,
                        "desk_key.approve",
                        &format!("desk_key:{}", made.id),
                        serde_json::json!({"unit_code": made.unit_code, "name": made.name}),
                    )?;
                    Some(made.id)
                }
            };
            Ok(Some((key_id, key, desk_key)))
        })
    })
    .await?;
    let Some((key_id, key, desk_key_id)) = created else {
        return Err(AppError::unprocessable(
            "unknown_unit",
            format!("unit_code `{unit}` is not a known unit."),
        ));
    };
    tracing::info!(api_key.id = key_id, desk_key.id = desk_key_id, "desk paired");
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(PairOut {
        key_id,
        key,
        unit_code: unit,
        name: key_name,
        desk_key_id,
    }))
}

/// `GET /desk/screen`: the resident-facing screen showing the latest QR code.
pub async fn desk_screen(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let staff = crate::auth::extract::resolve(&req).await?;
    let (role, username) = signed_in(staff.as_ref());
    Ok(html(render(&ScreenPage { role, username })?))
}

// ------------------------------------------------------------------ offline issuing

/// `GET /o/{token}`: the QR of a slip the desk signed while offline. The first arrival (this scan
/// or the desk's queued record) makes the invitation; every scan then goes on to its survey.
/// Anything not signed by a registered desk key, or refused (a revoked key, a date ahead of the
/// clock), is the typed-code page's kind 404.
#[utoipa::path(
    get,
    path = "/o/{token}",
    summary = "Open the survey of a slip signed offline by a desk",
    security(()),
    params(("token" = String, Path, description = "The desk's signed token")),
    responses(
        (status = 303, description = "To the invitation's survey (`Location: /s/{token}`)"),
        (status = 404, description = "Not a genuine token, or refused: the code page, with a kind notice", body = String, content_type = "text/html"),
        Unavailable,
    )
)]
#[tracing::instrument(name = "offline slip", skip_all)]
pub async fn offline_scan(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let outcome = arrive(&state, vec![token], offline::Arrival::Scan).await?;
    match outcome.into_iter().next() {
        Some(offline::Outcome::Created(inv) | offline::Outcome::Existing(inv)) => {
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/s/{}", inv.token)))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish())
        }
        _ => {
            let page = CodePage { notice: CodeNotice::NotFound, typed: String::new(), retry_minutes: 0 };
            Ok(HttpResponse::NotFound()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(render(&page)?))
        }
    }
}

/// Makes the invitations of offline tokens, each in its own savepoint of one transaction.
async fn arrive(
    state: &AppState,
    tokens: Vec<String>,
    arrival: offline::Arrival,
) -> Result<Vec<offline::Outcome>, AppError> {
    let instruments = state.instruments.clone();
    let ttl_days = state.config.invitation_ttl_days;
    let secret = state.secret.clone();
    db::run(&state.pool, move |conn| {
        use diesel::Connection as _;
        let ctx = offline::Context {
            instruments: &instruments,
            ttl_days,
            now: Utc::now(),
            arrival,
            secret: &secret,
        };
        conn.transaction::<_, AppError, _>(|conn| {
            let mut out = Vec::with_capacity(tokens.len());
            for token in &tokens {
                out.push(offline::arrive(conn, &ctx, token)?);
            }
            Ok(out)
        })
    })
    .await
}

/// Most records in one upload of a desk's queue.
pub const RECORDS_MAX: usize = 100;

/// Body of `POST /api/v1/desk/offline-issues`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineRecordsBody {
    /// Up to 100 signed tokens from the desk's queue, as printed in the slips' QR codes.
    #[schema(max_items = 100)]
    tokens: Vec<String>,
}

/// One queued record's outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfflineRecordOut {
    /// The record's position in the request, from 0.
    index: usize,
    /// 201 (the invitation was made now), 200 (it existed: a resident scanned first, or the
    /// record came before) or 404 (refused: nothing written).
    status: u16,
    /// The typed code stored (the slip's, unless that code was taken by another invitation).
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    /// Why a record was refused: `not_found` (not signed by a registered desk key),
    /// `revoked_key`, `future_token`, `before_key` or `unknown_master_data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    error: Option<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfflineRecordsOut {
    results: Vec<OfflineRecordOut>,
}

/// `POST /api/v1/desk/offline-issues`: the desk's queue of slips signed while offline, sent when
/// the line returns. Each token is checked like a scan and makes its invitation at most once
/// (by its nonce), so a record of a slip a resident already scanned creates nothing. The tokens
/// carry their own signatures, so no key or session is needed.
#[utoipa::path(
    post,
    path = "/api/v1/desk/offline-issues",
    summary = "Reconcile the desk's queue of slips signed offline (idempotent by nonce)",
    security(()),
    request_body = OfflineRecordsBody,
    responses(
        (status = 200, description = "Each record with its own status", body = OfflineRecordsOut),
        JsonBodyRefusals, Unavailable,
    )
)]
#[tracing::instrument(name = "offline records", skip_all)]
pub async fn offline_records(
    state: web::Data<AppState>,
    body: web::Json<OfflineRecordsBody>,
) -> Result<HttpResponse, AppError> {
    let tokens = body.into_inner().tokens;
    if tokens.is_empty() {
        return Err(AppError::unprocessable("empty_batch", "tokens holds no record."));
    }
    if tokens.len() > RECORDS_MAX {
        return Err(AppError::unprocessable(
            "batch_too_large",
            format!("tokens holds {} records; send at most {RECORDS_MAX} at a time.", tokens.len()),
        ));
    }
    let outcomes = arrive(&state, tokens, offline::Arrival::Record).await?;
    let results: Vec<OfflineRecordOut> = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, o)| match o {
            offline::Outcome::Created(inv) => {
                OfflineRecordOut { index, status: 201, code: Some(inv.code), error: None }
            }
            offline::Outcome::Existing(inv) => {
                OfflineRecordOut { index, status: 200, code: Some(inv.code), error: None }
            }
            offline::Outcome::Refused(why) => {
                OfflineRecordOut { index, status: 404, code: None, error: Some(why) }
            }
        })
        .collect();
    tracing::info!(records = results.len(), "offline records reconciled");
    Ok(HttpResponse::Ok().json(OfflineRecordsOut { results }))
}

/// What the desk keeps to issue while offline: its unit's officers and every active procedure.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitDataOut {
    unit_code: String,
    /// For an officer's session: that officer, the only one listed.
    signed_in_officer: Option<String>,
    officers: Vec<OfficerOut>,
    /// Every active procedure (the offline picker searches them in the browser).
    procedures: Vec<ProcedureOut>,
}

/// `GET /api/v1/desk/unit-data`: the officers the caller may credit and every active procedure,
/// which the desk page's service worker keeps for issuing while the line is down.
#[utoipa::path(
    get,
    path = "/api/v1/desk/unit-data",
    summary = "The desk's unit data for offline issuing: its officers and every active procedure",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The unit's data", body = UnitDataOut),
        Unauthorized, Unavailable,
    )
)]
pub async fn unit_data(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    let unit = caller.unit_code().to_string();
    let (officers, procedures) = db::run(&state.pool, move |conn| {
        Ok((store::active_officers(conn, &unit)?, store::active_procedures(conn)?))
    })
    .await?;
    let own = caller.officer_scope();
    Ok(HttpResponse::Ok().json(UnitDataOut {
        unit_code: caller.unit_code().to_string(),
        signed_in_officer: own.map(str::to_string),
        officers: officers
            .into_iter()
            .filter(|o| own.is_none_or(|own| own == o.code))
            .map(|o| OfficerOut { code: o.code, name: o.name })
            .collect(),
        procedures: procedures
            .into_iter()
            .map(|p| ProcedureOut {
                code: p.code,
                name: p.name,
                field_code: p.field_code,
                field_name: p.field_name,
            })
            .collect(),
    }))
}

/// A desk's signing key as admins see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeskKeyOut {
    id: i64,
    unit_code: String,
    name: String,
    /// The raw Ed25519 public key, URL-safe base64.
    public_key: String,
    /// The admin who paired the desk and so approved the key.
    approved_by: String,
    created_at: DateTime<Utc>,
    /// Tokens dated from this time on are refused.
    revoked_at: Option<DateTime<Utc>>,
}

impl From<store::DeskKey> for DeskKeyOut {
    fn from(k: store::DeskKey) -> Self {
        DeskKeyOut {
            id: k.id,
            unit_code: k.unit_code,
            name: k.name,
            public_key: URL_SAFE_NO_PAD.encode(&k.public_key),
            approved_by: k.approved_by,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeskKeysOut {
    desk_keys: Vec<DeskKeyOut>,
}

/// `GET /api/v1/desk/keys` (an admin's session): every desk's signing key, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/desk/keys",
    summary = "The desks' signing keys (an admin's session)",
    security(("session" = [])),
    responses(
        (status = 200, description = "Every desk key", body = DeskKeysOut),
        Unauthorized, Forbidden, Unavailable,
    )
)]
pub async fn desk_keys(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    caller.require_role(&[Role::Admin])?;
    let keys = db::run(&state.pool, |conn| Ok(store::desk_keys(conn)?)).await?;
    Ok(HttpResponse::Ok().json(DeskKeysOut { desk_keys: keys.into_iter().map(Into::into).collect() }))
}

/// `POST /api/v1/desk/keys/{id}/revoke` (an admin's session): from now on the desk's tokens are
/// refused (those dated before stay valid, so slips already handed out still open); audited.
#[utoipa::path(
    post,
    path = "/api/v1/desk/keys/{id}/revoke",
    summary = "Revoke a desk's signing key (an admin's session)",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The desk key's id")),
    responses(
        (status = 200, description = "Revoked (again: the first revocation's time is kept)", body = DeskKeyOut),
        Unauthorized, Forbidden, NotFound, Unavailable,
    )
)]
#[tracing::instrument(name = "revoke desk key", skip_all)]
pub async fn revoke_desk_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let admin = caller.require_role(&[Role::Admin])?;
    let unknown = || AppError::not_found("not_found", "There is no desk key with this id.");
    let id: i64 = path.into_inner().parse().map_err(|_| unknown())?;
    let actor = admin.actor();
    let revoked = db::run(&state.pool, move |conn| {
        use diesel::Connection as _;
        conn.transaction::<_, AppError, _>(|conn| {
            let Some(key) = store::revoke_desk_key(conn, id, Utc::now())? else { return Ok(None) };
            audit(
                conn,
                &actor,
                "desk_key.revoke",
                &format!("desk_key:{id}"),
                serde_json::json!({"unit_code": key.unit_code, "name": key.name}),
            )?;
            Ok(Some(key))
        })
    })
    .await?
    .ok_or_else(unknown)?;
    tracing::info!(desk_key.id = id, "desk key revoked");
    Ok(HttpResponse::Ok().json(DeskKeyOut::from(revoked)))
}

/// `GET /desk-sw.js`: the desk page's service worker, served from the site's root so that its
/// scope may cover `/desk` (a worker under `/static/` could only control `/static/`).
pub async fn service_worker() -> Result<HttpResponse, AppError> {
    let asset = crate::http::assets::get("desk-sw.js")
        .ok_or_else(|| AppError::internal("the service worker is not embedded"))?;
    Ok(HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(asset.body))
}
