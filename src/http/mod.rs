//! The actix pieces every capability shares: the middleware every request passes through and the
//! metrics it keeps, the client of a request, the staff pages' kit (layout, rendering, page
//! errors, Vietnamese numbers and sentences) and the embedded static files. (The repository's
//! top-level `web/` holds the templates and static files themselves; this is the Rust side.)

pub mod assets;
pub mod client;
pub mod format;
pub mod metrics;
pub mod middleware;
pub mod pages;
pub mod text;
