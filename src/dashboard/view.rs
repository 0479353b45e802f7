//! What the dashboard reads out of a statistics report (`stats::report`) besides its plain
//! fields: the TT01 part, in the instrument's order.

use crate::stats::report::Group;

/// TT01 scores read out of the group's `tt01` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tt01View {
    pub scores: Vec<(String, Option<f64>)>,
    pub total: Option<f64>,
    pub scored: Vec<String>,
    /// The band's Vietnamese name.
    pub band: Option<String>,
    /// "x điểm trên n/9 chỉ tiêu (tối đa 2n)" when there is no band.
    pub summary: Option<String>,
    /// Where each indicator's score comes from (`facts`, `resident`, …).
    pub sources: Vec<(String, Option<String>)>,
}

/// The TT01 part: every `TT01.*` score in `indicators` order, the total, what was scored and
/// the band (a string, or an object with `vi`).
pub fn tt01(g: &Group, indicators: &[String]) -> Tt01View {
    let Some(t) = &g.tt01 else { return Tt01View::default() };
    let scores = indicators.iter().map(|code| (code.clone(), t.get(code).and_then(|v| v.as_f64()))).collect();
    let scored = t
        .get("scored")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let band = match t.get("band") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Object(o)) => o.get("vi").and_then(|v| v.as_str()).map(str::to_string),
        _ => None,
    };
    let summary = t.get("summary").and_then(|s| s.get("vi")).and_then(|v| v.as_str()).map(str::to_string);
    let sources = indicators
        .iter()
        .map(|code| {
            let source = t
                .get("indicators")
                .and_then(|d| d.get(code))
                .and_then(|d| d.get("source"))
                .and_then(|s| s.as_str())
                .map(str::to_string);
            (code.clone(), source)
        })
        .collect();
    Tt01View { scores, total: t.get("total").and_then(|v| v.as_f64()), scored, band, summary, sources }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tt01_part_is_read_in_the_indicators_order() {
        let mut m = serde_json::Map::new();
        m.insert("TT01.I1".into(), serde_json::json!(1.5));
        m.insert("TT01.I3".into(), serde_json::Value::Null);
        m.insert("total".into(), serde_json::json!(1.5));
        m.insert("scored".into(), serde_json::json!(["TT01.I1"]));
        m.insert("band".into(), serde_json::json!({"vi": "Yếu", "en": "Weak"}));
        let g = Group {
            key: "all".into(),
            label: String::new(),
            responses: 12,
            invitations: 20,
            response_rate: Some(60.0),
            suppressed: false,
            flagged: 0,
            overall: None,
            sipas_index: None,
            elements: None,
            criteria: None,
            items: None,
            tt01: Some(m),
            coverage: None,
        };
        let t = tt01(&g, &["TT01.I1".into(), "TT01.I3".into()]);
        assert_eq!(t.scores, vec![("TT01.I1".into(), Some(1.5)), ("TT01.I3".into(), None)]);
        assert_eq!(
            (t.total, t.scored, t.band.as_deref()),
            (Some(1.5), vec!["TT01.I1".to_string()], Some("Yếu"))
        );
        assert!(tt01(&Group { tt01: None, ..g }, &[]).total.is_none());
    }
}
