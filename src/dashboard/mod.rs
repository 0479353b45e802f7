//! Staff dashboards: the commune's satisfaction for a period with its change, the trend by
//! month or quarter, the five elements, TT01 scores, breakdowns by procedure, field and officer,
//! each officer's own page with residents' comments, and the page of every comment (`/comments`). Server-rendered; charts are SVG drawn
//! here. Figures come from the statistics engine's read interface (`stats::query`), read as
//! its `stats::report::Report`.

pub mod chart;
pub mod comments;
pub mod filters;
pub mod handlers;
pub mod store;
pub mod view;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/dashboard", web::get().to(handlers::dashboard))
        .route("/dashboard/officers/{code}", web::get().to(handlers::officer))
        .route("/comments", web::get().to(comments::comments));
}
