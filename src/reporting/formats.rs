//! Writing an export's content as CSV (one long table, documented in docs/EXPORTS.md) and XLSX
//! (sheets for people to read and print). Every text cell that a spreadsheet could take for a
//! formula is neutralised: names come from imported data and cannot be trusted.

use rust_xlsxwriter::{Format, FormatBorder, Workbook, Worksheet, XlsxError};

use super::content::{Content, Group, Rate};
use crate::instrument::Instrument;
use crate::stats::model::Formula;

/// A text cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
/// spreadsheets skip before such a sign) gets a leading `'`, so it stays text.
pub fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Num(f64),
    Empty,
}

fn text(s: impl AsRef<str>) -> Cell {
    Cell::Text(neutralise(s.as_ref()))
}

fn num(v: Option<f64>) -> Cell {
    v.map(Cell::Num).unwrap_or(Cell::Empty)
}

fn int(v: u64) -> Cell {
    Cell::Num(v as f64)
}

// ------------------------------------------------------------------------------------------ CSV

/// The CSV columns: (Vietnamese header, machine name). docs/EXPORTS.md documents each.
pub const CSV_COLUMNS: [(&str, &str); 13] = [
    ("Mã đơn vị", "unit_code"),
    ("Kỳ báo cáo", "period"),
    ("Loại nhóm", "group_type"),
    ("Mã nhóm", "group_key"),
    ("Tên nhóm", "group_label"),
    ("Chỉ tiêu", "measure"),
    ("Mã chỉ tiêu", "code"),
    ("Mức", "level"),
    ("Giá trị", "value"),
    ("Số trả lời (n)", "n"),
    ("Cận dưới KTC 95%", "ci95_low"),
    ("Cận trên KTC 95%", "ci95_high"),
    ("Xếp loại", "band"),
];

struct CsvRows<'a> {
    unit: &'a str,
    period: &'a str,
    rows: Vec<[Cell; 13]>,
}

impl CsvRows<'_> {
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per column of the CSV row, named at each call"
    )]
    fn push(
        &mut self,
        gtype: &str,
        g: (&str, &str),
        measure: &str,
        code: &str,
        level: Option<&str>,
        value: Cell,
        n: Option<u64>,
        ci: Option<[f64; 2]>,
        band: &str,
    ) {
        self.rows.push([
            text(self.unit),
            text(self.period),
            text(gtype),
            text(g.0),
            text(g.1),
            text(measure),
            text(code),
            level.map(text).unwrap_or(Cell::Empty),
            value,
            n.map(int).unwrap_or(Cell::Empty),
            num(ci.map(|c| c[0])),
            num(ci.map(|c| c[1])),
            text(band),
        ]);
    }

    fn rate(&mut self, gtype: &str, g: (&str, &str), measure: &str, code: &str, r: &Rate) {
        self.push(gtype, g, measure, code, None, num(r.rate), Some(r.n), r.ci95, "");
        for (level, count) in &r.counts {
            self.push(gtype, g, "count", code, Some(level), int(*count), None, None, "");
        }
    }

    fn group(&mut self, gtype: &str, grp: &Group) {
        let g = (grp.key.as_str(), grp.label.as_str());
        self.push(gtype, g, "responses", "", None, int(grp.responses), None, None, "");
        self.push(gtype, g, "invitations", "", None, int(grp.invitations), None, None, "");
        self.push(gtype, g, "response_rate", "", None, num(grp.response_rate), None, None, "");
        self.push(gtype, g, "flagged", "", None, int(grp.flagged), None, None, "");
        self.push(gtype, g, "suppressed", "", None, int(u64::from(grp.suppressed)), None, None, "");
        if let Some(c) = &grp.coverage {
            // evaluation coverage, a suppressed group's too (counts, not rates of answers); without a
            // reported caseload the value is empty and the band column says "not reported"
            let words = if c.cases.is_none() { crate::stats::report::COVERAGE_NOT_REPORTED } else { "" };
            self.push(gtype, g, "coverage_evaluations", "", None, int(c.evaluations), None, None, "");
            self.push(
                gtype,
                g,
                "coverage_cases",
                "",
                None,
                c.cases.map(int).unwrap_or(Cell::Empty),
                None,
                None,
                words,
            );
            self.push(gtype, g, "coverage_share", "", None, num(c.share), c.cases, None, words);
        }
        if grp.suppressed {
            return;
        }
        if let Some(r) = &grp.overall {
            self.rate(gtype, g, "overall", crate::instrument::OVERALL, r);
        }
        if let Some(a) = &grp.adjusted {
            // the procedure-mix-adjusted figures, labelled as such in the band column
            let code = crate::instrument::OVERALL;
            let label = crate::stats::compare::ADJUSTED_LABEL;
            self.push(gtype, g, "adjusted_observed", code, None, int(a.observed), None, None, label);
            self.push(gtype, g, "adjusted_expected", code, None, num(Some(a.expected)), None, None, label);
            self.push(gtype, g, "adjusted_ratio", code, None, num(a.ratio), None, a.ci95, &a.verdict);
        }
        self.push(gtype, g, "sipas_index", "", None, num(grp.sipas_index), None, None, "");
        for (code, e) in grp.elements.iter().flatten() {
            self.push(gtype, g, "element", code, None, num(e.index), Some(e.n), None, "");
        }
        for (code, r) in grp.criteria.iter().flatten() {
            self.rate(gtype, g, "criterion", code, r);
        }
        for (code, r) in grp.items.iter().flatten() {
            self.rate(gtype, g, "item", code, r);
        }
        if let Some(t) = &grp.tt01 {
            for (code, score) in &t.indicators {
                self.push(gtype, g, "tt01", code, None, num(*score), None, None, "");
            }
            // without a band, the column says why: "x điểm trên n/9 chỉ tiêu (tối đa 2n)"
            let band = t.band.as_ref().or(t.summary.as_ref()).map(|b| b.vi.as_str()).unwrap_or("");
            self.push(gtype, g, "tt01_total", &t.scored.join(" "), None, num(t.total), None, None, band);
        }
    }
}

