//! `sipas import units|officers|procedures FILE.csv` and `sipas instrument check FILE`.

use std::path::Path;

use super::db::open;
use crate::config::Config;
use crate::masterdata::{self, Kind, store::StoreError};

/// `sipas import units|officers|procedures FILE.csv`: all or nothing; prints what it did.
pub fn import(config: &Config, kind: Kind, file: &Path) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let rows = masterdata::parse(kind, &bytes)
        .map_err(|e| format!("{}: {e}; nothing was imported", file.display()))?;
    let (_db, mut conn, _) = open(config)?;
    let summary = masterdata::store::import(&mut conn, &rows, "cli").map_err(|e| match e {
        StoreError::Row(e) => format!("{}: {e}; nothing was imported", file.display()),
        other => format!("{other}; nothing was imported"),
    })?;
    Ok(format!(
        "imported {} rows from {}: {} new, {} updated",
        rows.len(),
        file.display(),
        summary.created,
        summary.updated
    ))
}

/// `sipas instrument check FILE`: validates a draft questionnaire before it is published.
pub fn instrument_check(file: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    // a translation names the version it translates in [meta] instrument/version
    if crate::instrument::Translation::target(&text).is_ok() {
        let mut instruments = crate::instrument::Instruments::load_published()?;
        let t = instruments.add_translation(&file.display().to_string(), &text)?;
        return Ok(format!(
            "{}: translation {} ({}) of {} {} is valid (every item and option; {} interface words of its own, the rest in Vietnamese; sha256 {})",
            file.display(),
            t.lang,
            t.name,
            t.instrument_id,
            t.version,
            t.ui.len(),
            t.sha256
        ));
    }
    let i = crate::instrument::Instrument::parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(format!(
        "{}: instrument {} {} is valid ({} sections, {} items, sha256 {})",
        file.display(),
        i.meta.id,
        i.meta.version,
        i.sections.len(),
        i.items().count(),
        i.sha256
    ))
}
