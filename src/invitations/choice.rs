//! Which published questionnaire version a unit's new invitations use (issue 16): its leader (or
//! an admin) chooses one of the versions the service embeds; without a choice the unit uses the
//! default line's latest version (`Instruments::current`). Every change is audited
//! (`unit.instrument`). Invitations already issued keep their version, and answers stay tied to
//! it. The JSON API (`GET`/`POST /api/v1/units/{code}/instrument`) and the leader's page
//! (`GET`/`POST /questionnaire`) change it through the same store function.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::store;
use crate::app::AppState;
use crate::auth::role::Role;
use crate::auth::{Caller, StaffPage};
use crate::db;
use crate::error::{AppError, ErrorBody, Forbidden, JsonBodyRefusals, Unauthorized, Unavailable};
use crate::http::pages::{Layout, PageError, render, see_other};
use crate::instrument::{Instrument, Instruments};

const LEADERS: &[Role] = &[Role::Admin, Role::Leader];

/// One published version a unit may choose.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionOut {
    /// The questionnaire's id (`sipas-desk`, `sipas-ward-hn`).
    instrument: String,
    version: String,
    title_vi: String,
    title_en: String,
    /// Some items follow the best available copy, not a signed text (`verify = true`).
    has_unverified_items: bool,
    /// What the version follows (`[meta].basis` of its file).
    basis: Vec<String>,
}

impl VersionOut {
    fn of(i: &Instrument) -> VersionOut {
        VersionOut {
            instrument: i.meta.id.clone(),
            version: i.meta.version.clone(),
            title_vi: i.meta.title_vi.clone(),
            title_en: i.meta.title_en.clone(),
            has_unverified_items: i.has_unverified_items(),
            basis: i.meta.basis.clone(),
        }
    }
}

/// A unit's questionnaire for new invitations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = UnitInstrument)]
pub struct ChoiceOut {
    unit: String,
    /// The version new invitations of this unit answer.
    instrument: String,
    version: String,
    /// True when the unit made no choice and uses the default version.
    default: bool,
    /// Who chose it (`user:<id>`) and when; null for the default.
    chosen_by: Option<String>,
    chosen_at: Option<String>,
    /// Every published version the unit may choose, the default first.
    available: Vec<VersionOut>,
}

/// Body of `POST /api/v1/units/{code}/instrument`: a published version, or both null to go back
/// to the default.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UnitInstrumentChoice)]
pub struct ChoiceBody {
    /// The questionnaire's id; null (with `version` null) for the default.
    instrument: Option<String>,
    /// One of its published versions.
    version: Option<String>,
}

/// The published versions, the default one first.
fn available(instruments: &Instruments) -> Vec<&Instrument> {
    let current = instruments.current();
    let mut out: Vec<&Instrument> = vec![current.as_ref()];
    out.extend(instruments.all().iter().filter(|v| !std::sync::Arc::ptr_eq(v, current)).map(|v| v.as_ref()));
    out
}

/// Reads a choice: `None` for the default, else a published version; a 422 names the field.
fn parse_choice(
    instruments: &Instruments,
    instrument: Option<&str>,
    version: Option<&str>,
) -> Result<Option<(String, String)>, AppError> {
    let instrument = instrument.map(str::trim).filter(|s| !s.is_empty());
    let version = version.map(str::trim).filter(|s| !s.is_empty());
    match (instrument, version) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(AppError::unprocessable(
            "missing_instrument",
            "`instrument` is required with `version`: the id of a published questionnaire.",
        )),
        (Some(id), version) => {
            if !instruments.all().iter().any(|v| v.meta.id == id) {
                let ids: Vec<&str> = available(instruments).iter().map(|v| v.meta.id.as_str()).collect();
                return Err(AppError::unprocessable(
                    "unknown_instrument",
                    format!(
                        "`instrument` `{id}` is not a published questionnaire (published: {}).",
                        ids.join(", ")
                    ),
                ));
            }
            let Some(version) = version else {
                return Err(AppError::unprocessable(
                    "missing_version",
                    "`version` is required: a published version of the questionnaire.",
                ));
            };
            match instruments.get(id, version) {
                Some(v) => Ok(Some((v.meta.id.clone(), v.meta.version.clone()))),
                None => {
                    let versions: Vec<&str> = instruments
                        .all()
                        .iter()
                        .filter(|v| v.meta.id == id)
                        .map(|v| v.meta.version.as_str())
                        .collect();
                    Err(AppError::unprocessable(
                        "unknown_version",
                        format!(
                            "`version` `{version}` of `{id}` is not published (published: {}).",
                            versions.join(", ")
                        ),
                    ))
                }
            }
        }
    }
}