/// The CSV file: UTF-8 with a byte-order mark, one header row, one figure per row, and last the
/// whole JSON export document (`document`, as `GET …?format=json` writes it) in `meta` rows
/// `document` numbered 1, 2, … in the `code` column, which the province import reads back.
/// `signature`: the key id that signed the document, or `unsigned` (the `signature_key_id` row;
/// the signature itself is in the document).
pub fn csv(
    content: &Content,
    content_sha256: &str,
    signature: &str,
    document: &str,
) -> Result<Vec<u8>, String> {
    let mut rows = CsvRows { unit: &content.unit.code, period: &content.period.key, rows: Vec::new() };
    let meta = ("", "");
    for (measure, value) in [
        ("export_id", content.export_id.as_str()),
        ("generated_at", content.generated_at.as_str()),
        ("content_sha256", content_sha256),
        ("signature_key_id", signature),
        ("unit_name", content.unit.name.as_str()),
        ("measure_name", content.measure.vi.as_str()),
        ("formula", formula_of(content).as_str()),
        ("measure_note", content.measure.note.as_str()),
    ] {
        rows.push("meta", meta, measure, "", None, text(value), None, None, "");
    }
    if let Some(a) = &content.adjustment {
        rows.push("meta", meta, "adjustment_note", "", None, text(&a.explanation), None, None, &a.label);
    }
    for v in &content.instrument_versions {
        let status = if v.has_unverified_items { "chưa xác minh đủ" } else { "đã xác minh" };
        rows.push(
            "meta",
            meta,
            "instrument_version",
            &v.instrument_id,
            None,
            text(&v.version),
            None,
            None,
            status,
        );
    }
    rows.group("unit", &content.unit_figures);
    for g in &content.procedures {
        rows.group("procedure", g);
    }
    for g in &content.fields {
        rows.group("field", g);
    }
    for g in &content.officers {
        rows.group("officer", g);
    }
    for (i, part) in document_parts(document)?.into_iter().enumerate() {
        let n = (i + 1).to_string();
        // verbatim: no part starts with a sign a spreadsheet would run (see document_parts)
        rows.push("meta", meta, DOCUMENT, &n, None, Cell::Text(part.to_string()), None, None, "");
    }
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(CSV_COLUMNS.iter().map(|(vi, _)| *vi)).map_err(|e| e.to_string())?;
        for row in &rows.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Num(v) => v.to_string(),
                Cell::Empty => String::new(),
            }))
            .map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

// ------------------------------------------------------------------------- the embedded document

