//! The dashboard's filters, read from a plain GET form: a period (month, quarter, half, year or
//! a custom range of local dates), the trend's step, and optional procedure, field, officer,
//! channel and (for admins) unit.

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};

use crate::stats::query::GroupBy;

/// The period a dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month(i32, u32),
    Quarter(i32, u32),
    Half(i32, u32),
    Year(i32),
    Custom(NaiveDate, NaiveDate),
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The last day of month `m` of year `y`.
fn month_end(y: i32, m: u32) -> Option<NaiveDate> {
    ymd(y, m, 1)?.checked_add_months(Months::new(1))?.pred_opt()
}

impl Period {
    /// Parses `2026-11`, `2026-Q4`, `2026-H2`, `2026`, or `custom` with `from` and `to`.
    pub fn parse(value: &str, from: Option<&str>, to: Option<&str>) -> Result<Period, String> {
        let bad =
            || format!("Kỳ `{value}` không hợp lệ (dạng 2026-11, 2026-Q4, 2026-H2, 2026 hoặc tùy chọn).");
        if value == "custom" {
            let date = |s: Option<&str>, name: &str| {
                s.filter(|s| s.len() == 10)
                    .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                    .filter(|d| crate::kernel::time::plausible_day(*d))
                    .ok_or_else(|| {
                        format!("Ngày `{name}` phải có dạng năm-tháng-ngày trong các năm 2000–2100, ví dụ 2026-01-31.")
                    })
            };
            let (f, t) = (date(from, "từ ngày")?, date(to, "đến ngày")?);
            if f > t {
                return Err("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.".into());
            }
            if (t - f).num_days() > 366 * 10 {
                return Err("Khoảng thời gian tối đa 10 năm.".into());
            }
            return Ok(Period::Custom(f, t));
        }
        let (year, rest) = match value.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (value, None),
        };
        let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y)).ok_or_else(bad)?;
        let period = match rest {
            None => Period::Year(year),
            Some(r) if r.starts_with('Q') => {
                Period::Quarter(year, r[1..].parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?)
            }
            Some(r) if r.starts_with('H') => {
                Period::Half(year, r[1..].parse().ok().filter(|h| (1..=2).contains(h)).ok_or_else(bad)?)
            }
            Some(r) if r.len() == 2 => {
                Period::Month(year, r.parse().ok().filter(|m| (1..=12).contains(m)).ok_or_else(bad)?)
            }
            Some(_) => return Err(bad()),
        };
        Ok(period)
    }

    /// The quarter `today` falls in.
    pub fn default_for(today: NaiveDate) -> Period {
        Period::Quarter(today.year(), (today.month() - 1) / 3 + 1)
    }

    /// The form value.
    pub fn key(&self) -> String {
        match self {
            Period::Month(y, m) => format!("{y:04}-{m:02}"),
            Period::Quarter(y, q) => format!("{y:04}-Q{q}"),
            Period::Half(y, h) => format!("{y:04}-H{h}"),
            Period::Year(y) => format!("{y:04}"),
            Period::Custom(..) => "custom".into(),
        }
    }

    /// First and last local day, both included.
    pub fn range(&self) -> (NaiveDate, NaiveDate) {
        let r = match *self {
            Period::Month(y, m) => ymd(y, m, 1).zip(month_end(y, m)),
            Period::Quarter(y, q) => ymd(y, 3 * q - 2, 1).zip(month_end(y, 3 * q)),
            Period::Half(y, h) => ymd(y, 6 * h - 5, 1).zip(month_end(y, 6 * h)),
            Period::Year(y) => ymd(y, 1, 1).zip(ymd(y, 12, 31)),
            Period::Custom(f, t) => Some((f, t)),
        };
        r.unwrap_or((NaiveDate::MIN, NaiveDate::MIN))
    }

    /// The period just before, of the same kind (a custom range: as many days just before).
    pub fn previous(&self) -> Period {
        match *self {
            Period::Month(y, 1) => Period::Month(y - 1, 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Half(y, 1) => Period::Half(y - 1, 2),
            Period::Half(y, h) => Period::Half(y, h - 1),
            Period::Year(y) => Period::Year(y - 1),
            Period::Custom(f, t) => {
                let days = (t - f).num_days() + 1;
                let before = f.pred_opt().unwrap_or(f);
                Period::Custom(before - chrono::Duration::days(days - 1), before)
            }
        }
    }

    /// The Vietnamese name.
    pub fn label(&self) -> String {
        match self {
            Period::Month(y, m) => format!("Tháng {m}/{y}"),
            Period::Quarter(y, q) => format!("Quý {q}/{y}"),
            Period::Half(y, 1) => format!("6 tháng đầu năm {y}"),
            Period::Half(y, _) => format!("6 tháng cuối năm {y}"),
            Period::Year(y) => format!("Năm {y}"),
            Period::Custom(f, t) => format!("Từ {} đến {}", f.format("%d/%m/%Y"), t.format("%d/%m/%Y")),
        }
    }
}

