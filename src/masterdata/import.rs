//! Reading a master-data CSV into checked rows. A file is refused at its first problem, with the
//! line (as a spreadsheet numbers it: the header is line 1), the column and what is wrong.

use std::collections::HashMap;
use std::fmt;

/// Which master data a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Units,
    Officers,
    Procedures,
}

impl Kind {
    /// The header row the file must have (in any order).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Units => &["code", "name", "province_code"],
            Kind::Officers => &["code", "name", "unit_code"],
            Kind::Procedures => &["code", "name", "field_code", "field_name"],
        }
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// 1-based line of the file; the header is line 1.
    pub line: u64,
    /// 1-based column and its name, when the problem is in one cell.
    pub column: Option<(usize, String)>,
    pub problem: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some((n, name)) => write!(f, "line {}, column {} ({}): {}", self.line, n, name, self.problem),
            None => write!(f, "line {}: {}", self.line, self.problem),
        }
    }
}

impl std::error::Error for ImportError {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    pub line: u64,
    pub code: String,
    pub name: String,
    pub province_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerRow {
    pub line: u64,
    pub code: String,
    pub name: String,
    pub unit_code: String,
    /// Column number of `unit_code`, to name it when the unit does not exist.
    pub unit_column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureRow {
    pub line: u64,
    pub code: String,
    pub name: String,
    pub field_code: String,
    pub field_name: String,
}

/// The checked rows of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rows {
    Units(Vec<UnitRow>),
    Officers(Vec<OfficerRow>),
    Procedures(Vec<ProcedureRow>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Units(r) => r.len(),
            Rows::Officers(r) => r.len(),
            Rows::Procedures(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One data row with its line, giving cells by column name.
struct Record<'a> {
    line: u64,
    cells: &'a csv::StringRecord,
    header: &'a HashMap<&'static str, usize>,
}

impl Record<'_> {
    fn err(&self, column: &'static str, problem: impl Into<String>) -> ImportError {
        ImportError {
            line: self.line,
            column: Some((self.header[column] + 1, column.into())),
            problem: problem.into(),
        }
    }

    fn column(&self, column: &'static str) -> usize {
        self.header[column] + 1
    }

    /// A required text cell, trimmed, at most `max` characters, without control characters.
    fn text(&self, column: &'static str, max: usize) -> Result<String, ImportError> {
        let value = self.cells.get(self.header[column]).unwrap_or("").trim();
        if value.is_empty() {
            return Err(self.err(column, "is empty"));
        }
        if value.chars().count() > max {
            return Err(self.err(column, format!("is longer than {max} characters")));
        }
        if value.chars().any(char::is_control) {
            return Err(self.err(column, "contains control characters"));
        }
        Ok(value.to_string())
    }

    /// A code: 1 to 32 letters, digits, '.', '_' or '-'.
    fn code(&self, column: &'static str) -> Result<String, ImportError> {
        let value = self.text(column, 32)?;
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(
                self.err(column, format!("`{value}` may hold only letters, digits, '.', '_' and '-'"))
            );
        }
        Ok(value)
    }
}

/// True for a national procedure code such as `1.001193`.
pub fn is_procedure_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 8 && b[0].is_ascii_digit() && b[1] == b'.' && b[2..].iter().all(u8::is_ascii_digit)
}

/// Reads and checks a whole file (UTF-8, header row, comma-separated; a UTF-8 BOM is allowed).
pub fn parse(kind: Kind, bytes: &[u8]) -> Result<Rows, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let header = read_header(kind, &mut reader)?;
    let mut units = Vec::new();
    let mut officers = Vec::new();
    let mut procedures = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut field_names: HashMap<String, (String, u64)> = HashMap::new();
    let mut cells = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut cells).map_err(|e| csv_error(&e))?;
        if !more {
            break;
        }
        let line = cells.position().map_or(0, |p| p.line());
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let r = Record { line, cells: &cells, header: &header };
        let code = r.code("code")?;
        if let Some(first) = seen.insert(code.clone(), line) {
            return Err(r.err(
                "code",
                format!("`{code}` is already on line {first}; a code may appear once per file"),
            ));
        }
        match kind {
            Kind::Units => units.push(UnitRow {
                line,
                code,
                name: r.text("name", 200)?,
                province_code: r.code("province_code")?,
            }),
            Kind::Officers => officers.push(OfficerRow {
                line,
                code,
                name: r.text("name", 200)?,
                unit_code: r.code("unit_code")?,
                unit_column: r.column("unit_code"),
            }),
            Kind::Procedures => {
                if !is_procedure_code(&code) {
                    return Err(
                        r.err("code", format!("`{code}` is not a national procedure code such as 1.001193"))
                    );
                }
                let field_code = r.code("field_code")?;
                let field_name = r.text("field_name", 200)?;
                if let Some((other, first)) = field_names.get(&field_code)
                    && other != &field_name
                {
                    return Err(r.err(
                        "field_name",
                        format!(
                            "field `{field_code}` is named `{other}` on line {first}; one field has one name"
                        ),
                    ));
                }
                field_names.entry(field_code.clone()).or_insert((field_name.clone(), line));
                procedures.push(ProcedureRow {
                    line,
                    code,
                    name: r.text("name", 500)?,
                    field_code,
                    field_name,
                });
            }
        }
    }
    let rows = match kind {
        Kind::Units => Rows::Units(units),
        Kind::Officers => Rows::Officers(officers),
        Kind::Procedures => Rows::Procedures(procedures),
    };
    if rows.is_empty() {
        return Err(ImportError {
            line: 1,
            column: None,
            problem: "the file has a header but no rows".into(),
        });
    }
    Ok(rows)
}

