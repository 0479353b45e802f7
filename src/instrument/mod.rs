//! The questionnaire: the published versions are embedded in the binary, validated at start-up
//! and recorded in the database; every invitation and response names the version it used.

pub mod model;
pub mod store;
pub mod translation;

use std::path::Path;
use std::sync::Arc;

pub use model::{AnswerError, Instrument, InstrumentError, Item, ItemKind, OVERALL};
pub use translation::{Translation, TranslationError};

/// Published versions, oldest first, as (file name, text). The first file's id is the default
/// line: its latest version is what new invitations answer in a unit that chose no version
/// ([`Instruments::current`]); a version of another id (another questionnaire, such as the Hà Nội
/// ward form) is used only by the units that choose it. A published file is never edited: a new
/// wording is a new file added here.
const PUBLISHED: &[(&str, &str)] = &[
    ("sipas-desk-2026.1.toml", include_str!("../../instruments/sipas-desk-2026.1.toml")),
    ("sipas-ward-hn-2026.1.toml", include_str!("../../instruments/sipas-ward-hn-2026.1.toml")),
];

/// Every published questionnaire version, validated.
#[derive(Debug, Clone)]
pub struct Instruments {
    versions: Vec<Arc<Instrument>>,
    /// Every version as one reading view ([`Instrument::combine`]), for figures across versions.
    combined: Arc<Instrument>,
    /// The commune's translations beyond vi and en, each of one version.
    translations: Vec<Arc<Translation>>,
}

impl Instruments {
    /// Loads the versions embedded in the binary; an invalid one is an error naming its file.
    pub fn load_published() -> Result<Self, String> {
        Self::from_texts(PUBLISHED)
    }

