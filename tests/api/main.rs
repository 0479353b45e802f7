//! The one integration-test binary: every module talks to a real PostgreSQL through the harness.

// clippy counts only `#[test]` functions as tests here, not the helpers beside them
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap in a test is a failed test")]

mod access;
mod attacks;
mod browser;
mod comparisons;
mod contract;
mod desk_offline;
mod failover;
mod fixtures;
mod foundation;
mod harness;
mod hostile;
mod integrity;
mod integrity_pages;
mod invitations;
mod province_pages;
mod province_upload;
mod reliability;
mod reporting;
mod scaling;
mod staff;
mod staff_browser;
mod staff_dashboard;
mod staff_desk;
mod staff_followups;
mod staff_home;
mod staff_reports;
mod stats;
mod survey;
mod tt01_unit;
mod versions;
