//! Reading an uploaded export in any of its formats: a commune's JSON, CSV or XLSX file as
//! `GET /api/v1/exports/province?format=…` wrote it. The format is told by the content (a
//! spreadsheet's ZIP signature, a CSV's UTF-8 byte-order mark, or JSON text), never by the name
//! or the declared type; from a CSV or XLSX the whole JSON export document they carry
//! (`formats::DOCUMENT`) is taken out and verified exactly as a JSON file is
//! (`province::verify`). Every refusal is said in Vietnamese and in English.

use std::collections::HashSet;
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use diesel::prelude::*;
use serde::Serialize;

use super::formats::{self, CSV_COLUMNS};
use super::handlers::Format;
use super::province::{self, ImportError, ImportFailure};
use crate::instrument::Instrument;

/// The most an XLSX file may hold once unpacked (the sum of its parts' declared sizes): a
/// genuine export unpacks to a few times its size; a "zip bomb" is refused before it is read.
pub const XLSX_UNPACKED_LIMIT: u64 = 64 * 1024 * 1024;

/// Why a file's export document could not be read, before it is verified.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Unreadable {
    #[error("the file is not a SIPAS export in JSON, CSV or XLSX")]
    NotAnExport,
    #[error(
        "the {0} file carries no export document (it was exported before documents were embedded, or its document rows were removed): export it again"
    )]
    NoDocument(&'static str),
    #[error("the {0} file's document parts are not numbered 1, 2, 3, … (some were removed or moved)")]
    Parts(&'static str),
    #[error("the CSV file cannot be read: {0}")]
    Csv(String),
    #[error("the XLSX file cannot be read: {0}")]
    Xlsx(String),
    #[error("the XLSX file unpacks to more than {} MB", XLSX_UNPACKED_LIMIT / 1024 / 1024)]
    Unpacked,
}

impl Unreadable {
    /// The same reason in Vietnamese.
    pub fn vi(&self) -> String {
        match self {
            Unreadable::NotAnExport => "tệp không phải bản xuất SIPAS dạng JSON, CSV hoặc XLSX".into(),
            Unreadable::NoDocument(f) => format!(
                "tệp {f} không mang tài liệu bản xuất (xuất từ phiên bản cũ, hoặc các dòng tài liệu đã bị xóa): đề nghị xã xuất lại"
            ),
            Unreadable::Parts(f) => {
                format!(
                    "các phần tài liệu trong tệp {f} không được đánh số liên tục 1, 2, 3, … (có phần bị xóa hoặc bị chuyển chỗ)"
                )
            }
            Unreadable::Csv(e) => format!("không đọc được tệp CSV: {e}"),
            Unreadable::Xlsx(e) => format!("không đọc được tệp XLSX: {e}"),
            Unreadable::Unpacked => {
                format!("tệp XLSX khi giải nén lớn hơn {} MB", XLSX_UNPACKED_LIMIT / 1024 / 1024)
            }
        }
    }
}

/// The format of a file, from its first bytes: `PK\x03\x04` (XLSX), a UTF-8 byte-order mark not
/// followed by JSON (CSV), or `{` after white space (JSON).
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Some(Format::Xlsx);
    }
    let (bom, rest) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    match rest.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Some(Format::Json),
        Some(_) if bom => Some(Format::Csv),
        _ => None,
    }
}

/// The JSON export document a file carries, and the file's format: a JSON file is the document;
/// a CSV or XLSX file carries it in numbered parts.
pub fn document(bytes: &[u8]) -> Result<(Format, Vec<u8>), Unreadable> {
    match detect(bytes).ok_or(Unreadable::NotAnExport)? {
        Format::Json => Ok((Format::Json, bytes.to_vec())),
        Format::Csv => Ok((Format::Csv, csv_document(&bytes[3..])?)),
        Format::Xlsx => Ok((Format::Xlsx, xlsx_document(bytes)?)),
    }
}