/// The step of the trend chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Month,
    Quarter,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Month => "month",
            Step::Quarter => "quarter",
        }
    }

    /// The statistics grouping of the trend.
    pub fn group_by(self) -> GroupBy {
        match self {
            Step::Month => GroupBy::Month,
            Step::Quarter => GroupBy::Quarter,
        }
    }

    /// The trend's range: 12 months or 8 quarters ending with the period's last month.
    pub fn range_ending(self, end: NaiveDate) -> (NaiveDate, NaiveDate) {
        let back = match self {
            Step::Month => 11,
            Step::Quarter => 21 + (end.month0() % 3),
        };
        let first = ymd(end.year(), end.month(), 1).and_then(|d| d.checked_sub_months(Months::new(back)));
        let last = month_end(end.year(), end.month());
        (first.unwrap_or(end), last.unwrap_or(end))
    }
}

/// The checked filters of one dashboard request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub period: Period,
    pub step: Step,
    pub procedure: Option<String>,
    pub field: Option<String>,
    pub officer: Option<String>,
    pub channel: Option<String>,
    pub unit: Option<String>,
}

pub const CHANNELS: [(&str, &str); 3] =
    [("desk", "Tại Bộ phận Một cửa"), ("online", "Trực tuyến"), ("postal", "Qua bưu chính")];

fn code(params: &HashMap<String, String>, name: &str, label: &str) -> Result<Option<String>, String> {
    match params.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v)
            if v.len() <= 32
                && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) =>
        {
            Ok(Some(v.to_string()))
        }
        Some(_) => Err(format!("Mã {label} không hợp lệ.")),
    }
}

impl Filters {
    /// Reads the form; `today` (local) picks the default period.
    pub fn parse(params: &HashMap<String, String>, today: NaiveDate) -> Result<Filters, String> {
        let period = match params.get("period").map(|p| p.trim()).filter(|p| !p.is_empty()) {
            None => Period::default_for(today),
            Some(p) => Period::parse(
                p,
                params.get("from").map(String::as_str),
                params.get("to").map(String::as_str),
            )?,
        };
        let step = match params.get("trend").map(String::as_str) {
            None | Some("") | Some("month") => Step::Month,
            Some("quarter") => Step::Quarter,
            Some(_) => return Err("Bước của biểu đồ phải là tháng hoặc quý.".into()),
        };
        let channel = code(params, "channel", "kênh")?;
        if channel.as_deref().is_some_and(|c| !CHANNELS.iter().any(|(k, _)| *k == c)) {
            return Err("Kênh phải là tại quầy, trực tuyến hoặc bưu chính.".into());
        }
        Ok(Filters {
            period,
            step,
            procedure: code(params, "procedure", "thủ tục")?,
            field: code(params, "field", "lĩnh vực")?,
            officer: code(params, "officer", "cán bộ")?,
            channel,
            unit: code(params, "unit", "đơn vị")?,
        })
    }

