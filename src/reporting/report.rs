//! The periodic report ("báo cáo định kỳ công tác cải cách hành chính"): a printable A4 page in
//! Vietnamese built from the same content as the province export, and the public page's view.

use askama::Template;
use chrono::Datelike;
use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};

use super::content::{self, Content, ExportRequest, Group};
use super::public::PublicResults;
use crate::error::AppError;
use crate::instrument::{Instrument, Instruments};
use crate::stats::compare::{self, Adjusted, Cell, Change, Count, Entry, Funnel};
use crate::stats::model::Formula;
use crate::stats::query::Release;

/// A percentage for people: decimal comma, two decimals, "—" for n/a (84,45).
pub fn vn(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{v:.2}").replace('.', ","),
        None => "—".into(),
    }
}

/// A TT01 score (one decimal).
pub fn vn1(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{v:.1}").replace('.', ","),
        None => "—".into(),
    }
}

/// A change in percentage points, signed ("+1,25", "−0,50").
pub fn delta(now: Option<f64>, then: Option<f64>) -> String {
    match (now, then) {
        (Some(a), Some(b)) => {
            let d = a - b;
            let s = format!("{:.2}", d.abs()).replace('.', ",");
            if d > 0.004 {
                format!("+{s}")
            } else if d < -0.004 {
                format!("−{s}")
            } else {
                "0,00".into()
            }
        }
        _ => "—".into(),
    }
}

pub struct CompareRow {
    pub label: String,
    pub now: String,
    pub previous: String,
    pub change_previous: String,
    pub last_year: String,
    pub change_last_year: String,
    /// The changes in words with their 95% interval (rates and the SIPAS index; empty otherwise).
    pub words_previous: String,
    pub words_last_year: String,
}

/// A funnel plot of the report: drawing and the points outside the limits in words.
pub struct FunnelBlock {
    pub title: String,
    pub svg: String,
    pub target: String,
    pub flagged: Vec<String>,
    pub too_few: usize,
}

/// An officer's procedure-mix-adjusted row.
pub struct AdjustedRow {
    pub code: String,
    pub name: String,
    pub n: u64,
    pub rate: String,
    pub observed: u64,
    pub expected: String,
    pub ratio: String,
    pub words: &'static str,
}

pub struct LowRow {
    pub code: String,
    pub name: String,
    pub n: u64,
    pub rate: String,
    pub ci: String,
}

pub struct OfficerRow {
    pub code: String,
    pub name: String,
    pub responses: u64,
    pub scores: Vec<String>,
    pub total: String,
    pub scored: String,
    pub band: String,
    /// Evaluation coverage: "40,00% (4/10)" or "not reported".
    pub coverage: String,
}

/// One of the unit's nine TT01 indicators as the report lists it.
pub struct UnitIndicatorRow {
    pub code: String,
    pub name: &'static str,
    pub score: String,
    pub source: &'static str,
}

#[derive(Template)]
#[template(path = "reporting/report.html")]
pub struct ReportPage {
    pub css: String,
    pub unit_name: String,
    /// The administrative heading (Nghị định 30/2020/NĐ-CP): the issuing body, upper case, in
    /// two lines ("ỦY BAN NHÂN DÂN" / "XÃ CHIÊM HÓA"), the place, and the local date.
    pub issuer: (String, String),
    pub place: String,
    pub dated: String,
    pub period_label: String,
    pub from: String,
    pub to: String,
    pub generated_at: String,
    pub export_id: String,
    pub measure: String,
    /// How the scores were computed, named and stated (docs/FORMULAS.md).
    pub formula_note: String,
    /// The unit of the scores ("%" or "điểm") and of their changes ("điểm %" or "điểm").
    pub score_unit: &'static str,
    pub change_unit: &'static str,
    pub invitations: u64,
    pub responses: u64,
    pub response_rate: String,
    pub suppressed: bool,
    pub min_n: u64,
    pub previous_label: String,
    pub last_year_label: String,
    pub compare: Vec<CompareRow>,
    pub low_procedures: Vec<LowRow>,
    pub low_criteria: Vec<LowRow>,
    pub indicators: Vec<String>,
    pub officers: Vec<OfficerRow>,
    pub unit_tt01: String,
    pub unit_band: String,
    /// The unit's nine indicators, each with its score and source.
    pub unit_indicators: Vec<UnitIndicatorRow>,
    /// The unit's evaluation coverage: "40,00% (4/10)" or "not reported".
    pub unit_coverage: String,
    /// The rule the bands come from, when the report shows one (see [`band_note`]).
    pub unit_band_caveat: Option<String>,
    pub followups: FollowupCounts,
    pub unverified: Vec<String>,
    pub funnels: Vec<FunnelBlock>,
    pub adjusted: Vec<AdjustedRow>,
    pub adjusted_label: &'static str,
    pub adjusted_explanation: &'static str,
}

