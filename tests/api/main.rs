//! The one integration-test binary: every module talks to a real PostgreSQL through the harness.

mod access;
mod browser;
mod fixtures;
mod foundation;
mod harness;
mod hostile;
mod integrity;
mod integrity_pages;
mod invitations;
mod reliability;
mod reporting;
mod scaling;
mod staff;
mod staff_dashboard;
mod stats;
mod survey;
