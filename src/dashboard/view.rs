//! The statistics as the dashboard reads them: exactly the `GET /api/v1/stats` answer of
//! DESIGN.md §5, deserialised. The dashboard depends on that public shape only, never on the
//! statistics engine's internal types (see `source.rs`, the one adapter).

use std::collections::BTreeMap;

use serde::Deserialize;

/// `{"from", "to", "group_by", "groups": [...]}`
#[derive(Debug, Clone, Deserialize)]
pub struct StatsView {
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub groups: Vec<Group>,
}

/// One group of the answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    pub key: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub responses: u64,
    #[serde(default)]
    pub invitations: u64,
    pub response_rate: Option<f64>,
    #[serde(default)]
    pub suppressed: bool,
    pub overall: Option<RateView>,
    pub sipas_index: Option<f64>,
    #[serde(default)]
    pub elements: Option<BTreeMap<String, ElementView>>,
    #[serde(default)]
    pub criteria: Option<BTreeMap<String, RateView>>,
    #[serde(default)]
    pub items: Option<BTreeMap<String, RateView>>,
    #[serde(default)]
    pub tt01: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `{"rate", "n", "ci95": [low, high], "counts": {...}}`
#[derive(Debug, Clone, Deserialize)]
pub struct RateView {
    pub rate: Option<f64>,
    #[serde(default)]
    pub n: u64,
    pub ci95: Option<[f64; 2]>,
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
}

/// `{"index", "n"}`
#[derive(Debug, Clone, Deserialize)]
pub struct ElementView {
    pub index: Option<f64>,
    #[serde(default)]
    pub n: u64,
}

/// TT01 scores read out of the group's `tt01` object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tt01View {
    pub scores: Vec<(String, Option<f64>)>,
    pub total: Option<f64>,
    pub scored: Vec<String>,
    /// The band's Vietnamese name.
    pub band: Option<String>,
}

impl Group {
    pub fn overall_rate(&self) -> Option<f64> {
        self.overall.as_ref().and_then(|o| o.rate)
    }

    pub fn overall_ci(&self) -> Option<(f64, f64)> {
        self.overall.as_ref().and_then(|o| o.ci95).map(|[lo, hi]| (lo, hi))
    }

    pub fn element(&self, code: &str) -> Option<&ElementView> {
        self.elements.as_ref().and_then(|e| e.get(code))
    }

    pub fn criterion(&self, code: &str) -> Option<&RateView> {
        self.criteria.as_ref().and_then(|c| c.get(code))
    }

    /// The TT01 part: every `TT01.*` score in `indicators` order, the total, what was scored and
    /// the band (a string, or an object with `vi`).
    pub fn tt01(&self, indicators: &[String]) -> Tt01View {
        let Some(t) = &self.tt01 else { return Tt01View::default() };
        let scores =
            indicators.iter().map(|code| (code.clone(), t.get(code).and_then(|v| v.as_f64()))).collect();
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
        Tt01View { scores, total: t.get("total").and_then(|v| v.as_f64()), scored, band }
    }
}

impl StatsView {
    /// The single group of a `group_by=none` answer.
    pub fn all(&self) -> Option<&Group> {
        self.groups.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_shape_is_read_whole() {
        let json = serde_json::json!({
            "from": "2026-01-01", "to": "2026-03-31", "group_by": "none",
            "groups": [{
                "key": "all", "label": "UBND xã Chiêm Hóa", "responses": 12, "invitations": 20,
                "response_rate": 60.0, "suppressed": false,
                "overall": {"rate": 83.33, "n": 12, "ci95": [55.2, 95.3], "counts": {"4": 6, "5": 4, "2": 2}},
                "sipas_index": 80.5,
                "elements": {"E1": {"index": 75.0, "n": 4}, "E5": {"index": null, "n": 0}},
                "criteria": {"E3.1": {"rate": 100.0, "n": 3, "ci95": [43.8, 100.0], "counts": {"5": 3}}},
                "items": {},
                "tt01": {"TT01.I1": 1.5, "TT01.I3": null, "total": 1.5, "scored": ["TT01.I1"], "band": {"vi": "Yếu", "en": "Weak"}}
            }]
        });
        let v: StatsView = serde_json::from_value(json).unwrap();
        let g = v.all().expect("no group");
        assert_eq!(g.overall_rate(), Some(83.33));
        assert_eq!(g.element("E5").and_then(|e| e.index), None);
        let t = g.tt01(&["TT01.I1".into(), "TT01.I3".into()]);
        assert_eq!(t.scores, vec![("TT01.I1".into(), Some(1.5)), ("TT01.I3".into(), None)]);
        assert_eq!(t.band.as_deref(), Some("Yếu"));
    }

    #[test]
    fn a_suppressed_group_has_only_counts() {
        let json = serde_json::json!({"key": "CB01", "label": "Lan", "responses": 2, "invitations": 9,
            "response_rate": 22.22, "suppressed": true});
        let g: Group = serde_json::from_value(json).unwrap();
        assert!(g.suppressed && g.overall_rate().is_none() && g.tt01(&[]).total.is_none());
    }
}
