//! The stylesheets of the report, ranking and public pages (and the upload page's script), embedded in the binary and linked
//! with a version so browsers may keep them.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// One embedded stylesheet or script.
pub struct Css {
    pub path: &'static str,
    pub body: &'static str,
    pub version: String,
}

impl Css {
    fn new(path: &'static str, body: &'static str) -> Css {
        Css { path, body, version: crate::kernel::hashing::sha256_hex(body.as_bytes())[..16].to_string() }
    }

    fn content_type(&self) -> &'static str {
        if self.path.ends_with(".js") { "text/javascript; charset=utf-8" } else { "text/css; charset=utf-8" }
    }

    /// The address pages link to.
    pub fn href(&self) -> String {
        format!("{}?v={}", self.path, self.version)
    }
}

pub static REPORT_CSS: LazyLock<Css> =
    LazyLock::new(|| Css::new("/static/report.css", include_str!("../../web/static/report.css")));
pub static PUBLIC_CSS: LazyLock<Css> =
    LazyLock::new(|| Css::new("/static/public.css", include_str!("../../web/static/public.css")));

/// The province upload page's script.
pub static UPLOAD_JS: LazyLock<Css> =
    LazyLock::new(|| Css::new("/static/upload.js", include_str!("../../web/static/upload.js")));

pub fn routes(cfg: &mut web::ServiceConfig) {
    for css in [&REPORT_CSS, &PUBLIC_CSS, &UPLOAD_JS] {
        let css: &'static Css = css;
        cfg.route(
            css.path,
            web::get().to(move || async move {
                HttpResponse::Ok()
                    .content_type(css.content_type())
                    .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
                    .body(css.body)
            }),
        );
    }
}