/// The CSV `measure` of the rows that carry the export document, and the XLSX sheet (hidden) that
/// carries it: column A the part's number, column B its text, from the second row.
pub const DOCUMENT: &str = "document";
pub const DOCUMENT_SHEET: &str = "sipas-document";

/// The most text a spreadsheet keeps in one cell (Excel: 32,767 characters, counted in UTF-16).
pub const CELL_LIMIT: usize = 32_767;

fn runs_in_a_spreadsheet(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// The document's text cut into parts of at most [`CELL_LIMIT`] UTF-16 units, none of which
/// starts with a character that would make a spreadsheet read it as a formula (a cut is moved
/// back to the nearest safe character), so each part is stored verbatim and their
/// concatenation is the document again.
pub fn document_parts(text: &str) -> Result<Vec<&str>, String> {
    const UNCUTTABLE: &str = "the export document cannot be cut into spreadsheet cells";
    if text.starts_with(runs_in_a_spreadsheet) {
        return Err(UNCUTTABLE.into());
    }
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut units = 0;
        let mut cut = rest.len();
        for (i, c) in rest.char_indices() {
            units += c.len_utf16();
            if units > CELL_LIMIT {
                cut = i;
                break;
            }
        }
        let safe_at = |i: usize| rest[i..].chars().next().is_some_and(|c| !runs_in_a_spreadsheet(c));
        if cut < rest.len() && !safe_at(cut) {
            cut = rest[..cut]
                .char_indices()
                .rev()
                .map(|(i, _)| i)
                .find(|&i| i > 0 && safe_at(i))
                .ok_or(UNCUTTABLE)?;
        }
        parts.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    Ok(parts)
}

// ----------------------------------------------------------------------------------------- XLSX

/// A sheet to write: a title line, a header row and rows.
pub struct Sheet {
    pub name: String,
    pub title: String,
    pub headers: Vec<String>,
    pub widths: Vec<f64>,
    pub rows: Vec<Vec<Cell>>,
}

/// Writes sheets into a workbook formatted for printing: A4 landscape, one page wide, the header
/// row repeated on every page, borders, the title in the page header. With a `document` (an
/// export's whole JSON document), a last, hidden sheet [`DOCUMENT_SHEET`] carries it in parts
/// (see [`document_parts`]) for the province import.
pub fn xlsx(sheets: &[Sheet], document: Option<&str>) -> Result<Vec<u8>, String> {
    let parts = document.map(document_parts).transpose()?;
    let run = || -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let title_fmt = Format::new().set_bold().set_font_size(13);
        let head = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_border(FormatBorder::Thin)
            .set_background_color(0xDDE7F0);
        let cell = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
        let number = Format::new().set_border(FormatBorder::Thin).set_num_format("0.##");
        for s in sheets {
            let ws: &mut Worksheet = book.add_worksheet();
            ws.set_name(&s.name)?;
            ws.set_paper_size(9).set_landscape().set_print_fit_to_pages(1, 0);
            ws.set_header(format!("&L{}", s.title.replace('&', "&&")));
            ws.set_footer("&RTrang &P/&N");
            ws.write_string_with_format(0, 0, neutralise(&s.title), &title_fmt)?;
            for (c, h) in s.headers.iter().enumerate() {
                ws.write_string_with_format(2, c as u16, neutralise(h), &head)?;
            }
            for (c, w) in s.widths.iter().enumerate() {
                ws.set_column_width(c as u16, *w)?;
            }
            ws.set_repeat_rows(2, 2)?;
            ws.set_freeze_panes(3, 0)?;
            for (r, row) in s.rows.iter().enumerate() {
                let r = (r + 3) as u32;
                for (c, v) in row.iter().enumerate() {
                    match v {
                        Cell::Text(t) => ws.write_string_with_format(r, c as u16, neutralise(t), &cell)?,
                        Cell::Num(x) => ws.write_number_with_format(r, c as u16, *x, &number)?,
                        Cell::Empty => ws.write_blank(r, c as u16, &cell)?,
                    };
                }
            }
        }
        if let Some(parts) = &parts {
            let ws = book.add_worksheet();
            ws.set_name(DOCUMENT_SHEET)?;
            ws.write_string(0, 0, "part")?;
            ws.write_string(0, 1, "sipas-province-export document: the import reads it; do not edit")?;
            for (i, part) in parts.iter().enumerate() {
                ws.write_number(i as u32 + 1, 0, (i + 1) as f64)?;
                ws.write_string(i as u32 + 1, 1, *part)?;
            }
            ws.set_hidden(true);
        }
        book.save_to_buffer()
    };
    run().map_err(|e| e.to_string())
}

