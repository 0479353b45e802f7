//! Bulk loads into empty tables: drop the indexes first, build them once at the end.
//!
//! Keeping an index up to date costs a B-tree descent and page write per row; building it after
//! the load sorts the rows once, with PostgreSQL's parallel workers. On the demo's load that is
//! most of the database's work (`sipas demo`, see BENCHMARKS.md). Used inside one transaction:
//! the drops take an `ACCESS EXCLUSIVE` lock on the tables until it commits, and a failure rolls
//! the drops back with the rows.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

/// An index dropped for a load: the statement that drops it and the one that builds it again.
#[derive(Debug, Clone, QueryableByName)]
pub struct DroppedIndex {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    drop: String,
    #[diesel(sql_type = Text)]
    build: String,
}

/// Drops every index of `tables` that no foreign key relies on — unique and primary keys
/// included, as constraints — and returns them, to give to [`build_indexes`] after the load.
/// Keys that a foreign key references stay (PostgreSQL would refuse to drop them). Primary keys
/// go too when they can, even where rows arrive in key order: on the demo's million responses,
/// keeping the answers' key made their COPY 16 s longer and the builds only 9 s shorter.
pub fn drop_indexes(conn: &mut PgConnection, tables: &[&str]) -> QueryResult<Vec<DroppedIndex>> {
    let indexes: Vec<DroppedIndex> = diesel::sql_query(
        "SELECT i.indexrelid::regclass::text AS name, \
                CASE WHEN c.oid IS NULL THEN 'DROP INDEX ' || i.indexrelid::regclass::text \
                     ELSE 'ALTER TABLE ' || i.indrelid::regclass::text || ' DROP CONSTRAINT ' || quote_ident(c.conname) \
                END AS drop, \
                CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid) \
                     ELSE 'ALTER TABLE ' || i.indrelid::regclass::text || ' ADD CONSTRAINT ' \
                          || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) \
                END AS build \
         FROM pg_index i \
         LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid \
                                   AND c.contype IN ('p', 'u') \
         WHERE i.indrelid = ANY (SELECT unnest($1::text[])::regclass) \
           AND NOT EXISTS (SELECT FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid) \
         ORDER BY i.indrelid, i.indexrelid",
    )
    .bind::<Array<Text>, _>(tables)
    .load(conn)?;
    for index in &indexes {
        diesel::sql_query(&index.drop).execute(conn)?;
    }
    Ok(indexes)
}

/// Builds again the indexes [`drop_indexes`] dropped, in the caller's transaction, with enough
/// memory for each sort.
pub fn build_indexes(conn: &mut PgConnection, indexes: &[DroppedIndex]) -> QueryResult<()> {
    diesel::sql_query("SET LOCAL maintenance_work_mem = '1GB'").execute(conn)?;
    for index in indexes {
        diesel::sql_query(&index.build).execute(conn)?;
    }
    Ok(())
}
