//! Province mode: verifying and storing communes' exports, and ranking the communes of a period.

use diesel::prelude::*;
use serde::Serialize;

use super::content::{self, Content, Document, Period, SCHEMA};
use super::formats::{Cell, Sheet};
use super::signing;
use crate::instrument::Instrument;
use crate::schema::province_exports as pe;
use crate::stats::compare::{self, Adjusted, Change, Funnel};
use crate::stats::model::Formula;

/// Why an export file was refused. Nothing is stored when any file is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImportError {
    #[error("the file is not a complete JSON export (it may be truncated or not an export at all): {0}")]
    NotJson(String),
    #[error("the file is not a SIPAS province export (schema `{0}`, expected `{SCHEMA}`)")]
    Schema(String),
    #[error(
        "the content does not match its SHA-256: the file was changed after it was exported (expected {expected}, computed {computed})"
    )]
    Hash { expected: String, computed: String },
    #[error("the content does not follow the export schema: {0}")]
    Content(String),
    #[error("the same export appears twice in this import: {0}")]
    Duplicate(String),
    #[error("the dates are not possible: {0}")]
    Dates(String),
    #[error("the figures do not follow from the export's own counts: {0}")]
    Figures(String),
    #[error(
        "the export's figures use the formula {0}; the province ranks every commune by the share of levels 4–5: export again with formula share45 (the default)"
    )]
    Formula(String),
    #[error("unit `{0}` is not a commune of this province's master data")]
    UnknownUnit(String),
    #[error(
        "a newer export of {unit} for {period} (generated {stored}) is already stored; this one (generated {this}) was not stored"
    )]
    Older { unit: String, period: String, stored: String, this: String },
    #[error(
        "the export is unsigned: the province accepts only exports signed with their unit's registered Ed25519 key (the commune creates its key with `sipas export-key create` and sends the public key to the province){}",
        .0.as_ref().map(|n| format!(" — the export says: {n}")).unwrap_or_default()
    )]
    Unsigned(Option<String>),
    #[error(
        "the signature is not valid: {0} (the content was changed after it was signed, or the signature was not made for it)"
    )]
    Signature(String),
    #[error(
        "no key {key_id} is registered for unit {unit}: the commune sends its public key to the province, which registers it first"
    )]
    NoKey { unit: String, key_id: String },
    #[error(
        "the export of {unit} is signed with key {key_id}, which is registered for another unit ({owner})"
    )]
    ForeignKey { unit: String, key_id: String, owner: String },
    #[error("key {key_id} of {unit} was revoked at {at}: no export it signed is accepted")]
    Revoked { unit: String, key_id: String, at: String },
}

/// Why an import stored nothing: a refused file (which, and why) or the database.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Refused(ImportError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A verified export, ready to store.
#[derive(Debug, Clone)]
pub struct Verified {
    pub sha256: String,
    pub content: Content,
    pub raw: serde_json::Value,
    pub sipas_ci: Option<(f64, f64)>,
    /// The key that signed it (checked against its signature; the registry is asked at import).
    pub signed: signing::Checked,
}

/// Verifies one export file: complete JSON, the right schema, the hash of its canonical content,
/// its Ed25519 signature over the same bytes (against the key it names; whether the province
/// registered that key for the unit is checked by [`import`]), and a content that follows the
/// schema exactly (unknown or missing fields are refused).
pub fn verify(bytes: &[u8], instrument: &Instrument) -> Result<Verified, ImportError> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| ImportError::NotJson(e.to_string()))?;
    if doc.schema != SCHEMA {
        return Err(ImportError::Schema(doc.schema));
    }
    let canonical = content::canonical(&doc.content);
    let computed = crate::kernel::hashing::sha256_hex(canonical.as_bytes());
    if computed != doc.sha256 {
        return Err(ImportError::Hash { expected: doc.sha256, computed });
    }
    let signed = signing::check(doc.signature.as_ref(), canonical.as_bytes()).map_err(|e| match e {
        signing::BlockError::Unsigned(note) => ImportError::Unsigned(note),
        signing::BlockError::Invalid(why) => ImportError::Signature(why),
    })?;
    drop(canonical);
    let c: Content =
        serde_json::from_value(doc.content.clone()).map_err(|e| ImportError::Content(e.to_string()))?;
    if Period::parse(&c.period.key).is_none() {
        return Err(ImportError::Content(format!(
            "period `{}` is not a quarter, half-year or year",
            c.period.key
        )));
    }
    let code_ok = !c.unit.code.is_empty()
        && c.unit.code.len() <= 32
        && c.unit.code.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'));
    if !code_ok {
        return Err(ImportError::Content(format!("unit code `{}` is not a code", c.unit.code)));
    }
    if uuid::Uuid::parse_str(&c.export_id).is_err() {
        return Err(ImportError::Content("export_id is not a UUID".into()));
    }
    if chrono::DateTime::parse_from_rfc3339(&c.generated_at).is_err() {
        return Err(ImportError::Content("generated_at is not an RFC 3339 time".into()));
    }
    super::plausible::check_dates(&c, chrono::Utc::now()).map_err(ImportError::Dates)?;
    super::plausible::check_figures(&c, instrument).map_err(ImportError::Figures)?;
    // the ranking compares every commune's index under one formula (docs/FORMULAS.md)
    if let Some(f) = c.measure.formula().filter(|f| *f != Formula::Share45) {
        return Err(ImportError::Formula(f.as_str().to_string()));
    }
    let sipas_ci = sipas_interval(&c, instrument);
    Ok(Verified { sha256: doc.sha256, content: c, raw: doc.content, sipas_ci, signed })
}

