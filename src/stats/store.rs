//! Reading counts for a statistics query: from the roll-ups (the service's path) or, for the
//! benchmark's comparison, straight from the raw answers. Plain sync diesel.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Bool, SmallInt, Text};

use super::model::{CHANNELS, GroupBy};
use super::query::StatsQuery;
use super::rollup::{grouping_set_for, raw_measures_sql};
use crate::instrument::Instruments;
use crate::schema::{fields, officers, procedures, units};

/// Summed counts of one measure in one group.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CountRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Bool)]
    pub held: bool,
    #[diesel(sql_type = Text)]
    pub item_code: String,
    #[diesel(sql_type = SmallInt)]
    pub level: i16,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    #[diesel(sql_type = BigInt)]
    pub scored: i64,
    #[diesel(sql_type = BigInt)]
    pub points: i64,
}

fn date_lit(d: NaiveDate) -> String {
    format!("'{}'::date", d.format("%Y-%m-%d"))
}

/// The key a row of `s` is first grouped by, in SQL: cheap columns only. Periods group by the
/// month's first day and fields by procedure; [`regroup`] turns those into the final keys.
fn key_sql(group_by: GroupBy) -> &'static str {
    match group_by {
        GroupBy::None => "'all'",
        GroupBy::Procedure | GroupBy::Field => "s.procedure_code",
        GroupBy::Officer => "s.officer_code",
        GroupBy::Unit => "s.unit_code",
        GroupBy::Channel => "s.channel",
        GroupBy::Month | GroupBy::Quarter | GroupBy::Half | GroupBy::Year => {
            "(s.day - extract(day FROM s.day)::int + 1)::text"
        }
    }
}

/// The query's filters as SQL conditions on `s`, with their bound values (`$1`, `$2`, …).
fn conditions(q: &StatsQuery) -> (String, Vec<String>) {
    let f = &q.filters;
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    for (condition, value) in [
        ("s.unit_code = $", &f.unit),
        ("s.procedure_code = $", &f.procedure),
        ("s.procedure_code IN (SELECT code FROM procedures WHERE field_code = $", &f.field),
        ("s.officer_code = $", &f.officer),
        ("s.channel = $", &f.channel),
    ] {
        if let Some(v) = value {
            binds.push(v.clone());
            let close = if condition.ends_with("field_code = $") { ")" } else { "" };
            conditions.push(format!("{condition}{}{close}", binds.len()));
        }
    }
    let where_ =
        if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    (where_, binds)
}

/// Wraps a source of measure rows `s` in the grouping and filters of the query.
fn grouped(q: &StatsQuery, source: &str) -> BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
    let (where_, binds) = conditions(q);
    let sql = format!(
        "SELECT {key} AS key, s.held, s.item_code, s.level, sum(s.n)::bigint AS n, \
                sum(s.scored)::bigint AS scored, sum(s.points)::bigint AS points \
         FROM ({source}) s {where_} \
         GROUP BY 1, 2, 3, 4 \
         HAVING sum(s.n) <> 0 OR sum(s.scored) <> 0 OR sum(s.points) <> 0",
        key = key_sql(q.group_by),
    );
    let mut query = diesel::sql_query(sql).into_boxed();
    for b in binds {
        query = query.bind::<Text, _>(b);
    }
    query
}

/// Turns the first grouping's keys (month starts, procedures) into the query's keys (periods,
/// fields), summing rows that meet.
fn regroup(conn: &mut PgConnection, group_by: GroupBy, rows: Vec<CountRow>) -> QueryResult<Vec<CountRow>> {
    let map: Box<dyn Fn(&str) -> String> = match group_by {
        GroupBy::Field => {
            let fields: BTreeMap<String, String> = procedures::table
                .select((procedures::code, procedures::field_code))
                .load(conn)?
                .into_iter()
                .collect();
            Box::new(move |k: &str| fields.get(k).cloned().unwrap_or_else(|| k.to_string()))
        }
        g if g.is_period() => Box::new(move |k: &str| {
            NaiveDate::parse_from_str(k, "%Y-%m-%d")
                .ok()
                .and_then(|d| g.period_key(d))
                .unwrap_or_else(|| k.to_string())
        }),
        _ => return Ok(rows),
    };
    type Measure = (String, bool, String, i16);
    let mut merged: BTreeMap<Measure, (i64, i64, i64)> = BTreeMap::new();
    for r in rows {
        let e = merged.entry((map(&r.key), r.held, r.item_code, r.level)).or_default();
        e.0 += r.n;
        e.1 += r.scored;
        e.2 += r.points;
    }
    Ok(merged
        .into_iter()
        .map(|((key, held, item_code, level), (n, scored, points))| CountRow {
            key,
            held,
            item_code,
            level,
            n,
            scored,
            points,
        })
        .collect())
}