fn read_header(
    kind: Kind,
    reader: &mut csv::Reader<&[u8]>,
) -> Result<HashMap<&'static str, usize>, ImportError> {
    let expected = kind.columns();
    let names = reader.headers().map_err(|e| csv_error(&e))?.clone();
    let header_err = |problem: String| ImportError { line: 1, column: None, problem };
    if names.is_empty() || names.iter().all(|n| n.trim().is_empty()) {
        return Err(header_err(format!("the file is empty; it needs the header row {}", expected.join(","))));
    }
    let mut header = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        let Some(known) = expected.iter().find(|e| **e == name) else {
            return Err(ImportError {
                line: 1,
                column: Some((i + 1, name.clone())),
                problem: format!("unknown column; the header must be {}", expected.join(",")),
            });
        };
        if header.insert(*known, i).is_some() {
            return Err(ImportError {
                line: 1,
                column: Some((i + 1, name)),
                problem: "the column appears twice".into(),
            });
        }
    }
    if let Some(missing) = expected.iter().find(|e| !header.contains_key(*e)) {
        return Err(header_err(format!(
            "column `{missing}` is missing; the header must be {}",
            expected.join(",")
        )));
    }
    Ok(header)
}

fn csv_error(e: &csv::Error) -> ImportError {
    let line = e.position().map_or(0, |p| p.line());
    let problem = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8 text; save the file as CSV UTF-8".to_string(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} cells where the header has {expected_len}")
        }
        other => format!("cannot be read as CSV: {other:?}"),
    };
    ImportError { line, column: None, problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_procedures_file_is_read_with_its_lines() {
        let csv = "\u{feff}code,name,field_code,field_name\n1.001193,Đăng ký khai sinh,HT,Hộ tịch\n2.000815, Chứng thực bản sao ,CT,Chứng thực\n";
        let Ok(Rows::Procedures(rows)) = parse(Kind::Procedures, csv.as_bytes()) else { panic!("refused") };
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[1].name, "Chứng thực bản sao");
    }

    #[test]
    fn a_bad_procedure_code_on_line_3_is_named() {
        let csv =
            "code,name,field_code,field_name\n1.001193,Khai sinh,HT,Hộ tịch\n1.0011,Kết hôn,HT,Hộ tịch\n";
        let e = parse(Kind::Procedures, csv.as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3, column 1 (code): `1.0011` is not a national procedure code such as 1.001193"
        );
    }

    #[test]
    fn duplicate_codes_name_both_lines() {
        let csv = "code,name,province_code\nCH,Chiêm Hóa,08\nKP,Kim Phú,08\nCH,Again,08\n";
        let e = parse(Kind::Units, csv.as_bytes()).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.problem.contains("line 2"), "{e}");
    }

    #[test]
    fn header_problems_are_refused() {
        assert!(parse(Kind::Units, b"code,name\nA,B\n").unwrap_err().problem.contains("province_code"));
        assert!(parse(Kind::Units, b"code,name,province,x\n").unwrap_err().to_string().contains("column 3"));
        assert!(parse(Kind::Units, b"").is_err());
        assert!(parse(Kind::Units, b"code,name,province_code\n").unwrap_err().problem.contains("no rows"));
    }

    #[test]
    fn ragged_rows_invalid_utf8_and_empty_cells_are_refused() {
        let e = parse(Kind::Units, b"code,name,province_code\nA,B\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse(Kind::Units, b"code,name,province_code\nA,B,08\nC,\xff\xfe,08\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse(Kind::Officers, "code,name,unit_code\nO1,,CH\n".as_bytes()).unwrap_err();
        assert_eq!(e.to_string(), "line 2, column 2 (name): is empty");
    }

    #[test]
    fn one_field_cannot_have_two_names() {
        let csv = "code,name,field_code,field_name\n1.001193,A,HT,Hộ tịch\n1.000894,B,HT,Hộ khẩu\n";
        let e = parse(Kind::Procedures, csv.as_bytes()).unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.column, Some((4, "field_name".into())));
    }
}
