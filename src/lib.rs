//! SIPAS desk survey service: residents rate the commune's one-stop desk through a QR code on
//! their receipt; staff and the province read exact, fast satisfaction figures.
//!
//! One module per capability (see the README's "Layout"); `router::build_app` assembles them.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod followups;
pub mod health;
pub mod http;
pub mod instrument;
pub mod integrity;
pub mod invitations;
pub mod kernel;
pub mod masterdata;
pub mod openapi;
pub mod reporting;
pub mod responses;
pub mod router;
pub mod schema;
pub mod staff;
pub mod stats;
pub mod survey;
pub mod telemetry;