/// The generation time of an export (`2026-12-03T14:30:00Z`) in local time.
fn generated_local(iso: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let at = chrono::DateTime::parse_from_rfc3339(iso).ok()?;
    let local = chrono::FixedOffset::east_opt(7 * 3600)?;
    Some(at.with_timezone(&local))
}

/// `2026-10-01` as `01/10/2026`; anything else as it is.
fn vn_date(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// The prefixes of a commune's People's Committee as master data names it.
const COMMITTEE: [&str; 3] = ["UBND ", "Ủy ban nhân dân ", "ỦY BAN NHÂN DÂN "];

/// What is left of a unit's name once "UBND" is taken off: "xã Chiêm Hóa".
fn bare_name(unit_name: &str) -> &str {
    let name = unit_name.trim();
    COMMITTEE.iter().find_map(|p| name.strip_prefix(p)).unwrap_or(name).trim()
}

/// The issuing body as Nghị định 30/2020 sets it at the top left: "ỦY BAN NHÂN DÂN" over the
/// commune's name, both upper case ("XÃ CHIÊM HÓA"); a unit not named as a committee stands alone.
fn issuer_lines(unit_name: &str) -> (String, String) {
    let bare = bare_name(unit_name);
    if bare.len() < unit_name.trim().len() {
        ("ỦY BAN NHÂN DÂN".to_string(), bare.to_uppercase())
    } else {
        (String::new(), bare.to_uppercase())
    }
}

/// The place written before the date: the commune's name without "xã", "phường" or "thị trấn".
fn place_of(unit_name: &str) -> String {
    let bare = bare_name(unit_name);
    ["xã ", "Xã ", "phường ", "Phường ", "thị trấn ", "Thị trấn "]
        .iter()
        .find_map(|p| bare.strip_prefix(p))
        .unwrap_or(bare)
        .to_string()
}

/// "ngày 03 tháng 12 năm 2026": Nghị định 30/2020 writes days below 10 and the months 1 and 2
/// with a leading 0 ("ngày 05 tháng 02", "ngày 15 tháng 3").
fn dated_line(day: Option<chrono::NaiveDate>) -> String {
    match day {
        Some(d) if d.month() <= 2 => format!("ngày {:02} tháng {:02} năm {}", d.day(), d.month(), d.year()),
        Some(d) => format!("ngày {:02} tháng {} năm {}", d.day(), d.month(), d.year()),
        None => "ngày … tháng … năm …".to_string(),
    }
}

/// How many of the lowest-rated procedures and criteria the report lists.
const LOWEST: usize = 5;

fn low_rows<'a>(rows: impl Iterator<Item = (String, String, &'a content::Rate)>) -> Vec<LowRow> {
    let mut v: Vec<(String, String, &content::Rate)> = rows.filter(|(_, _, r)| r.rate.is_some()).collect();
    v.sort_by(|a, b| a.2.rate.unwrap_or(0.0).total_cmp(&b.2.rate.unwrap_or(0.0)).then_with(|| a.0.cmp(&b.0)));
    v.into_iter()
        .take(LOWEST)
        .map(|(code, name, r)| LowRow {
            code,
            name,
            n: r.n,
            rate: vn(r.rate),
            ci: r
                .ci95
                .map(|[a, b]| format!("{} – {}", vn(Some(a)), vn(Some(b))))
                .unwrap_or_else(|| "—".into()),
        })
        .collect()
}