/// Joins numbered parts; they must be 1, 2, 3, … each once (in any order of rows).
fn join(mut parts: Vec<(u64, String)>, format: &'static str) -> Result<Vec<u8>, Unreadable> {
    if parts.is_empty() {
        return Err(Unreadable::NoDocument(format));
    }
    parts.sort_by_key(|(n, _)| *n);
    if parts.iter().enumerate().any(|(i, (n, _))| *n != i as u64 + 1) {
        return Err(Unreadable::Parts(format));
    }
    Ok(parts.into_iter().map(|(_, p)| p).collect::<String>().into_bytes())
}

fn column(name: &str) -> usize {
    CSV_COLUMNS.iter().position(|(_, machine)| *machine == name).unwrap_or(usize::MAX)
}

fn csv_document(text: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let (gtype, measure, code, value) =
        (column("group_type"), column("measure"), column("code"), column("value"));
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text);
    let mut parts = Vec::new();
    for record in reader.records() {
        let r = record.map_err(|e| Unreadable::Csv(e.to_string()))?;
        if r.get(gtype) == Some("meta") && r.get(measure) == Some(formats::DOCUMENT) {
            let n = r.get(code).and_then(|c| c.parse().ok()).ok_or(Unreadable::Parts("CSV"))?;
            parts.push((n, r.get(value).unwrap_or_default().to_string()));
        }
    }
    join(parts, "CSV")
}

fn xlsx_document(bytes: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let xlsx = |e: &dyn std::fmt::Display| Unreadable::Xlsx(e.to_string());
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| xlsx(&e))?;
    let mut unpacked = 0u64;
    for i in 0..zip.len() {
        unpacked = unpacked.saturating_add(zip.by_index_raw(i).map_err(|e| xlsx(&e))?.size());
    }
    if unpacked > XLSX_UNPACKED_LIMIT {
        return Err(Unreadable::Unpacked);
    }
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| xlsx(&e))?;
    if !book.sheet_names().iter().any(|n| n == formats::DOCUMENT_SHEET) {
        return Err(Unreadable::NoDocument("XLSX"));
    }
    let range = book.worksheet_range(formats::DOCUMENT_SHEET).map_err(|e| xlsx(&e))?;
    let mut parts = Vec::new();
    for row in range.rows().skip(1) {
        let n = match row.first() {
            Some(Data::Float(f)) if f.fract() == 0.0 && *f >= 1.0 => *f as u64,
            Some(Data::Int(i)) if *i >= 1 => *i as u64,
            Some(Data::Empty) | None => continue,
            Some(_) => return Err(Unreadable::Parts("XLSX")),
        };
        let text = match row.get(1) {
            Some(Data::String(s)) => s.clone(),
            _ => return Err(Unreadable::Parts("XLSX")),
        };
        parts.push((n, text));
    }
    join(parts, "XLSX")
}

/// Reads a whole file from `r` (for the command line and the spooled uploads).
pub fn read_all(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.read_to_end(&mut out)?;
    Ok(out)
}

/// A file's refusal, in Vietnamese and in English.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub vi: String,
    pub en: String,
}

impl From<&Unreadable> for Refusal {
    fn from(e: &Unreadable) -> Refusal {
        Refusal { vi: e.vi(), en: e.to_string() }
    }
}

impl From<&ImportError> for Refusal {
    fn from(e: &ImportError) -> Refusal {
        Refusal { vi: vi_of(e), en: e.to_string() }
    }
}

