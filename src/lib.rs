//! SIPAS desk survey service: residents rate the commune's one-stop desk through a QR code on
//! their receipt; staff and the province read exact, fast satisfaction figures.
//!
//! One module per capability (see the README's "Layout"); `startup::build_app` assembles them.

pub mod auth;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod health;
pub mod instrument;
pub mod integrity;
pub mod invitations;
pub mod masterdata;
pub mod reporting;
pub mod responses;
pub mod schema;
pub mod staff;
pub mod startup;
pub mod stats;
pub mod survey;
pub mod telemetry;