/// Builds the report of a unit's period: the export's content, and the whole-unit figures of the
/// previous period and of the same period a year before.
pub fn build(
    conn: &mut PgConnection,
    instruments: &Instruments,
    req: &ExportRequest,
) -> Result<(Content, ReportPage), AppError> {
    let c = content::build(conn, instruments, req)?;
    let p = &req.period;
    let prev_p = p.previous().ok_or_else(|| AppError::internal("no previous period"))?;
    let year_p = p.year_before().ok_or_else(|| AppError::internal("no previous year"))?;
    let officer = req.officer.as_deref();
    let prev =
        content::unit_group_of(conn, instruments, &req.unit, officer, &prev_p, req.min_n, req.formula)?;
    let year =
        content::unit_group_of(conn, instruments, &req.unit, officer, &year_p, req.min_n, req.formula)?;
    // an officer's own report reads the days of their released blocks only (SECURITY.md, finding 2)
    let range = content::released_range(conn, officer, req.min_n, p.from, p.to)?;
    let followups = match range {
        Some((from, to)) => followup_counts_of(conn, &req.unit, officer, from, to)?,
        None => FollowupCounts::default(),
    };
    let mix = content::unit_mix(conn, instruments, &req.unit, range)?;
    let mut page = page(
        &c,
        instruments.combined(),
        req.formula,
        &prev,
        &year,
        &prev_p.label(),
        &year_p.label(),
        &followups,
        &mix,
    );
    if let Some(officer) = officer {
        // an officer's own report says so on its face: it is not the unit's report, and it shows
        // no colleague's figures (the adjustment's reference is the unit's, its rows only theirs)
        let through = match Release::of_officer_now(conn, officer, req.min_n)?.through() {
            Some(d) => format!("công bố đến hết ngày {}", d.format("%d/%m/%Y")),
            None => "chưa đủ đợt công bố đầu tiên".to_string(),
        };
        page.unit_name = format!(
            "{} — số liệu riêng của cán bộ {officer}, theo đợt đủ {} phiếu, {through}",
            page.unit_name, req.min_n
        );
        page.adjusted.retain(|row| row.code == officer);
    }
    Ok((c, page))
}

/// The unit's follow-ups (complaints and requests raised by survey answers, see
/// `crate::followups`) opened during a period, by what became of them. "On time" means replied to
/// on or before the deadline's local (Asia/Ho_Chi_Minh) date; open ones are judged as of today.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct FollowupCounts {
    #[diesel(sql_type = BigInt)]
    pub opened: i64,
    #[diesel(sql_type = BigInt)]
    pub replied_on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub replied_late: i64,
    /// Not replied to, past the deadline and still open.
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    /// Not replied to, still within the deadline.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    /// Closed without a reply (for example a complaint found unfounded).
    #[diesel(sql_type = BigInt)]
    pub closed_without_reply: i64,
}

impl FollowupCounts {
    /// Replies on time as a share of follow-ups whose deadline has passed or that were replied
    /// to, as "95,00"; "—" when there are none.
    pub fn on_time_rate(&self) -> String {
        let due = self.replied_on_time + self.replied_late + self.overdue;
        vn((due > 0).then(|| 100.0 * self.replied_on_time as f64 / due as f64))
    }
}