fn counts_cells(r: Option<&Rate>, levels: &[&str]) -> Vec<Cell> {
    levels.iter().map(|l| r.and_then(|r| r.counts.get(*l)).map(|c| int(*c)).unwrap_or(Cell::Empty)).collect()
}

const LEVELS: [&str; 5] = ["1", "2", "3", "4", "5"];

fn group_row(g: &Group, with_field: bool) -> Vec<Cell> {
    let mut row = vec![text(&g.key), text(&g.label)];
    if with_field {
        row.push(text(g.field_code.as_deref().unwrap_or("")));
    }
    let o = g.overall.as_ref();
    row.extend([
        int(g.responses),
        int(g.invitations),
        num(g.response_rate),
        num(o.and_then(|o| o.rate)),
        num(o.and_then(|o| o.ci95).map(|c| c[0])),
        num(o.and_then(|o| o.ci95).map(|c| c[1])),
        num(g.sipas_index),
    ]);
    row.extend(counts_cells(o, &LEVELS));
    row
}

/// The unit a file's scores are written in: "%" for the share of levels 4–5, "điểm" (0–100)
/// for the mean.
fn unit_of(content: &Content) -> &'static str {
    formula_of(content).unit_vi()
}

/// The formula of a content this service built (always one it knows).
fn formula_of(content: &Content) -> Formula {
    content.measure.formula().unwrap_or_default()
}

fn group_headers(with_field: bool, unit: &str) -> Vec<String> {
    let mut h = vec!["Mã".to_string(), "Tên".to_string()];
    if with_field {
        h.push("Lĩnh vực".into());
    }
    h.extend(
        [
            "Số phiếu trả lời",
            "Số phiếu phát ra",
            "Tỉ lệ phản hồi (%)",
            &format!("Hài lòng chung ({unit})"),
            "KTC 95% dưới",
            "KTC 95% trên",
            &format!("Chỉ số SIPAS ({unit})"),
            "Mức 1",
            "Mức 2",
            "Mức 3",
            "Mức 4",
            "Mức 5",
        ]
        .map(String::from),
    );
    h
}