/// The Vietnamese of a verification's refusal; the English sentence carries the detail (which
/// figure, which hash), so it follows in brackets where the Vietnamese does not repeat it.
fn vi_of(e: &ImportError) -> String {
    match e {
        ImportError::NotJson(d) => {
            format!("tệp không phải bản xuất JSON đầy đủ (có thể bị cắt, hoặc không phải bản xuất): {d}")
        }
        ImportError::Schema(s) => format!("tệp không phải bản xuất SIPAS gửi tỉnh (lược đồ «{s}»)"),
        ImportError::Hash { .. } => "nội dung không khớp mã băm SHA-256: tệp đã bị sửa sau khi xuất".into(),
        ImportError::Content(d) => format!("nội dung không theo lược đồ bản xuất: {d}"),
        ImportError::Duplicate(id) => format!("cùng một bản xuất ({id}) có hai lần trong lần nhập này"),
        ImportError::Dates(d) => format!("ngày tháng không thể có: {d}"),
        ImportError::Figures(d) => format!("số liệu không khớp với chính các số đếm của bản xuất: {d}"),
        ImportError::Formula(f) => format!(
            "bản xuất tính điểm theo công thức {f}; tỉnh xếp hạng mọi xã theo tỉ lệ hài lòng (mức 4 và 5): hãy xuất lại với công thức share45 (mặc định)"
        ),
        ImportError::UnknownUnit(u) => format!("đơn vị «{u}» không có trong danh mục xã, phường của tỉnh"),
        ImportError::Older { unit, period, stored, this } => format!(
            "đã lưu một bản xuất mới hơn của {unit} kỳ {period} (lập lúc {stored}); bản này (lập lúc {this}) không được lưu"
        ),
        ImportError::Unsigned(_) => "bản xuất chưa được ký: tỉnh chỉ nhận bản xuất có chữ ký Ed25519 bằng khóa đã đăng ký của đơn vị (xã tạo khóa bằng `sipas export-key create` và gửi khóa công khai cho tỉnh)".into(),
        ImportError::Signature(_) => {
            "chữ ký không hợp lệ: nội dung đã bị sửa sau khi ký, hoặc chữ ký không phải của nội dung này".into()
        }
        ImportError::NoKey { unit, key_id } => format!(
            "khóa {key_id} chưa được đăng ký cho đơn vị {unit}: xã gửi khóa công khai để tỉnh đăng ký trước"
        ),
        ImportError::ForeignKey { unit, key_id, owner } => {
            format!("bản xuất của {unit} được ký bằng khóa {key_id}, là khóa đã đăng ký cho đơn vị khác ({owner})")
        }
        ImportError::Revoked { unit, key_id, at } => {
            format!("khóa {key_id} của {unit} đã bị thu hồi lúc {at}: không nhận bản xuất ký bằng khóa này")
        }
        #[allow(unreachable_patterns, reason = "a refusal added later is still said, in English")]
        other => format!("tệp bị từ chối ({other})"),
    }
}

// ------------------------------------------------------------------------------ a batch of files

/// What became of one file of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Verified and stored.
    Imported,
    /// Refused, with the reason.
    Refused,
    /// Verified, but not stored because another file of the same upload was refused.
    NotStored,
}

/// A reason, in Vietnamese and in English.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    pub vi: String,
    pub en: String,
}

/// One file of an upload: its name as sent, its format as read from its content, what became of
/// it, and (once its document was read) the commune and period it is of.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FileOutcome {
    pub file: String,
    /// `json`, `csv` or `xlsx`; absent when the content is none of them.
    pub format: Option<String>,
    pub status: Status,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub reason: Option<Reason>,
}

impl FileOutcome {
    fn refused(file: &str, format: Option<Format>, why: Refusal) -> FileOutcome {
        FileOutcome {
            file: file.to_string(),
            format: format.map(|f| f.as_str().to_string()),
            status: Status::Refused,
            unit: None,
            period: None,
            reason: Some(Reason { vi: why.vi, en: why.en }),
        }
    }
}

/// The reason given to a verified file that was not stored.
pub const NOT_STORED: (&str, &str) = (
    "tệp hợp lệ nhưng không được lưu vì có tệp khác trong lần nhập này bị từ chối; nhập lại sau khi bỏ hoặc sửa tệp đó",
    "the file is valid but was not stored because another file of this upload was refused; upload again without that file",
);

/// How a batch ended: every file stored, or none (each file's outcome says why).
#[derive(Debug)]
pub enum Batch {
    Stored(Vec<FileOutcome>),
    Refused(Vec<FileOutcome>),
}

/// Why a batch ended without an outcome: the database, or a spooled file that cannot be read
/// back.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("cannot read an uploaded file back: {0}")]
    Io(#[from] std::io::Error),
}

enum Abort {
    Refused(Vec<FileOutcome>),
    Failed(BatchError),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Failed(BatchError::Db(e))
    }
}