/// The unit's choice as written out; `None` for an unknown unit.
fn read(
    conn: &mut diesel::PgConnection,
    instruments: &Instruments,
    unit: &str,
) -> Result<Option<ChoiceOut>, AppError> {
    if store::unit(conn, unit)?.is_none() {
        return Ok(None);
    }
    let row = store::unit_instrument_choice(conn, unit)?;
    let chosen = row.as_ref().and_then(|r| instruments.get(&r.instrument_id, &r.instrument_version));
    let used = chosen.unwrap_or_else(|| instruments.current());
    Ok(Some(ChoiceOut {
        unit: unit.to_string(),
        instrument: used.meta.id.clone(),
        version: used.meta.version.clone(),
        default: chosen.is_none(),
        chosen_by: row.as_ref().filter(|_| chosen.is_some()).map(|r| r.chosen_by.clone()),
        chosen_at: row.as_ref().filter(|_| chosen.is_some()).map(|r| r.chosen_at.to_rfc3339()),
        available: available(instruments).into_iter().map(VersionOut::of).collect(),
    }))
}

fn unknown_unit(unit: &str) -> AppError {
    AppError::not_found("unknown_unit", format!("There is no unit `{unit}`."))
}

/// `GET /api/v1/units/{code}/instrument`
#[utoipa::path(
    get,
    path = "/api/v1/units/{code}/instrument",
    summary = "The questionnaire version a unit's new invitations use",
    security(("bearer" = []), ("session" = [])),
    params(("code" = String, Path, description = "The unit's code")),
    responses(
        (status = 200, description = "The unit's version and the published ones", body = ChoiceOut),
        Unauthorized, Forbidden,
        (status = 404, description = "`unknown_unit`", body = ErrorBody),
        Unavailable,
    )
)]
#[tracing::instrument(name = "unit instrument", skip_all)]
pub async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let unit = code.into_inner();
    if !caller.may_act_for_unit(&unit) {
        return Err(AppError::forbidden("You may not act for this unit."));
    }
    let instruments = state.instruments.clone();
    let u = unit.clone();
    let out = db::run(&state.pool, move |conn| read(conn, &instruments, &u)).await?;
    Ok(HttpResponse::Ok().json(out.ok_or_else(|| unknown_unit(&unit))?))
}

/// `POST /api/v1/units/{code}/instrument` `{"instrument", "version"}`
#[utoipa::path(
    post,
    path = "/api/v1/units/{code}/instrument",
    summary = "Choose the questionnaire version of a unit's new invitations (leader or admin; audited)",
    security(("session" = [])),
    params(("code" = String, Path, description = "The unit's code")),
    request_body = ChoiceBody,
    responses(
        (status = 200, description = "Chosen; invitations issued from now on use it", body = ChoiceOut),
        JsonBodyRefusals, Unauthorized, Forbidden,
        (status = 404, description = "`unknown_unit`", body = ErrorBody),
        Unavailable,
    )
)]
#[tracing::instrument(name = "choose unit instrument", skip_all)]
pub async fn choose(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    body: web::Json<ChoiceBody>,
) -> Result<HttpResponse, AppError> {
    caller.require_role(LEADERS)?;
    let unit = code.into_inner();
    if !caller.may_act_for_unit(&unit) {
        return Err(AppError::forbidden("You may not act for this unit."));
    }
    let body = body.into_inner();
    let choice = parse_choice(&state.instruments, body.instrument.as_deref(), body.version.as_deref())?;
    let (instruments, actor, u) = (state.instruments.clone(), caller.actor(), unit.clone());
    let out = db::run(&state.pool, move |conn| {
        if store::unit(conn, &u)?.is_none() {
            return Ok(None);
        }
        store::set_unit_instrument(conn, &u, choice.as_ref().map(|(i, v)| (i.as_str(), v.as_str())), &actor)?;
        read(conn, &instruments, &u)
    })
    .await?;
    let out = out.ok_or_else(|| unknown_unit(&unit))?;
    tracing::info!(unit = %out.unit, instrument = %out.instrument, version = %out.version, "unit instrument chosen");
    Ok(HttpResponse::Ok().json(out))
}

