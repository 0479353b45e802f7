//! The actix pieces every capability shares: the middleware every request passes through and
//! the metrics it keeps. (The repository's top-level `web/` holds templates and static files;
//! this module is the Rust side.)

pub mod client;
pub mod metrics;
pub mod middleware;
