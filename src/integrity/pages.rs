//! Staff pages of the integrity capability, behind the staff sign-in: `GET /integrity` (the report
//! and the review of flagged answers, for leaders and admins). Forms post back with the session's
//! CSRF token and change data through the same store functions as the JSON API (audited there).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Days, NaiveDate, Utc};
use serde::Deserialize;

use super::model::{Reason, Verdict};
use super::store::{self, ReviewError};
use crate::app::AppState;
use crate::auth::StaffPage;
use crate::auth::role::Role;
use crate::db;
use crate::error::AppError;
use crate::http::pages::{Layout, PageError, render, see_other};
use crate::kernel::time::local_datetime;
use crate::kernel::time::local_day;
use crate::stats::compare;

const LEADERS: &[Role] = &[Role::Admin, Role::Leader];

/// `?from&to&unit` of the pages (dates default to the last 30 days; `unit` is for admins).
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    from: Option<String>,
    to: Option<String>,
    unit: Option<String>,
}

fn dates(q: &PageQuery) -> (NaiveDate, NaiveDate) {
    let today = local_day(Utc::now());
    let parse = |v: &Option<String>| {
        v.as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .filter(|d| crate::kernel::time::plausible_day(*d))
    };
    let to = parse(&q.to).unwrap_or(today);
    let from = parse(&q.from).filter(|f| *f <= to).unwrap_or(to - Days::new(30));
    (from, to)
}

fn pct(x: Option<f64>) -> String {
    crate::http::format::percent(x)
}

pub struct OfficerView {
    pub code: String,
    pub name: String,
    pub invitations: i64,
    pub cases: String,
    pub offer_rate: String,
    pub responses: i64,
    pub top_share: String,
    pub top_vs_unit: String,
    pub flagged: i64,
    pub held: i64,
    pub reasons: String,
    /// Offers the survey to fewer than half of the cases it handled.
    pub low_offer: bool,
}

/// One tested comparison of the evidence, as the page shows it.
pub struct EvidenceView {
    pub officer: String,
    pub measure: &'static str,
    pub against: &'static str,
    pub own: String,
    pub rest: String,
    pub n: u64,
    pub p: String,
    pub q: String,
    pub unusual: bool,
}

/// A p- or q-value: 4 decimals, or `< 0,0001`.
fn p_value(p: f64) -> String {
    if p < 0.0001 { "< 0,0001".into() } else { crate::http::format::decimal(p, 4) }
}

fn evidence_views(e: &super::evidence::Evidence) -> Vec<EvidenceView> {
    let figure =
        |c: super::evidence::Count| format!("{} ({}/{})", pct(c.share().map(|s| s * 100.0)), c.k, c.n);
    e.officers
        .iter()
        .flat_map(|o| {
            o.comparisons.iter().map(move |c| EvidenceView {
                officer: format!("{} · {}", o.officer_code, o.officer_name),
                measure: c.measure.label_vi(),
                against: match c.against {
                    super::evidence::Against::Unit => "các cán bộ khác của xã",
                    super::evidence::Against::Province => "các xã khác của tỉnh",
                },
                own: figure(c.officer),
                rest: figure(c.rest),
                n: c.officer.n,
                p: p_value(c.p),
                q: p_value(c.q),
                unusual: c.unusual,
            })
        })
        .collect()
}

pub struct FlaggedView {
    pub id: i64,
    pub officer: String,
    pub at: String,
    pub reasons: String,
    pub overall: String,
    pub held: bool,
    pub review: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "staff/integrity.html")]
struct IntegrityPage {
    layout: Layout,
    unit: String,
    from: String,
    to: String,
    unit_top: String,
    reasons: Vec<(&'static str, &'static str, i64)>,
    officers: Vec<OfficerView>,
    flagged: Vec<FlaggedView>,
    burst_rule: String,
    /// The funnel of officers' top-score shares (flagged answers included) around the unit's.
    funnel_svg: String,
    funnel_flagged: Vec<String>,
    funnel_too_few: usize,
    min_n: u64,
    /// Every tested comparison, the unusual ones marked.
    evidence: Vec<EvidenceView>,
    /// Officers not tested (fewer than `min_n` responses).
    evidence_too_few: Vec<String>,
    evidence_unusual: usize,
    province_compared: bool,
    fdr: String,
}

fn percent_of(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (10_000.0 * part as f64 / whole as f64).round() / 100.0)
}