/// A 95% interval for the SIPAS index, from the criteria counts. The index is a weighted mean of
/// statement rates (weight 1 / (elements with data × statements of its element with data)), so
/// its variance is Σ w² p(1−p)/n, with Agresti–Coull adjusted p = (k+2)/(n+4) so an all-positive
/// statement still has some spread. Statements are treated as independent; the same residents
/// answer several, so the true interval is somewhat wider. `None` when the index is n/a.
pub fn sipas_interval(c: &Content, instrument: &Instrument) -> Option<(f64, f64)> {
    interval_of(c.unit_figures.sipas_index?, c.unit_figures.criteria.as_ref()?, instrument)
}

fn interval_of(
    index: f64,
    criteria: &std::collections::BTreeMap<String, super::content::Rate>,
    instrument: &Instrument,
) -> Option<(f64, f64)> {
    let positive: Vec<String> =
        crate::stats::compare::overall_positive(instrument).iter().map(|l| l.to_string()).collect();
    let mut groups: Vec<Vec<(f64, u64)>> = Vec::new();
    for element in &instrument.computation.elements {
        let stmts: Vec<(f64, u64)> = criteria
            .iter()
            .filter(|(code, r)| code.starts_with(&format!("{element}.")) && r.n > 0)
            .map(|(_, r)| {
                let k: u64 = r.counts.iter().filter(|(l, _)| positive.contains(l)).map(|(_, n)| *n).sum();
                (k as f64, r.n)
            })
            .collect();
        if !stmts.is_empty() {
            groups.push(stmts);
        }
    }
    if groups.is_empty() {
        return None;
    }
    let var = crate::stats::inference::index_variance(&groups)?;
    let half = 1.959_964 * var.sqrt() * 100.0;
    let r = |x: f64| crate::stats::model::round_to(x, 2);
    Some((r((index - half).max(0.0)), r((index + half).min(100.0))))
}

