//! Comparisons a leader can act on fairly (issue 19), the comparison interface of this
//! capability: the dashboard, the integrity page, the periodic report and the province ranking
//! build them from counts and show them as they are here.
//!
//! - [`funnel`]: each officer (commune, procedure) at its number of answers and its rate, against
//!   the overall rate with 95% and 99.8% control limits ([`inference::funnel_limits`], exact
//!   binomial at every n); only a point outside the 99.8% limits is called unusual, and nothing
//!   with fewer than `min_n` answers is judged at all. [`funnel_svg`] draws it.
//! - [`adjust`]: the procedure-mix adjustment — observed positives against those expected at the
//!   reference's rate for each procedure, weighted by the group's own mix ([`inference::indirect`]).
//! - [`change`]: a period-on-period difference with its 95% interval
//!   ([`inference::newcombe`]), called a change only when the interval excludes zero.
//!
//! Rates are written in percent (0–100), rounded to 2 decimals as the API writes them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::inference::{self, C95, C998, Stratum};
use super::model::{Formula, round_to};
use super::query::{self, GroupBy, Source, StatsQuery};
use super::report::Group;
use super::store;
use crate::error::AppError;
use crate::http::format::{count, decimal};
use crate::instrument::{Instrument, Instruments, OVERALL};

/// What the adjusted figures are called everywhere they appear.
pub const ADJUSTED_LABEL: &str = "đã điều chỉnh theo cơ cấu thủ tục";
/// How they are made, in one paragraph (pages, the report, exports' notes).
pub const ADJUSTED_EXPLANATION: &str = "Tỷ lệ hài lòng chung của mỗi cán bộ (hoặc xã) phụ thuộc vào loại thủ tục họ giải quyết: hồ sơ đất đai, xây dựng thường được đánh giá thấp hơn hộ tịch ở mọi nơi. Vì vậy, với mỗi cán bộ, số phiếu hài lòng kỳ vọng được tính bằng cách nhân số phiếu của cán bộ ở từng thủ tục với tỷ lệ hài lòng chung của cả đơn vị (cả tỉnh) ở thủ tục đó rồi cộng lại. Chỉ số O/E = số phiếu hài lòng thực tế ÷ số phiếu hài lòng kỳ vọng: 1,00 là đúng bằng mức chung của đơn vị với cùng cơ cấu thủ tục, trên 1 là tốt hơn, dưới 1 là kém hơn. Khoảng tin cậy 95% là khoảng điểm (score) của tỷ số; khi khoảng này chứa 1,00 thì khác biệt có thể chỉ là ngẫu nhiên. Tỷ lệ thô vẫn được giữ bên cạnh.";
/// The words of a difference within noise.
pub const NOT_SIGNIFICANT: &str = "không khác biệt đáng kể";

/// Positive answers out of answers of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Count {
    pub k: u64,
    pub n: u64,
}

impl Count {
    /// The rate in percent.
    pub fn rate(&self) -> Option<f64> {
        (self.n > 0).then(|| 100.0 * self.k as f64 / self.n as f64)
    }
}

/// The positive levels of `CASE.OVERALL`.
pub fn overall_positive(instrument: &Instrument) -> Vec<i16> {
    instrument
        .item(OVERALL)
        .and_then(|i| instrument.scale_of(i))
        .map(|s| s.positive.clone())
        .unwrap_or_default()
}

/// Positives and answers from counts per level (level code as written in reports).
pub fn count_of<'a>(counts: impl IntoIterator<Item = (&'a String, &'a u64)>, positive: &[i16]) -> Count {
    let mut c = Count { k: 0, n: 0 };
    for (level, n) in counts {
        c.n += n;
        if level.parse::<i16>().is_ok_and(|l| positive.contains(&l)) {
            c.k += n;
        }
    }
    c
}

/// A report group's `CASE.OVERALL` count (none for a suppressed group).
pub fn overall_count(instrument: &Instrument, g: &Group) -> Option<Count> {
    let o = g.overall.as_ref()?;
    Some(count_of(&o.counts, &overall_positive(instrument)))
}

