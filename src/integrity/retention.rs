//! Retention: client and device hashes are cleared from responses `INTEGRITY_RETENTION_DAYS`
//! after submission, and the link between an invitation and its case number is deleted
//! `CASE_LINK_RETENTION_DAYS` after it was made. Neither touches an answer, a flag or a roll-up,
//! so no statistic changes. Each purge that removes something is audited.
//!
//! `sipas serve` runs it hourly on a thread of its own; an advisory lock lets one instance run
//! it at a time. `sipas purge` runs it once.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::Pool;
use crate::kernel::audit::audit;
use crate::schema::{case_links, responses};

/// Advisory lock key of the retention job ("PURGE" in ASCII).
const PURGE_LOCK_KEY: i64 = 0x50_5552_4745;

/// What one run purged; `None` when another instance held the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeReport {
    pub client_hashes: usize,
    pub case_links: usize,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Runs the purge once, as of `now`, in one transaction.
pub fn purge(
    conn: &mut PgConnection,
    integrity_days: i64,
    case_link_days: i64,
    now: DateTime<Utc>,
) -> QueryResult<Option<PurgeReport>> {
    conn.transaction(|conn| {
        let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<BigInt, _>(PURGE_LOCK_KEY)
            .get_result(conn)?;
        if !locked.locked {
            return Ok(None);
        }
        let hash_cutoff = now - Duration::days(integrity_days);
        let client_hashes = diesel::update(
            responses::table
                .filter(responses::submitted_at.lt(hash_cutoff))
                .filter(responses::client_hash.is_not_null().or(responses::device_hash.is_not_null())),
        )
        .set((responses::client_hash.eq(None::<String>), responses::device_hash.eq(None::<String>)))
        .execute(conn)?;
        let link_cutoff = now - Duration::days(case_link_days);
        let case_links =
            diesel::delete(case_links::table.filter(case_links::created_at.lt(link_cutoff))).execute(conn)?;
        if client_hashes > 0 {
            audit(
                conn,
                "system:retention",
                "retention.client_hashes",
                "responses",
                serde_json::json!({"purged": client_hashes, "before": hash_cutoff, "days": integrity_days}),
            )?;
        }
        if case_links > 0 {
            audit(
                conn,
                "system:retention",
                "retention.case_links",
                "case_links",
                serde_json::json!({"purged": case_links, "before": link_cutoff, "days": case_link_days}),
            )?;
        }
        Ok(Some(PurgeReport { client_hashes, case_links }))
    })
}

/// Runs [`purge`] every `every` on its own thread for as long as the process lives.
pub fn spawn(
    pool: Pool,
    integrity_days: i64,
    case_link_days: i64,
    every: StdDuration,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("retention".into()).spawn(move || {
        loop {
            if let Ok(mut conn) = pool.get() {
                match purge(&mut conn, integrity_days, case_link_days, Utc::now()) {
                    Ok(Some(r)) if r != PurgeReport::default() => {
                        tracing::info!(
                            client_hashes = r.client_hashes,
                            case_links = r.case_links,
                            "retention purge"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "retention purge failed; will retry"),
                }
            }
            std::thread::sleep(every);
        }
    })
}