    /// The published versions and the translations in `translations_dir` (every `*.toml` file,
    /// in name order); an invalid or unmatched translation is an error naming its file.
    pub fn load(translations_dir: Option<&Path>) -> Result<Self, String> {
        let mut instruments = Self::load_published()?;
        let Some(dir) = translations_dir else { return Ok(instruments) };
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("TRANSLATIONS_DIR {}: {e}", dir.display()))?;
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            instruments.add_translation(&file.display().to_string(), &text)?;
        }
        Ok(instruments)
    }

    /// Validates a translation against the version it names and adds it.
    pub fn add_translation(&mut self, name: &str, text: &str) -> Result<&Arc<Translation>, String> {
        let (id, version) = Translation::target(text).map_err(|e| format!("translation {name}: {e}"))?;
        let instrument = self
            .get(&id, &version)
            .ok_or_else(|| format!("translation {name}: no published questionnaire {id} {version}"))?;
        let translation =
            Translation::parse(text, instrument).map_err(|e| format!("translation {name}: {e}"))?;
        if self.translation(&id, &version, &translation.lang).is_some() {
            return Err(format!(
                "translation {name}: {id} {version} already has a translation {}",
                translation.lang
            ));
        }
        self.translations.push(Arc::new(translation));
        let last = self.translations.len() - 1;
        Ok(&self.translations[last])
    }

    /// The translations of one version, in the order they were loaded.
    pub fn translations_of(&self, id: &str, version: &str) -> Vec<Arc<Translation>> {
        self.translations.iter().filter(|t| t.instrument_id == id && t.version == version).cloned().collect()
    }

    /// One translation of a version.
    pub fn translation(&self, id: &str, version: &str, lang: &str) -> Option<&Arc<Translation>> {
        self.translations.iter().find(|t| t.instrument_id == id && t.version == version && t.lang == lang)
    }

    /// Every translation loaded.
    pub fn all_translations(&self) -> &[Arc<Translation>] {
        &self.translations
    }

    /// Loads versions from (name, text) pairs, oldest first.
    pub fn from_texts(texts: &[(&str, &str)]) -> Result<Self, String> {
        let mut versions = Vec::with_capacity(texts.len());
        for (name, text) in texts {
            let instrument = Instrument::parse(text).map_err(|e| format!("instrument {name}: {e}"))?;
            if versions.iter().any(|v: &Arc<Instrument>| {
                v.meta.id == instrument.meta.id && v.meta.version == instrument.meta.version
            }) {
                return Err(format!(
                    "instrument {name}: version {} is embedded twice",
                    instrument.meta.version
                ));
            }
            versions.push(Arc::new(instrument));
        }
        // the default line's latest version first, so that its titles and codes lead the view
        let current = Self::current_of(&versions).ok_or("no instrument version is embedded")?;
        let mut order: Vec<&Instrument> = vec![current.as_ref()];
        order.extend(versions.iter().filter(|v| !Arc::ptr_eq(v, current)).rev().map(|v| v.as_ref()));
        let combined = Instrument::combine(&order)
            .map_err(|e| format!("the published versions do not combine: {e}"))?
            .ok_or("no instrument version is embedded")?;
        Ok(Instruments { combined: Arc::new(combined), versions, translations: Vec::new() })
    }

    /// The latest version of the first version's id.
    fn current_of(versions: &[Arc<Instrument>]) -> Option<&Arc<Instrument>> {
        let line = &versions.first()?.meta.id;
        versions.iter().rev().find(|v| &v.meta.id == line)
    }

    /// The version new invitations are issued with in a unit that chose none: the latest version
    /// of the default line (the first published file's id). Adding a version of another id does
    /// not change it.
    pub fn current(&self) -> &Arc<Instrument> {
        // from_texts refuses an empty list, so there is always a default line
        Self::current_of(&self.versions).unwrap_or(&self.combined)
    }

    /// Every published version as one reading view: the figures of a period read through it, so
    /// that element indices and the SIPAS index combine the versions' answers by element code,
    /// and every statement is reported under its own code, within the version that has it.
    pub fn combined(&self) -> &Arc<Instrument> {
        &self.combined
    }

    /// The version new invitations of a unit answer: its choice when that is a published version,
    /// else [`Instruments::current`].
    pub fn for_unit(&self, choice: Option<(&str, &str)>) -> &Arc<Instrument> {
        choice.and_then(|(id, version)| self.get(id, version)).unwrap_or_else(|| self.current())
    }

    /// A version by id and version string.
    pub fn get(&self, id: &str, version: &str) -> Option<&Arc<Instrument>> {
        self.versions.iter().find(|v| v.meta.id == id && v.meta.version == version)
    }

    pub fn all(&self) -> &[Arc<Instrument>] {
        &self.versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESK: &str = include_str!("../../instruments/sipas-desk-2026.1.toml");
    const WARD: &str = include_str!("../../instruments/sipas-ward-hn-2026.1.toml");

    #[test]
    fn the_ward_form_loads_with_every_item_to_verify_and_its_source_named() {
        let ward = Instrument::parse(WARD).unwrap();
        assert_eq!((ward.meta.id.as_str(), ward.meta.version.as_str()), ("sipas-ward-hn", "2026.1"));
        let unverified: Vec<&str> = ward.items().filter(|i| !i.verify).map(|i| i.code.as_str()).collect();
        assert!(unverified.is_empty(), "items without verify = true: {unverified:?}");
        let basis = ward.meta.basis.join(" ");
        for source in ["Phường Tùng Thiện", "QĐ 1001/QĐ-BNV", "QĐ 5997/QĐ-UBND"] {
            assert!(basis.contains(source), "the basis names {source}");
        }
        let statements: Vec<usize> = ward
            .computation
            .elements
            .iter()
            .map(|e| ward.sections.iter().find(|s| &s.code == e).unwrap())
            .map(|s| s.items.iter().filter(|i| i.kind == ItemKind::Scale).count())
            .collect();
        assert_eq!(statements, [3, 4, 3, 3, 3], "16 statements in the five elements");
        assert_eq!(
            ward.item("E1.HN25").unwrap().vi,
            "25. Chi nhánh Trung tâm Phục vụ hành chính công/Điểm phục vụ hành chính công có đủ ghế ngồi chờ, ghế ngồi giải quyết công việc và bàn viết cho người dân."
        );
        let grid: Vec<&Item> = ward.items().filter(|i| i.code.starts_with("EXP.HN")).collect();
        assert_eq!(grid.len(), 10);
        assert!(grid.iter().all(|i| ward.scale_of(i).is_some_and(|s| s.levels.len() == 4)));
        // the case items are sipas-desk's, points included
        let desk = Instrument::parse(DESK).unwrap();
        for code in [OVERALL, "TT01.I1", "TT01.I3", "TT01.I4", "TT01.I7", "CASE.EXTRA_COST"] {
            let (a, b) = (desk.item(code).unwrap(), ward.item(code).unwrap());
            assert_eq!((&a.vi, &a.options), (&b.vi, &b.options), "{code}");
        }
        assert_eq!(ward.computation.tt01_indicators, desk.computation.tt01_indicators);
    }

    #[test]
    fn adding_the_ward_form_keeps_the_desk_form_the_default() {
        let instruments = Instruments::load_published().unwrap();
        assert_eq!(instruments.all().len(), 2);
        assert_eq!(instruments.current().meta.id, "sipas-desk");
        assert_eq!(instruments.for_unit(None).meta.id, "sipas-desk");
        assert_eq!(instruments.for_unit(Some(("sipas-ward-hn", "2026.1"))).meta.id, "sipas-ward-hn");
        assert_eq!(instruments.for_unit(Some(("sipas-ward-hn", "1999.1"))).meta.id, "sipas-desk");
    }

    #[test]
    fn the_combined_view_has_both_versions_statements_under_the_same_elements() {
        let instruments = Instruments::load_published().unwrap();
        let c = instruments.combined();
        assert_eq!(c.computation.elements, ["E1", "E2", "E3", "E4", "E5"]);
        let e1: Vec<&str> = c
            .sections
            .iter()
            .find(|s| s.code == "E1")
            .unwrap()
            .items
            .iter()
            .map(|i| i.code.as_str())
            .collect();
        assert_eq!(e1, ["E1.1", "E1.2", "E1.3", "E1.4", "E1.HN24", "E1.HN25", "E1.HN26"]);
        assert!(c.item("EXP").is_some() && c.item("EXP.HN10").is_some());
        assert_eq!(c.section_of("E4.HN36").map(|s| s.code.as_str()), Some("E4"));
        assert!(c.scales.contains_key("expectation4"));
    }

    #[test]
    fn a_version_that_reuses_a_statement_code_for_another_text_is_refused() {
        let changed = WARD
            .replace("code = \"E1.HN24\"", "code = \"E1.1\"")
            .replace("version = \"2026.1\"", "version = \"2026.2\"");
        let err = Instruments::from_texts(&[("desk", DESK), ("ward", &changed)]).unwrap_err();
        assert!(err.contains("item E1.1: means something else in sipas-ward-hn 2026.2"), "{err}");
    }
}
