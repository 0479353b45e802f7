//! The stylesheets and script of issuing's pages, compiled into the binary (the service never
//! depends on a file it could lose) and served with a short cache lifetime.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// (address, content type, content) of every asset.
const ASSETS: &[(&str, &str, &str)] = &[
    ("/static/slip.css", CSS, include_str!("../../web/static/slip.css")),
    ("/static/slip-receipt.css", CSS, include_str!("../../web/static/slip-receipt.css")),
    ("/static/slip-a4.css", CSS, include_str!("../../web/static/slip-a4.css")),
    ("/static/slip.js", JS, include_str!("../../web/static/slip.js")),
    ("/static/code.css", CSS, include_str!("../../web/static/code.css")),
    ("/static/desk.css", CSS, include_str!("../../web/static/desk.css")),
    ("/static/desk.js", JS, include_str!("../../web/static/desk.js")),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    for &(path, content_type, body) in ASSETS {
        cfg.route(
            path,
            web::get().to(move || async move {
                HttpResponse::Ok()
                    .content_type(content_type)
                    .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
                    .body(body)
            }),
        );
    }
}