// ------------------------------------------------------------------------------------ funnel

/// Where a point of a funnel plot falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Above the 99.8% limit: "cao bất thường".
    High,
    /// Below the 99.8% limit: "thấp bất thường".
    Low,
    /// Between the 95% and the 99.8% limit, above: worth watching, not unusual.
    WatchHigh,
    /// Between the 95% and the 99.8% limit, below.
    WatchLow,
    /// Inside the 95% limits: within chance.
    Within,
}

impl Verdict {
    /// Plain Vietnamese words for the list beside the plot.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::High => "cao bất thường",
            Verdict::Low => "thấp bất thường",
            Verdict::WatchHigh => "cao hơn mức chung (ngoài giới hạn 95%, trong 99,8%)",
            Verdict::WatchLow => "thấp hơn mức chung (ngoài giới hạn 95%, trong 99,8%)",
            Verdict::Within => "trong giới hạn",
        }
    }

    pub fn unusual(self) -> bool {
        matches!(self, Verdict::High | Verdict::Low)
    }
}

/// One group to place on a funnel: its code, its name and its count.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub label: String,
    pub count: Count,
}

/// One point of a funnel plot.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FunnelPoint {
    pub key: String,
    pub label: String,
    pub n: u64,
    pub k: u64,
    pub rate: f64,
    /// The limits at this point's n, in percent.
    pub limits95: [f64; 2],
    pub limits998: [f64; 2],
    pub verdict: Verdict,
}

/// A funnel plot's figures (the JSON twin of the drawing).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    /// What the points are: `officer`, `unit` (communes) or `procedure`.
    pub of: &'static str,
    /// The overall rate the limits surround, in percent, and what it rests on.
    pub target: f64,
    pub target_k: u64,
    pub target_n: u64,
    pub min_n: u64,
    pub method: &'static str,
    pub points: Vec<FunnelPoint>,
    /// Groups with answers but fewer than `min_n`: not placed, never judged.
    pub too_few: Vec<String>,
}

impl Funnel {
    /// The points outside the 95% limits, most unusual first.
    pub fn flagged(&self) -> Vec<&FunnelPoint> {
        let mut v: Vec<&FunnelPoint> = self.points.iter().filter(|p| p.verdict != Verdict::Within).collect();
        v.sort_by_key(|p| (!p.verdict.unusual(), p.key.clone()));
        v
    }
}

const FUNNEL_METHOD: &str = "exact binomial control limits (Spiegelhalter 2005, interpolated quantiles) at 95% and 99.8% around the overall rate";

fn pct_pair((lo, hi): (f64, f64)) -> [f64; 2] {
    [round_to(100.0 * lo, 2), round_to(100.0 * hi, 2)]
}

/// Places every entry with at least `min_n` answers against the overall count `target`.
/// `None` when the target has no answers.
pub fn funnel(of: &'static str, target: Count, entries: &[Entry], min_n: u64) -> Option<Funnel> {
    let p0 = target.k as f64 / target.n as f64;
    if target.n == 0 {
        return None;
    }
    let mut points = Vec::new();
    let mut too_few = Vec::new();
    for e in entries {
        let (k, n) = (e.count.k, e.count.n);
        if n == 0 {
            continue;
        }
        if n < min_n.max(1) {
            too_few.push(e.key.clone());
            continue;
        }
        let (Some(l95), Some(l998)) =
            (inference::funnel_limits(p0, n, C95), inference::funnel_limits(p0, n, C998))
        else {
            continue;
        };
        let p = k as f64 / n as f64;
        let verdict = if p > l998.1 {
            Verdict::High
        } else if p < l998.0 {
            Verdict::Low
        } else if p > l95.1 {
            Verdict::WatchHigh
        } else if p < l95.0 {
            Verdict::WatchLow
        } else {
            Verdict::Within
        };
        points.push(FunnelPoint {
            key: e.key.clone(),
            label: e.label.clone(),
            n,
            k,
            rate: round_to(100.0 * p, 2),
            limits95: pct_pair(l95),
            limits998: pct_pair(l998),
            verdict,
        });
    }
    Some(Funnel {
        of,
        target: round_to(100.0 * p0, 2),
        target_k: target.k,
        target_n: target.n,
        min_n,
        method: FUNNEL_METHOD,
        points,
        too_few,
    })
}