/// Counts of [`FollowupCounts`] for follow-ups of `unit` opened from `from` to `to` (local dates).
pub fn followup_counts(
    conn: &mut PgConnection,
    unit: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<FollowupCounts, AppError> {
    followup_counts_of(conn, unit, None, from, to)
}

/// As [`followup_counts`], of one officer's follow-ups only when `officer` is given.
pub fn followup_counts_of(
    conn: &mut PgConnection,
    unit: &str,
    officer: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<FollowupCounts, AppError> {
    use diesel::sql_types::Nullable;
    Ok(diesel::sql_query(
        "WITH f AS ( \
           SELECT status, deadline, (replied_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS replied_on, \
                  (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS today \
           FROM followups \
           WHERE unit_code = $1 AND (opened_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date BETWEEN $2 AND $3 \
             AND ($4::text IS NULL OR officer_code = $4)) \
         SELECT count(*) AS opened, \
           count(*) FILTER (WHERE replied_on <= deadline) AS replied_on_time, \
           count(*) FILTER (WHERE replied_on > deadline) AS replied_late, \
           count(*) FILTER (WHERE replied_on IS NULL AND status <> 'closed' AND deadline < today) AS overdue, \
           count(*) FILTER (WHERE replied_on IS NULL AND status <> 'closed' AND deadline >= today) AS pending, \
           count(*) FILTER (WHERE replied_on IS NULL AND status = 'closed') AS closed_without_reply \
         FROM f",
    )
    .bind::<Text, _>(unit)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Nullable<Text>, _>(officer)
    .get_result(conn)?)
}

/// A content group's `CASE.OVERALL` count (none for a suppressed group).
fn overall_count(g: &Group, positive: &[i16]) -> Option<Count> {
    g.overall.as_ref().map(|o| compare::count_of(&o.counts, positive))
}

/// The change of `CASE.OVERALL` between two content groups under `formula`, with its interval.
pub fn overall_change(instrument: &Instrument, formula: Formula, a: &Group, b: &Group) -> Option<Change> {
    let (ra, rb) = (a.overall.as_ref()?, b.overall.as_ref()?);
    compare::score_change(instrument, formula, crate::instrument::OVERALL, &ra.counts, &rb.counts)
}

/// The change of the SIPAS index between two content groups under `formula`, with its interval.
pub fn index_change(instrument: &Instrument, formula: Formula, a: &Group, b: &Group) -> Option<Change> {
    let la = |code: &str| a.criteria.as_ref().and_then(|c| c.get(code)).map(|r| &r.counts);
    let lb = |code: &str| b.criteria.as_ref().and_then(|c| c.get(code)).map(|r| &r.counts);
    compare::index_change_by(instrument, formula, (a.sipas_index, &la), (b.sipas_index, &lb))
}

/// Funnel entries from content groups (suppressed ones carry no counts).
pub fn funnel_entries(groups: &[Group], positive: &[i16]) -> Vec<Entry> {
    groups
        .iter()
        .filter_map(|g| {
            Some(Entry { key: g.key.clone(), label: g.label.clone(), count: overall_count(g, positive)? })
        })
        .collect()
}

/// A funnel of content groups around the unit; suppressed groups count as too few.
pub fn funnel_of(
    of: &'static str,
    unit: &Group,
    groups: &[Group],
    positive: &[i16],
    min_n: u64,
) -> Option<Funnel> {
    let mut f =
        compare::funnel(of, overall_count(unit, positive)?, &funnel_entries(groups, positive), min_n)?;
    f.too_few.extend(groups.iter().filter(|g| g.suppressed && g.responses > 0).map(|g| g.key.clone()));
    Some(f)
}

fn funnel_block(title: &str, id: &str, f: Option<Funnel>) -> Option<FunnelBlock> {
    let f = f?;
    Some(FunnelBlock {
        title: title.to_string(),
        svg: compare::funnel_svg(&f, title, id),
        target: format!("{}%", vn(Some(f.target))),
        flagged: f.flagged().into_iter().map(compare::describe).collect(),
        too_few: f.too_few.len(),
    })
}

fn adjusted_row(a: &Adjusted) -> AdjustedRow {
    AdjustedRow {
        code: a.key.clone(),
        name: a.label.clone(),
        n: a.n,
        rate: vn(a.rate),
        observed: a.observed,
        expected: vn(Some(a.expected)),
        ratio: a.ratio_text(),
        words: a.words(),
    }
}

#[allow(clippy::too_many_arguments)]
fn page(
    c: &Content,
    instrument: &Instrument,
    formula: Formula,
    prev: &Group,
    year: &Group,
    prev_label: &str,
    year_label: &str,
    followups: &FollowupCounts,
    mix: &[Cell],
) -> ReportPage {
    let u = &c.unit_figures;
    let positive = compare::overall_positive(instrument);
    let overall = |g: &Group| g.overall.as_ref().and_then(|o| o.rate);
    let words = |c: Option<Change>| c.map(|c| c.words_in(formula)).unwrap_or_default();
    let row = |label: &str, f: &dyn Fn(&Group) -> Option<f64>| CompareRow {
        label: label.to_string(),
        now: vn(f(u)),
        previous: vn(f(prev)),
        change_previous: delta(f(u), f(prev)),
        last_year: vn(f(year)),
        change_last_year: delta(f(u), f(year)),
        words_previous: String::new(),
        words_last_year: String::new(),
    };
    let unit = formula.unit_vi();
    let mut overall_row = row(&format!("Hài lòng chung về việc giải quyết hồ sơ ({unit})"), &overall);
    overall_row.words_previous = words(overall_change(instrument, formula, u, prev));
    overall_row.words_last_year = words(overall_change(instrument, formula, u, year));
    let mut sipas_row =
        row(&format!("Chỉ số SIPAS – phần cung ứng dịch vụ hành chính công ({unit})"), &|g| g.sipas_index);
    sipas_row.words_previous = words(index_change(instrument, formula, u, prev));
    sipas_row.words_last_year = words(index_change(instrument, formula, u, year));
    let mut compare = vec![row("Tỉ lệ phản hồi (%)", &|g| g.response_rate), overall_row, sipas_row];
    for element in &instrument.computation.elements {
        let name =
            instrument.sections.iter().find(|s| &s.code == element).map(|s| s.vi.clone()).unwrap_or_default();
        let e = element.clone();
        compare.push(row(&format!("{element}. {name} ({unit})"), &move |g: &Group| {
            g.elements.as_ref().and_then(|m| m.get(&e)).and_then(|x| x.index)
        }));
    }
    let low_procedures = low_rows(
        c.procedures.iter().filter_map(|g| g.overall.as_ref().map(|o| (g.key.clone(), g.label.clone(), o))),
    );
    let low_criteria =
        low_rows(u.criteria.iter().flatten().map(|(code, r)| {
            (code.clone(), instrument.item(code).map(|i| i.vi.clone()).unwrap_or_default(), r)
        }));
    let indicators: Vec<String> = crate::stats::model::TT01_OFFICER.iter().map(|c| c.to_string()).collect();
    let officers = c
        .officers
        .iter()
        .map(|g| {
            let t = g.tt01.as_ref();
            OfficerRow {
                code: g.key.clone(),
                name: g.label.clone(),
                responses: g.responses,
                scores: indicators
                    .iter()
                    .map(|i| vn1(t.and_then(|t| t.indicators.get(i).copied().flatten())))
                    .collect(),
                total: vn1(t.and_then(|t| t.total)),
                scored: t.map(|t| t.scored.len().to_string()).unwrap_or_else(|| "—".into()),
                band: match (
                    g.suppressed,
                    t.and_then(|t| t.band.as_ref()),
                    t.and_then(|t| t.summary.as_ref()),
                ) {
                    (true, _, _) => format!("Chưa đủ {} phiếu", c.min_n),
                    (false, Some(b), _) => b.vi.clone(),
                    (false, None, Some(s)) => format!("Không xếp loại: {}", s.vi),
                    (false, None, None) => "—".into(),
                },
                coverage: g.coverage.as_ref().map_or_else(|| "—".into(), |c| c.text_vi()),
            }
        })
        .collect();
    let unverified = c
        .instrument_versions
        .iter()
        .filter(|v| v.has_unverified_items)
        .map(|v| {
            format!("Phiếu {} phiên bản {}: {}", v.instrument_id, v.version, v.unverified_items.join(", "))
        })
        .collect();
    ReportPage {
        css: crate::http::assets::href("report.css"),
        unit_name: c.unit.name.clone(),
        issuer: issuer_lines(&c.unit.name),
        place: place_of(&c.unit.name),
        dated: dated_line(generated_local(&c.generated_at).map(|t| t.date_naive())),
        period_label: c.period.label.clone(),
        from: vn_date(&c.period.from),
        to: vn_date(&c.period.to),
        generated_at: generated_local(&c.generated_at)
            .map(|t| t.format("%H:%M ngày %d/%m/%Y").to_string())
            .unwrap_or_else(|| c.generated_at.clone()),
        export_id: c.export_id.clone(),
        measure: c.measure.vi.clone(),
        formula_note: format!("{} ({}). {}", formula.name_vi(), formula.as_str(), formula.rule()),
        score_unit: formula.unit_vi(),
        change_unit: formula.change_unit_vi(),
        invitations: c.totals.invitations,
        responses: c.totals.responses,
        response_rate: vn(c.totals.response_rate),
        suppressed: u.suppressed,
        min_n: c.min_n,
        previous_label: prev_label.to_string(),
        last_year_label: year_label.to_string(),
        compare,
        low_procedures,
        low_criteria,
        indicators,
        officers,
        unit_tt01: vn1(u.tt01.as_ref().and_then(|t| t.total)),
        unit_band: match u.tt01.as_ref().map(|t| (t.band.as_ref(), t.summary.as_ref())) {
            Some((Some(b), _)) => b.vi.clone(),
            Some((None, Some(s))) => format!("không xếp loại ({}; xếp loại cần đủ 9 chỉ số)", s.vi),
            _ => "—".into(),
        },
        unit_band_caveat: band_note(u, &c.officers),
        unit_indicators: crate::stats::model::TT01_NAMES
            .iter()
            .map(|(code, name)| {
                let t = u.tt01.as_ref();
                UnitIndicatorRow {
                    code: code.to_string(),
                    name,
                    score: vn1(t.and_then(|t| t.indicators.get(*code).copied().flatten())),
                    source: crate::stats::report::source_vi(
                        t.and_then(|t| t.sources.get(*code)).map(String::as_str),
                    ),
                }
            })
            .collect(),
        unit_coverage: u.coverage.as_ref().map_or_else(|| "—".into(), |c| c.text_vi()),
        followups: followups.clone(),
        unverified,
        funnels: [
            funnel_block(
                "Biểu đồ phễu: cán bộ",
                "report-funnel-officers",
                funnel_of("officer", u, &c.officers, &positive, c.min_n),
            ),
            funnel_block(
                "Biểu đồ phễu: thủ tục hành chính",
                "report-funnel-procedures",
                funnel_of("procedure", u, &c.procedures, &positive, c.min_n),
            ),
        ]
        .into_iter()
        .flatten()
        .collect(),
        adjusted: {
            let names = c.officers.iter().map(|g| (g.key.clone(), g.label.clone())).collect();
            compare::adjust(mix, &names, c.min_n).iter().map(adjusted_row).collect()
        },
        adjusted_label: compare::ADJUSTED_LABEL,
        adjusted_explanation: compare::ADJUSTED_EXPLANATION,
    }
}

/// The rule a band comes from (Điều 13–15 of TT 01/2018, and that no successor under
/// NĐ 118/2025 was found), on every report that shows a band — the unit's or an officer's.
pub fn band_note(unit: &Group, officers: &[Group]) -> Option<String> {
    let shows_band = std::iter::once(unit)
        .chain(officers.iter())
        .any(|g| !g.suppressed && g.tt01.as_ref().is_some_and(|t| t.band.is_some()));
    shows_band.then(|| crate::stats::model::TT01_BAND_NOTE_VI.to_string())
}

pub struct PublicRow {
    pub label: String,
    pub responses: u64,
    pub overall: String,
    pub sipas: String,
    /// The change since the quarter before, in words with its interval (trend rows only).
    pub change: String,
}

#[derive(Template)]
#[template(path = "reporting/public.html")]
pub struct PublicPage {
    pub css: String,
    pub unit_name: String,
    pub measure: String,
    pub quarter_label: Option<String>,
    pub in_progress: bool,
    pub overall: String,
    pub sipas: String,
    pub responses: u64,
    pub change: String,
    pub trend: Vec<PublicRow>,
    pub procedures: Vec<PublicRow>,
    pub fields: Vec<PublicRow>,
    pub method: String,
    pub json_href: String,
}

/// The public page's view of the results.
pub fn public_page(r: &PublicResults) -> PublicPage {
    let rows = |gs: &[super::public::PublicGroup]| {
        gs.iter()
            .map(|g| PublicRow {
                label: g.label.clone(),
                responses: g.responses,
                overall: vn(g.overall),
                sipas: vn(g.sipas_index),
                change: String::new(),
            })
            .collect()
    };
    PublicPage {
        css: crate::http::assets::href("public.css"),
        unit_name: r.unit_name.clone(),
        measure: r.measure.to_string(),
        quarter_label: r.quarter_label.clone(),
        in_progress: r.quarter_in_progress,
        overall: vn(r.latest.as_ref().and_then(|g| g.overall)),
        sipas: vn(r.latest.as_ref().and_then(|g| g.sipas_index)),
        responses: r.latest.as_ref().map(|g| g.responses).unwrap_or(0),
        change: r.latest_change.as_ref().map(Change::words).unwrap_or_default(),
        trend: r
            .trend
            .iter()
            .map(|t| PublicRow {
                label: t.label.clone(),
                responses: t.responses,
                overall: vn(t.overall),
                sipas: vn(t.sipas_index),
                change: t.overall_change.as_ref().map(Change::words).unwrap_or_else(|| "—".into()),
            })
            .collect(),
        procedures: rows(&r.procedures),
        fields: rows(&r.fields),
        method: r.method.replace("{min_n}", &r.min_n.to_string()),
        json_href: format!("/api/v1/public/{}", r.unit),
    }
}

/// The province ranking as a standalone printable document (`sipas province ranking --format
/// html`); the staff page (`pages::ProvinceRankingPage`) shows the same [`RankingView`].
#[derive(Template)]
#[template(path = "reporting/ranking.html")]
pub struct RankingPage {
    pub css: String,
    pub r: RankingView,
}

/// What a ranking shows, in words and Vietnamese numbers.
pub struct RankingView {
    pub period: String,
    pub period_label: String,
    pub measure: String,
    pub rule: String,
    pub rows: Vec<RankingRow>,
    /// Communes that submitted, and all communes of the master data.
    pub submitted: usize,
    pub communes: usize,
    pub funnel: Option<FunnelBlock>,
    pub adjusted: Vec<AdjustedRow>,
    pub adjusted_label: &'static str,
    pub adjusted_explanation: &'static str,
    pub min_n: u64,
}

pub struct RankingRow {
    pub rank: String,
    pub code: String,
    pub name: String,
    pub submitted: bool,
    pub responses: String,
    /// "42,50% (17/40)": responses ÷ invitations.
    pub response_rate: String,
    pub sipas: String,
    pub ci: String,
    pub change: String,
    pub uncertain: bool,
    /// The SIPAS index's change since the previous period, in words with its interval.
    pub sipas_change: String,
}

pub const RANKING_RULE_VI: &str = "Xếp theo chỉ số SIPAS từ cao xuống thấp. Dấu ≈ đánh dấu xã có chỉ số của xã liền trên hoặc liền dưới nằm trong khoảng tin cậy 95% của mình (hoặc ngược lại): thứ tự giữa hai xã này chưa có ý nghĩa thống kê. Tỉ lệ phản hồi = số phiếu trả lời ÷ số phiếu phát ra. Xã chưa nộp bản xuất của kỳ được liệt kê cuối bảng, không xếp hạng.";

pub fn ranking_view(r: &super::province::Ranking) -> RankingView {
    let dash = || "—".to_string();
    RankingView {
        period: r.period.clone(),
        period_label: r.period_label.clone(),
        measure: r.measure.to_string(),
        rule: RANKING_RULE_VI.into(),
        submitted: r.communes.iter().filter(|c| c.submitted).count(),
        communes: r.communes.len(),
        rows: r
            .communes
            .iter()
            .map(|c| RankingRow {
                rank: c.rank.map(|r| r.to_string()).unwrap_or_else(dash),
                code: c.unit_code.clone(),
                name: c.unit_name.clone(),
                submitted: c.submitted,
                responses: if c.submitted { c.responses.to_string() } else { dash() },
                response_rate: match (c.submitted, c.response_rate) {
                    (false, _) => dash(),
                    (true, rate) => format!("{}% ({}/{})", vn(rate), c.responses, c.invitations),
                },
                sipas: vn(c.sipas_index),
                ci: c.ci95.map(|[a, b]| format!("{} – {}", vn(Some(a)), vn(Some(b)))).unwrap_or_else(dash),
                change: match c.rank_change {
                    Some(d) if d > 0 => format!("↑ {d}"),
                    Some(d) if d < 0 => format!("↓ {}", -d),
                    Some(_) => "=".into(),
                    None => dash(),
                },
                uncertain: c.order_uncertain,
                sipas_change: c.sipas_change.as_ref().map(Change::words).unwrap_or_else(dash),
            })
            .collect(),
        funnel: funnel_block("Biểu đồ phễu: các xã, phường", "ranking-funnel", r.funnel.clone()),
        adjusted: r.adjusted.iter().map(adjusted_row).collect(),
        adjusted_label: compare::ADJUSTED_LABEL,
        adjusted_explanation: compare::ADJUSTED_EXPLANATION,
        min_n: r.funnel.as_ref().map_or(0, |f| f.min_n),
    }
}

pub fn ranking_page(r: &super::province::Ranking) -> RankingPage {
    RankingPage { css: crate::http::assets::href("report.css"), r: ranking_view(r) }
}