/// Reads, verifies and stores the files of one upload in one transaction, one file at a time:
/// only one file's bytes and its parsed document are held at once. Every file is read and
/// checked, also after one was refused, so each file's outcome is named; when any file is
/// refused the transaction is rolled back and nothing is stored (the others say `not_stored`).
/// A file that cannot be read back from where it was spooled ends the batch with an error.
pub fn import_files<R: Read>(
    conn: &mut PgConnection,
    files: Vec<(String, R)>,
    instrument: &Instrument,
    actor: &str,
) -> Result<Batch, BatchError> {
    let run = conn.transaction(|conn| {
        let mut out = Vec::with_capacity(files.len());
        let mut seen = HashSet::new();
        for (name, source) in files {
            let bytes = read_all(source).map_err(|e| Abort::Failed(e.into()))?;
            let (format, doc) = match document(&bytes) {
                Ok(d) => d,
                Err(e) => {
                    out.push(FileOutcome::refused(&name, detect(&bytes), (&e).into()));
                    continue;
                }
            };
            drop(bytes);
            let v = match province::verify(&doc, instrument) {
                Ok(v) => v,
                Err(e) => {
                    out.push(FileOutcome::refused(&name, Some(format), (&e).into()));
                    continue;
                }
            };
            drop(doc);
            let (unit, period) = (v.content.unit.code.clone(), v.content.period.key.clone());
            let stored = if seen.insert(v.content.export_id.clone()) {
                province::import(conn, &[v], actor)
            } else {
                Err(ImportFailure::Refused(ImportError::Duplicate(v.content.export_id.clone())))
            };
            let mut o = match stored {
                Ok(_) => FileOutcome {
                    file: name,
                    format: Some(format.as_str().to_string()),
                    status: Status::Imported,
                    unit: None,
                    period: None,
                    reason: None,
                },
                Err(ImportFailure::Refused(e)) => FileOutcome::refused(&name, Some(format), (&e).into()),
                Err(ImportFailure::Db(e)) => return Err(e.into()),
            };
            (o.unit, o.period) = (Some(unit), Some(period));
            out.push(o);
        }
        if out.iter().any(|o| o.status == Status::Refused) {
            for o in out.iter_mut().filter(|o| o.status == Status::Imported) {
                o.status = Status::NotStored;
                o.reason = Some(Reason { vi: NOT_STORED.0.into(), en: NOT_STORED.1.into() });
            }
            return Err(Abort::Refused(out));
        }
        Ok(out)
    });
    match run {
        Ok(out) => Ok(Batch::Stored(out)),
        Err(Abort::Refused(out)) => Ok(Batch::Refused(out)),
        Err(Abort::Failed(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_told_by_the_content() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(Format::Xlsx));
        assert_eq!(detect(b"\xEF\xBB\xBFM\xC3\xA3 \xC4\x91\xC6\xA1n v\xE1\xBB\x8B,"), Some(Format::Csv));
        assert_eq!(detect(b"  \n{\"schema\":1}"), Some(Format::Json));
        assert_eq!(detect(b"\xEF\xBB\xBF{\"schema\":1}"), Some(Format::Json));
        assert_eq!(detect(b"unit,period\n"), None, "a CSV without its byte-order mark is not an export");
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"%PDF-1.7"), None);
        assert_eq!(document(b"%PDF-1.7").unwrap_err(), Unreadable::NotAnExport);
    }

    #[test]
    fn parts_must_be_numbered_from_one_without_gaps() {
        let p = |v: &[(u64, &str)]| v.iter().map(|(n, s)| (*n, s.to_string())).collect::<Vec<_>>();
        assert_eq!(join(p(&[(2, "b"), (1, "a")]), "CSV").unwrap(), b"ab");
        assert_eq!(join(p(&[(1, "a"), (3, "c")]), "CSV").unwrap_err(), Unreadable::Parts("CSV"));
        assert_eq!(join(p(&[(1, "a"), (1, "a")]), "CSV").unwrap_err(), Unreadable::Parts("CSV"));
        assert_eq!(join(Vec::new(), "XLSX").unwrap_err(), Unreadable::NoDocument("XLSX"));
    }

    #[test]
    fn a_zip_that_is_no_workbook_is_refused_with_a_reason() {
        let e = document(b"PK\x03\x04 not really a zip").unwrap_err();
        assert!(matches!(e, Unreadable::Xlsx(_)), "{e:?}");
        assert!(e.vi().starts_with("không đọc được tệp XLSX"));
    }
}