/// Stores verified files in one transaction; any refusal stores nothing and says which file
/// and why: a unit the province's master data does not hold, a signing key the province has not
/// registered for that unit (none, another unit's, or revoked), or an export older than the one
/// already stored for its commune and period (never dropped silently, finding 1).
/// Returns (unit, period) of what was stored.
pub fn import(
    conn: &mut PgConnection,
    files: &[Verified],
    actor: &str,
) -> Result<Vec<(String, String)>, ImportFailure> {
    conn.transaction(|conn| {
        let mut out = Vec::new();
        for v in files {
            let c = &v.content;
            let known: bool =
                diesel::select(diesel::dsl::exists(crate::schema::units::table.find(&c.unit.code)))
                    .get_result(conn)?;
            if !known {
                return Err(ImportFailure::Refused(ImportError::UnknownUnit(c.unit.code.clone())));
            }
            let key_id = v.signed.key_id.clone();
            match signing::registered(conn, &v.signed)? {
                None => {
                    return Err(ImportFailure::Refused(ImportError::NoKey {
                        unit: c.unit.code.clone(),
                        key_id,
                    }));
                }
                Some(r) if r.unit_code != c.unit.code => {
                    return Err(ImportFailure::Refused(ImportError::ForeignKey {
                        unit: c.unit.code.clone(),
                        key_id,
                        owner: r.unit_code,
                    }));
                }
                Some(r) => {
                    if let Some(at) = r.revoked_at {
                        return Err(ImportFailure::Refused(ImportError::Revoked {
                            unit: c.unit.code.clone(),
                            key_id,
                            at: at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        }));
                    }
                }
            }
            let generated_at = chrono::DateTime::parse_from_rfc3339(&c.generated_at)
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_else(|_| chrono::Utc::now());
            let export_id = uuid::Uuid::parse_str(&c.export_id).unwrap_or_default();
            let u = &c.unit_figures;
            let values = (
                pe::unit_code.eq(&c.unit.code),
                pe::period.eq(&c.period.key),
                pe::export_id.eq(export_id),
                pe::unit_name.eq(&c.unit.name),
                pe::province_code.eq(&c.unit.province_code),
                pe::generated_at.eq(generated_at),
                pe::sha256.eq(&v.sha256),
                pe::responses.eq(c.totals.responses as i64),
                pe::invitations.eq(c.totals.invitations as i64),
                pe::response_rate.eq(c.totals.response_rate),
                pe::overall_rate.eq(u.overall.as_ref().and_then(|o| o.rate)),
                pe::sipas_index.eq(u.sipas_index),
                pe::sipas_low.eq(v.sipas_ci.map(|x| x.0)),
                pe::sipas_high.eq(v.sipas_ci.map(|x| x.1)),
                pe::content.eq(&v.raw),
                pe::imported_by.eq(actor),
                pe::imported_at.eq(chrono::Utc::now()),
                pe::key_id.eq(Some(&v.signed.key_id)),
            );
            // a newer export of the same commune and period replaces an older one, never the reverse
            let stored: Option<chrono::DateTime<chrono::Utc>> = pe::table
                .find((&c.period.key, &c.unit.code))
                .select(pe::generated_at)
                .for_update()
                .first(conn)
                .optional()?;
            if let Some(stored) = stored.filter(|t| *t > generated_at) {
                return Err(ImportFailure::Refused(ImportError::Older {
                    unit: c.unit.code.clone(),
                    period: c.period.key.clone(),
                    stored: stored.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    this: c.generated_at.clone(),
                }));
            }
            diesel::insert_into(pe::table)
                .values(values)
                .on_conflict((pe::period, pe::unit_code))
                .do_update()
                .set(values)
                .execute(conn)?;
            crate::kernel::audit::audit(
                conn,
                actor,
                "province.import",
                &format!("{}/{}", c.unit.code, c.period.key),
                serde_json::json!({"export_id": c.export_id, "sha256": v.sha256, "key_id": v.signed.key_id}),
            )?;
            out.push((c.unit.code.clone(), c.period.key.clone()));
        }
        Ok(out)
    })
}

/// One commune in a ranking.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct RankedCommune {
    /// `None` for a commune without a SIPAS index (too few responses): listed, not ranked.
    pub rank: Option<u32>,
    pub unit_code: String,
    pub unit_name: String,
    /// False for a commune of the master data with no export of the period: listed as not
    /// submitted, without figures or rank.
    pub submitted: bool,
    pub responses: i64,
    pub invitations: i64,
    /// Responses ÷ invitations, in per cent, as the commune's export states it.
    pub response_rate: Option<f64>,
    pub overall_rate: Option<f64>,
    pub sipas_index: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub previous_rank: Option<u32>,
    /// Places gained since the previous period (positive = moved up).
    pub rank_change: Option<i64>,
    /// The rank next to this one is within this commune's 95% interval (or this one within the
    /// neighbour's): the order of the two means little.
    pub order_uncertain: bool,
    /// The change of the SIPAS index since the previous period, with its 95% interval; a change
    /// only when the interval excludes zero.
    pub sipas_change: Option<Change>,
    /// The same for overall satisfaction (`CASE.OVERALL`).
    pub overall_change: Option<Change>,
    /// `None` for a commune that did not submit.
    pub export_id: Option<String>,
    pub generated_at: Option<String>,
}

/// The communes of a period, ranked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ranking {
    pub period: String,
    pub period_label: String,
    pub previous_period: Option<String>,
    #[schema(value_type = String)]
    pub measure: &'static str,
    #[schema(value_type = String)]
    pub rule: &'static str,
    pub communes: Vec<RankedCommune>,
    /// The funnel plot of the communes' overall satisfaction around the province's.
    pub funnel: Option<Funnel>,
    /// Each commune's overall satisfaction adjusted for its mix of procedures (province rates
    /// per procedure), lowest ratio first.
    pub adjusted: Vec<Adjusted>,
    pub adjusted_label: &'static str,
    pub adjusted_explanation: &'static str,
}