/// `GET /integrity`
pub async fn integrity(
    state: web::Data<AppState>,
    staff: StaffPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    staff.require(LEADERS)?;
    let unit = staff.unit_for(q.unit.as_deref())?;
    let (from, to) = dates(&q);
    let u = unit.clone();
    let min_n = super::handlers::min_n(&state);
    let (lines, flagged, evidence) = db::run(&state.pool, move |conn| {
        Ok((
            store::report(conn, &u, from, to)?,
            store::flagged(conn, &u, from, to)?,
            store::evidence(conn, &u, from, to, min_n)?,
        ))
    })
    .await?;
    let (responses, top): (i64, i64) =
        lines.iter().fold((0, 0), |(r, t), l| (r + l.base.responses, t + l.base.top_scores));
    let unit_top = percent_of(top, responses);
    let as_count = |k: i64, n: i64| compare::Count {
        k: u64::try_from(k).unwrap_or(0),
        n: u64::try_from(n).unwrap_or(0),
    };
    let entries: Vec<compare::Entry> = lines
        .iter()
        .map(|l| compare::Entry {
            key: l.base.officer_code.clone(),
            label: l.base.officer_name.clone(),
            count: as_count(l.base.top_scores, l.base.responses),
        })
        .collect();
    let funnel = compare::funnel("officer", as_count(top, responses), &entries, min_n);
    let mut totals = [0i64; 4];
    let officers = lines
        .iter()
        .map(|l| {
            let counts = [l.desk_network, l.too_fast, l.same_device, l.burst];
            for (t, c) in totals.iter_mut().zip(counts) {
                *t += c;
            }
            let top_share = percent_of(l.base.top_scores, l.base.responses);
            let offer = l.base.cases.and_then(|c| percent_of(l.base.invitations, c));
            OfficerView {
                code: l.base.officer_code.clone(),
                name: l.base.officer_name.clone(),
                invitations: l.base.invitations,
                cases: l.base.cases.map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
                offer_rate: pct(offer),
                responses: l.base.responses,
                top_share: pct(top_share),
                top_vs_unit: crate::http::format::delta(top_share.zip(unit_top).map(|(a, b)| a - b)),
                flagged: l.flagged,
                held: l.held,
                reasons: Reason::ALL
                    .iter()
                    .zip(counts)
                    .filter(|(_, c)| *c > 0)
                    .map(|(r, c)| format!("{} {c}", r.code()))
                    .collect::<Vec<_>>()
                    .join(", "),
                low_offer: offer.is_some_and(|o| o < 50.0),
            }
        })
        .collect();
    let flagged = flagged
        .into_iter()
        .map(|f| FlaggedView {
            id: f.response_id,
            officer: format!("{} · {}", f.officer_code, f.officer_name),
            at: local_datetime(f.submitted_at),
            reasons: f
                .reasons
                .iter()
                .filter_map(|r| Reason::from_code(r))
                .map(|r| r.label_vi())
                .collect::<Vec<_>>()
                .join("; "),
            overall: f.overall.map(|l| l.to_string()).unwrap_or_default(),
            held: f.held,
            review: match f.verdict.as_deref() {
                Some("genuine") => "Thật (đã tính lại)".into(),
                Some("invalid") => "Không hợp lệ".into(),
                _ => String::new(),
            },
            note: f.note.unwrap_or_default(),
        })
        .collect();
    let page = IntegrityPage {
        layout: Layout::new(&staff.0, "Tính xác thực của kết quả", "integrity"),
        unit,
        from: from.to_string(),
        to: to.to_string(),
        unit_top: pct(unit_top),
        reasons: Reason::ALL.iter().zip(totals).map(|(r, n)| (r.code(), r.label_vi(), n)).collect(),
        officers,
        flagged,
        burst_rule: format!(
            "{} phiếu trở lên chấm điểm tối đa cho cùng một cán bộ trong {} giây",
            super::model::BURST_SIZE,
            super::model::BURST_WINDOW_SECONDS
        ),
        funnel_svg: funnel
            .as_ref()
            .map(|f| compare::funnel_svg(f, "Biểu đồ phễu: tỷ lệ điểm tối đa theo cán bộ", "funnel-top"))
            .unwrap_or_default(),
        funnel_flagged: funnel
            .as_ref()
            .map(|f| f.flagged().into_iter().map(compare::describe).collect())
            .unwrap_or_default(),
        funnel_too_few: funnel.as_ref().map_or(0, |f| f.too_few.len()),
        min_n,
        evidence: evidence_views(&evidence),
        evidence_too_few: evidence
            .officers
            .iter()
            .filter(|o| o.too_few)
            .map(|o| format!("{} · {} ({} phiếu)", o.officer_code, o.officer_name, o.responses))
            .collect(),
        evidence_unusual: evidence.officers.iter().filter(|o| o.unusual()).count(),
        province_compared: evidence.province_compared,
        fdr: crate::http::format::decimal(super::evidence::FDR * 100.0, 0),
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    unit: String,
}

/// `POST /integrity/responses/{id}/review`
pub async fn review(
    state: web::Data<AppState>,
    staff: StaffPage,
    id: web::Path<i64>,
    form: web::Form<ReviewForm>,
) -> Result<HttpResponse, PageError> {
    staff.require(LEADERS)?;
    staff.check_csrf(&form.csrf)?;
    let unit = staff.unit_for(Some(&form.unit))?;
    let verdict = Verdict::from_code(&form.verdict).ok_or_else(|| {
        PageError::App(AppError::unprocessable("invalid_verdict", "Choose genuine or invalid."))
    })?;
    let note: String = form.note.trim().chars().take(2000).collect();
    let (id, actor, instruments, u) =
        (id.into_inner(), staff.0.actor(), state.instruments.clone(), unit.clone());
    db::run(&state.pool, move |conn| {
        store::review(conn, &instruments, &|unit: &str| unit == u, id, verdict, &note, &actor).map_err(|e| {
            match e {
                ReviewError::NotFound => {
                    AppError::not_found("unknown_response", "There is no such response in your unit.")
                }
                ReviewError::NotFlagged => AppError::conflict("not_flagged", "This response is not flagged."),
                ReviewError::Db(e) => e.into(),
            }
        })
    })
    .await?;
    Ok(see_other(&format!("/integrity?unit={unit}#r{id}")))
}
