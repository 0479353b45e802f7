//! The questionnaire as data: the TOML shape of an instrument file, its validation, and the
//! validated [`Instrument`] the rest of the service reads. A value of `Instrument` is always
//! consistent (unique codes, known scales, `shown_if`/`points_when` naming real items and codes),
//! so no other module re-checks it.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use crate::kernel::answers::AnswerValue;
use crate::kernel::hashing::sha256_hex;

/// One level of a scale or one option of a choice item.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub code: i16,
    pub vi: String,
    pub en: String,
    /// TT01 points this option earns (per-case indicators only).
    #[serde(default)]
    pub points: Option<u8>,
    /// Raises `points` when another item of the same response has the given code.
    #[serde(default)]
    pub points_when: Option<PointsWhen>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PointsWhen {
    pub item: String,
    pub code: i16,
    pub points: u8,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShownIf {
    pub item: String,
    pub code: i16,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Scale,
    Choice,
    Multi,
    Text,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: String,
    pub kind: ItemKind,
    #[serde(default)]
    pub scale: Option<String>,
    pub vi: String,
    pub en: String,
    #[serde(default)]
    pub source: Option<String>,
    /// The wording follows the best available copy, not the signed official text.
    #[serde(default)]
    pub verify: bool,
    #[serde(default)]
    pub options: Vec<Choice>,
    #[serde(default)]
    pub max_choices: Option<usize>,
    #[serde(default)]
    pub max_len: Option<usize>,
    #[serde(default)]
    pub shown_if: Option<ShownIf>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub code: String,
    pub vi: String,
    pub en: String,
    /// One of the five SIPAS elements: its index is computed from its scale statements.
    #[serde(default)]
    pub element: bool,
    #[serde(default)]
    pub demographic: bool,
    #[serde(default)]
    pub note_vi: Option<String>,
    #[serde(default)]
    pub note_en: Option<String>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub positive: Vec<i16>,
    pub levels: Vec<Choice>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub id: String,
    pub version: String,
    pub language: Vec<String>,
    pub title_vi: String,
    pub title_en: String,
    #[serde(default)]
    pub basis: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub min: f64,
    pub vi: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Computation {
    pub percent_decimals: u32,
    pub tt01_decimals: u32,
    pub min_n: u32,
    pub elements: Vec<String>,
    pub tt01_indicators: Vec<String>,
    pub tt01_officer_bands: Vec<Band>,
    pub tt01_agency_bands: Vec<Band>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    meta: Meta,
    scales: BTreeMap<String, Scale>,
    sections: Vec<Section>,
    computation: Computation,
}

/// Why an instrument file was refused; the message names the item and the problem.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InstrumentError {
    #[error("instrument file is not valid TOML for an instrument: {0}")]
    Parse(String),
    #[error("item {item}: {problem}")]
    Item { item: String, problem: String },
    #[error("section {section}: {problem}")]
    Section { section: String, problem: String },
    #[error("scale {scale}: {problem}")]
    Scale { scale: String, problem: String },
    #[error("[computation]: {0}")]
    Computation(String),
}

fn item_err(item: &str, problem: impl Into<String>) -> InstrumentError {
    InstrumentError::Item { item: item.to_string(), problem: problem.into() }
}

/// A validated questionnaire version.
#[derive(Debug, Clone)]
pub struct Instrument {
    pub meta: Meta,
    pub scales: BTreeMap<String, Scale>,
    pub sections: Vec<Section>,
    pub computation: Computation,
    /// SHA-256 (hex) of the exact file text, recorded with every response's version.
    pub sha256: String,
    index: HashMap<String, (usize, usize)>,
}

impl Instrument {
    /// Parses and validates an instrument file.
    pub fn parse(text: &str) -> Result<Self, InstrumentError> {
        let raw: RawInstrument = toml::from_str(text).map_err(|e| InstrumentError::Parse(e.to_string()))?;
        let sha256 = sha256_hex(text.as_bytes());
        let mut index = HashMap::new();
        for (si, section) in raw.sections.iter().enumerate() {
            for (ii, item) in section.items.iter().enumerate() {
                if index.insert(item.code.clone(), (si, ii)).is_some() {
                    return Err(item_err(&item.code, "the code is used twice"));
                }
            }
        }
        let instrument = Instrument {
            meta: raw.meta,
            scales: raw.scales,
            sections: raw.sections,
            computation: raw.computation,
            sha256,
            index,
        };
        instrument.validate()?;
        Ok(instrument)
    }

    fn validate(&self) -> Result<(), InstrumentError> {
        if self.meta.id.trim().is_empty() || self.meta.version.trim().is_empty() {
            return Err(InstrumentError::Parse("[meta] needs an id and a version".into()));
        }
        for (name, scale) in &self.scales {
            let err = |p: &str| InstrumentError::Scale { scale: name.clone(), problem: p.into() };
            if scale.levels.is_empty() {
                return Err(err("has no levels"));
            }
            unique_codes(&scale.levels).map_err(|c| err(&format!("level code {c} is used twice")))?;
            if let Some(p) = scale.positive.iter().find(|p| !scale.levels.iter().any(|l| l.code == **p)) {
                return Err(err(&format!("positive level {p} is not one of its levels")));
            }
        }
        let mut section_codes = HashSet::new();
        for section in &self.sections {
            if !section_codes.insert(section.code.as_str()) {
                return Err(InstrumentError::Section {
                    section: section.code.clone(),
                    problem: "the code is used twice".into(),
                });
            }
            if section.items.is_empty() {
                return Err(InstrumentError::Section {
                    section: section.code.clone(),
                    problem: "has no items".into(),
                });
            }
            for item in &section.items {
                self.validate_item(item)?;
            }
        }
        if self.item(OVERALL).is_none_or(|i| i.kind != ItemKind::Scale) {
            return Err(item_err(OVERALL, "the instrument must have this scale item"));
        }
        self.validate_computation()
    }

    fn validate_item(&self, item: &Item) -> Result<(), InstrumentError> {
        let code = item.code.as_str();
        if code.is_empty()
            || code.len() > 32
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            return Err(item_err(code, "an item code is 1 to 32 letters, digits, '.' or '_'"));
        }
        match item.kind {
            ItemKind::Scale => {
                let Some(scale) = &item.scale else {
                    return Err(item_err(code, "a scale item needs `scale`"));
                };
                if !self.scales.contains_key(scale) {
                    return Err(item_err(code, format!("unknown scale `{scale}`")));
                }
                if !item.options.is_empty() {
                    return Err(item_err(
                        code,
                        "a scale item takes its levels from the scale, not `options`",
                    ));
                }
            }
            ItemKind::Choice | ItemKind::Multi => {
                if item.options.is_empty() {
                    return Err(item_err(code, "a choice item needs `options`"));
                }
                unique_codes(&item.options)
                    .map_err(|c| item_err(code, format!("option code {c} is used twice")))?;
                if item.kind == ItemKind::Multi && item.max_choices.is_none_or(|m| m == 0) {
                    return Err(item_err(code, "a multi item needs `max_choices` of 1 or more"));
                }
                for option in &item.options {
                    if let Some(pw) = &option.points_when {
                        self.check_reference(code, "points_when", &pw.item, pw.code)?;
                    }
                }
            }
            ItemKind::Text => {
                if item.max_len.is_none_or(|m| m == 0) {
                    return Err(item_err(code, "a text item needs `max_len` of 1 or more"));
                }
            }
        }
        if item.kind != ItemKind::Scale && item.scale.is_some() {
            return Err(item_err(code, "only a scale item takes `scale`"));
        }
        if let Some(shown_if) = &item.shown_if {
            self.check_reference(code, "shown_if", &shown_if.item, shown_if.code)?;
        }
        Ok(())
    }

    /// `shown_if` and `points_when` must name another item that has the given code.
    fn check_reference(
        &self,
        code: &str,
        what: &str,
        target: &str,
        value: i16,
    ) -> Result<(), InstrumentError> {
        if target == code {
            return Err(item_err(code, format!("`{what}` names the item itself")));
        }
        let Some(other) = self.item(target) else {
            return Err(item_err(code, format!("`{what}` names unknown item `{target}`")));
        };
        if !self.codes_of(other).contains(&value) {
            return Err(item_err(
                code,
                format!("`{what}` names code {value}, which item `{target}` does not have"),
            ));
        }
        Ok(())
    }

    fn validate_computation(&self) -> Result<(), InstrumentError> {
        let c = &self.computation;
        for element in &c.elements {
            let section = self.sections.iter().find(|s| &s.code == element);
            if !section.is_some_and(|s| s.element) {
                return Err(InstrumentError::Computation(format!(
                    "element `{element}` is not a section marked `element = true`"
                )));
            }
        }
        if let Some(s) = self.sections.iter().find(|s| s.element && !c.elements.contains(&s.code)) {
            return Err(InstrumentError::Computation(format!(
                "section `{}` is an element but not listed in `elements`",
                s.code
            )));
        }
        for code in &c.tt01_indicators {
            let Some(item) = self.item(code) else {
                return Err(InstrumentError::Computation(format!("indicator `{code}` is not an item")));
            };
            if item.kind != ItemKind::Choice || item.options.iter().any(|o| o.points.is_none()) {
                return Err(item_err(
                    code,
                    "a TT01 indicator is a choice item whose every option has `points`",
                ));
            }
        }
        for (name, bands) in
            [("tt01_officer_bands", &c.tt01_officer_bands), ("tt01_agency_bands", &c.tt01_agency_bands)]
        {
            if bands.is_empty() || bands.windows(2).any(|w| w[0].min <= w[1].min) {
                return Err(InstrumentError::Computation(format!(
                    "`{name}` must list bands from the highest `min` down"
                )));
            }
            if bands.last().is_some_and(|b| b.min > 0.0) {
                return Err(InstrumentError::Computation(format!(
                    "`{name}` must end with a band of `min = 0`"
                )));
            }
        }
        if c.percent_decimals > 6 || c.tt01_decimals > 6 {
            return Err(InstrumentError::Computation("decimals must be 0 to 6".into()));
        }
        Ok(())
    }

    /// The reading view of several published versions, for figures that span them: `versions[0]`
    /// with every other version's sections and items added after its own, in order. A section
    /// code names one section (the first version's titles are kept); an item code that two
    /// versions share must mean the same thing in both (same kind, Vietnamese wording, scale and
    /// options, points included), so its answers add up; a statement with a new wording has a
    /// code of its own and is reported within its version. Scales of one name must be equal.
    /// Elements are the union of the versions' elements, the other `[computation]` values the
    /// first version's. `None` when `versions` is empty.
    pub fn combine(versions: &[&Instrument]) -> Result<Option<Instrument>, InstrumentError> {
        let Some((first, rest)) = versions.split_first() else { return Ok(None) };
        let mut out = (*first).clone();
        for other in rest {
            let who = format!("{} {}", other.meta.id, other.meta.version);
            for (name, scale) in &other.scales {
                match out.scales.get(name) {
                    Some(have) if have != scale => {
                        return Err(InstrumentError::Scale {
                            scale: name.clone(),
                            problem: format!(
                                "differs between {} {} and {who}",
                                first.meta.id, first.meta.version
                            ),
                        });
                    }
                    Some(_) => {}
                    None => {
                        out.scales.insert(name.clone(), scale.clone());
                    }
                }
            }
            for section in &other.sections {
                let si = match out.sections.iter().position(|s| s.code == section.code) {
                    Some(si) => {
                        if out.sections[si].element != section.element {
                            return Err(InstrumentError::Section {
                                section: section.code.clone(),
                                problem: format!("is an element in one version and not in {who}"),
                            });
                        }
                        si
                    }
                    None => {
                        out.sections.push(Section { items: Vec::new(), ..section.clone() });
                        out.sections.len() - 1
                    }
                };
                for item in &section.items {
                    match out.item(&item.code) {
                        Some(have) => {
                            let same = have.kind == item.kind
                                && have.vi == item.vi
                                && have.scale == item.scale
                                && have.options.iter().map(|o| (o.code, &o.vi, o.points, &o.points_when)).eq(
                                    item.options.iter().map(|o| (o.code, &o.vi, o.points, &o.points_when)),
                                );
                            // a text item is never counted: its wording may differ
                            if !same && item.kind != ItemKind::Text {
                                return Err(item_err(
                                    &item.code,
                                    format!(
                                        "means something else in {who}: a changed statement needs a code of its own"
                                    ),
                                ));
                            }
                        }
                        None => {
                            out.index.insert(item.code.clone(), (si, out.sections[si].items.len()));
                            out.sections[si].items.push(item.clone());
                        }
                    }
                }
            }
            for element in &other.computation.elements {
                if !out.computation.elements.contains(element) {
                    out.computation.elements.push(element.clone());
                }
            }
        }
        Ok(Some(out))
    }

    /// The item with this code, if the instrument has one.
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.index.get(code).map(|&(s, i)| &self.sections[s].items[i])
    }

    /// The section that holds this item.
    pub fn section_of(&self, code: &str) -> Option<&Section> {
        self.index.get(code).map(|&(s, _)| &self.sections[s])
    }

    /// Every item, in questionnaire order.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.sections.iter().flat_map(|s| s.items.iter())
    }

    /// The levels (scale) or options (choice, multi) of an item; empty for text.
    pub fn choices_of<'a>(&'a self, item: &'a Item) -> &'a [Choice] {
        match item.kind {
            ItemKind::Scale => item
                .scale
                .as_ref()
                .and_then(|s| self.scales.get(s))
                .map(|s| s.levels.as_slice())
                .unwrap_or(&[]),
            _ => &item.options,
        }
    }

    fn codes_of(&self, item: &Item) -> Vec<i16> {
        self.choices_of(item).iter().map(|c| c.code).collect()
    }

    /// The scale of a scale item.
    pub fn scale_of(&self, item: &Item) -> Option<&Scale> {
        item.scale.as_ref().and_then(|s| self.scales.get(s))
    }

    /// True when any item follows a wording still to be checked against the official text.
    pub fn has_unverified_items(&self) -> bool {
        self.items().any(|i| i.verify)
    }

    /// Checks one answer against its item and returns it in typed form. The error says what is
    /// wrong in a sentence; the caller names the item.
    pub fn parse_answer(&self, code: &str, value: &serde_json::Value) -> Result<AnswerValue, AnswerError> {
        let item = self.item(code).ok_or(AnswerError::UnknownItem)?;
        let level = |v: &serde_json::Value| -> Result<i16, AnswerError> {
            let n = v.as_i64().ok_or(AnswerError::NotACode)?;
            i16::try_from(n)
                .ok()
                .filter(|c| self.choices_of(item).iter().any(|ch| ch.code == *c))
                .ok_or(AnswerError::OutOfRange(n))
        };
        match item.kind {
            ItemKind::Scale | ItemKind::Choice => level(value).map(AnswerValue::Level),
            ItemKind::Multi => {
                let list = value.as_array().ok_or(AnswerError::NotAList)?;
                let mut codes = list.iter().map(level).collect::<Result<Vec<_>, _>>()?;
                codes.sort_unstable();
                codes.dedup();
                if codes.is_empty() {
                    return Err(AnswerError::EmptyList);
                }
                let max = item.max_choices.unwrap_or(usize::MAX);
                if codes.len() > max {
                    return Err(AnswerError::TooManyChoices(max));
                }
                Ok(AnswerValue::Multi(codes))
            }
            ItemKind::Text => {
                let text = value.as_str().ok_or(AnswerError::NotText)?;
                let text = text.trim();
                let max = item.max_len.unwrap_or(usize::MAX);
                if text.chars().count() > max {
                    return Err(AnswerError::TooLong(max));
                }
                if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    return Err(AnswerError::ControlCharacters);
                }
                if text.is_empty() {
                    return Err(AnswerError::EmptyText);
                }
                Ok(AnswerValue::Text(text.to_string()))
            }
        }
    }
}