/// Entries from report groups (suppressed groups carry no counts and are left out here; the
/// caller lists them from the report).
pub fn entries(instrument: &Instrument, groups: &[Group]) -> Vec<Entry> {
    groups
        .iter()
        .filter_map(|g| {
            Some(Entry { key: g.key.clone(), label: g.label.clone(), count: overall_count(instrument, g)? })
        })
        .collect()
}

/// The plain-words line of a flagged point: "Nguyễn Văn A (CB01): 61,20% trên 250 phiếu — thấp
/// bất thường (giới hạn 99,8%: 78,40–90,80%)".
pub fn describe(p: &FunnelPoint) -> String {
    format!(
        "{} ({}): {}% trên {} phiếu — {} (giới hạn 95%: {}–{}%; 99,8%: {}–{}%)",
        p.label,
        p.key,
        decimal(p.rate, 2),
        count(p.n),
        p.verdict.words(),
        decimal(p.limits95[0], 2),
        decimal(p.limits95[1], 2),
        decimal(p.limits998[0], 2),
        decimal(p.limits998[1], 2),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The funnel plot as SVG: answers on a logarithmic x axis, the rate on y; the overall rate as a
/// line, the 95% limits dashed, the 99.8% limits solid; each point a dot, unusual ones a larger
/// marked dot with their code beside. Black on white with presentation attributes only, so it
/// prints and needs no stylesheet or script.
pub fn funnel_svg(f: &Funnel, title: &str, id: &str) -> String {
    const W: f64 = 640.0;
    const H: f64 = 360.0;
    const L: f64 = 52.0;
    const R: f64 = 16.0;
    const T: f64 = 16.0;
    const B: f64 = 44.0;
    let p0 = f.target / 100.0;
    let max_n = f.points.iter().map(|p| p.n).max().unwrap_or(f.min_n.max(10)).max(f.min_n.max(2) * 4);
    let min_n = f.min_n.max(1);
    let (lx0, lx1) = ((min_n as f64).ln(), (max_n as f64).ln());
    let x = |n: f64| L + (W - L - R) * ((n.max(1.0).ln() - lx0) / (lx1 - lx0).max(1e-9)).clamp(0.0, 1.0);
    // y from the lowest limit or point, in steps of 10%, to 100%
    let lowest_limit = inference::funnel_limits(p0, min_n, C998).map_or(0.0, |l| 100.0 * l.0);
    let lowest = f.points.iter().map(|p| p.rate).fold(lowest_limit.min(f.target), f64::min);
    let y0 = ((lowest - 5.0) / 10.0).floor().clamp(0.0, 9.0) * 10.0;
    let y = |v: f64| T + (H - T - B) * (1.0 - (v.clamp(y0, 100.0) - y0) / (100.0 - y0));
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-title" class="funnel"><title id="{id}-title">{}</title><rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/>"##,
        escape(title)
    );
    let mut v = y0;
    while v <= 100.0 + 1e-9 {
        let _ = write!(
            s,
            r##"<line x1="{L}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd" stroke-width="1"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#333">{}%</text>"##,
            W - R,
            L - 6.0,
            y(v) + 4.0,
            v,
            yy = y(v)
        );
        v += 10.0;
    }
    // x ticks at 1-2-5 steps
    let mut base = 1u64;
    while base <= max_n {
        for tick in [base, 2 * base, 5 * base] {
            if tick < min_n || tick > max_n {
                continue;
            }
            let xx = x(tick as f64);
            let _ = write!(
                s,
                r##"<line x1="{xx:.1}" x2="{xx:.1}" y1="{}" y2="{}" stroke="#999"/><text x="{xx:.1}" y="{}" font-size="11" text-anchor="middle" fill="#333">{}</text>"##,
                H - B,
                H - B + 4.0,
                H - B + 16.0,
                count(tick)
            );
        }
        base = base.saturating_mul(10);
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" font-size="12" text-anchor="middle" fill="#000">Số phiếu trả lời (thang logarit)</text><text x="14" y="{}" font-size="12" text-anchor="middle" fill="#000" transform="rotate(-90 14 {})">Tỷ lệ hài lòng</text>"##,
        (L + W - R) / 2.0,
        H - 8.0,
        (T + H - B) / 2.0,
        (T + H - B) / 2.0
    );
    // the limits, sampled along n
    let steps = 60;
    for (conf, dash, width) in [(C95, r#" stroke-dasharray="5 4""#, 1.2), (C998, "", 1.6)] {
        for side in 0..2 {
            let mut d = String::new();
            for i in 0..=steps {
                let n = (lx0 + (lx1 - lx0) * i as f64 / steps as f64).exp().round().max(1.0) as u64;
                let Some(l) = inference::funnel_limits(p0, n, conf) else { continue };
                let v = 100.0 * if side == 0 { l.0 } else { l.1 };
                let _ = write!(d, "{}{:.1},{:.1} ", if d.is_empty() { "M" } else { "L" }, x(n as f64), y(v));
            }
            let _ = write!(
                s,
                r##"<path d="{}" fill="none" stroke="#000" stroke-width="{width}"{dash}/>"##,
                d.trim_end()
            );
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{L}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#555" stroke-width="1"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#000">mức chung {}%</text>"##,
        W - R,
        W - R - 2.0,
        y(f.target) - 4.0,
        decimal(f.target, 2),
        yy = y(f.target)
    );
    for p in &f.points {
        let (cx, cy) = (x(p.n as f64), y(p.rate));
        let tip = escape(&describe(p));
        if p.verdict.unusual() {
            let _ = write!(
                s,
                r##"<g><title>{tip}</title><circle cx="{cx:.1}" cy="{cy:.1}" r="5.5" fill="#000"/><circle cx="{cx:.1}" cy="{cy:.1}" r="8.5" fill="none" stroke="#000" stroke-width="1.2"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#000">{}</text></g>"##,
                cx + 10.0,
                cy + 4.0,
                escape(&p.key)
            );
        } else {
            let _ = write!(
                s,
                r##"<g><title>{tip}</title><circle cx="{cx:.1}" cy="{cy:.1}" r="4" fill="#fff" stroke="#000" stroke-width="1.2"/></g>"##
            );
        }
    }
    // legend
    let ly = T + 6.0;
    let _ = write!(
        s,
        r##"<g font-size="11" fill="#000"><line x1="{a}" x2="{b}" y1="{ly}" y2="{ly}" stroke="#000" stroke-width="1.2" stroke-dasharray="5 4"/><text x="{c}" y="{t}">giới hạn 95%</text><line x1="{a}" x2="{b}" y1="{ly2}" y2="{ly2}" stroke="#000" stroke-width="1.6"/><text x="{c}" y="{t2}">giới hạn 99,8%</text></g>"##,
        a = L + 10.0,
        b = L + 40.0,
        c = L + 46.0,
        t = ly + 4.0,
        ly2 = ly + 16.0,
        t2 = ly + 20.0,
    );
    s.push_str("</svg>");
    s
}

// ------------------------------------------------------------------------------------ mix

/// One group's count in one stratum (an officer's answers on one procedure).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub group: String,
    pub stratum: String,
    pub count: Count,
}

/// A group's procedure-mix-adjusted figures, beside its raw rate.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Adjusted {
    pub key: String,
    pub label: String,
    pub n: u64,
    /// The raw rate in percent.
    pub rate: Option<f64>,
    pub observed: u64,
    /// Rounded to 2 decimals.
    pub expected: f64,
    /// observed ÷ expected, 2 decimals; `None` under `min_n` answers or without expectation.
    pub ratio: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    /// `above` / `below` when the interval excludes 1, `as_expected` otherwise, `too_few`.
    pub verdict: &'static str,
    pub label_adjusted: &'static str,
}

/// Adjusts each group for its mix of strata. The reference rate of a stratum is the rate of all
/// the cells given in it (the unit's, or the province's); `labels` names the groups. Groups with
/// fewer than `min_n` answers get their counts and no ratio. Ordered by the ratio, lowest first
/// (where to look first), groups without one last.
pub fn adjust(cells: &[Cell], labels: &BTreeMap<String, String>, min_n: u64) -> Vec<Adjusted> {
    let mut reference: BTreeMap<&str, Count> = BTreeMap::new();
    let mut by_group: BTreeMap<&str, Vec<&Cell>> = BTreeMap::new();
    for c in cells {
        let r = reference.entry(c.stratum.as_str()).or_insert(Count { k: 0, n: 0 });
        r.k += c.count.k;
        r.n += c.count.n;
        by_group.entry(c.group.as_str()).or_default().push(c);
    }
    let mut out: Vec<Adjusted> = by_group
        .into_iter()
        .map(|(group, cs)| {
            let strata: Vec<Stratum> = cs
                .iter()
                .filter(|c| c.count.n > 0)
                .map(|c| {
                    let r = reference.get(c.stratum.as_str()).copied().unwrap_or(Count { k: 0, n: 0 });
                    Stratum { k: c.count.k, n: c.count.n, reference: r.k as f64 / r.n.max(1) as f64 }
                })
                .collect();
            let s = inference::indirect(&strata, C95);
            let judged = s.n >= min_n.max(1);
            let ratio = s.ratio.filter(|_| judged);
            let ci = s.ci.filter(|_| judged);
            let verdict = match ci {
                None => "too_few",
                Some((lo, _)) if lo > 1.0 => "above",
                Some((_, hi)) if hi < 1.0 => "below",
                Some(_) => "as_expected",
            };
            Adjusted {
                key: group.to_string(),
                label: labels.get(group).cloned().unwrap_or_else(|| group.to_string()),
                n: s.n,
                rate: (s.n > 0).then(|| round_to(100.0 * s.observed as f64 / s.n as f64, 2)),
                observed: s.observed,
                expected: round_to(s.expected, 2),
                ratio: ratio.map(|r| round_to(r, 2)),
                ci95: ci.map(|(lo, hi)| [round_to(lo, 2), round_to(hi, 2)]),
                verdict,
                label_adjusted: ADJUSTED_LABEL,
            }
        })
        .collect();
    out.sort_by(|a, b| match (a.ratio, b.ratio) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.key.cmp(&b.key)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.n.cmp(&a.n).then_with(|| a.key.cmp(&b.key)),
    });
    out
}