/// The whole months inside `[from, to]`, as `[first, end)` month starts; `first == end` when
/// there is none.
pub fn whole_months(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let first = if from.day() == 1 { from } else { month_start(from) + Months::new(1) };
    let after_to = to.checked_add_days(Days::new(1)).unwrap_or(to);
    let end = if after_to.day() == 1 { after_to } else { month_start(to) };
    if first < end { (first, end) } else { (first, first) }
}

const COLUMNS: &str =
    "unit_code, officer_code, procedure_code, channel, held, item_code, level, n, scored, points";

/// The grouping set of the compacted tables a query reads (the smallest that keeps what it needs).
fn grouping_set(q: &StatsQuery) -> i16 {
    let f = &q.filters;
    grouping_set_for(
        q.group_by == GroupBy::Officer || f.officer.is_some(),
        matches!(q.group_by, GroupBy::Procedure | GroupBy::Field)
            || f.procedure.is_some()
            || f.field.is_some(),
        q.group_by == GroupBy::Channel || f.channel.is_some(),
    )
}

/// The measure rows of the query's range in the roll-ups of grouping set `set`: whole months
/// from `rollup_month`, the days at either end from `rollup_day`, and the deltas not compacted
/// yet (they keep every dimension).
fn rollup_source(q: &StatsQuery, set: i16) -> String {
    let (m1, m2) = whole_months(q.from, q.to);
    let (from, to, m1, m2) = (date_lit(q.from), date_lit(q.to), date_lit(m1), date_lit(m2));
    format!(
        "SELECT month AS day, {COLUMNS} FROM rollup_month WHERE grouping_set = {set} \
             AND month >= {m1} AND month < {m2} \
         UNION ALL \
         SELECT day, {COLUMNS} FROM rollup_day WHERE grouping_set = {set} AND day >= {from} AND day <= {to} \
             AND (day < {m1} OR day >= {m2}) \
         UNION ALL \
         SELECT day, {COLUMNS} FROM rollup_deltas WHERE day >= {from} AND day <= {to}"
    )
}

/// The query's counts from the roll-ups, in one statement, so one snapshot.
pub fn rollup_counts(conn: &mut PgConnection, q: &StatsQuery) -> QueryResult<Vec<CountRow>> {
    let source = rollup_source(q, grouping_set(q));
    // Just-in-time compilation costs more than this small aggregation saves.
    let rows = conn.transaction(|conn| {
        diesel::sql_query("SET LOCAL jit = off").execute(conn)?;
        grouped(q, &source).load(conn)
    })?;
    regroup(conn, q.group_by, rows)
}

/// Answers of one item at one level in one (group, procedure) cell.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CellRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub procedure_code: String,
    #[diesel(sql_type = SmallInt)]
    pub level: i16,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// The answers to `item` per level in each (officer or unit, procedure) cell of the query's range
/// and filters, from the roll-ups (flagged responses only with `include_flagged`): what the
/// procedure-mix adjustment weighs.
pub fn cell_counts(
    conn: &mut PgConnection,
    q: &StatsQuery,
    by_officer: bool,
    item: &str,
) -> QueryResult<Vec<CellRow>> {
    let set = grouping_set_for(by_officer, true, q.filters.channel.is_some());
    let source = rollup_source(q, set);
    let (where_, binds) = conditions(q);
    let held = if q.include_flagged { "" } else { "AND NOT s.held" };
    let item_bind = binds.len() + 1;
    let where_ = if where_.is_empty() {
        format!("WHERE s.item_code = ${item_bind} {held}")
    } else {
        format!("{where_} AND s.item_code = ${item_bind} {held}")
    };
    let key = if by_officer { "s.officer_code" } else { "s.unit_code" };
    let sql = format!(
        "SELECT {key} AS key, s.procedure_code, s.level, sum(s.n)::bigint AS n \
         FROM ({source}) s {where_} GROUP BY 1, 2, 3 HAVING sum(s.n) <> 0"
    );
    let mut query = diesel::sql_query(sql).into_boxed();
    for b in binds {
        query = query.bind::<Text, _>(b);
    }
    query = query.bind::<Text, _>(item.to_string());
    conn.transaction(|conn| {
        diesel::sql_query("SET LOCAL jit = off").execute(conn)?;
        query.load(conn)
    })
}