    /// The query string that shows these filters (for links), without `period` when `skip`
    /// names it, and with `extra` pairs added.
    pub fn query(&self, skip: &[&str], extra: &[(&str, &str)]) -> String {
        let (from, to) = self.period.range();
        let mut pairs: Vec<(String, String)> = vec![("period".into(), self.period.key())];
        if matches!(self.period, Period::Custom(..)) {
            pairs.push(("from".into(), from.to_string()));
            pairs.push(("to".into(), to.to_string()));
        }
        pairs.push(("trend".into(), self.step.as_str().into()));
        for (name, value) in [
            ("procedure", &self.procedure),
            ("field", &self.field),
            ("officer", &self.officer),
            ("channel", &self.channel),
            ("unit", &self.unit),
        ] {
            if let Some(v) = value {
                pairs.push((name.into(), v.clone()));
            }
        }
        pairs.retain(|(k, _)| !skip.contains(&k.as_str()) && !extra.iter().any(|(e, _)| e == k));
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::http::pages::urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The periods offered in the form: recent months, quarters, halves and years.
pub fn period_choices(today: NaiveDate) -> Vec<(&'static str, Vec<(String, String)>)> {
    let mut months = Vec::new();
    let mut d = ymd(today.year(), today.month(), 1);
    for _ in 0..24 {
        let Some(m) = d else { break };
        let p = Period::Month(m.year(), m.month());
        months.push((p.key(), p.label()));
        d = m.checked_sub_months(Months::new(1));
    }
    let mut quarters = Vec::new();
    let mut q = Period::default_for(today);
    for _ in 0..8 {
        quarters.push((q.key(), q.label()));
        q = q.previous();
    }
    let mut halves = Vec::new();
    let mut h = Period::Half(today.year(), if today.month() <= 6 { 1 } else { 2 });
    for _ in 0..4 {
        halves.push((h.key(), h.label()));
        h = h.previous();
    }
    let years = (0..4).map(|i| Period::Year(today.year() - i)).map(|p| (p.key(), p.label())).collect();
    vec![("Quý", quarters), ("Tháng", months), ("6 tháng", halves), ("Năm", years)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_have_local_bounds_and_a_previous_period() {
        let q = Period::parse("2026-Q1", None, None).unwrap();
        assert_eq!(q.range(), (d("2026-01-01"), d("2026-03-31")));
        assert_eq!(q.previous(), Period::Quarter(2025, 4));
        assert_eq!(Period::parse("2024-02", None, None).map(|p| p.range().1), Ok(d("2024-02-29")));
        assert_eq!(
            Period::parse("2026-H2", None, None).map(|p| p.range()),
            Ok((d("2026-07-01"), d("2026-12-31")))
        );
        assert_eq!(Period::Month(2026, 1).previous(), Period::Month(2025, 12));
        let c = Period::parse("custom", Some("2026-03-10"), Some("2026-03-19")).unwrap();
        assert_eq!(c.previous(), Period::Custom(d("2026-02-28"), d("2026-03-09")));
        assert!(Period::parse("2026-Q5", None, None).is_err());
        assert!(Period::parse("2026-13", None, None).is_err());
        assert!(Period::parse("custom", Some("2026-03-10"), Some("2026-03-01")).is_err());
        assert_eq!(Period::Half(2026, 1).label(), "6 tháng đầu năm 2026");
    }

    #[test]
    fn the_trend_covers_twelve_months_or_eight_quarters() {
        assert_eq!(Step::Month.range_ending(d("2026-03-31")), (d("2025-04-01"), d("2026-03-31")));
        assert_eq!(Step::Quarter.range_ending(d("2026-03-31")), (d("2024-04-01"), d("2026-03-31")));
        assert_eq!(Step::Quarter.range_ending(d("2026-02-28")), (d("2024-04-01"), d("2026-02-28")));
    }

    #[test]
    fn filters_are_checked_and_written_back_as_a_query() {
        let params: HashMap<String, String> =
            [("period", "2026-Q1"), ("procedure", "1.001193"), ("channel", "desk")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let f = Filters::parse(&params, d("2026-11-28")).unwrap();
        assert_eq!(f.query(&[], &[]), "period=2026-Q1&trend=month&procedure=1.001193&channel=desk");
        assert_eq!(
            f.query(&["procedure"], &[("field", "HT")]),
            "period=2026-Q1&trend=month&channel=desk&field=HT"
        );
        let mut bad = params.clone();
        bad.insert("channel".into(), "fax".into());
        assert!(Filters::parse(&bad, d("2026-11-28")).is_err());
        bad.insert("channel".into(), "<script>".into());
        assert!(Filters::parse(&bad, d("2026-11-28")).is_err());
        let none = Filters::parse(&HashMap::new(), d("2026-11-28")).unwrap();
        assert_eq!(none.period, Period::Quarter(2026, 4));
    }
}