pub const RULE: &str = "Ranked by the SIPAS index (administrative-service part), highest first; equal indices share a rank. \
The 95% interval is computed from each commune's criteria counts. `order_uncertain` marks a commune whose neighbour in the ranking \
(the commune just above or just below) has an index inside this commune's interval, or the other way round: the two cannot be told apart.";

#[derive(Queryable)]
struct Row {
    unit_code: String,
    unit_name: String,
    responses: i64,
    invitations: i64,
    response_rate: Option<f64>,
    overall_rate: Option<f64>,
    sipas_index: Option<f64>,
    sipas_low: Option<f64>,
    sipas_high: Option<f64>,
    export_id: uuid::Uuid,
    generated_at: chrono::DateTime<chrono::Utc>,
}

fn ranked(conn: &mut PgConnection, period: &str) -> QueryResult<Vec<RankedCommune>> {
    let mut rows: Vec<Row> = pe::table
        .filter(pe::period.eq(period))
        .select((
            pe::unit_code,
            pe::unit_name,
            pe::responses,
            pe::invitations,
            pe::response_rate,
            pe::overall_rate,
            pe::sipas_index,
            pe::sipas_low,
            pe::sipas_high,
            pe::export_id,
            pe::generated_at,
        ))
        .load(conn)?;
    rows.sort_by(|a, b| {
        b.sipas_index
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.sipas_index.unwrap_or(f64::NEG_INFINITY))
            .then_with(|| a.unit_code.cmp(&b.unit_code))
    });
    let mut out: Vec<RankedCommune> = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        let rank = r.sipas_index.map(|idx| match out.last() {
            Some(prev) if prev.sipas_index == Some(idx) => prev.rank.unwrap_or(i as u32 + 1),
            _ => i as u32 + 1,
        });
        out.push(RankedCommune {
            rank,
            unit_code: r.unit_code,
            unit_name: r.unit_name,
            submitted: true,
            responses: r.responses,
            invitations: r.invitations,
            response_rate: r.response_rate,
            overall_rate: r.overall_rate,
            sipas_index: r.sipas_index,
            ci95: r.sipas_low.zip(r.sipas_high).map(|(a, b)| [a, b]),
            previous_rank: None,
            rank_change: None,
            order_uncertain: false,
            sipas_change: None,
            overall_change: None,
            export_id: Some(r.export_id.to_string()),
            generated_at: Some(r.generated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        });
    }
    let inside = |x: Option<f64>, ci: Option<[f64; 2]>| match (x, ci) {
        (Some(x), Some([lo, hi])) => lo <= x && x <= hi,
        _ => false,
    };
    let ranked_len = out.iter().filter(|c| c.rank.is_some()).count();
    for i in 0..ranked_len {
        let me = &out[i];
        let near = |j: usize| {
            let other = &out[j];
            inside(other.sipas_index, me.ci95) || inside(me.sipas_index, other.ci95)
        };
        let uncertain = (i > 0 && near(i - 1)) || (i + 1 < ranked_len && near(i + 1));
        out[i].order_uncertain = uncertain;
    }
    // every commune of the master data that sent nothing for the period, by name
    let missing: Vec<(String, String)> = crate::schema::units::table
        .filter(
            crate::schema::units::code.ne_all(out.iter().map(|c| c.unit_code.clone()).collect::<Vec<_>>()),
        )
        .order((crate::schema::units::name.asc(), crate::schema::units::code.asc()))
        .select((crate::schema::units::code, crate::schema::units::name))
        .load(conn)?;
    out.extend(missing.into_iter().map(|(unit_code, unit_name)| RankedCommune {
        rank: None,
        unit_code,
        unit_name,
        submitted: false,
        responses: 0,
        invitations: 0,
        response_rate: None,
        overall_rate: None,
        sipas_index: None,
        ci95: None,
        previous_rank: None,
        rank_change: None,
        order_uncertain: false,
        sipas_change: None,
        overall_change: None,
        export_id: None,
        generated_at: None,
    }));
    Ok(out)
}

/// The periods that have imported exports, with how many communes each: newest end first, a
/// quarter before the half-year and the year that end with it.
pub fn imported_periods(conn: &mut PgConnection) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> =
        pe::table.group_by(pe::period).select((pe::period, diesel::dsl::count_star())).load(conn)?;
    let mut known: Vec<(Period, i64)> =
        rows.into_iter().filter_map(|(key, n)| Period::parse(&key).map(|p| (p, n))).collect();
    known.sort_by(|(a, _), (b, _)| b.to.cmp(&a.to).then(b.from.cmp(&a.from)));
    Ok(known.into_iter().map(|(p, n)| (p.key, n)).collect())
}

