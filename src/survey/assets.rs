//! The survey's static files, embedded in the binary (it must not depend on files it could lose)
//! and served with a strong ETag. Pages link them with `?v=<etag>`, so a browser may keep them
//! for a year and still gets a new file the moment it changes.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
    /// First 16 hex digits of the SHA-256 of the body.
    pub version: String,
}

impl Asset {
    fn new(path: &'static str, content_type: &'static str, body: &'static str) -> Asset {
        let version = crate::kernel::hashing::sha256_hex(body.as_bytes())[..16].to_string();
        Asset { path, content_type, body, version }
    }

    /// The address pages link to.
    pub fn href(&self) -> String {
        format!("{}?v={}", self.path, self.version)
    }
}

pub static CSS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new("/static/survey.css", "text/css; charset=utf-8", include_str!("../../web/static/survey.css"))
});
pub static JS: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "/static/survey.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/survey.js"),
    )
});

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(CSS.path, web::get().to(|req: HttpRequest| async move { serve(&req, &CSS) }))
        .route(JS.path, web::get().to(|req: HttpRequest| async move { serve(&req, &JS) }));
}

fn serve(req: &HttpRequest, asset: &Asset) -> HttpResponse {
    let etag = format!("\"{}\"", asset.version);
    // versioned links never change; an unversioned request is revalidated after an hour
    let cache = if req.query_string() == format!("v={}", asset.version) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, cache));
    if matches { res.finish() } else { res.content_type(asset.content_type).body(asset.body) }
}
