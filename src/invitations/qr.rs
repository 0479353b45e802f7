//! QR codes of survey addresses, as SVG (slips, screens: sharp at any size) and PNG (for systems
//! that want a bitmap). Error correction Q (25% of the code may be smudged: thermal receipts
//! fade and crease), with the standard four-module quiet zone.

use std::io::Cursor;

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Smallest side of the PNG in pixels: whole pixels per module, so the edges stay sharp, and
/// enough of them for 40 mm at 250 dpi.
pub const PNG_MIN_SIDE: u32 = 400;

/// Error correction level of every code (M or better, as the issue asks).
pub const EC_LEVEL: EcLevel = EcLevel::Q;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the address cannot be encoded as a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    #[error("the QR image cannot be written as PNG: {0}")]
    Png(#[from] image::ImageError),
}

fn code(data: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(data.as_bytes(), EC_LEVEL)?)
}

/// The code as a standalone SVG document, black on white, with crisp module edges.
pub fn svg(data: &str) -> Result<String, QrError> {
    Ok(code(data)?
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(256, 256)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// The code as an 8-bit grey PNG at least [`PNG_MIN_SIDE`] pixels wide.
pub fn png(data: &str) -> Result<Vec<u8>, QrError> {
    let image = code(data)?
        .render::<image::Luma<u8>>()
        .quiet_zone(true)
        .min_dimensions(PNG_MIN_SIDE, PNG_MIN_SIDE)
        .build();
    let mut out = Vec::with_capacity(8 * 1024);
    image::DynamicImage::ImageLuma8(image).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_png(bytes: &[u8]) -> String {
        let img = image::load_from_memory(bytes).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    #[test]
    fn the_png_decodes_back_to_the_address() {
        let url = "https://ks.chiemhoa.gov.vn/s/q8Zr0-Xb3Yw_7kLm2nPq4A";
        let png = png(url).unwrap();
        assert_eq!(decode_png(&png), url);
        let img = image::load_from_memory(&png).unwrap();
        assert!(img.width() >= PNG_MIN_SIDE && img.width() == img.height());
    }

    #[test]
    fn the_svg_is_a_black_on_white_document_with_a_quiet_zone() {
        let doc = svg("http://127.0.0.1:8080/s/abc").unwrap();
        assert!(doc.contains("<svg"));
        assert!(doc.contains("#000000") && doc.contains("#ffffff"));
        // a path never starts at the very edge: the quiet zone is white
        assert!(!doc.contains("M0 0"));
    }
}
