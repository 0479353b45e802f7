//! Admin pages besides accounts: master data (lists, officer activation, CSV import through a
//! textarea with the command line's all-or-nothing rules), API keys, and the audit log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::store;
use crate::app::AppState;
use crate::auth::StaffPage;
use crate::auth::role::Role;
use crate::db;
use crate::error::AppError;
use crate::http::format::count;
use crate::http::pages::{Layout, PageError, render, see_other, urlencode};
use crate::http::text;
use crate::kernel::time::local_datetime;
use crate::masterdata::store::{self as directory, OfficerRow, ProcedureRow, UnitRow};
use crate::masterdata::{self, Kind};

const ADMIN: &[Role] = &[Role::Admin];

/// Largest CSV pasted into the import form.
pub const IMPORT_LIMIT: usize = 2 * 1024 * 1024;

pub struct KeyView {
    pub id: i64,
    pub unit_code: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "staff/masterdata.html")]
struct MasterdataPage {
    layout: Layout,
    units: Vec<UnitRow>,
    officers: Vec<OfficerRow>,
    procedures: Vec<ProcedureRow>,
    keys: Vec<KeyView>,
    error: Option<String>,
    notice: Option<String>,
    new_key: Option<String>,
    kind: String,
    csv: String,
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    done: Option<String>,
}

/// What the master-data page shows besides the data: a message, a new key, the import form.
#[derive(Debug, Default)]
struct Shown {
    error: Option<String>,
    notice: Option<String>,
    /// A key just created, shown this once.
    new_key: Option<String>,
    /// The import form as it was sent (its kind, and the CSV when it was refused).
    kind: String,
    csv: String,
}

