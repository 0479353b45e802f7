//! Hand-written statements that diesel prepares once per connection and PostgreSQL plans once.
//!
//! Why: diesel never caches an `INSERT` from an `Insertable` struct (any field could be
//! `DEFAULT`), a multi-row `INSERT`, an upsert, an `UPDATE` or an `sql_query`: each call is sent as
//! a fresh unnamed statement that PostgreSQL parses, analyses and plans again. On the answer path
//! that was about a third of PostgreSQL's CPU per answer (measured with `perf` under
//! `bench/answers.sh`). The statements here have fixed SQL — several rows go in as arrays through
//! `unnest`, so the text does not depend on the row count — and a static query id, which is what
//! diesel's statement cache keys on.
//!
//! A statement is a struct with one lifetime holding its binds, a [`QueryFragment`] that writes
//! its SQL with [`walk`], and [`cached_statement!`] for the rest.

use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;

/// Writes `sql`, calling `bind(i, out)` at its `i`-th `?` (0-based) to push that parameter. The
/// SQL must have no other `?`.
pub fn walk<'b>(
    sql: &'static str,
    out: &mut AstPass<'_, 'b, Pg>,
    mut bind: impl FnMut(usize, &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>,
) -> QueryResult<()> {
    for (i, piece) in sql.split('?').enumerate() {
        if i > 0 {
            bind(i - 1, out)?;
        }
        out.push_sql(piece);
    }
    Ok(())
}

/// Implements `QueryId` (static, so diesel caches the prepared statement), `RunQueryDsl` and, when
/// a row type is given, `Query` for a statement struct with one lifetime.
#[macro_export]
macro_rules! cached_statement {
    ($name:ident) => {
        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl diesel::query_dsl::RunQueryDsl<diesel::pg::PgConnection> for $name<'_> {}
    };
    ($name:ident, $sql_type:ty) => {
        $crate::cached_statement!($name);
        impl diesel::query_builder::Query for $name<'_> {
            type SqlType = $sql_type;
        }
    };
}

/// The out-of-range error for a bind index no statement has (a bug in a statement's `walk_ast`).
pub fn no_such_bind(i: usize) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("statement has no parameter {i}").into())
}
