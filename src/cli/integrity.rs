//! Command-line faces of the integrity capability: `sipas purge` and `sipas cases import`.

use std::path::Path;

use chrono::Utc;

use super::db::open;
use crate::config::Config;
use crate::integrity::handlers::parse_case_days;
use crate::integrity::{retention, store};

/// `sipas purge`: runs the retention job once.
pub fn purge(config: &Config) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    let report = retention::purge(
        &mut conn,
        config.integrity.retention_days,
        config.integrity.case_link_retention_days,
        Utc::now(),
    )
    .map_err(|e| format!("purge failed: {e}"))?;
    Ok(match report {
        Some(r) => format!(
            "purged client and device hashes of {} responses older than {} days and {} case links older than {} days",
            r.client_hashes,
            config.integrity.retention_days,
            r.case_links,
            config.integrity.case_link_retention_days
        ),
        None => "another instance is purging right now; nothing done".to_string(),
    })
}

/// `sipas cases import FILE.csv`: cases handled per officer and local day, with the header
/// `date,officer_code,cases`. All or nothing; an error names its line.
pub fn import_cases(config: &Config, file: &Path) -> Result<String, String> {
    let text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let entries = parse_cases_csv(&text)?;
    let (_db, mut conn, _) = open(config)?;
    let mut by_unit: std::collections::BTreeMap<String, Vec<(String, String, i64)>> = Default::default();
    for (line, (officer, date, cases)) in entries.into_iter().enumerate() {
        let unit = store::unit_of_officer(&mut conn, &officer)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("line {}: unknown officer `{officer}`", line + 2))?;
        by_unit.entry(unit).or_default().push((officer, date, cases));
    }
    let mut stored = 0;
    for (unit, entries) in by_unit {
        let days = parse_case_days(&entries)?;
        stored += store::upsert_cases(&mut conn, &unit, &days, "cli").map_err(|e| e.to_string())?;
    }
    Ok(format!("stored {stored} officer-days of cases handled"))
}

/// Reads `date,officer_code,cases` rows; an error names the line.
pub fn parse_cases_csv(bytes: &[u8]) -> Result<Vec<(String, String, i64)>, String> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
    let headers = reader.headers().map_err(|e| format!("line 1: {e}"))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| format!("line 1: no `{name}` column"))
    };
    let (d, o, c) = (col("date")?, col("officer_code")?, col("cases")?);
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let get = |k: usize| record.get(k).unwrap_or("").to_string();
        let cases =
            get(c).parse::<i64>().map_err(|_| format!("line {line}: `cases` must be a whole number"))?;
        let (date, officer) = (get(d), get(o));
        parse_case_days(&[(officer.clone(), date.clone(), cases)])
            .map_err(|e| format!("line {line}: {}", e.trim_start_matches("entry 0: ")))?;
        out.push((officer, date, cases));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cases_csv_is_read_and_a_bad_line_is_named() {
        let ok =
            parse_cases_csv(b"date,officer_code,cases\n2026-11-27,CB01,14\n2026-11-27,CB02,9\n").unwrap();
        assert_eq!(ok.len(), 2);
        let e =
            parse_cases_csv(b"date,officer_code,cases\n2026-11-27,CB01,14\n2026-13-01,CB02,9\n").unwrap_err();
        assert!(e.starts_with("line 3"), "{e}");
        assert!(parse_cases_csv(b"day,officer,cases\n").unwrap_err().contains("date"));
    }
}