impl Adjusted {
    /// Plain words: "cao hơn kỳ vọng", "thấp hơn kỳ vọng", "như kỳ vọng", "chưa đủ phiếu".
    pub fn words(&self) -> &'static str {
        match self.verdict {
            "above" => "cao hơn kỳ vọng",
            "below" => "thấp hơn kỳ vọng",
            "as_expected" => "không khác kỳ vọng đáng kể",
            _ => "chưa đủ phiếu để đánh giá",
        }
    }

    /// `0,94 (0,88–1,01)` or `—`.
    pub fn ratio_text(&self) -> String {
        match (self.ratio, self.ci95) {
            (Some(r), Some([lo, hi])) => format!("{} ({}–{})", decimal(r, 2), decimal(lo, 2), decimal(hi, 2)),
            _ => "—".into(),
        }
    }
}

// ------------------------------------------------------------------------------------ change

/// A period-on-period difference of two rates.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// now − before, in percentage points (2 decimals).
    pub difference: f64,
    /// Its 95% interval (Newcombe's hybrid score), in points.
    pub ci95: [f64; 2],
    /// True only when the interval excludes zero.
    pub significant: bool,
    /// `up`, `down` or `none` (within noise).
    pub direction: &'static str,
}

/// The change from `before` to `now`, each as (score sum, answers) — positives for the share,
/// 0–1 scores for the mean ([`scored`]) — with Newcombe's interval; `None` when either has no
/// answers.
pub fn change((k1, n1): (f64, u64), (k2, n2): (f64, u64)) -> Option<Change> {
    let (lo, hi) = inference::newcombe_f(k1, n1, k2, n2, C95)?;
    Some(change_of(k1 / n1 as f64 - k2 / n2 as f64, lo, hi))
}

