//! The demo's roll-ups, counted while it generates: the generator knows every answer it writes,
//! so it adds each response's [`model::contributions`] (the answer path's own arithmetic) and
//! each invitation to an in-memory tally, and the roll-up rows are written with COPY at the end
//! instead of re-reading millions of answers. `sipas rollup rebuild` stays the from-raw-answers
//! path; a test checks that both give the same tables.

use std::collections::HashMap;
use std::io::Write;

use chrono::{Datelike, NaiveDate};

use super::binary::{self, Rows};
use crate::instrument::Instrument;
use crate::stats::model::{self, Amount, INVITATION};
use crate::stats::rollup::{ANY, AnswerSet, GROUPING_SETS};

/// Small integer ids for the few distinct codes (units, officers, procedures, channels, items).
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u16>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u16 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = u16::try_from(self.names.len()).unwrap_or(u16::MAX);
        self.ids.insert(s.to_string(), id);
        self.names.push(s.to_string());
        id
    }

    /// The byte-order rank of every id, so rows can be sorted by integers in key order.
    fn ranks(&self) -> Vec<u16> {
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        order.sort_by(|a, b| self.names[*a].as_bytes().cmp(self.names[*b].as_bytes()));
        let mut ranks = vec![0u16; self.names.len()];
        for (rank, id) in order.into_iter().enumerate() {
            ranks[id] = u16::try_from(rank).unwrap_or(u16::MAX);
        }
        ranks
    }
}

/// (unit, officer, procedure, channel) ids.
type Dims = [u16; 4];
/// (day as days from the common era, dims, item id, level).
type Key = (i32, Dims, u16, i16);

/// Counts of the generated rows in the roll-ups' full grouping set (set 0, `held` false).
#[derive(Default)]
pub struct Tally {
    codes: Interner,
    cells: HashMap<Key, [i64; 3]>,
}

/// (grouping set, day or month as days from the common era, dims, item id, level).
type RowKey = (i16, i32, Dims, u16, i16);
/// A roll-up row: its key and (n, scored, points).
pub type Row = (RowKey, [i64; 3]);

/// Roll-up rows ready for COPY, in the tables' key order.
pub struct RollupRows {
    codes: Vec<String>,
    /// (grouping set, day or month, dims, item, level) → (n, scored, points)
    pub days: Vec<Row>,
    pub months: Vec<Row>,
}

impl Tally {
    fn dims(&mut self, unit: &str, officer: &str, procedure: &str, channel: &str) -> Dims {
        [self.codes.id(unit), self.codes.id(officer), self.codes.id(procedure), self.codes.id(channel)]
    }

    fn add(&mut self, day: NaiveDate, dims: Dims, item: &str, level: i16, a: Amount) {
        let item = self.codes.id(item);
        let e = self.cells.entry((day.num_days_from_ce(), dims, item, level)).or_default();
        e[0] += a.n;
        e[1] += a.scored;
        e[2] += a.points;
    }

    /// One issued invitation.
    pub fn invitation(&mut self, day: NaiveDate, unit: &str, officer: &str, procedure: &str, channel: &str) {
        let dims = self.dims(unit, officer, procedure, channel);
        self.add(day, dims, INVITATION, 0, Amount { n: 1, scored: 0, points: 0 });
    }

    /// One response with these answers (not held, no unfounded complaint: what the demo writes).
    #[allow(clippy::too_many_arguments)]
    pub fn response(
        &mut self,
        instrument: &Instrument,
        day: NaiveDate,
        unit: &str,
        officer: &str,
        procedure: &str,
        channel: &str,
        answers: &AnswerSet,
    ) {
        let dims = self.dims(unit, officer, procedure, channel);
        for ((item, level), a) in model::contributions(instrument, answers, false) {
            self.add(day, dims, &item, level, a);
        }
    }

    /// The rows of `rollup_day` and `rollup_month`: every grouping set, sorted by their keys.
    pub fn rows(mut self) -> RollupRows {
        let any = self.codes.id(ANY);
        let mut days = HashMap::new();
        let mut months = HashMap::new();
        for (&(day, dims, item, level), amount) in &self.cells {
            let date = NaiveDate::from_num_days_from_ce_opt(day).unwrap_or_default();
            let month = date.with_day(1).unwrap_or(date).num_days_from_ce();
            for (set, o, p, c) in GROUPING_SETS {
                let kept = [
                    dims[0],
                    if o { dims[1] } else { any },
                    if p { dims[2] } else { any },
                    if c { dims[3] } else { any },
                ];
                for (table, period) in [(&mut days, day), (&mut months, month)] {
                    let e: &mut [i64; 3] = table.entry((set, period, kept, item, level)).or_default();
                    for (sum, add) in e.iter_mut().zip(amount) {
                        *sum += add;
                    }
                }
            }
        }
        let ranks = self.codes.ranks();
        let sorted = |table: HashMap<RowKey, [i64; 3]>| {
            let mut rows: Vec<_> = table.into_iter().collect();
            // the primary key's order: unit, set, period, officer, procedure, channel, item, level
            rows.sort_unstable_by_key(|((set, period, d, item, level), _)| {
                (
                    ranks[d[0] as usize],
                    *set,
                    *period,
                    ranks[d[1] as usize],
                    ranks[d[2] as usize],
                    ranks[d[3] as usize],
                    ranks[*item as usize],
                    *level,
                )
            });
            rows
        };
        RollupRows { days: sorted(days), months: sorted(months), codes: self.codes.names }
    }
}

impl RollupRows {
    /// Writes rows as one binary COPY stream with the columns (grouping_set, day or month,
    /// unit_code, officer_code, procedure_code, channel, held, item_code, level, n, scored,
    /// points).
    pub fn write_copy(&self, rows: &[Row], out: &mut dyn Write) -> std::io::Result<()> {
        let mut b = Rows::default();
        b.buf.extend_from_slice(&binary::HEADER);
        let count = |v: i64| i32::try_from(v).unwrap_or(if v > 0 { i32::MAX } else { i32::MIN });
        for ((set, period, d, item, level), [n, scored, points]) in rows {
            let name = |id: u16| self.codes[id as usize].as_str();
            let date = NaiveDate::from_num_days_from_ce_opt(*period).unwrap_or_default();
            b.row(12).int2(*set).date(date).text(name(d[0])).text(name(d[1])).text(name(d[2]));
            b.text(name(d[3])).boolean(false).text(name(*item)).int2(*level);
            b.int4(count(*n)).int4(count(*scored)).int4(count(*points));
            if b.buf.len() > (1 << 20) - 256 {
                out.write_all(&b.buf)?;
                b.buf.clear();
            }
        }
        b.buf.extend_from_slice(&binary::TRAILER);
        out.write_all(&b.buf)
    }
}
