//! What the province checks in an export beyond its hash (SECURITY.md, finding 1): the commune
//! exists, the dates are possible, and every figure follows from the counts the same export
//! carries. A commune that inflates its index without inflating its counts, or inflates counts
//! that do not add up, is refused with the first figure that does not follow.

use chrono::{DateTime, Duration, Utc};

use super::content::{Content, Group, Period, Rate};
use crate::instrument::Instrument;
use crate::instrument::model::Scale;
use crate::stats::model::Formula;

/// How far ahead of the province's clock an export's `generated_at` may be (clocks drift).
pub const CLOCK_SKEW: Duration = Duration::minutes(10);

/// Largest difference between a figure and the value its counts give: figures are written
/// rounded (to the instrument's `percent_decimals`), and means of rounded rates drift a little.
const TOLERANCE: f64 = 0.1;

/// Checks the dates of an export against `now`: its period is a plausible one that has begun,
/// it was generated after the period began and not in the future, and its `from`/`to` are the
/// period's own.
pub fn check_dates(c: &Content, now: DateTime<Utc>) -> Result<(), String> {
    let period = Period::parse(&c.period.key)
        .ok_or_else(|| format!("period `{}` is not a plausible period", c.period.key))?;
    if c.period.from != period.from.to_string() || c.period.to != period.to.to_string() {
        return Err(format!(
            "the period's dates {} – {} are not those of {} ({} – {})",
            c.period.from, c.period.to, c.period.key, period.from, period.to
        ));
    }
    let today = crate::kernel::time::local_day(now);
    if period.from > today {
        return Err(format!("period {} has not begun yet", c.period.key));
    }
    let generated = DateTime::parse_from_rfc3339(&c.generated_at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "generated_at is not an RFC 3339 time".to_string())?;
    if generated > now + CLOCK_SKEW {
        return Err(format!("it claims to have been generated in the future ({})", c.generated_at));
    }
    if generated < crate::kernel::time::midnight(period.from) {
        return Err(format!(
            "it claims to have been generated ({}) before its period began ({})",
            c.generated_at, period.from
        ));
    }
    Ok(())
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOLERANCE
}

fn check_rate(what: &str, r: &Rate, scale: Option<&Scale>, formula: Formula) -> Result<(), String> {
    let sum: u64 = r.counts.values().sum();
    if sum != r.n {
        return Err(format!("{what}: n is {} but its counts add up to {sum}", r.n));
    }
    let mut levels = std::collections::BTreeMap::new();
    for (l, n) in &r.counts {
        let Ok(level) = l.parse::<i16>() else {
            return Err(format!("{what}: `{l}` is not a level of the scale"));
        };
        levels.insert(level, *n);
    }
    let expected = scale.and_then(|s| formula.score(&levels, s).0);
    match (r.rate, expected) {
        (None, None) => Ok(()),
        (Some(rate), Some(e)) if near(rate, e) => Ok(()),
        (rate, e) => Err(format!(
            "{what}: the rate {} does not follow from its counts ({})",
            rate.map_or("none".into(), |x| x.to_string()),
            e.map_or("none".into(), |x| format!("{x:.2}"))
        )),
    }
}

/// Checks that a group's figures follow from its counts: rates from counts per level, element
/// indices from their statements' rates, the SIPAS index from the elements, the response rate
/// from responses and invitations.
fn check_group(what: &str, g: &Group, instrument: &Instrument, formula: Formula) -> Result<(), String> {
    if g.responses > g.invitations {
        return Err(format!("{what}: {} responses to {} invitations", g.responses, g.invitations));
    }
    let expected_rr = crate::stats::model::percent(g.responses, g.invitations);
    match (g.response_rate, expected_rr) {
        (None, None) => {}
        (Some(a), Some(b)) if near(a, b) => {}
        (a, _) => {
            return Err(format!(
                "{what}: the response rate {} does not follow from {} responses to {} invitations",
                a.map_or("none".into(), |x| x.to_string()),
                g.responses,
                g.invitations
            ));
        }
    }
    if g.suppressed {
        if g.sipas_index.is_some() || g.criteria.is_some() || g.overall.is_some() {
            return Err(format!("{what}: a suppressed group carries figures"));
        }
        return Ok(());
    }
    // the statements' scale is the overall rating's (an instrument may have other scales)
    let scale = instrument.item(crate::instrument::OVERALL).and_then(|i| instrument.scale_of(i));
    if let Some(r) = &g.overall {
        check_rate(&format!("{what}, overall satisfaction"), r, scale, formula)?;
    }
    let criteria = g.criteria.clone().unwrap_or_default();
    for (code, r) in &criteria {
        check_rate(&format!("{what}, statement {code}"), r, scale, formula)?;
        if r.n > g.responses {
            return Err(format!("{what}, statement {code}: {} answers from {} responses", r.n, g.responses));
        }
    }
    let mut element_indices = Vec::new();
    for element in &instrument.computation.elements {
        let rates: Vec<Option<f64>> = criteria
            .iter()
            .filter(|(code, _)| code.starts_with(&format!("{element}.")))
            .map(|(_, r)| r.rate)
            .collect();
        let expected = crate::stats::model::element_index(&rates);
        let stated = g.elements.as_ref().and_then(|e| e.get(element)).and_then(|e| e.index);
        match (stated, expected) {
            (None, None) => {}
            (Some(a), Some(b)) if near(a, b) => {}
            (a, b) => {
                return Err(format!(
                    "{what}: the index of element {element} ({}) does not follow from its statements ({})",
                    a.map_or("none".into(), |x| x.to_string()),
                    b.map_or("none".into(), |x| format!("{x:.2}"))
                ));
            }
        }
        element_indices.push(stated);
    }
    let expected = crate::stats::model::sipas_index(&element_indices);
    match (g.sipas_index, expected) {
        (None, None) => Ok(()),
        (Some(a), Some(b)) if near(a, b) => Ok(()),
        (a, b) => Err(format!(
            "{what}: the SIPAS index {} does not follow from its elements ({})",
            a.map_or("none".into(), |x| x.to_string()),
            b.map_or("none".into(), |x| format!("{x:.2}"))
        )),
    }
}

/// Checks every figure of an export against its own counts (see [`check_group`]) and the
/// totals against the whole-unit group.
pub fn check_figures(c: &Content, instrument: &Instrument) -> Result<(), String> {
    let formula = c.measure.formula().ok_or_else(|| {
        format!(
            "measure.formula `{}` is not share45 or mean100",
            c.measure.formula.clone().unwrap_or_default()
        )
    })?;
    let u = &c.unit_figures;
    if (c.totals.responses, c.totals.invitations) != (u.responses, u.invitations) {
        return Err(format!(
            "the totals ({} responses, {} invitations) are not the unit's figures ({}, {})",
            c.totals.responses, c.totals.invitations, u.responses, u.invitations
        ));
    }
    if c.totals.response_rate != u.response_rate {
        return Err("the total response rate is not the unit's".into());
    }
    check_group("the unit", u, instrument, formula)?;
    for (kind, groups) in [("procedure", &c.procedures), ("field", &c.fields), ("officer", &c.officers)] {
        let mut sum = 0u64;
        for g in groups.iter() {
            check_group(&format!("{kind} {}", g.key), g, instrument, formula)?;
            sum += g.responses;
        }
        // an answer belongs to at most one procedure and one officer (some to none)
        if kind != "field" && sum > u.responses {
            return Err(format!("the {kind} groups hold {sum} responses, the unit {}", u.responses));
        }
    }
    Ok(())
}