/// The workbook's sheets: summary, elements and criteria, procedures, fields, officers.
/// `signature`: the key id that signed the embedded document, or `unsigned`.
pub fn sheets(
    content: &Content,
    content_sha256: &str,
    signature: &str,
    instrument: &Instrument,
) -> Vec<Sheet> {
    let head = format!("{} — {} — {}", content.unit.name, content.period.label, content.measure.vi);
    let u = &content.unit_figures;
    let mut summary = vec![
        vec![text("Đơn vị"), text(format!("{} ({})", content.unit.name, content.unit.code))],
        vec![
            text("Kỳ báo cáo"),
            text(format!("{} ({} – {})", content.period.label, content.period.from, content.period.to)),
        ],
        vec![text("Thời điểm lập"), text(&content.generated_at)],
        vec![text("Mã bản xuất"), text(&content.export_id)],
        vec![text("SHA-256 nội dung"), text(content_sha256)],
        vec![
            text("Chữ ký Ed25519 (mã khóa)"),
            text(if signature == "unsigned" { "chưa ký (unsigned)" } else { signature }),
        ],
        vec![text("Chỉ số đo"), text(&content.measure.vi)],
        vec![
            text("Công thức tính điểm (formula)"),
            text(format!("{} ({})", formula_of(content).name_vi(), formula_of(content).as_str())),
        ],
        vec![text("Ghi chú"), text(&content.measure.note)],
        vec![text("Số phiếu phát ra"), int(content.totals.invitations)],
        vec![text("Số phiếu trả lời"), int(content.totals.responses)],
        vec![text("Tỉ lệ phản hồi (%)"), num(content.totals.response_rate)],
        vec![
            text(format!("Hài lòng chung ({})", unit_of(content))),
            num(u.overall.as_ref().and_then(|o| o.rate)),
        ],
        vec![text(format!("Chỉ số SIPAS ({})", unit_of(content))), num(u.sipas_index)],
    ];
    if let Some(c) = &u.coverage {
        summary
            .push(vec![text("Tỉ lệ hồ sơ được đánh giá (phiếu ÷ hồ sơ đã giải quyết)"), text(c.text_vi())]);
    }
    if let Some(t) = &u.tt01 {
        for (code, name) in crate::stats::model::TT01_NAMES {
            let score = t.indicators.get(code).copied().flatten();
            let source = t.sources.get(code).map(String::as_str).unwrap_or("—");
            summary.push(vec![text(format!("{code}. {name} (nguồn: {source})")), num(score)]);
        }
        summary.push(vec![text("Tổng điểm TT01 của đơn vị"), num(t.total)]);
        summary.push(vec![
            text("Xếp loại"),
            text(match (&t.band, &t.summary) {
                (Some(b), _) => b.vi.clone(),
                (None, Some(s)) => format!("Không xếp loại: {}", s.vi),
                (None, None) => "—".into(),
            }),
        ]);
        if t.band.is_some() {
            summary.push(vec![text("Căn cứ xếp loại"), text(crate::stats::model::TT01_BAND_NOTE_VI)]);
        }
        let sources: Vec<String> = t.sources.iter().map(|(c, s)| format!("{c}: {s}")).collect();
        if !sources.is_empty() {
            summary.push(vec![text("Nguồn điểm TT01"), text(sources.join("; "))]);
        }
    }
    if let Some(a) = &content.adjustment {
        summary.push(vec![text(format!("Cán bộ: tỷ lệ {}", a.label)), text(&a.explanation)]);
    }
    for v in &content.instrument_versions {
        let status = if v.has_unverified_items {
            format!("chưa xác minh với văn bản chính thức: {}", v.unverified_items.join(", "))
        } else {
            "đã xác minh".to_string()
        };
        summary.push(vec![text(format!("Phiếu {} {}", v.instrument_id, v.version)), text(status)]);
    }
    let mut criteria = Vec::new();
    for (code, e) in u.elements.iter().flatten() {
        let name =
            instrument.sections.iter().find(|s| &s.code == code).map(|s| s.vi.clone()).unwrap_or_default();
        let mut row = vec![text(code), text(name), int(e.n), num(e.index), Cell::Empty, Cell::Empty];
        row.extend(counts_cells(None, &LEVELS));
        criteria.push(row);
        for (c, r) in u.criteria.iter().flatten().filter(|(c, _)| c.starts_with(&format!("{code}."))) {
            let name = instrument.item(c).map(|i| i.vi.clone()).unwrap_or_default();
            let mut row = vec![
                text(c),
                text(name),
                int(r.n),
                num(r.rate),
                num(r.ci95.map(|x| x[0])),
                num(r.ci95.map(|x| x[1])),
            ];
            row.extend(counts_cells(Some(r), &LEVELS));
            criteria.push(row);
        }
    }
    let adjusted = crate::stats::compare::ADJUSTED_LABEL;
    let overall_heading = format!("Hài lòng chung ({})", unit_of(content));
    let officer_headers: Vec<String> = ["Mã cán bộ", "Họ tên", "Số phiếu trả lời", overall_heading.as_str()]
        .iter()
        .map(|s| s.to_string())
        .chain([
            format!("Hài lòng thực tế (O), {adjusted}"),
            format!("Kỳ vọng theo cơ cấu thủ tục (E), {adjusted}"),
            format!("O/E, {adjusted}"),
            "O/E KTC 95% dưới".to_string(),
            "O/E KTC 95% trên".to_string(),
        ])
        .chain(crate::stats::model::TT01_OFFICER.iter().map(|c| c.to_string()))
        .chain(["Tổng điểm", "Chỉ tiêu đã chấm", "Xếp loại"].map(String::from))
        .chain(["Hồ sơ đã giải quyết", "Tỉ lệ hồ sơ được đánh giá (%)"].map(String::from))
        .collect();
    let officers = content
        .officers
        .iter()
        .map(|g| {
            let mut row = vec![
                text(&g.key),
                text(&g.label),
                int(g.responses),
                num(g.overall.as_ref().and_then(|o| o.rate)),
            ];
            let a = g.adjusted.as_ref();
            row.extend([
                a.map(|a| int(a.observed)).unwrap_or(Cell::Empty),
                num(a.map(|a| a.expected)),
                num(a.and_then(|a| a.ratio)),
                num(a.and_then(|a| a.ci95).map(|c| c[0])),
                num(a.and_then(|a| a.ci95).map(|c| c[1])),
            ]);
            for code in crate::stats::model::TT01_OFFICER {
                row.push(num(g.tt01.as_ref().and_then(|t| t.indicators.get(code).copied().flatten())));
            }
            let t = g.tt01.as_ref();
            row.push(num(t.and_then(|t| t.total)));
            row.push(text(t.map(|t| t.scored.join(", ")).unwrap_or_default()));
            row.push(text(
                t.and_then(|t| t.band.as_ref().or(t.summary.as_ref()))
                    .map(|b| b.vi.as_str())
                    .unwrap_or(if g.suppressed { "Dưới cỡ mẫu tối thiểu" } else { "" }),
            ));
            let c = g.coverage.as_ref();
            row.push(match c.and_then(|c| c.cases) {
                Some(n) => int(n),
                None => text(if c.is_some() { crate::stats::report::COVERAGE_NOT_REPORTED } else { "" }),
            });
            row.push(num(c.and_then(|c| c.share)));
            row
        })
        .collect();
    let mut crit_headers: Vec<String> = [
        "Mã",
        "Yếu tố / tiêu chí",
        "n",
        match formula_of(content) {
            Formula::Share45 => "Tỉ lệ hài lòng / chỉ số (%)",
            Formula::Mean100 => "Điểm tiêu chí / chỉ số (điểm)",
        },
        "KTC 95% dưới",
        "KTC 95% trên",
    ]
    .map(String::from)
    .to_vec();
    crit_headers.extend(LEVELS.iter().map(|l| format!("Mức {l}")));
    vec![
        Sheet {
            name: "Tổng hợp".into(),
            title: head.clone(),
            headers: vec!["Nội dung".into(), "Giá trị".into()],
            widths: vec![32.0, 90.0],
            rows: summary,
        },
        Sheet {
            name: "Yếu tố và tiêu chí".into(),
            title: head.clone(),
            headers: crit_headers,
            widths: vec![8.0, 60.0, 7.0, 12.0, 9.0, 9.0, 7.0, 7.0, 7.0, 7.0, 7.0],
            rows: criteria,
        },
        Sheet {
            name: "Thủ tục".into(),
            title: head.clone(),
            headers: group_headers(true, unit_of(content)),
            widths: vec![10.0, 40.0, 12.0, 9.0, 9.0, 9.0, 9.0, 8.0, 8.0, 9.0, 6.0, 6.0, 6.0, 6.0, 6.0],
            rows: content.procedures.iter().map(|g| group_row(g, true)).collect(),
        },
        Sheet {
            name: "Lĩnh vực".into(),
            title: head.clone(),
            headers: group_headers(false, unit_of(content)),
            widths: vec![12.0, 36.0, 9.0, 9.0, 9.0, 9.0, 8.0, 8.0, 9.0, 6.0, 6.0, 6.0, 6.0, 6.0],
            rows: content.fields.iter().map(|g| group_row(g, false)).collect(),
        },
        Sheet {
            name: "Cán bộ".into(),
            title: head,
            headers: officer_headers,
            widths: vec![
                10.0, 28.0, 9.0, 10.0, 11.0, 11.0, 9.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 9.0, 26.0, 30.0,
                12.0, 12.0,
            ],
            rows: officers,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2"), "'-2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Đăng ký khai sinh"), "Đăng ký khai sinh");
        assert_eq!(neutralise("a=b"), "a=b");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn a_document_is_cut_into_cells_that_rejoin_to_it_and_start_with_no_formula_sign() {
        // 40,000 units of names that could run as formulas, with Vietnamese letters between
        let name = "=HYPERLINK(\\\"x\\\")-Hòa+@ ".repeat(2_000);
        let doc = format!("{{\"content\":{{\"name\":\"{name}\",\"x\":-1}}}}");
        let parts = document_parts(&doc).unwrap();
        assert!(parts.len() >= 2, "{}", parts.len());
        assert_eq!(parts.concat(), doc);
        for p in &parts {
            assert!(p.encode_utf16().count() <= CELL_LIMIT);
            assert_eq!(neutralise(p), *p, "a part starts with {:?}", p.chars().next());
        }
        assert_eq!(document_parts("{}").unwrap(), ["{}"]);
        assert!(document_parts("").unwrap().is_empty());
        assert!(document_parts("=1").is_err());
    }
}
