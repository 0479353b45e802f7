//! Satisfaction statistics: the formulas of DESIGN.md §4, the roll-ups maintained as answers
//! arrive, and `GET /api/v1/stats`.

pub mod rollup;
