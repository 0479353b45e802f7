//! The resident's survey pages: `GET /s/{token}` and `POST /s/{token}`.
pub fn routes(_cfg: &mut actix_web::web::ServiceConfig) {}
