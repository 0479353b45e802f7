//! The reporting commands: `sipas export`, `sipas report`, `sipas province import|ranking` and
//! `sipas unit public-page`.

use std::path::{Path, PathBuf};

use askama::Template;
use diesel::prelude::*;

use super::db::open;
use crate::config::Config;
use crate::http::assets;
use crate::reporting::content::{ExportRequest, Period};
use crate::reporting::handlers::{self, Format};
use crate::reporting::{formats, province, public, report, upload};
use crate::schema::units;

fn period(s: &str) -> Result<Period, String> {
    Period::parse(s).ok_or_else(|| format!("`{s}` is not a period: use 2026-Q1, 2026-H1 or 2026"))
}

fn format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("`{s}` is not a format: use json, csv or xlsx"))
}

/// The unit named, or the only unit of the database.
fn unit(conn: &mut PgConnection, given: Option<&str>) -> Result<String, String> {
    if let Some(u) = given {
        return Ok(u.to_string());
    }
    let codes: Vec<String> =
        units::table.select(units::code).order(units::code).limit(2).load(conn).map_err(|e| e.to_string())?;
    match codes.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("there is no unit yet; import units first (sipas import units FILE.csv)".into()),
        _ => Err("there are several units: name one with --unit CODE".into()),
    }
}

fn write_out(out: Option<&Path>, bytes: &[u8], what: &str) -> Result<String, String> {
    match out {
        Some(path) => {
            std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(format!("{what} written to {}", path.display()))
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(bytes).map_err(|e| e.to_string())?;
            Ok(String::new())
        }
    }
}

fn request(
    config: &Config,
    conn: &mut PgConnection,
    instruments: &crate::instrument::Instruments,
    p: &str,
    u: Option<&str>,
    fo: &str,
) -> Result<ExportRequest, String> {
    Ok(ExportRequest {
        formula: crate::stats::model::Formula::parse(fo)
            .ok_or_else(|| format!("unknown formula `{fo}`: share45 or mean100"))?,
        unit: unit(conn, u)?,
        period: period(p)?,
        min_n: crate::stats::query::min_n(config, instruments),
        officer_names: config.export_officer_names,
        actor: "cli".into(),
        officer: None,
    })
}

/// `sipas export --period P --format F [--out FILE] [--unit CODE] [--formula share45|mean100]`.
pub fn export(
    config: &Config,
    p: &str,
    f: &str,
    out: Option<&Path>,
    u: Option<&str>,
    fo: &str,
) -> Result<String, String> {
    let fmt = format(f)?;
    let (_db, mut conn, instruments, secret) = super::db::open_with_secret(config)?;
    let req = request(config, &mut conn, &instruments, p, u, fo)?;
    let g = handlers::generate(&mut conn, &instruments, &secret, &req, fmt)
        .map_err(|e| format!("export failed: {e}"))?;
    let done = write_out(out, &g.bytes, "export")?;
    let signed =
        if g.key_id == "unsigned" { "unsigned".to_string() } else { format!("signed by key {}", g.key_id) };
    eprintln!(
        "export {} of {} {}: content sha256 {}, {signed}",
        g.export_id, req.unit, req.period.key, g.sha256
    );
    if g.key_id == "unsigned" {
        eprintln!(
            "warning: the export is unsigned (the unit has no usable export key): the province will refuse it; create one with `sipas export-key create --unit {}`",
            req.unit
        );
    }
    Ok(done)
}

/// `sipas report --period P [--out FILE] [--unit CODE]`: the periodic report as an HTML file.
pub fn periodic_report(
    config: &Config,
    p: &str,
    out: Option<&Path>,
    u: Option<&str>,
    fo: &str,
) -> Result<String, String> {
    let (_db, mut conn, instruments) = open(config)?;
    let req = request(config, &mut conn, &instruments, p, u, fo)?;
    let (_, mut page) =
        report::build(&mut conn, &instruments, &req).map_err(|e| format!("report failed: {e}"))?;
    // a file opened from disk cannot follow the site's address: the stylesheet goes beside it
    if let Some(path) = out {
        let css = path.with_file_name("report.css");
        std::fs::write(&css, report_css()).map_err(|e| format!("cannot write {}: {e}", css.display()))?;
        page.css = "report.css".into();
    }
    let html = page.render().map_err(|e| e.to_string())?;
    write_out(out, html.as_bytes(), "report")
}

/// `sipas province import FILE…`: JSON, CSV or XLSX exports, read one at a time and stored all
/// or none (the upload's rules, `reporting::upload::import_files`).
pub fn province_import(config: &Config, files: &[PathBuf]) -> Result<String, String> {
    let mut opened = Vec::with_capacity(files.len());
    for f in files {
        let file = std::fs::File::open(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        opened.push((f.display().to_string(), file));
    }
    let (_db, mut conn, instruments) = open(config)?;
    let batch = upload::import_files(&mut conn, opened, instruments.combined(), "cli")
        .map_err(|e| format!("import failed: {e}; nothing was imported"))?;
    match batch {
        upload::Batch::Stored(done) => Ok(done
            .iter()
            .map(|f| {
                format!("imported {} {}", f.unit.as_deref().unwrap_or(""), f.period.as_deref().unwrap_or(""))
            })
            .collect::<Vec<_>>()
            .join("\n")),
        upload::Batch::Refused(out) => Err(out
            .iter()
            .filter(|f| f.status == upload::Status::Refused)
            .map(|f| {
                format!(
                    "{}: refused: {}; nothing was imported",
                    f.file,
                    f.reason.as_ref().map_or("", |r| r.en.as_str())
                )
            })
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

/// `sipas province ranking --period P [--format json|csv|xlsx|html] [--out FILE]`.
pub fn province_ranking(config: &Config, p: &str, f: &str, out: Option<&Path>) -> Result<String, String> {
    let per = period(p)?;
    let (_db, mut conn, instruments) = open(config)?;
    let min_n = crate::stats::query::min_n(config, &instruments);
    let r = province::ranking(&mut conn, instruments.combined(), &per, min_n).map_err(|e| e.to_string())?;
    let bytes = match f {
        "html" => {
            let mut page = report::ranking_page(&r);
            if let Some(path) = out {
                let css = path.with_file_name("report.css");
                std::fs::write(&css, report_css()).map_err(|e| e.to_string())?;
                page.css = "report.css".into();
            }
            page.render().map_err(|e| e.to_string())?.into_bytes()
        }
        other => match format(other)? {
            Format::Json => serde_json::to_vec_pretty(&r).map_err(|e| e.to_string())?,
            Format::Csv => province::sheet_csv(&province::ranking_sheet(&r))?,
            Format::Xlsx => formats::xlsx(&[province::ranking_sheet(&r)], None)?,
        },
    };
    write_out(out, &bytes, "ranking")
}

/// The report's stylesheet, for a report written to a file.
fn report_css() -> &'static str {
    assets::get("report.css").map_or("", |a| a.body)
}

/// `sipas unit public-page CODE on|off`.
pub fn public_page(config: &Config, unit: &str, on: bool) -> Result<String, String> {
    let (_db, mut conn, _) = open(config)?;
    public::set_public_page(&mut conn, unit, on, "cli")?;
    Ok(format!("the public results page of {unit} is {}", if on { "on" } else { "off" }))
}