async fn masterdata_page(
    state: &AppState,
    staff: &StaffPage,
    status: StatusCode,
    shown: Shown,
) -> Result<HttpResponse, PageError> {
    let Shown { error, notice, new_key, kind, csv } = shown;
    let (units, officers, procedures, keys) = db::run(&state.pool, |conn| {
        Ok((
            directory::units(conn)?,
            directory::officers(conn, None)?,
            directory::procedures(conn)?,
            crate::auth::apikeys::list(conn)?,
        ))
    })
    .await?;
    let keys = keys
        .into_iter()
        .map(|k| KeyView {
            id: k.id,
            unit_code: k.unit_code,
            name: k.name,
            created: local_datetime(k.created_at),
            last_used: k.last_used_at.map(local_datetime).unwrap_or_default(),
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    let page = MasterdataPage {
        layout: Layout::new(&staff.0, text::MASTERDATA_TITLE, "masterdata"),
        units,
        officers,
        procedures,
        keys,
        error,
        notice,
        new_key,
        kind,
        csv,
    };
    render(status, &page)
}

/// `GET /admin/masterdata`
pub async fn masterdata(
    state: web::Data<AppState>,
    staff: StaffPage,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    let notice = match query.done.as_deref() {
        Some("officer") => Some("Đã cập nhật trạng thái cán bộ.".to_string()),
        Some("revoked") => Some("Đã thu hồi khóa API.".to_string()),
        _ => None,
    };
    masterdata_page(
        &state,
        &staff,
        StatusCode::OK,
        Shown { notice, kind: "units".into(), ..Shown::default() },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    csv: String,
}

/// `POST /admin/masterdata/import`: the pasted CSV is checked whole and stored whole, or not at
/// all, with the first problem's line and column, exactly as `sipas import` does.
#[tracing::instrument(name = "master data import (page)", skip_all)]
pub async fn import(
    state: web::Data<AppState>,
    staff: StaffPage,
    form: web::Form<ImportForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let kind = match form.kind.as_str() {
        "units" => Kind::Units,
        "officers" => Kind::Officers,
        "procedures" => Kind::Procedures,
        _ => {
            let e = "Chọn loại danh mục: đơn vị, cán bộ hoặc thủ tục.".to_string();
            return masterdata_page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown { error: Some(e), kind: form.kind, csv: form.csv, ..Shown::default() },
            )
            .await;
        }
    };
    let rows = match masterdata::parse(kind, form.csv.as_bytes()) {
        Ok(rows) => rows,
        Err(e) => {
            let e = format!("Không nhập dòng nào (nothing was imported): {e}");
            return masterdata_page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown { error: Some(e), kind: form.kind, csv: form.csv, ..Shown::default() },
            )
            .await;
        }
    };
    let actor = staff.0.actor();
    let stored = db::run(&state.pool, move |conn| match masterdata::store::import(conn, &rows, &actor) {
        Ok(summary) => Ok(Ok((rows.len(), summary))),
        Err(masterdata::store::StoreError::Row(e)) => Ok(Err(e)),
        Err(masterdata::store::StoreError::Db(e)) => Err(e.into()),
    })
    .await?;
    match stored {
        Ok((n, summary)) => {
            let notice = format!(
                "Đã nhập {} dòng: {} mới, {} cập nhật.",
                count(n as u64),
                count(summary.created as u64),
                count(summary.updated as u64)
            );
            masterdata_page(
                &state,
                &staff,
                StatusCode::OK,
                Shown { notice: Some(notice), kind: form.kind, ..Shown::default() },
            )
            .await
        }
        Err(e) => {
            let e = format!("Không nhập dòng nào (nothing was imported): {e}");
            masterdata_page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown { error: Some(e), kind: form.kind, csv: form.csv, ..Shown::default() },
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct OfficerActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

/// `POST /admin/officers/{code}/active`
pub async fn officer_active(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<String>,
    form: web::Form<OfficerActiveForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let code = path.into_inner();
    let active = form.active == "true";
    let actor = staff.0.actor();
    let found =
        db::run(&state.pool, move |conn| Ok(directory::set_officer_active(conn, &code, active, &actor)?))
            .await?;
    if !found {
        return Err(PageError::NotFound);
    }
    Ok(see_other("/admin/masterdata?done=officer#officers"))
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    name: String,
}

/// `POST /admin/api-keys`: the new key is shown on this one page and never again.
pub async fn create_key(
    state: web::Data<AppState>,
    staff: StaffPage,
    form: web::Form<KeyForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let name: String = form.name.trim().chars().take(200).collect();
    let actor = staff.0.actor();
    let unit = form.unit.clone();
    let created =
        db::run(&state.pool, move |conn| match crate::auth::apikeys::create(conn, &unit, &name, &actor) {
            Ok((id, key)) => Ok(Ok((id, key))),
            Err(crate::auth::apikeys::KeyError::Db(e)) => Err(e.into()),
            Err(e) => Ok(Err(e.to_string())),
        })
        .await?;
    match created {
        Ok((id, key)) => {
            let notice = format!(
                "Đã tạo khóa API số {id} cho đơn vị {}. Hãy lưu khóa ngay: khóa sẽ không hiện lại.",
                form.unit
            );
            masterdata_page(
                &state,
                &staff,
                StatusCode::OK,
                Shown { notice: Some(notice), new_key: Some(key), kind: "units".into(), ..Shown::default() },
            )
            .await
        }
        Err(e) => {
            masterdata_page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown { error: Some(e), kind: "units".into(), ..Shown::default() },
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/api-keys/{id}/revoke`
pub async fn revoke_key(
    state: web::Data<AppState>,
    staff: StaffPage,
    path: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    staff.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let actor = staff.0.actor();
    let revoked = db::run(&state.pool, move |conn| match crate::auth::apikeys::revoke(conn, id, &actor) {
        Ok(()) => Ok(true),
        Err(crate::auth::apikeys::KeyError::Db(e)) => Err(AppError::from(e)),
        Err(_) => Ok(false),
    })
    .await?;
    if !revoked {
        return Err(PageError::NotFound);
    }
    Ok(see_other("/admin/masterdata?done=revoked#api-keys"))
}

pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub label: &'static str,
    pub subject: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "staff/audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<AuditView>,
    actions: Vec<String>,
    action: String,
    actor: String,
    next: Option<String>,
    first: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    before: Option<i64>,
}

/// Rows per audit page.
pub const AUDIT_PAGE: i64 = 50;

/// `GET /admin/audit?action=&actor=&before=`: newest first, 50 a page.
pub async fn audit(
    state: web::Data<AppState>,
    staff: StaffPage,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    staff.require(ADMIN)?;
    let query = query.into_inner();
    let action = query.action.map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    let actor = query.actor.map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    let before = query.before;
    let (a, b) = (action.clone(), actor.clone());
    let (mut rows, actions) = db::run(&state.pool, move |conn| {
        Ok((
            store::audit_page(conn, a.as_deref(), b.as_deref(), before, AUDIT_PAGE)?,
            store::audit_actions(conn)?,
        ))
    })
    .await?;
    let more = rows.len() as i64 > AUDIT_PAGE;
    rows.truncate(AUDIT_PAGE as usize);
    let filter = format!(
        "action={}&actor={}",
        urlencode(action.as_deref().unwrap_or("")),
        urlencode(actor.as_deref().unwrap_or(""))
    );
    let next = more.then(|| rows.last().map(|r| format!("/admin/audit?{filter}&before={}", r.id))).flatten();
    let first = before.is_some().then(|| format!("/admin/audit?{filter}"));
    let rows = rows
        .into_iter()
        .map(|r| AuditView {
            id: r.id,
            at: local_datetime(r.at),
            label: text::action_label(&r.action),
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            details: if r.details.as_object().is_some_and(|o| o.is_empty()) {
                String::new()
            } else {
                r.details.to_string()
            },
        })
        .collect();
    let page = AuditPage {
        layout: Layout::new(&staff.0, text::AUDIT_TITLE, "audit"),
        rows,
        actions,
        action: action.unwrap_or_default(),
        actor: actor.unwrap_or_default(),
        next,
        first,
    };
    render(StatusCode::OK, &page)
}