/// The same counts computed by scanning the raw responses, answers and invitations (the naive
/// way the benchmark compares with; also a cross-check of the roll-ups).
pub fn raw_counts(
    conn: &mut PgConnection,
    instruments: &Instruments,
    q: &StatsQuery,
) -> QueryResult<Vec<CountRow>> {
    // local midnight of `from` and of the day after `to`, as UTC instants
    let after_to = q.to.checked_add_days(Days::new(1)).unwrap_or(q.to);
    let ts = |d: NaiveDate| {
        format!("('{}'::timestamp - interval '7 hours') AT TIME ZONE 'UTC'", d.format("%Y-%m-%d"))
    };
    let (from_ts, to_ts) = (ts(q.from), ts(after_to));
    let source = raw_measures_sql(instruments, Some((&from_ts, &to_ts)));
    let rows = grouped(q, &source).load(conn)?;
    regroup(conn, q.group_by, rows)
}

/// Display names of group keys from master data (procedures, fields, officers, units) or the
/// fixed channel labels; period labels are computed, not stored.
pub fn labels(
    conn: &mut PgConnection,
    group_by: GroupBy,
    keys: &[String],
) -> QueryResult<BTreeMap<String, String>> {
    let pairs: Vec<(String, String)> = match group_by {
        GroupBy::Procedure => procedures::table
            .filter(procedures::code.eq_any(keys))
            .select((procedures::code, procedures::name))
            .load(conn)?,
        GroupBy::Field => {
            fields::table.filter(fields::code.eq_any(keys)).select((fields::code, fields::name)).load(conn)?
        }
        GroupBy::Officer => officers::table
            .filter(officers::code.eq_any(keys))
            .select((officers::code, officers::name))
            .load(conn)?,
        GroupBy::Unit => {
            units::table.filter(units::code.eq_any(keys)).select((units::code, units::name)).load(conn)?
        }
        GroupBy::Channel => CHANNELS.iter().map(|(c, l)| (c.to_string(), l.to_string())).collect(),
        _ => Vec::new(),
    };
    Ok(pairs.into_iter().collect())
}

/// The name of a unit, for the label of the whole-commune group.
pub fn unit_name(conn: &mut PgConnection, code: &str) -> QueryResult<Option<String>> {
    units::table.find(code).select(units::name).first(conn).optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_query_reads_the_smallest_grouping_set_that_keeps_its_dimensions() {
        assert_eq!(grouping_set_for(false, false, false), 4);
        assert_eq!(grouping_set_for(true, false, false), 1);
        assert_eq!(grouping_set_for(false, true, false), 2);
        assert_eq!(grouping_set_for(false, false, true), 3);
        assert_eq!(grouping_set_for(true, true, false), 0);
        assert_eq!(grouping_set_for(true, true, true), 0);
    }

    #[test]
    fn whole_months_cover_only_complete_months_of_the_range() {
        // 15 Jan – 10 Apr: February and March are whole
        assert_eq!(whole_months(d(2026, 1, 15), d(2026, 4, 10)), (d(2026, 2, 1), d(2026, 4, 1)));
        // a calendar year is twelve whole months
        assert_eq!(whole_months(d(2026, 1, 1), d(2026, 12, 31)), (d(2026, 1, 1), d(2027, 1, 1)));
        // inside one month: none
        let (a, b) = whole_months(d(2026, 2, 2), d(2026, 2, 27));
        assert_eq!(a, b);
        // the last day of February ends February
        assert_eq!(whole_months(d(2026, 2, 1), d(2026, 2, 28)), (d(2026, 2, 1), d(2026, 3, 1)));
    }
}

/// How a group's follow-ups were answered (indicator 8).
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct FollowupRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    /// Answered by their deadline.
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    /// Answered after it.
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    /// Still unanswered with the deadline passed (kéo dài).
    #[diesel(sql_type = BigInt)]
    pub prolonged: i64,
}