/// The stored contents of a period's exports (each verified when it was imported).
fn contents(conn: &mut PgConnection, period: &str) -> QueryResult<Vec<Content>> {
    let raw: Vec<serde_json::Value> =
        pe::table.filter(pe::period.eq(period)).select(pe::content).load(conn)?;
    Ok(raw.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect())
}

/// The ranking of a period, with each commune's rank in the previous period and its changes since
/// then, the funnel of communes and their procedure-mix-adjusted scores. `min_n`: the smallest
/// commune that is judged at all.
pub fn ranking(
    conn: &mut PgConnection,
    instrument: &Instrument,
    period: &Period,
    min_n: u64,
) -> QueryResult<Ranking> {
    let mut communes = ranked(conn, &period.key)?;
    let now = contents(conn, &period.key)?;
    let previous = period.previous();
    let positive = compare::overall_positive(instrument);
    if let Some(prev) = &previous {
        let before = ranked(conn, &prev.key)?;
        let then = contents(conn, &prev.key)?;
        for c in &mut communes {
            c.previous_rank = before.iter().find(|b| b.unit_code == c.unit_code).and_then(|b| b.rank);
            c.rank_change = c.rank.zip(c.previous_rank).map(|(now, then)| i64::from(then) - i64::from(now));
            let a = now.iter().find(|x| x.unit.code == c.unit_code).map(|x| &x.unit_figures);
            let b = then.iter().find(|x| x.unit.code == c.unit_code).map(|x| &x.unit_figures);
            if let Some((a, b)) = a.zip(b) {
                c.sipas_change = super::report::index_change(instrument, Formula::Share45, a, b);
                c.overall_change = super::report::overall_change(instrument, Formula::Share45, a, b);
            }
        }
    }
    let units: Vec<super::content::Group> = now
        .iter()
        .map(|x| super::content::Group {
            key: x.unit.code.clone(),
            label: x.unit.name.clone(),
            ..x.unit_figures.clone()
        })
        .collect();
    let mut total = compare::Count { k: 0, n: 0 };
    let mut cells = Vec::new();
    for x in &now {
        if let Some(o) = &x.unit_figures.overall {
            let c = compare::count_of(&o.counts, &positive);
            total.k += c.k;
            total.n += c.n;
        }
        for g in &x.procedures {
            if let Some(o) = &g.overall {
                cells.push(compare::Cell {
                    group: x.unit.code.clone(),
                    stratum: g.key.clone(),
                    count: compare::count_of(&o.counts, &positive),
                });
            }
        }
    }
    let funnel = compare::funnel("unit", total, &super::report::funnel_entries(&units, &positive), min_n)
        .map(|mut f| {
            f.too_few.extend(units.iter().filter(|g| g.suppressed && g.responses > 0).map(|g| g.key.clone()));
            f
        });
    let names = now.iter().map(|x| (x.unit.code.clone(), x.unit.name.clone())).collect();
    Ok(Ranking {
        period: period.key.clone(),
        period_label: period.label(),
        previous_period: previous.map(|p| p.key),
        measure: content::MEASURE_VI,
        rule: RULE,
        communes,
        funnel,
        adjusted: compare::adjust(&cells, &names, min_n),
        adjusted_label: compare::ADJUSTED_LABEL,
        adjusted_explanation: compare::ADJUSTED_EXPLANATION,
    })
}

/// How a commune's row says whether it submitted an export of the period.
pub const SUBMITTED: &str = "Đã nộp";
pub const NOT_SUBMITTED: &str = "Chưa nộp";

