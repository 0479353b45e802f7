//! The questionnaire: the published versions are embedded in the binary, validated at start-up
//! and recorded in the database; every invitation and response names the version it used.

pub mod model;
pub mod store;
pub mod translation;

use std::path::Path;
use std::sync::Arc;

pub use model::{AnswerError, Instrument, InstrumentError, Item, ItemKind, OVERALL};
pub use translation::{Translation, TranslationError};

/// Published versions, oldest first, as (file name, text). The last one is what new invitations
/// answer. A published file is never edited: a new wording is a new file added here.
const PUBLISHED: &[(&str, &str)] =
    &[("sipas-desk-2026.1.toml", include_str!("../../instruments/sipas-desk-2026.1.toml"))];

/// Every published questionnaire version, validated.
#[derive(Debug, Clone)]
pub struct Instruments {
    versions: Vec<Arc<Instrument>>,
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
        if versions.is_empty() {
            return Err("no instrument version is embedded".into());
        }
        Ok(Instruments { versions, translations: Vec::new() })
    }

    /// The version new invitations are issued with.
    pub fn current(&self) -> &Arc<Instrument> {
        // from_texts refuses an empty list, so there is always a last version
        &self.versions[self.versions.len() - 1]
    }

    /// A version by id and version string.
    pub fn get(&self, id: &str, version: &str) -> Option<&Arc<Instrument>> {
        self.versions.iter().find(|v| v.meta.id == id && v.meta.version == version)
    }

    pub fn all(&self) -> &[Arc<Instrument>] {
        &self.versions
    }
}
