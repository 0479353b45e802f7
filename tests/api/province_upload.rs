//! The province upload on real PostgreSQL (issue 22 item 3, SECURITY.md finding 12): a commune's
//! CSV and XLSX exports import as its JSON does, because they carry the whole JSON document; a
//! tampered embedded document is refused with its reason in Vietnamese and English; several
//! files in one multipart upload are stored all or none, each file's outcome named; a file or an
//! upload over its limit is a 413 that stores nothing.

use diesel::prelude::*;
use serde_json::Value;
use sipas::schema::province_exports;

use crate::fixtures::local;
use crate::harness::{Reply, TestApp};
use crate::reporting::{csv_rows, export_json, fill, stored};

const BOUNDARY: &str = "sipas-test-7f3a9c";

/// A `multipart/form-data` body with one part per file, as a browser's `FormData` sends it.
pub fn multipart(files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

async fn export(app: &TestApp, key: &str, period: &str, format: &str) -> Vec<u8> {
    let r = app.get(&format!("/api/v1/exports/province?period={period}&format={format}")).with_key(key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.bytes
}

async fn upload(app: &TestApp, session: &str, files: &[(&str, &[u8])]) -> Reply {
    let (content_type, body) = multipart(files);
    app.post("/api/v1/province/exports").payload(&content_type, body).as_staff(session).await
}

fn outcome<'a>(body: &'a Value, file: &str) -> &'a Value {
    body["files"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["file"] == file))
        .unwrap_or_else(|| panic!("no outcome for {file} in {body}"))
}

fn stored_ids(app: &TestApp) -> Vec<String> {
    let mut ids: Vec<uuid::Uuid> =
        province_exports::table.select(province_exports::export_id).load(&mut app.conn()).unwrap();
    ids.sort();
    ids.into_iter().map(|i| i.to_string()).collect()
}

/// The document a CSV export carries, joined from its `document` rows.
fn csv_document(csv: &[u8]) -> String {
    csv_rows(csv).into_iter().filter(|r| r[2] == "meta" && r[5] == "document").map(|r| r[8].clone()).collect()
}

#[actix_web::test]
async fn csv_and_xlsx_exports_carry_their_json_document_and_import_as_it_does() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 20, 1, 41);
    let key = app.api_key(seed.unit);
    let province = app.province_session();
    let csv = export(&app, &key, "2026-Q1", "csv").await;
    // the CSV's last rows are the whole document, which verifies as the JSON export does
    let doc: Value = serde_json::from_str(&csv_document(&csv)).unwrap();
    assert_eq!(doc["schema"], "sipas-province-export/1");
    assert_eq!(doc["sha256"], Value::from(sipas::reporting::content::content_hash(&doc["content"])));
    // signed with the unit's registered key, like the JSON export
    assert_eq!(crate::reporting::verify_independently(&doc), app_key_id(&app, seed.unit));
    let r = app.post("/api/v1/province/exports").payload("text/csv", csv.clone()).as_staff(&province).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b = r.json();
    assert_eq!(b["imported"][0]["unit"], seed.unit);
    assert_eq!(
        (outcome(&b, "body")["format"].as_str(), outcome(&b, "body")["status"].as_str()),
        (Some("csv"), Some("imported"))
    );
    assert_eq!(stored_ids(&app), [doc["content"]["export_id"].as_str().unwrap()]);
    // a later XLSX export replaces it; its document sits on a hidden sheet
    let xlsx = export(&app, &key, "2026-Q1", "xlsx").await;
    let mut workbook = String::new();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&xlsx)).unwrap();
    std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut workbook).unwrap();
    assert!(
        workbook.contains(r#"name="sipas-document""#) && workbook.contains(r#"state="hidden""#),
        "{workbook}"
    );
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(&xlsx)).unwrap();
    let sheet = calamine::Reader::worksheet_range(&mut book, "sipas-document").unwrap();
    let embedded: String = sheet.rows().skip(1).filter_map(|r| r.get(1).map(|c| c.to_string())).collect();
    let embedded: Value = serde_json::from_str(&embedded).unwrap();
    assert_eq!(crate::reporting::verify_independently(&embedded), app_key_id(&app, seed.unit));
    // sent under a wrong type: the content tells the format
    let r = app.post("/api/v1/province/exports").payload("application/json", xlsx).as_staff(&province).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b = r.json();
    assert_eq!(outcome(&b, "body")["format"], "xlsx");
    assert_eq!(b["imported"][0]["period"], "2026-Q1");
    let stored: Value =
        province_exports::table.select(province_exports::content).first(&mut app.conn()).unwrap();
    assert_ne!(stored["export_id"], doc["content"]["export_id"], "the newer XLSX export replaced the CSV's");
    assert_eq!(stored["unit_figures"], doc["content"]["unit_figures"]);
    // the command line reads all three formats too
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q1.csv");
    std::fs::write(&file, export(&app, &key, "2026-Q1", "csv").await).unwrap();
    let config = sipas::config::Config { database_url: Some(app.url.clone()), ..(*app.state.config).clone() };
    assert_eq!(
        sipas::cli::reporting::province_import(&config, &[file]).unwrap(),
        "imported CHIEMHOA 2026-Q1"
    );
}

