//! The one integration-test binary: every module talks to a real PostgreSQL through the harness.

mod foundation;
mod harness;
mod stats;
