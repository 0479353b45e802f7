//! Master data: units, officers, procedures and their fields, imported from CSV all or nothing
//! (`sipas import units|officers|procedures FILE.csv`). Re-importing a code updates it.

pub mod import;
pub mod store;

pub use import::{ImportError, Kind, Rows, parse};