/// One version on the page.
struct VersionChoice {
    value: String,
    label: String,
    note: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "invitations/instrument.html")]
struct ChoicePage {
    layout: Layout,
    unit: String,
    unit_name: String,
    current_label: String,
    default: bool,
    chosen_by: String,
    options: Vec<VersionChoice>,
    notice: String,
}

/// `?unit=` of the page (for admins).
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    unit: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

fn label(v: &VersionOut) -> String {
    format!("{} ({} {})", v.title_vi, v.instrument, v.version)
}

/// `GET /questionnaire`: the leader's page to choose the unit's questionnaire.
pub async fn page(
    state: web::Data<AppState>,
    staff: StaffPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    staff.require(LEADERS)?;
    let unit = staff.unit_for(q.unit.as_deref())?;
    let (instruments, u) = (state.instruments.clone(), unit.clone());
    let (out, name) = db::run(&state.pool, move |conn| {
        Ok((read(conn, &instruments, &u)?, store::unit(conn, &u)?.map(|u| u.name)))
    })
    .await?;
    let (Some(out), Some(unit_name)) = (out, name) else { return Err(PageError::NotFound) };
    let default_value = "";
    let mut options = vec![VersionChoice {
        value: default_value.to_string(),
        label: format!("Mặc định: {}", label(&out.available[0])),
        note: "Theo phiên bản mới nhất của phiếu mặc định của hệ thống.".into(),
        selected: out.default,
    }];
    for v in &out.available {
        options.push(VersionChoice {
            value: format!("{}@{}", v.instrument, v.version),
            label: label(v),
            note: if v.has_unverified_items {
                format!(
                    "Có câu hỏi theo bản sao tốt nhất hiện có, chưa đối chiếu văn bản gốc. Căn cứ: {}",
                    v.basis.join("; ")
                )
            } else {
                format!("Căn cứ: {}", v.basis.join("; "))
            },
            selected: !out.default && v.instrument == out.instrument && v.version == out.version,
        });
    }
    let current = out.available.iter().find(|v| v.instrument == out.instrument && v.version == out.version);
    let page = ChoicePage {
        layout: Layout::new(&staff.0, "Phiếu khảo sát của đơn vị", "questionnaire"),
        unit: out.unit.clone(),
        unit_name,
        current_label: current.map(label).unwrap_or_default(),
        default: out.default,
        chosen_by: out.chosen_by.clone().unwrap_or_default(),
        options,
        notice: if q.saved.is_some() {
            "Đã lưu. Các phiếu mời phát từ bây giờ dùng phiếu khảo sát này; phiếu mời đã phát giữ phiếu cũ."
                .into()
        } else {
            String::new()
        },
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct ChoiceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    /// `id@version`, or empty for the default.
    #[serde(default)]
    choice: String,
}

/// `POST /questionnaire`
pub async fn submit(
    state: web::Data<AppState>,
    staff: StaffPage,
    form: web::Form<ChoiceForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(LEADERS)?;
    staff.check_csrf(&form.csrf)?;
    let unit = staff.unit_for(Some(&form.unit))?;
    let (id, version) = match form.choice.split_once('@') {
        Some((i, v)) => (Some(i), Some(v)),
        None if form.choice.trim().is_empty() => (None, None),
        None => (Some(form.choice.as_str()), None),
    };
    let choice = parse_choice(&state.instruments, id, version)?;
    let (actor, u) = (staff.0.actor(), unit.clone());
    let found = db::run(&state.pool, move |conn| {
        if store::unit(conn, &u)?.is_none() {
            return Ok(false);
        }
        store::set_unit_instrument(conn, &u, choice.as_ref().map(|(i, v)| (i.as_str(), v.as_str())), &actor)?;
        Ok(true)
    })
    .await?;
    if !found {
        return Err(PageError::NotFound);
    }
    Ok(see_other(&format!("/questionnaire?unit={}&saved=1", crate::http::pages::urlencode(&unit))))
}
