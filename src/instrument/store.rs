//! Records which questionnaire versions the service has loaded.

use diesel::prelude::*;

use super::{Instrument, Translation};
use crate::schema::{instrument_translations, instrument_versions};

/// Why the versions could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "instrument {id} {version} was published with SHA-256 {stored} but the binary has {embedded}: a published version must never be edited; publish the change as a new version"
    )]
    Edited { id: String, version: String, stored: String, embedded: String },
    #[error(
        "translation {lang} of {id} {version} was published with SHA-256 {stored} but the file now has {loaded}: a published translation must never be edited; publish the change with a new questionnaire version"
    )]
    TranslationEdited { id: String, version: String, lang: String, stored: String, loaded: String },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Inserts each version once, and refuses a version whose text changed since it was first loaded.
pub fn record_versions(
    conn: &mut PgConnection,
    versions: &[std::sync::Arc<Instrument>],
) -> Result<(), RecordError> {
    conn.transaction(|conn| {
        for v in versions {
            diesel::insert_into(instrument_versions::table)
                .values((
                    instrument_versions::instrument_id.eq(&v.meta.id),
                    instrument_versions::version.eq(&v.meta.version),
                    instrument_versions::sha256.eq(&v.sha256),
                    instrument_versions::has_unverified_items.eq(v.has_unverified_items()),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?;
            let stored: String = instrument_versions::table
                .find((&v.meta.id, &v.meta.version))
                .select(instrument_versions::sha256)
                .first(conn)?;
            if stored != v.sha256 {
                return Err(RecordError::Edited {
                    id: v.meta.id.clone(),
                    version: v.meta.version.clone(),
                    stored,
                    embedded: v.sha256.clone(),
                });
            }
        }
        Ok(())
    })
}

/// Inserts each translation once, and refuses one whose text changed since it was first loaded.
pub fn record_translations(
    conn: &mut PgConnection,
    translations: &[std::sync::Arc<Translation>],
) -> Result<(), RecordError> {
    conn.transaction(|conn| {
        for t in translations {
            diesel::insert_into(instrument_translations::table)
                .values((
                    instrument_translations::instrument_id.eq(&t.instrument_id),
                    instrument_translations::version.eq(&t.version),
                    instrument_translations::lang.eq(&t.lang),
                    instrument_translations::sha256.eq(&t.sha256),
                    instrument_translations::name.eq(&t.name),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?;
            let stored: String = instrument_translations::table
                .find((&t.instrument_id, &t.version, &t.lang))
                .select(instrument_translations::sha256)
                .first(conn)?;
            if stored != t.sha256 {
                return Err(RecordError::TranslationEdited {
                    id: t.instrument_id.clone(),
                    version: t.version.clone(),
                    lang: t.lang.clone(),
                    stored,
                    loaded: t.sha256.clone(),
                });
            }
        }
        Ok(())
    })
}