/// Counts per level of a statement, looked up by its code.
pub type Levels<'a> = &'a dyn Fn(&str) -> Option<&'a BTreeMap<String, u64>>;

/// A statement's counts per level (level codes as written in reports) under `formula`, as
/// (score sum, answers): positives for `share45`, the sum of each answer's 0–1 score for
/// `mean100` ([`Formula::score`]).
pub fn scored(
    instrument: &Instrument,
    code: &str,
    counts: &BTreeMap<String, u64>,
    formula: Formula,
) -> (f64, u64) {
    let scale = instrument.item(code).and_then(|i| instrument.scale_of(i));
    let levels: BTreeMap<i16, u64> =
        counts.iter().filter_map(|(l, n)| Some((l.parse::<i16>().ok()?, *n))).collect();
    let n: u64 = levels.values().sum();
    let rate = scale.and_then(|s| formula.score(&levels, s).0).unwrap_or(0.0);
    (rate / 100.0 * n as f64, n)
}

/// The statements of each element, as (score sum, answers) under `formula`, for
/// [`inference::index_variance`].
pub fn index_counts(instrument: &Instrument, levels: Levels<'_>, formula: Formula) -> Vec<Vec<(f64, u64)>> {
    instrument
        .computation
        .elements
        .iter()
        .map(|element| {
            super::model::statements(instrument, element)
                .filter_map(|code| Some(scored(instrument, code, levels(code)?, formula)))
                .collect()
        })
        .collect()
}

