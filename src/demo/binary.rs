//! Rows in PostgreSQL's binary COPY format, for the demo's bulk load. The text format makes the
//! server parse every timestamp (one per answer row), which was a large part of the load; the
//! binary format hands it the 8 bytes it stores. Layout: the COPY header, then per row the field
//! count and each field as a length and its network-order bytes (-1 for NULL), then -1.

use chrono::{DateTime, NaiveDate, Utc};

/// The signature, flags and header extension length of a binary COPY stream.
pub const HEADER: [u8; 19] = *b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of a binary COPY stream.
pub const TRAILER: [u8; 2] = (-1i16).to_be_bytes();

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00 UTC).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days from 0001-01-01 (chrono's day 1) to 2000-01-01.
const PG_EPOCH_DAYS_FROM_CE: i32 = 730_120;
/// The type oid of int2, the element type of the demo's arrays.
const INT2_OID: u32 = 21;

/// A buffer of binary COPY rows (without header and trailer).
#[derive(Default)]
pub struct Rows {
    pub buf: Vec<u8>,
}

impl Rows {
    /// Starts a row of `fields` fields.
    pub fn row(&mut self, fields: i16) -> &mut Self {
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    pub fn int8(&mut self, v: i64) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub fn int4(&mut self, v: i32) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub fn int2(&mut self, v: i16) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub fn boolean(&mut self, v: bool) -> &mut Self {
        self.field(&[u8::from(v)])
    }

    pub fn text(&mut self, v: &str) -> &mut Self {
        self.field(v.as_bytes())
    }

    pub fn timestamptz(&mut self, at: DateTime<Utc>) -> &mut Self {
        self.int8(at.timestamp_micros() - PG_EPOCH_MICROS)
    }

    pub fn date(&mut self, day: NaiveDate) -> &mut Self {
        use chrono::Datelike;
        self.int4(day.num_days_from_ce() - PG_EPOCH_DAYS_FROM_CE)
    }

    /// A one-dimensional `smallint[]` without NULLs.
    pub fn int2_array(&mut self, values: &[i16]) -> &mut Self {
        let dims: i32 = if values.is_empty() { 0 } else { 1 };
        let len = 12 + if values.is_empty() { 0 } else { 8 + 6 * values.len() };
        self.buf.extend_from_slice(&(len as i32).to_be_bytes());
        self.buf.extend_from_slice(&dims.to_be_bytes());
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // no NULLs
        self.buf.extend_from_slice(&INT2_OID.to_be_bytes());
        if !values.is_empty() {
            self.buf.extend_from_slice(&(values.len() as i32).to_be_bytes());
            self.buf.extend_from_slice(&1i32.to_be_bytes()); // lower bound
            for v in values {
                self.buf.extend_from_slice(&2i32.to_be_bytes());
                self.buf.extend_from_slice(&v.to_be_bytes());
            }
        }
        self
    }
}
