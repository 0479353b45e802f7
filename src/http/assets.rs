//! The static files every page links, embedded in the binary (the service never depends on a
//! file it could lose), in one table and behind one handler, `GET /static/{file}`, with one cache
//! policy: a strong ETag (answered 304 when it matches), and pages link [`href`]
//! (`/static/{file}?v=<version>`) so a browser may keep a versioned file for a year and still
//! gets a new one the moment it changes; an unversioned request is revalidated after an hour.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;

/// (file name, content) of every file under `/static/`.
const FILES: &[(&str, &str)] = &[
    ("survey.css", include_str!("../../web/static/survey.css")),
    ("survey.js", include_str!("../../web/static/survey.js")),
    ("staff.css", include_str!("../../web/static/staff.css")),
    ("slip.css", include_str!("../../web/static/slip.css")),
    ("slip-receipt.css", include_str!("../../web/static/slip-receipt.css")),
    ("slip-a4.css", include_str!("../../web/static/slip-a4.css")),
    ("slip.js", include_str!("../../web/static/slip.js")),
    ("code.css", include_str!("../../web/static/code.css")),
    ("desk.css", include_str!("../../web/static/desk.css")),
    ("desk.js", include_str!("../../web/static/desk.js")),
    ("desk-offline.js", include_str!("../../web/static/desk-offline.js")),
    ("desk-sw.js", include_str!("../../web/static/desk-sw.js")),
    ("qrcode.js", include_str!("../../web/static/qrcode.js")),
    ("report.css", include_str!("../../web/static/report.css")),
    ("public.css", include_str!("../../web/static/public.css")),
    ("upload.js", include_str!("../../web/static/upload.js")),
];

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    pub name: &'static str,
    pub body: &'static str,
    /// First 16 hex digits of the SHA-256 of the body.
    pub version: String,
}

impl Asset {
    fn content_type(&self) -> &'static str {
        if self.name.ends_with(".js") { "text/javascript; charset=utf-8" } else { "text/css; charset=utf-8" }
    }
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, body)| Asset {
            name,
            body,
            version: crate::kernel::hashing::sha256_hex(body.as_bytes())[..16].to_string(),
        })
        .collect()
});

/// The embedded file of this name.
pub fn get(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The address pages link a file with: with its version, so it may be cached for a year.
pub fn href(name: &str) -> String {
    match get(name) {
        Some(asset) => format!("/static/{name}?v={}", asset.version),
        None => format!("/static/{name}"),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{file}", web::get().to(serve));
}

/// `GET /static/{file}`
async fn serve(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, AppError> {
    // an unknown file is answered as any unknown address
    let asset =
        get(&file).ok_or_else(|| AppError::not_found("not_found", "There is nothing at this address."))?;
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
    Ok(if matches { res.finish() } else { res.content_type(asset.content_type()).body(asset.body) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_its_own_versioned_address() {
        assert_eq!(ASSETS.len(), FILES.len());
        let css = href("survey.css");
        assert!(css.starts_with("/static/survey.css?v=") && css.len() == "/static/survey.css?v=".len() + 16);
        assert_ne!(href("survey.css"), href("staff.css"));
        assert_eq!(get("upload.js").map(Asset::content_type), Some("text/javascript; charset=utf-8"));
    }
}