/// The change of an index (the SIPAS index, in points of its formula) from `before` to `now`,
/// with a normal interval from the two indices' variances ([`inference::index_variance`]); `None`
/// when either has no index.
pub fn index_change_by(
    instrument: &Instrument,
    formula: Formula,
    now: (Option<f64>, Levels<'_>),
    before: (Option<f64>, Levels<'_>),
) -> Option<Change> {
    let (a, b) = (now.0?, before.0?);
    let va = inference::index_variance(&index_counts(instrument, now.1, formula))?;
    let vb = inference::index_variance(&index_counts(instrument, before.1, formula))?;
    let d = (a - b) / 100.0;
    let (lo, hi) = inference::difference_normal(d, va, vb, C95);
    Some(change_of(d, lo, hi))
}

/// [`index_change_by`] of two report groups.
pub fn index_change(
    instrument: &Instrument,
    formula: Formula,
    now: &Group,
    before: &Group,
) -> Option<Change> {
    let la = |code: &str| now.criteria.as_ref().and_then(|c| c.get(code)).map(|r| &r.counts);
    let lb = |code: &str| before.criteria.as_ref().and_then(|c| c.get(code)).map(|r| &r.counts);
    index_change_by(instrument, formula, (now.sipas(), &la), (before.sipas(), &lb))
}

/// The change of one statement's (or `CASE.OVERALL`'s) score from its counts per level under
/// `formula`, with Newcombe's interval (over 0–1 scores for the mean); `None` without answers.
pub fn score_change(
    instrument: &Instrument,
    formula: Formula,
    code: &str,
    now: &BTreeMap<String, u64>,
    before: &BTreeMap<String, u64>,
) -> Option<Change> {
    change(scored(instrument, code, now, formula), scored(instrument, code, before, formula))
}

fn change_of(d: f64, lo: f64, hi: f64) -> Change {
    let significant = lo > 0.0 || hi < 0.0;
    Change {
        difference: round_to(100.0 * d, 2),
        ci95: [round_to(100.0 * lo, 2), round_to(100.0 * hi, 2)],
        significant,
        direction: if !significant {
            "none"
        } else if d > 0.0 {
            "up"
        } else {
            "down"
        },
    }
}

/// The change of `CASE.OVERALL` between two report groups under `formula` (none for a
/// suppressed one).
pub fn overall_change(
    instrument: &Instrument,
    formula: Formula,
    now: &Group,
    before: &Group,
) -> Option<Change> {
    let (a, b) = (now.overall.as_ref()?, before.overall.as_ref()?);
    score_change(instrument, formula, OVERALL, &a.counts, &b.counts)
}

fn points(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", decimal(x, 2))
    } else if x < 0.0 {
        format!("−{}", decimal(-x, 2))
    } else {
        "0,00".into()
    }
}

impl Change {
    /// "tăng 3,10 điểm % (KTC 95%: +0,52 đến +5,68)" or "không khác biệt đáng kể (−0,20 điểm %;
    /// KTC 95%: −2,10 đến +1,70)".
    pub fn words(&self) -> String {
        self.words_in(Formula::Share45)
    }

    /// [`Change::words`] of a score under `formula`: in points of percent ("điểm %") for the
    /// share, in points of the 0–100 score ("điểm") for the mean.
    pub fn words_in(&self, formula: Formula) -> String {
        let unit = formula.change_unit_vi();
        let ci = format!("KTC 95%: {} đến {}", points(self.ci95[0]), points(self.ci95[1]));
        match self.direction {
            "up" => format!("tăng {} {unit} ({ci})", decimal(self.difference, 2)),
            "down" => format!("giảm {} {unit} ({ci})", decimal(-self.difference, 2)),
            _ => format!("{NOT_SIGNIFICANT} ({} {unit}; {ci})", points(self.difference)),
        }
    }
}

// ------------------------------------------------------------------------------------ reading

/// The comparisons of one range: the funnel of officers, communes or procedures, and for officers
/// and communes their procedure-mix-adjusted figures (`GET /api/v1/stats/comparison`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub of: &'static str,
    pub funnel: Option<Funnel>,
    pub adjusted: Vec<Adjusted>,
    pub adjusted_label: &'static str,
    pub adjusted_explanation: &'static str,
}