fn unique_codes(choices: &[Choice]) -> Result<(), i16> {
    let mut seen = HashSet::new();
    match choices.iter().find(|c| !seen.insert(c.code)) {
        Some(dup) => Err(dup.code),
        None => Ok(()),
    }
}

/// The item every first response must contain.
pub const OVERALL: &str = "CASE.OVERALL";

/// Why one answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("is not an item of this questionnaire")]
    UnknownItem,
    #[error("takes a whole-number code")]
    NotACode,
    #[error("has no code {0}")]
    OutOfRange(i64),
    #[error("takes a list of option codes")]
    NotAList,
    #[error("needs at least one option code")]
    EmptyList,
    #[error("takes at most {0} choices")]
    TooManyChoices(usize),
    #[error("takes text")]
    NotText,
    #[error("takes at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    ControlCharacters,
    #[error("is empty")]
    EmptyText,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PUBLISHED: &str = include_str!("../../instruments/sipas-desk-2026.1.toml");

    fn published() -> Instrument {
        Instrument::parse(PUBLISHED).expect("the published instrument is valid")
    }

    #[test]
    fn the_published_instrument_loads_with_all_its_items() {
        let i = published();
        assert_eq!(i.meta.id, "sipas-desk");
        assert_eq!(i.meta.version, "2026.1");
        let statements = i
            .sections
            .iter()
            .filter(|s| s.element)
            .flat_map(|s| &s.items)
            .filter(|it| it.kind == ItemKind::Scale)
            .count();
        assert_eq!(statements, 19, "the Ministry's 19 statements");
        assert_eq!(i.computation.min_n, 5);
        assert!(i.has_unverified_items());
        assert_eq!(i.sha256.len(), 64);
    }

    fn broken(from: &str, to: &str) -> InstrumentError {
        assert!(PUBLISHED.contains(from), "fixture text `{from}` not found");
        Instrument::parse(&PUBLISHED.replacen(from, to, 1)).expect_err("must be refused")
    }

    #[test]
    fn a_duplicate_item_code_is_refused_naming_the_item() {
        let e = broken("code = \"E1.2\"", "code = \"E1.1\"");
        assert_eq!(e.to_string(), "item E1.1: the code is used twice");
    }

    #[test]
    fn an_unknown_scale_is_refused_naming_the_item() {
        let e = broken(
            "code = \"E1.3\"\n  kind = \"scale\"\n  scale = \"satisfaction5\"",
            "code = \"E1.3\"\n  kind = \"scale\"\n  scale = \"satisfaction7\"",
        );
        assert_eq!(e.to_string(), "item E1.3: unknown scale `satisfaction7`");
    }

    #[test]
    fn a_shown_if_naming_a_missing_code_is_refused() {
        let e = broken(
            "shown_if = { item = \"E5.GATE\", code = 1 }",
            "shown_if = { item = \"E5.GATE\", code = 9 }",
        );
        assert_eq!(e.to_string(), "item E5.1: `shown_if` names code 9, which item `E5.GATE` does not have");
    }

    #[test]
    fn a_points_when_naming_an_unknown_item_is_refused() {
        let e = broken("points_when = { item = \"TT01.I1\"", "points_when = { item = \"TT01.I9\"");
        assert_eq!(e.to_string(), "item TT01.I7: `points_when` names unknown item `TT01.I9`");
    }

    #[test]
    fn a_repeated_option_code_is_refused() {
        let e = broken(
            "{ code = 2, vi = \"Có\", en = \"Yes\", points = 0 }",
            "{ code = 1, vi = \"Có\", en = \"Yes\", points = 0 }",
        );
        assert_eq!(e.to_string(), "item TT01.I7: option code 1 is used twice");
    }

    #[test]
    fn bad_toml_and_unknown_keys_are_refused() {
        assert!(matches!(Instrument::parse("[meta\n"), Err(InstrumentError::Parse(_))));
        let e = broken("kind = \"text\"\n  max_len = 1000", "kind = \"text\"\n  maxlen = 1000");
        assert!(e.to_string().contains("maxlen"), "{e}");
    }

    #[test]
    fn answers_are_checked_against_their_item() {
        let i = published();
        assert_eq!(i.parse_answer("CASE.OVERALL", &json!(5)), Ok(AnswerValue::Level(5)));
        assert_eq!(i.parse_answer("CASE.OVERALL", &json!(6)), Err(AnswerError::OutOfRange(6)));
        assert_eq!(i.parse_answer("CASE.OVERALL", &json!("5")), Err(AnswerError::NotACode));
        assert_eq!(i.parse_answer("CASE.OVERALL", &json!(4.5)), Err(AnswerError::NotACode));
        assert_eq!(i.parse_answer("TT01.I7", &json!(3)), Err(AnswerError::OutOfRange(3)));
        assert_eq!(i.parse_answer("EXP", &json!([4, 3, 4])), Ok(AnswerValue::Multi(vec![3, 4])));
        assert_eq!(i.parse_answer("EXP", &json!([1, 2, 3, 4])), Err(AnswerError::TooManyChoices(3)));
        assert_eq!(i.parse_answer("EXP", &json!([8])), Err(AnswerError::OutOfRange(8)));
        assert_eq!(i.parse_answer("NOPE", &json!(1)), Err(AnswerError::UnknownItem));
        assert_eq!(i.parse_answer("COMMENT", &json!(" Tốt ")), Ok(AnswerValue::Text("Tốt".into())));
        assert_eq!(i.parse_answer("COMMENT", &json!("x".repeat(1001))), Err(AnswerError::TooLong(1000)));
        assert_eq!(
            i.parse_answer("COMMENT", &json!("ă".repeat(1000))),
            Ok(AnswerValue::Text("ă".repeat(1000)))
        );
        assert_eq!(i.parse_answer("COMMENT", &json!("a\u{0}b")), Err(AnswerError::ControlCharacters));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn json_value() -> impl Strategy<Value = serde_json::Value> {
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                (-10i64..20).prop_map(serde_json::Value::from),
                any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)),
                ".{0,1200}".prop_map(serde_json::Value::from),
            ];
            leaf.prop_recursive(3, 24, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                    prop::collection::hash_map(".{0,8}", inner, 0..4)
                        .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// Whatever value arrives for whatever item, validation answers without panicking,
            /// and anything it accepts fits the item.
            #[test]
            fn answer_validation_accepts_only_values_that_fit_their_item(
                item in prop::sample::select(published().items().map(|i| i.code.clone()).collect::<Vec<_>>()),
                value in json_value(),
            ) {
                let i = published();
                let it = i.item(&item).cloned().unwrap_or_else(|| panic!("{item}"));
                let codes: Vec<i16> = i.choices_of(&it).iter().map(|c| c.code).collect();
                match i.parse_answer(&item, &value) {
                    Ok(AnswerValue::Level(c)) => prop_assert!(codes.contains(&c)),
                    Ok(AnswerValue::Multi(cs)) => {
                        prop_assert!(!cs.is_empty() && cs.len() <= it.max_choices.unwrap_or(0));
                        prop_assert!(cs.iter().all(|c| codes.contains(c)));
                    }
                    Ok(AnswerValue::Text(t)) => {
                        prop_assert!(!t.is_empty() && t.chars().count() <= it.max_len.unwrap_or(0));
                    }
                    Err(_) => {}
                }
            }

            /// A damaged instrument file is refused with an error, never a panic.
            #[test]
            fn the_loader_never_panics_on_a_damaged_file(
                cut in 0usize..PUBLISHED.len(),
                len in 0usize..200,
                insert in "[\\[\\]{}=\",0-9a-zA-Z .\n]{0,20}",
            ) {
                let mut text = PUBLISHED.to_string();
                let start = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
                let end = (start..=(start + len).min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(start);
                text.replace_range(start..end, &insert);
                let _ = Instrument::parse(&text);
            }

            #[test]
            fn the_loader_never_panics_on_arbitrary_text(text in ".{0,400}") {
                prop_assert!(Instrument::parse(&text).is_err());
            }
        }
    }
}
