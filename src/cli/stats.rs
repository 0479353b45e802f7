//! The statistics commands: `sipas rollup rebuild|compact` and `sipas stats` (the API's figures on
//! the command line, from the roll-ups or from a raw scan, with timings for the benchmark).

use std::collections::HashMap;
use std::time::Instant;

use super::db::open;
use crate::config::Config;
use crate::stats::query::{self, Source, StatsQuery};
use crate::stats::rollup;

/// `sipas rollup rebuild`: recomputes every roll-up from the raw answers and invitations.
pub fn rebuild(config: &Config) -> Result<String, String> {
    let (_db, mut conn, instruments) = open(config)?;
    let started = Instant::now();
    let report = rollup::rebuild(&mut conn, &instruments).map_err(|e| format!("rebuild failed: {e}"))?;
    rollup::vacuum(&mut conn).map_err(|e| format!("vacuum after the rebuild failed: {e}"))?;
    Ok(format!(
        "roll-ups rebuilt from the raw answers in {:.1} s ({}): {} daily rows, {} monthly rows",
        started.elapsed().as_secs_f64(),
        report.timings(),
        report.day_rows,
        report.month_rows
    ))
}

/// `sipas rollup compact`: folds pending deltas now (the server does it every few seconds).
pub fn compact(config: &Config) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    let rows = rollup::compact(&mut conn).map_err(|e| format!("compaction failed: {e}"))?;
    Ok(format!("compacted {rows} delta rows"))
}

/// `sipas stats`: prints the JSON the API would answer (without the API key's unit scoping; the
/// command line has the database itself). `repeat` runs the query that many times and reports the
/// timings on standard error.
pub fn stats(
    config: &Config,
    params: &[(String, String)],
    naive: bool,
    repeat: u32,
) -> Result<String, String> {
    let params: HashMap<String, String> = params.iter().cloned().collect();
    let q = StatsQuery::parse(&params).map_err(|e| e.public_message())?;
    let (_db, mut conn, instruments) = open(config)?;
    let min_n = query::min_n(config, &instruments);
    let source = if naive { Source::Raw } else { Source::Rollup };
    let mut times = Vec::new();
    let mut body = None;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        let b = query::run(&mut conn, &instruments, &q, min_n, source)
            .map_err(|e| format!("query failed: {e}"))?;
        let json = serde_json::to_string(&b).map_err(|e| e.to_string())?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        body = Some(json);
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    eprintln!(
        "stats group_by={} source={} runs={} min_ms={:.1} median_ms={:.1} max_ms={:.1}",
        q.group_by.as_str(),
        if naive { "raw" } else { "rollup" },
        sorted.len(),
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
    Ok(body.unwrap_or_default())
}