/// The procedure-mix cells of a query's range and filters: each officer's (`by_officer`) or
/// unit's `CASE.OVERALL` count per procedure.
pub fn mix_cells(
    conn: &mut diesel::PgConnection,
    instrument: &Instrument,
    q: &StatsQuery,
    by_officer: bool,
) -> Result<Vec<Cell>, AppError> {
    let positive = overall_positive(instrument);
    let rows = store::cell_counts(conn, q, by_officer, OVERALL)?;
    let mut cells: BTreeMap<(String, String), Count> = BTreeMap::new();
    for r in rows {
        let n = u64::try_from(r.n).unwrap_or(0);
        let c = cells.entry((r.key, r.procedure_code)).or_insert(Count { k: 0, n: 0 });
        c.n += n;
        if positive.contains(&r.level) {
            c.k += n;
        }
    }
    Ok(cells.into_iter().map(|((group, stratum), count)| Cell { group, stratum, count }).collect())
}

/// Answers the comparison of `q`'s groups (`q.group_by`: officer, unit or procedure) over the
/// roll-ups.
pub fn run(
    conn: &mut diesel::PgConnection,
    instruments: &Instruments,
    q: &StatsQuery,
    min_n: u64,
) -> Result<Comparison, AppError> {
    let instrument = instruments.combined();
    let of = q.group_by.as_str();
    let all = query::run(
        conn,
        instruments,
        &StatsQuery { group_by: GroupBy::None, ..q.clone() },
        min_n,
        Source::Rollup,
    )?;
    let groups = query::run(conn, instruments, q, min_n, Source::Rollup)?;
    let funnel = funnel_of(instrument, of, all.all(), &groups.groups, min_n);
    let adjusted = match q.group_by {
        GroupBy::Officer | GroupBy::Unit => {
            let cells = mix_cells(conn, instrument, q, q.group_by == GroupBy::Officer)?;
            let labels = groups.groups.iter().map(|g| (g.key.clone(), g.label.clone())).collect();
            adjust(&cells, &labels, min_n)
        }
        _ => Vec::new(),
    };
    Ok(Comparison {
        from: all.from,
        to: all.to,
        of,
        funnel,
        adjusted,
        adjusted_label: ADJUSTED_LABEL,
        adjusted_explanation: ADJUSTED_EXPLANATION,
    })
}

