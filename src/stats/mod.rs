//! Satisfaction statistics: the formulas of DESIGN.md §4 ([`model`]), the roll-ups maintained as
//! answers arrive ([`rollup`]), reading counts ([`store`]) and `GET /api/v1/stats` ([`handlers`]).

pub mod handlers;
pub mod model;
pub mod rollup;
pub mod store;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/stats", web::get().to(handlers::stats));
}