/// The ranking as one printable sheet (XLSX) or table (CSV).
pub fn ranking_sheet(r: &Ranking) -> Sheet {
    let f = |v: Option<f64>| v.map(Cell::Num).unwrap_or(Cell::Empty);
    let t = |s: &str| Cell::Text(super::formats::neutralise(s));
    let adjusted = |unit: &str| r.adjusted.iter().find(|a| a.key == unit);
    Sheet {
        name: "Xếp hạng".into(),
        title: format!("Xếp hạng các xã, phường — {} — {}", r.period_label, r.measure),
        headers: [
            "Hạng",
            "Mã đơn vị",
            "Tên đơn vị",
            "Số phiếu trả lời",
            "Tỉ lệ phản hồi (%)",
            "Hài lòng chung (%)",
            "Chỉ số SIPAS (%)",
            "KTC 95% dưới",
            "KTC 95% trên",
            "Hạng kỳ trước",
            "Thay đổi hạng",
            "Thứ hạng chưa phân biệt rõ",
            "Chỉ số SIPAS so với kỳ trước (điểm %)",
            "KTC 95% của thay đổi, dưới",
            "KTC 95% của thay đổi, trên",
            "Thay đổi có ý nghĩa",
            "Hài lòng chung O/E, đã điều chỉnh theo cơ cấu thủ tục",
            "O/E KTC 95% dưới",
            "O/E KTC 95% trên",
            "Số phiếu phát ra",
            "Tình trạng",
        ]
        .map(String::from)
        .to_vec(),
        widths: vec![
            6.0, 12.0, 30.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 8.0, 8.0, 12.0, 10.0, 9.0, 9.0, 10.0, 12.0, 9.0,
            9.0, 9.0, 12.0,
        ],
        rows: r
            .communes
            .iter()
            .map(|c| {
                vec![
                    f(c.rank.map(f64::from)),
                    t(&c.unit_code),
                    t(&c.unit_name),
                    Cell::Num(c.responses as f64),
                    f(c.response_rate),
                    f(c.overall_rate),
                    f(c.sipas_index),
                    f(c.ci95.map(|x| x[0])),
                    f(c.ci95.map(|x| x[1])),
                    f(c.previous_rank.map(f64::from)),
                    f(c.rank_change.map(|x| x as f64)),
                    t(if c.order_uncertain { "Có" } else { "" }),
                    f(c.sipas_change.as_ref().map(|x| x.difference)),
                    f(c.sipas_change.as_ref().map(|x| x.ci95[0])),
                    f(c.sipas_change.as_ref().map(|x| x.ci95[1])),
                    t(match c.sipas_change.as_ref() {
                        Some(x) if x.significant => "Có",
                        Some(_) => compare::NOT_SIGNIFICANT,
                        None => "",
                    }),
                    f(adjusted(&c.unit_code).and_then(|a| a.ratio)),
                    f(adjusted(&c.unit_code).and_then(|a| a.ci95).map(|x| x[0])),
                    f(adjusted(&c.unit_code).and_then(|a| a.ci95).map(|x| x[1])),
                    Cell::Num(c.invitations as f64),
                    t(if c.submitted { SUBMITTED } else { NOT_SUBMITTED }),
                ]
            })
            .collect(),
    }
}

/// A sheet as CSV (UTF-8 with BOM, one header row).
pub fn sheet_csv(s: &Sheet) -> Result<Vec<u8>, String> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&s.headers).map_err(|e| e.to_string())?;
        for row in &s.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Num(v) => v.to_string(),
                Cell::Empty => String::new(),
            }))
            .map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::reporting::content::Rate;

    fn rate(counts: &[(&str, u64)]) -> Rate {
        let counts: BTreeMap<String, u64> = counts.iter().map(|(l, n)| (l.to_string(), *n)).collect();
        Rate { rate: None, n: counts.values().sum(), ci95: None, counts }
    }

    #[test]
    fn the_sipas_interval_matches_a_hand_computation() {
        let instruments = crate::instrument::Instruments::load_published().unwrap();
        let i = instruments.current();
        // one statement with data, 8 of 10 positive, index 80:
        // p = (8 + 2) / (10 + 4) = 0.714286, var = 0.714286 × 0.285714 / 10 = 0.020408,
        // half = 1.959964 × √0.020408 × 100 = 28.00 → [52.00, 100 (capped)]
        let one = BTreeMap::from([("E1.1".to_string(), rate(&[("5", 6), ("4", 2), ("2", 2)]))]);
        assert_eq!(interval_of(80.0, &one, i), Some((52.0, 100.0)));
        // two elements, one statement each (weights 1/2): half = 1.959964 × √(2 × ¼ × 0.020408) × 100 = 19.80
        let two = BTreeMap::from([
            ("E1.1".to_string(), rate(&[("5", 8), ("1", 2)])),
            ("E2.1".to_string(), rate(&[("4", 8), ("3", 2)])),
        ]);
        assert_eq!(interval_of(80.0, &two, i), Some((60.2, 99.8)));
        assert_eq!(interval_of(80.0, &BTreeMap::new(), i), None);
    }
}