/// The follow-ups opened in the query's range (local days), by the query's group key, counted as
/// answered on time, late, or prolonged (unanswered past the deadline as of `today`). Only for
/// groupings a unit is judged by (none, unit, periods); filters other than the unit do not apply
/// (a follow-up belongs to the unit, not to a procedure).
pub fn followup_timeliness(
    conn: &mut PgConnection,
    q: &StatsQuery,
    today: NaiveDate,
) -> QueryResult<Vec<FollowupRow>> {
    let day = crate::kernel::time::local_day_sql("f.opened_at");
    let key = match q.group_by {
        GroupBy::None => "'all'".to_string(),
        GroupBy::Unit => "f.unit_code".to_string(),
        GroupBy::Month => format!("to_char({day}, 'YYYY-MM')"),
        GroupBy::Quarter => format!("to_char({day}, 'YYYY') || '-Q' || extract(quarter FROM {day})::int"),
        GroupBy::Half => {
            format!(
                "to_char({day}, 'YYYY') || CASE WHEN extract(month FROM {day}) <= 6 THEN '-H1' ELSE '-H2' END"
            )
        }
        GroupBy::Year => format!("to_char({day}, 'YYYY')"),
        GroupBy::Procedure | GroupBy::Field | GroupBy::Officer | GroupBy::Channel => return Ok(Vec::new()),
    };
    let replied = crate::kernel::time::local_day_sql("f.replied_at");
    let sql = format!(
        "SELECT {key} AS key, \
                count(*) FILTER (WHERE f.replied_at IS NOT NULL AND {replied} <= f.deadline) AS on_time, \
                count(*) FILTER (WHERE f.replied_at IS NOT NULL AND {replied} > f.deadline) AS late, \
                count(*) FILTER (WHERE f.replied_at IS NULL AND f.deadline < $3) AS prolonged \
         FROM followups f \
         WHERE {day} >= $1 AND {day} <= $2 AND ($4::text IS NULL OR f.unit_code = $4) \
         GROUP BY 1"
    );
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::Date, _>(q.from)
        .bind::<diesel::sql_types::Date, _>(q.to)
        .bind::<diesel::sql_types::Date, _>(today)
        .bind::<diesel::sql_types::Nullable<Text>, _>(q.filters.unit.clone())
        .load(conn)
}

/// Cases handled in one group (evaluation coverage).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CasesRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub cases: i64,
}

/// The cases handled (`cases_daily`, as the one-stop system reports them) in the query's range,
/// by the query's group key: a group without a row had none reported. `None` when the query
/// groups or filters by procedure, field or channel, which the caseload does not record.
pub fn cases_handled(conn: &mut PgConnection, q: &StatsQuery) -> QueryResult<Option<Vec<CasesRow>>> {
    let f = &q.filters;
    if f.procedure.is_some() || f.field.is_some() || f.channel.is_some() {
        return Ok(None);
    }
    let key = match q.group_by {
        GroupBy::None => "'all'",
        GroupBy::Unit => "c.unit_code",
        GroupBy::Officer => "c.officer_code",
        GroupBy::Month => "to_char(c.day, 'YYYY-MM')",
        GroupBy::Quarter => "to_char(c.day, 'YYYY') || '-Q' || extract(quarter FROM c.day)::int",
        GroupBy::Half => {
            "to_char(c.day, 'YYYY') || CASE WHEN extract(month FROM c.day) <= 6 THEN '-H1' ELSE '-H2' END"
        }
        GroupBy::Year => "to_char(c.day, 'YYYY')",
        GroupBy::Procedure | GroupBy::Field | GroupBy::Channel => return Ok(None),
    };
    let sql = format!(
        "SELECT {key} AS key, sum(c.cases)::bigint AS cases FROM cases_daily c \
         WHERE c.day >= $1 AND c.day <= $2 \
           AND ($3::text IS NULL OR c.unit_code = $3) AND ($4::text IS NULL OR c.officer_code = $4) \
         GROUP BY 1"
    );
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::Date, _>(q.from)
        .bind::<diesel::sql_types::Date, _>(q.to)
        .bind::<diesel::sql_types::Nullable<Text>, _>(f.unit.clone())
        .bind::<diesel::sql_types::Nullable<Text>, _>(f.officer.clone())
        .load(conn)
        .map(Some)
}