/// The unit's current export key id.
fn app_key_id(app: &TestApp, unit: &str) -> String {
    sipas::reporting::signing::current_key(&mut app.conn(), unit).unwrap().unwrap().key_id
}

/// A visible sheet for a hand-made workbook.
fn cover() -> sipas::reporting::formats::Sheet {
    sipas::reporting::formats::Sheet {
        name: "Tổng hợp".into(),
        title: "Bản sửa".into(),
        headers: vec!["Nội dung".into()],
        widths: vec![20.0],
        rows: Vec::new(),
    }
}

#[actix_web::test]
async fn a_tampered_embedded_document_or_a_file_without_one_is_refused_with_its_reason() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 20, 1, 42);
    let key = app.api_key(seed.unit);
    let province = app.province_session();
    let csv = String::from_utf8(export(&app, &key, "2026-Q1", "csv").await).unwrap();
    let doc: Value = serde_json::from_str(&csv_document(csv.as_bytes())).unwrap();
    let index = doc["content"]["unit_figures"]["sipas_index"].to_string();
    // a better index typed into the document inside the CSV, the hash left as it was
    // (in the CSV cell every `"` is doubled)
    let needle = format!("\"\"sipas_index\"\":{index}");
    assert!(csv.contains(&needle), "{needle}");
    let better_csv = csv.replacen(&needle, "\"\"sipas_index\"\":99.5", 1);
    // the same inside an XLSX: a workbook whose hidden sheet carries the changed document
    let mut better = doc.clone();
    better["content"]["unit_figures"]["sipas_index"] = Value::from(99.5);
    let better_xlsx =
        sipas::reporting::formats::xlsx(&[cover()], Some(&serde_json::to_string(&better).unwrap())).unwrap();
    // a CSV whose document rows were removed, and a spreadsheet with no document at all
    let stripped: String =
        csv.lines().filter(|l| !l.contains(",document,")).map(|l| format!("{l}\n")).collect();
    let bare_xlsx = sipas::reporting::formats::xlsx(&[cover()], None).unwrap();
    // the better index with the hash recomputed (inside the CSV, every copy of it replaced): the
    // hash then matches, and the unit's signature over the original content does not
    let mut rehashed = better.clone();
    rehashed["sha256"] = Value::from(sipas::reporting::content::content_hash(&rehashed["content"]));
    let mut in_csv: Value = serde_json::from_str(&csv_document(better_csv.as_bytes())).unwrap();
    assert_ne!(in_csv["content"], doc["content"], "a figure was changed");
    in_csv["sha256"] = Value::from(sipas::reporting::content::content_hash(&in_csv["content"]));
    let forged_csv = better_csv.replace(doc["sha256"].as_str().unwrap(), in_csv["sha256"].as_str().unwrap());
    assert_eq!(serde_json::from_str::<Value>(&csv_document(forged_csv.as_bytes())).unwrap(), in_csv);
    let forged_xlsx =
        sipas::reporting::formats::xlsx(&[cover()], Some(&serde_json::to_string(&rehashed).unwrap()))
            .unwrap();
    let cases: [(&str, Vec<u8>, &str, &str); 7] = [
        ("better.csv", better_csv.into_bytes(), "changed after it was exported", "tệp đã bị sửa"),
        ("better.xlsx", better_xlsx, "changed after it was exported", "tệp đã bị sửa"),
        ("forged.csv", forged_csv.into_bytes(), "signature is not valid", "chữ ký không hợp lệ"),
        ("forged.xlsx", forged_xlsx, "signature is not valid", "chữ ký không hợp lệ"),
        ("stripped.csv", stripped.into_bytes(), "carries no export document", "không mang tài liệu bản xuất"),
        ("bare.xlsx", bare_xlsx, "carries no export document", "không mang tài liệu bản xuất"),
        ("notes.pdf", b"%PDF-1.7 not an export".to_vec(), "not a SIPAS export", "không phải bản xuất SIPAS"),
    ];
    for (name, bytes, en, vi) in &cases {
        let r = upload(&app, &province, &[(name, bytes)]).await;
        assert_eq!(r.status, 422, "{name}: {}", r.body);
        let b = r.json();
        assert_eq!(b["error"], "export_refused", "{name}");
        assert!(b["message"].as_str().unwrap().contains(en), "{name}: {b}");
        let o = outcome(&b, name);
        assert_eq!(o["status"], "refused", "{name}");
        assert!(o["reason"]["en"].as_str().unwrap().contains(en), "{name}: {o}");
        assert!(o["reason"]["vi"].as_str().unwrap().contains(vi), "{name}: {o}");
        assert_eq!(stored(&app), 0, "{name} was stored");
    }
}

