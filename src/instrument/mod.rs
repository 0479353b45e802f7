//! The questionnaire: the published versions are embedded in the binary, validated at start-up
//! and recorded in the database; every invitation and response names the version it used.

pub mod model;
pub mod store;

use std::sync::Arc;

pub use model::{AnswerError, Instrument, InstrumentError, Item, ItemKind, OVERALL};

/// Published versions, oldest first, as (file name, text). The last one is what new invitations
/// answer. A published file is never edited: a new wording is a new file added here.
const PUBLISHED: &[(&str, &str)] =
    &[("sipas-desk-2026.1.toml", include_str!("../../instruments/sipas-desk-2026.1.toml"))];

/// Every published questionnaire version, validated.
#[derive(Debug, Clone)]
pub struct Instruments {
    versions: Vec<Arc<Instrument>>,
}

impl Instruments {
    /// Loads the versions embedded in the binary; an invalid one is an error naming its file.
    pub fn load_published() -> Result<Self, String> {
        Self::from_texts(PUBLISHED)
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
        Ok(Instruments { versions })
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
