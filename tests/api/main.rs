//! The one integration-test binary: every module talks to a real PostgreSQL through the harness.

mod browser;
mod foundation;
mod harness;
mod hostile;
mod invitations;
mod reliability;
mod reporting;
mod stats;
mod survey;