#[actix_web::test]
async fn a_multi_file_upload_with_one_refused_file_names_each_outcome_and_stores_none() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 20, 1, 43);
    fill(&app, &[seed.other_officer], &seed.procedures, local(2026, 1, 3, 8, 0), 80, 15, 0, 44);
    let (k1, k2) = (app.api_key(seed.unit), app.api_key(seed.other_unit));
    let province = app.province_session();
    let csv = export(&app, &k1, "2026-Q1", "csv").await;
    let xlsx = export(&app, &k2, "2026-Q1", "xlsx").await;
    let mut forged: Value = serde_json::from_slice(&export_json(&app, &k1, "2025-Q4").await).unwrap();
    forged["content"]["totals"]["responses"] = Value::from(500);
    let forged = serde_json::to_vec(&forged).unwrap();
    let files: [(&str, &[u8]); 3] =
        [("chiemhoa-q1.csv", &csv), ("kimbinh-q1.xlsx", &xlsx), ("chiemhoa-q4-sua.json", &forged)];
    let r = upload(&app, &province, &files).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let b = r.json();
    assert_eq!(b["files"].as_array().unwrap().len(), 3, "{b}");
    let bad = outcome(&b, "chiemhoa-q4-sua.json");
    assert_eq!((bad["status"].as_str(), bad["format"].as_str()), (Some("refused"), Some("json")));
    assert!(bad["reason"]["en"].as_str().unwrap().contains("changed after it was exported"), "{bad}");
    assert!(b["message"].as_str().unwrap().contains("chiemhoa-q4-sua.json"), "{b}");
    for (name, unit, format) in
        [("chiemhoa-q1.csv", seed.unit, "csv"), ("kimbinh-q1.xlsx", seed.other_unit, "xlsx")]
    {
        let o = outcome(&b, name);
        assert_eq!(o["status"], "not_stored", "{o}");
        assert_eq!(
            (o["unit"].as_str(), o["period"].as_str(), o["format"].as_str()),
            (Some(unit), Some("2026-Q1"), Some(format))
        );
        assert!(o["reason"]["vi"].as_str().unwrap().contains("không được lưu"), "{o}");
    }
    assert_eq!(stored(&app), 0, "all or nothing: a refused file stores none of the upload");
    // the same upload without the refused file stores both, each named
    let r = upload(&app, &province, &files[..2]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b = r.json();
    for name in ["chiemhoa-q1.csv", "kimbinh-q1.xlsx"] {
        assert_eq!(outcome(&b, name)["status"], "imported");
    }
    assert_eq!(b["imported"].as_array().unwrap().len(), 2);
    assert_eq!(stored(&app), 2);
    // the same export twice in one upload is refused as such
    let r = upload(&app, &province, &[("a.csv", &csv), ("b.csv", &csv)]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(outcome(&r.json(), "b.csv")["reason"]["en"].as_str().unwrap().contains("appears twice"));
    // an upload with no file
    let r = upload(&app, &province, &[]).await;
    assert_eq!((r.status, r.json()["error"].as_str()), (400, Some("no_files")));
}

/// Finding 12 (SECURITY.md): a 14 MB upload is refused before it is held whole, and stores
/// nothing; so is an upload whose files together pass the request's limit.
#[actix_web::test]
async fn an_upload_over_its_limits_is_a_413_that_stores_nothing() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 12, 1, 45);
    let key = app.api_key(seed.unit);
    let province = app.province_session();
    let genuine = export_json(&app, &key, "2026-Q1").await;
    // 14 MB: a genuine export padded with white space after it, once as the body, once as a part
    let mut big = genuine.clone();
    big.resize(14 * 1024 * 1024, b' ');
    let r = app
        .post("/api/v1/province/exports")
        .payload("application/json", big.clone())
        .as_staff(&province)
        .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.json()["error"], "payload_too_large");
    let r = upload(&app, &province, &[("good.json", &genuine), ("big.json", &big)]).await;
    assert_eq!(r.status, 413, "{}", r.body);
    let b = r.json();
    assert_eq!(b["error"], "payload_too_large");
    assert!(b["message"].as_str().unwrap().contains("big.json"), "{b}");
    // seventeen files of 4.1 MB each: each within its 4 MiB, together over the upload's 64 MiB
    let mut padded = genuine.clone();
    padded.resize(4_100_000, b' ');
    let many: Vec<(String, &[u8])> = (0..17).map(|i| (format!("f{i}.json"), padded.as_slice())).collect();
    let many: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let r = upload(&app, &province, &many).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("64 MB"), "{}", r.body);
    assert_eq!(stored(&app), 0);
    // within the limits, the padded file imports
    let r = upload(&app, &province, &[("padded.json", &padded)]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(stored(&app), 1);
}