/// The funnel of report groups around the whole (`all`); groups too small to show rates are
/// listed as too few, never placed.
pub fn funnel_of(
    instrument: &Instrument,
    of: &'static str,
    all: Option<&Group>,
    groups: &[Group],
    min_n: u64,
) -> Option<Funnel> {
    let target = overall_count(instrument, all?)?;
    let mut f = funnel(of, target, &entries(instrument, groups), min_n)?;
    f.too_few.extend(groups.iter().filter(|g| g.suppressed && g.responses > 0).map(|g| g.key.clone()));
    f.too_few.sort();
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, k: u64, n: u64) -> Entry {
        Entry { key: key.into(), label: key.into(), count: Count { k, n } }
    }

    #[test]
    fn a_known_outlier_is_outside_the_998_limit_and_a_small_officer_inside() {
        // a unit at 85%: one officer at 60% of 200 answers, one at 5 of 8, one at 86% of 300
        let f = funnel(
            "officer",
            Count { k: 1700, n: 2000 },
            &[entry("LOW", 120, 200), entry("SMALL", 5, 8), entry("OK", 258, 300), entry("TINY", 0, 3)],
            5,
        )
        .unwrap();
        let v = |k: &str| f.points.iter().find(|p| p.key == k).map(|p| p.verdict);
        assert_eq!(v("LOW"), Some(Verdict::Low));
        assert_eq!(v("SMALL"), Some(Verdict::Within), "62.5% on 8 answers is within chance");
        assert_eq!(v("OK"), Some(Verdict::Within));
        assert_eq!(v("TINY"), None, "under min_n: not placed");
        assert_eq!(f.too_few, vec!["TINY".to_string()]);
        let svg = funnel_svg(&f, "Cán bộ", "f");
        assert!(svg.starts_with("<svg") && svg.contains(">LOW</text>") && !svg.contains(">SMALL</text>"));
        assert!(describe(f.flagged()[0]).contains("thấp bất thường"));
    }

    #[test]
    fn an_all_land_officer_at_the_units_rates_is_as_expected_though_the_raw_rate_is_lower() {
        let c = |g: &str, s: &str, k, n| Cell { group: g.into(), stratum: s.into(), count: Count { k, n } };
        // land cases rate 60%, birth registration 95%; LAND handles only land, at exactly 60%
        let cells = [c("LAND", "land", 60, 100), c("MIX", "land", 30, 50), c("MIX", "birth", 380, 400)];
        let a = adjust(&cells, &BTreeMap::new(), 5);
        let land = a.iter().find(|x| x.key == "LAND").unwrap();
        assert_eq!(land.ratio, Some(1.0));
        let [lo, hi] = land.ci95.unwrap();
        assert!(lo < 1.0 && hi > 1.0);
        assert_eq!(land.verdict, "as_expected");
        let mix = a.iter().find(|x| x.key == "MIX").unwrap();
        assert!(land.rate.unwrap() < mix.rate.unwrap());
    }

    #[test]
    fn a_change_is_called_one_only_when_its_interval_excludes_zero() {
        let noise = change((81.0, 100), (84.0, 100)).unwrap();
        assert!(!noise.significant && noise.words().starts_with(NOT_SIGNIFICANT));
        let real = change((810.0, 1000), (900.0, 1000)).unwrap();
        assert!(real.significant && real.words().starts_with("giảm 9,00 điểm %"));
    }
}
