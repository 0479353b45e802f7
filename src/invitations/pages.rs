//! The HTML of issuing: slips (80 mm receipt, A4 sheet), the typed-code page, the desk page and
//! the customer screen. Askama escapes every value.

use askama::Template;

use super::model::TypedCode;
use super::store::SlipRow;
use crate::kernel::time::local_date;

/// How slips are laid out for printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One slip per 80 mm thermal-receipt page.
    Receipt,
    /// An A4 sheet of [`SLIPS_PER_A4`] slips to cut apart.
    A4,
}

/// Slips on one A4 page: two columns of four.
pub const SLIPS_PER_A4: usize = 8;

/// Longest procedure name printed in full; longer ones are shortened so a slip stays one page.
const PROCEDURE_NAME_MAX: usize = 120;

impl Layout {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "receipt" => Some(Layout::Receipt),
            "a4" => Some(Layout::A4),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Receipt => "receipt",
            Layout::A4 => "a4",
        }
    }
}

/// What one slip shows.
#[derive(Debug, Clone)]
pub struct SlipView {
    pub qr_svg_url: String,
    pub code: String,
    pub survey_url: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub unit_name: String,
    pub date: String,
    pub expires: String,
    /// The slip's one line in the languages of the version's translations: (code, line).
    pub lines: Vec<(String, String)>,
}

impl SlipView {
    pub fn new(row: &SlipRow, token: &str, code: &str, base: &str) -> Self {
        let name = if row.procedure_name.chars().count() > PROCEDURE_NAME_MAX {
            let cut: String = row.procedure_name.chars().take(PROCEDURE_NAME_MAX - 1).collect();
            format!("{}…", cut.trim_end())
        } else {
            row.procedure_name.clone()
        };
        SlipView {
            qr_svg_url: format!("/q/{token}.svg"),
            code: TypedCode::display(code),
            survey_url: format!("{base}/s/{token}"),
            procedure_code: row.procedure_code.clone(),
            procedure_name: name,
            unit_name: row.unit_name.clone(),
            date: local_date(row.issued_at),
            expires: local_date(row.expires_at),
            lines: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "invitations/slips.html")]
pub struct SlipsPage {
    pub layout: &'static str,
    /// Slips grouped by printed page.
    pub pages: Vec<Vec<SlipView>>,
    /// Where a resident types the short code (`{base}/c`).
    pub code_url: String,
}

impl SlipsPage {
    pub fn new(layout: Layout, slips: Vec<SlipView>, base: &str) -> Self {
        let per_page = match layout {
            Layout::Receipt => 1,
            Layout::A4 => SLIPS_PER_A4,
        };
        let pages = slips.chunks(per_page).map(<[SlipView]>::to_vec).collect();
        SlipsPage { layout: layout.as_str(), pages, code_url: display_url(&format!("{base}/c")) }
    }
}

/// An address as printed: without the scheme, which nobody types.
fn display_url(url: &str) -> String {
    url.trim_start_matches("https://").trim_start_matches("http://").to_string()
}

/// What the typed-code page says above its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeNotice {
    None,
    /// The code matched nothing (or was mistyped: the page does not say which).
    NotFound,
    /// Too many wrong codes from this client lately.
    TooMany,
}

#[derive(Template)]
#[template(path = "invitations/code.html")]
pub struct CodePage {
    pub notice: CodeNotice,
    /// What was typed, to correct it (only shown back when it was refused).
    pub typed: String,
    pub retry_minutes: i64,
}

#[derive(Template)]
#[template(path = "invitations/desk.html")]
pub struct DeskPage {
    /// The role of the staff member signed in on this browser ("" without a session): an officer
    /// or a leader issues through the session, anyone else with the computer's key.
    pub role: &'static str,
    /// Their username ("" without a session).
    pub username: String,
    /// For an admin: the units this computer may be paired with (code, name).
    pub pair_units: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "invitations/screen.html")]
pub struct ScreenPage {
    /// As on [`DeskPage`]: the screen follows the session's latest slip when one is signed in.
    pub role: &'static str,
    pub username: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    const TOKEN: &str = "q8Zr0-Xb3Yw_7kLm2nPq4A";
    const CODE: &str = "7KQ2XW9M";

    fn row(name: &str) -> SlipRow {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).single().unwrap_or_default();
        SlipRow {
            id: 1,
            token_hash: None,
            sealed: None,
            procedure_code: "1.001193".into(),
            procedure_name: name.into(),
            unit_name: "UBND xã Chiêm Hóa".into(),
            issued_at: at,
            expires_at: at + chrono::Duration::days(7),
            instrument_id: "sipas-desk".into(),
            instrument_version: "2026.1".into(),
        }
    }

    #[test]
    fn a_slip_shows_the_code_the_address_the_procedure_and_the_local_date() {
        let page = SlipsPage::new(
            Layout::Receipt,
            vec![SlipView::new(&row("Đăng ký khai sinh"), TOKEN, CODE, "https://ks.example.vn")],
            "https://ks.example.vn",
        );
        let html = page.render().unwrap();
        assert!(html.contains("7KQ2-XW9M"));
        assert!(html.contains("https://ks.example.vn/s/q8Zr0-Xb3Yw_7kLm2nPq4A"));
        assert!(html.contains("ks.example.vn/c"));
        assert!(html.contains("Đăng ký khai sinh"));
        assert!(html.contains("28/11/2026") && html.contains("05/12/2026"));
        assert!(html.contains("ẩn danh") && html.contains("anonymous"));
        // the promise of under a minute is the first screen's: one tap, the rest optional
        assert!(html.contains("câu đầu tiên chỉ một chạm, chưa đến 1 phút; các câu sau không bắt buộc"));
        assert!(!html.contains("style="), "the CSP forbids inline styles");
    }

    #[test]
    fn names_are_escaped_and_long_ones_shortened() {
        let long = format!("<b>{}</b>", "Thủ tục rất dài ".repeat(20));
        let view = SlipView::new(&row(&long), TOKEN, CODE, "http://x");
        assert!(view.procedure_name.chars().count() <= PROCEDURE_NAME_MAX);
        let html = SlipsPage::new(Layout::A4, vec![view], "http://x").render().unwrap_or_default();
        assert!(!html.contains("<b>Thủ"));
    }

    #[test]
    fn an_a4_sheet_holds_eight_slips_a_page() {
        let views: Vec<_> =
            (0..10).map(|_| SlipView::new(&row("Đăng ký kết hôn"), TOKEN, CODE, "http://x")).collect();
        let page = SlipsPage::new(Layout::A4, views, "http://x");
        assert_eq!(page.pages.len(), 2);
        assert_eq!(page.pages[0].len(), 8);
    }
}
