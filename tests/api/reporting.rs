//! Reporting on real PostgreSQL: the province export in JSON, CSV and XLSX carries the figures of
//! `/api/v1/stats`, its hash verifies, untrusted names are neutralised; the province import
//! refuses a tampered file and ranks genuine ones; the periodic report and the public page.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use sipas::reporting::content::content_hash;
use sipas::schema::{invitations, province_exports, responses};

use crate::fixtures::{answer, issue, local};
use crate::harness::{Call, Reply, TestApp};

/// Issues and answers one case through the writers' interface (rows and roll-ups in one
/// transaction each), as issuing and the survey do; answered five minutes after issue.
fn case(app: &TestApp, officer: &str, procedure: &str, at: DateTime<Utc>, items: &[(&str, i16)]) {
    let inv = issue(app, officer, procedure, "desk", at);
    if !items.is_empty() {
        let items: Vec<(&str, Value)> =
            items.iter().map(|(code, level)| (*code, Value::from(*level))).collect();
        answer(app, inv.id, at + Duration::minutes(5), &items);
    }
}

const STATEMENTS: [&str; 19] = [
    "E1.1", "E1.2", "E1.3", "E1.4", "E2.1", "E2.2", "E2.3", "E2.4", "E3.1", "E3.2", "E3.3", "E3.4", "E3.5",
    "E4.1", "E4.2", "E4.3", "E5.1", "E5.2", "E5.3",
];

/// `n` answered cases (and a few unanswered invitations) for the officers' units between `from` and `from +
/// days`; `bias` shifts levels up (a better commune).
#[expect(
    clippy::too_many_arguments,
    reason = "the shape of one synthetic commune's period, named at each call"
)]
pub fn fill(
    app: &TestApp,
    officers: &[&str],
    procedures: &[&str],
    from: DateTime<Utc>,
    days: i64,
    n: usize,
    bias: i16,
    seed: u64,
) {
    let mut rng = SmallRng::seed_from_u64(seed);
    for i in 0..n {
        let at = from + Duration::minutes(rng.random_range(0..days * 24 * 60));
        let officer = officers[i % officers.len()];
        let procedure = procedures[i % procedures.len()];
        let mut items: Vec<(&str, i16)> = vec![("CASE.OVERALL", (rng.random_range(2..5) + bias).min(5))];
        items.push(("TT01.I1", rng.random_range(1..4)));
        items.push(("TT01.I3", rng.random_range(1..4)));
        items.push(("TT01.I7", rng.random_range(1..3)));
        for s in STATEMENTS {
            if rng.random_bool(0.7) {
                items.push((s, (rng.random_range(1..5) + bias).min(5)));
            }
        }
        case(app, officer, procedure, at, &items);
        if i % 4 == 0 {
            case(app, officer, procedure, at, &[]);
        }
    }
}

/// The JSON of a 200 answer.
async fn ok_json(call: Call<'_>) -> Value {
    let r = call.await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn group<'a>(groups: &'a Value, key: &str) -> &'a Value {
    groups
        .as_array()
        .and_then(|g| g.iter().find(|g| g["key"] == key))
        .unwrap_or_else(|| panic!("no {key} in {groups}"))
}

/// Master data with untrusted names: a procedure and an officer whose names a spreadsheet would
/// run as formulas.
fn hostile_names(app: &TestApp) {
    use sipas::masterdata::{Kind, parse, store::import};
    let mut conn = app.conn();
    for (kind, text) in [
        (Kind::Officers, "code,name,unit_code\nCB02,@SUM(1+1)*cmd,CHIEMHOA\n"),
        (
            Kind::Procedures,
            "code,name,field_code,field_name\n2.000815,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",CHUNGTHUC,Chứng thực\n",
        ),
    ] {
        let rows = parse(kind, text.as_bytes()).unwrap();
        import(&mut conn, &rows, "test").unwrap();
    }
}

/// Reads the cells of an XLSX sheet back from the zip's XML: (shared strings, sheet XML).
fn xlsx_parts(bytes: &[u8], sheet: usize) -> (Vec<String>, String) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}")).read_to_string(&mut s).unwrap();
        s
    };
    let shared = read("xl/sharedStrings.xml");
    let strings = shared
        .split("<si>")
        .skip(1)
        .map(|si| {
            let t = si.split_once('>').map(|(_, r)| r).unwrap_or("");
            let t = t.split("</t>").next().unwrap_or("");
            t.replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&apos;", "'")
        })
        .collect();
    (strings, read(&format!("xl/worksheets/sheet{sheet}.xml")))
}

/// Every cell of a sheet as text, row by row.
pub(crate) fn xlsx_rows(bytes: &[u8], sheet: usize) -> Vec<Vec<String>> {
    let (strings, xml) = xlsx_parts(bytes, sheet);
    xml.split("<row ")
        .skip(1)
        .map(|row| {
            row.split("<c ")
                .skip(1)
                .map(|c| {
                    let v = c.split("<v>").nth(1).and_then(|v| v.split("</v>").next()).unwrap_or("");
                    if c.contains("t=\"s\"") {
                        strings[v.parse::<usize>().unwrap()].clone()
                    } else {
                        v.to_string()
                    }
                })
                .collect()
        })
        .collect()
}

pub(crate) fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF], "CSV starts with a UTF-8 byte-order mark");
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[3..]);
    r.records().map(|rec| rec.unwrap().iter().map(String::from).collect()).collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("`{s}` is not a number"))
}

#[actix_web::test]
async fn json_csv_and_xlsx_exports_carry_the_figures_of_the_stats_api_and_neutralise_names() {
    let app = TestApp::new().await;
    let seed = app.seed();
    hostile_names(&app);
    fill(&app, &seed.officers, &seed.procedures[..3], local(2026, 1, 1, 8, 0), 89, 60, 1, 7);
    // a case on the last local evening of the quarter belongs to Q1...
    case(&app, seed.officers[0], seed.procedures[0], local(2026, 3, 31, 23, 0), &[("CASE.OVERALL", 1)]);
    // ...and one at local midnight (still March 31st in UTC) to Q2
    case(&app, seed.officers[0], seed.procedures[0], local(2026, 4, 1, 0, 0), &[("CASE.OVERALL", 1)]);
    let key = app.api_key(seed.unit);
    let dates = "from=2026-01-01&to=2026-03-31";
    let all = ok_json(app.get(&format!("/api/v1/stats?{dates}")).with_key(&key)).await;
    let by_proc = ok_json(app.get(&format!("/api/v1/stats?{dates}&group_by=procedure")).with_key(&key)).await;
    let by_field = ok_json(app.get(&format!("/api/v1/stats?{dates}&group_by=field")).with_key(&key)).await;
    let by_officer =
        ok_json(app.get(&format!("/api/v1/stats?{dates}&group_by=officer")).with_key(&key)).await;
    let s = &all["groups"][0];
    assert_eq!(s["responses"], 61);

    // JSON: the same figures, and the hash verifies
    let r = app.get("/api/v1/exports/province?period=2026-Q1&format=json").with_key(&key).await;
    let (status, body) = (r.status, r.bytes.clone());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["schema"], "sipas-province-export/1");
    assert_eq!(doc["sha256"].as_str().unwrap(), content_hash(&doc["content"]));
    assert_eq!(r.header("x-content-sha256"), doc["sha256"].as_str().unwrap());
    let c = &doc["content"];
    assert_eq!(c["measure"]["vi"], "Chỉ số hài lòng về cung ứng dịch vụ hành chính công");
    assert_eq!(c["instrument_versions"][0]["has_unverified_items"], true);
    assert!(c["instrument_versions"][0]["unverified_items"].as_array().unwrap().iter().any(|i| i == "E1.1"));
    assert_eq!(c["totals"]["responses"], s["responses"]);
    assert_eq!(c["totals"]["invitations"], s["invitations"]);
    assert_eq!(c["totals"]["response_rate"], s["response_rate"]);
    let u = &c["unit_figures"];
    for k in [
        "responses",
        "invitations",
        "response_rate",
        "sipas_index",
        "overall",
        "elements",
        "criteria",
        "items",
    ] {
        assert_eq!(u[k], s[k], "unit {k}");
    }
    assert_eq!(u["tt01"]["total"], s["tt01"]["total"]);
    assert_eq!(u["tt01"]["band"], s["tt01"]["band"]);
    assert_eq!(u["tt01"]["indicators"]["TT01.I1"], s["tt01"]["TT01.I1"]);
    for (list, stats) in [("procedures", &by_proc), ("fields", &by_field), ("officers", &by_officer)] {
        let groups = stats["groups"].as_array().unwrap();
        assert_eq!(c[list].as_array().unwrap().len(), groups.len(), "{list}");
        for g in groups {
            let e = group(&c[list], g["key"].as_str().unwrap());
            for k in ["label", "responses", "sipas_index", "overall", "criteria"] {
                assert_eq!(e[k], g[k], "{list} {} {k}", g["key"]);
            }
            assert_eq!(e["tt01"]["total"], g["tt01"]["total"]);
            assert_eq!(e["tt01"]["band"], g["tt01"]["band"]);
        }
    }

    // CSV: one header row in Vietnamese, the same figures, hostile names neutralised
    let Reply { status, bytes: body, .. } =
        app.get("/api/v1/exports/province?period=2026-Q1&format=csv").with_key(&key).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&body);
    assert_eq!(rows[0][0], "Mã đơn vị");
    let find = |gtype: &str, gkey: &str, measure: &str, code: &str| {
        rows.iter()
            .find(|r| r[2] == gtype && r[3] == gkey && r[5] == measure && r[6] == code && r[7].is_empty())
            .unwrap_or_else(|| panic!("no CSV row {gtype} {gkey} {measure} {code}"))
            .clone()
    };
    assert_eq!(num(&find("unit", "all", "sipas_index", "")[8]), s["sipas_index"].as_f64().unwrap());
    assert_eq!(num(&find("unit", "all", "responses", "")[8]), 61.0);
    let e21 = find("unit", "all", "criterion", "E2.1");
    assert_eq!(num(&e21[8]), s["criteria"]["E2.1"]["rate"].as_f64().unwrap());
    assert_eq!(num(&e21[9]), s["criteria"]["E2.1"]["n"].as_f64().unwrap());
    assert_eq!(num(&e21[10]), s["criteria"]["E2.1"]["ci95"][0].as_f64().unwrap());
    let count5 =
        rows.iter().find(|r| r[2] == "unit" && r[5] == "count" && r[6] == "E2.1" && r[7] == "5").unwrap();
    assert_eq!(num(&count5[8]), s["criteria"]["E2.1"]["counts"]["5"].as_f64().unwrap());
    let officer_total = find("officer", "CB01", "tt01_total", "TT01.I1 TT01.I3 TT01.I7");
    assert_eq!(
        num(&officer_total[8]),
        group(&by_officer["groups"], "CB01")["tt01"]["total"].as_f64().unwrap()
    );
    assert!(rows.iter().any(|r| r[4] == "'=HYPERLINK(\"http://x\",\"y\")"), "procedure name neutralised");
    assert!(rows.iter().any(|r| r[4] == "'@SUM(1+1)*cmd"), "officer name neutralised");
    assert!(!rows.iter().flatten().any(|cell| cell.starts_with('=') || cell.starts_with('@')));

    // XLSX: summary, criteria, procedures, fields and officers; same figures; names neutralised
    let r = app.get("/api/v1/exports/province?period=2026-Q1&format=xlsx").with_key(&key).await;
    let (status, body) = (r.status, r.bytes.clone());
    assert_eq!(status, 200);
    assert!(r.header("content-type").contains("spreadsheetml"));
    let summary = xlsx_rows(&body, 1);
    let value_of =
        |label: &str| summary.iter().find(|r| r[0] == label).unwrap_or_else(|| panic!("{label}"))[1].clone();
    assert_eq!(num(&value_of("Chỉ số SIPAS (%)")), s["sipas_index"].as_f64().unwrap());
    assert_eq!(num(&value_of("Hài lòng chung (%)")), s["overall"]["rate"].as_f64().unwrap());
    assert_eq!(num(&value_of("Số phiếu trả lời")), 61.0);
    let criteria = xlsx_rows(&body, 2);
    let e21x = criteria.iter().find(|r| r[0] == "E2.1").unwrap();
    assert_eq!(num(&e21x[3]), s["criteria"]["E2.1"]["rate"].as_f64().unwrap());
    assert_eq!(num(&e21x[2]), s["criteria"]["E2.1"]["n"].as_f64().unwrap());
    let procs = xlsx_rows(&body, 3);
    let hostile = procs.iter().find(|r| r[0] == "2.000815").unwrap();
    assert_eq!(hostile[1], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(num(&hostile[6]), group(&by_proc["groups"], "2.000815")["overall"]["rate"].as_f64().unwrap());
    let officers = xlsx_rows(&body, 5);
    let cb02 = officers.iter().find(|r| r[0] == "CB02").unwrap();
    assert_eq!(cb02[1], "'@SUM(1+1)*cmd");
    // code, name, responses, overall, the five adjusted columns (O, E, O/E and its interval),
    // the officer's five indicators, then the total
    assert_eq!(num(&cb02[14]), group(&by_officer["groups"], "CB02")["tt01"]["total"].as_f64().unwrap());

    // every export is in the audit log with its hash
    let logged: Vec<Value> = sipas::schema::audit_log::table
        .filter(sipas::schema::audit_log::action.eq("export.province"))
        .select(sipas::schema::audit_log::details)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(logged.len(), 3);
    assert!(logged.iter().all(|d| d["content_sha256"].as_str().is_some_and(|h| h.len() == 64)));
    assert!(logged.iter().any(|d| d["content_sha256"] == doc["sha256"]));
}

#[actix_web::test]
async fn officer_names_can_be_left_out_and_bad_requests_are_named() {
    let app = TestApp::with_config(|c| c.export_officer_names = false).await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures[..2], local(2026, 4, 2, 8, 0), 30, 12, 1, 3);
    let key = app.api_key(seed.unit);
    let doc = ok_json(app.get("/api/v1/exports/province?period=2026-Q2&format=json").with_key(&key)).await;
    let officers = doc["content"]["officers"].as_array().unwrap();
    assert!(!officers.is_empty());
    assert!(officers.iter().all(|o| o["label"] == o["key"]), "codes only: {officers:?}");
    assert!(!doc.to_string().contains("Nguyễn Thị Lan"));
    for (uri, status, code) in [
        ("/api/v1/exports/province?period=2026-Q5", 400, "invalid_period"),
        ("/api/v1/exports/province?format=json", 400, "missing_parameter"),
        ("/api/v1/exports/province?period=2026&format=pdf", 400, "invalid_format"),
        ("/api/v1/exports/province?period=2026&unit=KIMBINH", 403, "forbidden"),
        ("/api/v1/exports/province?period=2026&colour=red", 400, "unknown_parameter"),
    ] {
        let Reply { status: s, bytes: body, .. } = app.get(uri).with_key(&key).await;
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((s, v["error"].as_str().unwrap()), (status, code), "{uri}");
    }
    let Reply { status: s, .. } = app.get("/api/v1/exports/province?period=2026").await;
    assert_eq!(s, 401);
}

pub async fn export_json(app: &TestApp, key: &str, period: &str) -> Vec<u8> {
    let Reply { status, bytes: body, .. } =
        app.get(&format!("/api/v1/exports/province?period={period}&format=json")).with_key(key).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    body
}

pub fn stored(app: &TestApp) -> i64 {
    province_exports::table.count().get_result(&mut app.conn()).unwrap()
}

#[actix_web::test]
async fn a_changed_or_truncated_export_is_refused_and_stores_nothing() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 20, 1, 11);
    let key = app.api_key(seed.unit);
    let province = app.province_session();
    let genuine = export_json(&app, &key, "2026-Q1").await;
    let doc: Value = serde_json::from_slice(&genuine).unwrap();
    // a commune's API key may not import, not even its own export
    let Reply { status, .. } = app
        .post("/api/v1/province/exports")
        .payload("application/json", genuine.clone())
        .with_key(&key)
        .await;
    assert_eq!(status, 403);
    // a better index typed over the real one, the hash left as it was
    let mut better = doc.clone();
    better["content"]["unit_figures"]["sipas_index"] = Value::from(99.99);
    let changed = serde_json::to_string_pretty(&better).unwrap();
    let truncated = genuine[..genuine.len() / 2].to_vec();
    let mut extra = doc.clone();
    extra["content"]["bonus"] = Value::from(1);
    extra["sha256"] = Value::from(content_hash(&extra["content"]));
    // signed again with the commune's own key: the schema check refuses it, not only the signature
    app.sign_as(&mut extra, seed.unit);
    for (bad, expect) in [
        (changed.into_bytes(), "changed after it was exported"),
        (truncated, "not a complete JSON export"),
        (serde_json::to_vec(&extra).unwrap(), "does not follow the export schema"),
    ] {
        let Reply { status, bytes: body, .. } = app
            .post("/api/v1/province/exports")
            .payload("application/json", bad.clone())
            .as_staff(&province)
            .await;
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 422);
        assert_eq!(v["error"], "export_refused");
        assert!(v["message"].as_str().unwrap().contains(expect), "{v}");
        // the command line refuses it too, and a good file beside it is not imported either
        let dir = tempfile::tempdir().unwrap();
        let (good_path, bad_path) = (dir.path().join("good.json"), dir.path().join("bad.json"));
        std::fs::write(&good_path, &genuine).unwrap();
        std::fs::write(&bad_path, &bad).unwrap();
        let config =
            sipas::config::Config { database_url: Some(app.url.clone()), ..(*app.state.config).clone() };
        let err = sipas::cli::reporting::province_import(&config, &[good_path, bad_path]).unwrap_err();
        assert!(err.contains("bad.json") && err.contains("nothing was imported"), "{err}");
        assert_eq!(stored(&app), 0);
    }
    let Reply { status, bytes: body, .. } =
        app.post("/api/v1/province/exports").payload("application/json", genuine).as_staff(&province).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    assert_eq!(stored(&app), 1);
    // the command line's export of the same period imports through the command line
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q1.json");
    let config = sipas::config::Config { database_url: Some(app.url.clone()), ..(*app.state.config).clone() };
    sipas::cli::reporting::export(&config, "2026-Q1", "json", Some(&file), Some(seed.unit), "share45")
        .unwrap();
    let from_cli: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(from_cli["content"]["unit_figures"], doc["content"]["unit_figures"]);
    assert_eq!(from_cli["content"]["generated_by"], "cli");
    let out = sipas::cli::reporting::province_import(&config, &[file]).unwrap();
    assert_eq!(out, format!("imported {} 2026-Q1", seed.unit));
    let export_id: uuid::Uuid =
        province_exports::table.select(province_exports::export_id).first(&mut app.conn()).unwrap();
    assert_eq!(
        export_id.to_string(),
        from_cli["content"]["export_id"].as_str().unwrap(),
        "the newer export replaced the older"
    );
    assert_eq!(stored(&app), 1);
}

#[actix_web::test]
async fn genuine_exports_from_several_communes_produce_a_ranking() {
    let app = TestApp::new().await;
    let seed = app.seed();
    // Q4 2025: Kim Bình ahead; Q1 2026: Chiêm Hóa ahead
    fill(&app, &seed.officers, &seed.procedures, local(2025, 10, 2, 8, 0), 85, 40, 0, 1);
    fill(&app, &[seed.other_officer], &seed.procedures, local(2025, 10, 2, 8, 0), 85, 40, 1, 2);
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 2, 8, 0), 85, 60, 1, 3);
    fill(&app, &[seed.other_officer], &seed.procedures, local(2026, 1, 2, 8, 0), 85, 60, 0, 4);
    let (k1, k2) = (app.api_key(seed.unit), app.api_key(seed.other_unit));
    let province = app.province_session();
    let mut sipas = BTreeMap::new();
    for (key, unit) in [(&k1, seed.unit), (&k2, seed.other_unit)] {
        for period in ["2025-Q4", "2026-Q1"] {
            let body = export_json(&app, key, period).await;
            let doc: Value = serde_json::from_slice(&body).unwrap();
            sipas.insert((unit, period), doc["content"]["unit_figures"]["sipas_index"].as_f64().unwrap());
            let Reply { status, bytes: out, .. } = app
                .post("/api/v1/province/exports")
                .payload("application/json", body)
                .as_staff(&province)
                .await;
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&out));
        }
    }
    assert!(sipas[&(seed.unit, "2026-Q1")] > sipas[&(seed.other_unit, "2026-Q1")], "{sipas:?}");
    assert!(sipas[&(seed.unit, "2025-Q4")] < sipas[&(seed.other_unit, "2025-Q4")], "{sipas:?}");
    // commune API keys do not reach the ranking
    for path in ["/api/v1/province/ranking?period=2026-Q1", "/province/ranking?period=2026-Q1"] {
        let Reply { status, .. } = app.get(path).with_key(&k1).await;
        assert_ne!(status, 200, "{path}");
    }
    let r = ok_json(app.get("/api/v1/province/ranking?period=2026-Q1").as_staff(&province)).await;
    let communes = r["communes"].as_array().unwrap();
    assert_eq!(communes.len(), 2);
    assert_eq!((communes[0]["unit_code"].as_str(), communes[0]["rank"].as_i64()), (Some(seed.unit), Some(1)));
    assert_eq!(
        (communes[1]["unit_code"].as_str(), communes[1]["rank"].as_i64()),
        (Some(seed.other_unit), Some(2))
    );
    assert_eq!(communes[0]["sipas_index"].as_f64().unwrap(), sipas[&(seed.unit, "2026-Q1")]);
    assert_eq!(communes[0]["responses"], 60);
    assert_eq!(communes[0]["previous_rank"], 2);
    assert_eq!(communes[0]["rank_change"], 1);
    assert_eq!(communes[1]["rank_change"], -1);
    let [lo, hi] = [communes[0]["ci95"][0].as_f64().unwrap(), communes[0]["ci95"][1].as_f64().unwrap()];
    assert!(
        lo < communes[0]["sipas_index"].as_f64().unwrap()
            && communes[0]["sipas_index"].as_f64().unwrap() < hi
    );
    // the flag follows the stated rule: a neighbour's index inside one's interval
    let inside = |a: &Value, b: &Value| {
        let x = b["sipas_index"].as_f64().unwrap();
        a["ci95"][0].as_f64().unwrap() <= x && x <= a["ci95"][1].as_f64().unwrap()
    };
    let expected = inside(&communes[0], &communes[1]) || inside(&communes[1], &communes[0]);
    assert_eq!(communes[0]["order_uncertain"], expected);
    assert_eq!(communes[1]["order_uncertain"], expected);
    // the funnel of communes around the province, their mix-adjusted scores, the changes since Q4
    assert_eq!(r["funnel"]["of"], "unit");
    assert_eq!(r["funnel"]["target_n"], 120);
    assert_eq!(r["funnel"]["points"].as_array().unwrap().len(), 2, "{}", r["funnel"]);
    assert_eq!(r["adjusted"].as_array().unwrap().len(), 2, "{}", r["adjusted"]);
    assert_eq!(r["adjusted_label"], "đã điều chỉnh theo cơ cấu thủ tục");
    for c in communes {
        let ch = &c["sipas_change"];
        assert!(ch["ci95"][0].as_f64().unwrap() <= ch["difference"].as_f64().unwrap(), "{c}");
        assert_eq!(ch["significant"], ch["direction"] != "none", "{c}");
    }
    // printable page and spreadsheet forms
    let Reply { status, bytes: page, .. } =
        app.get("/province/ranking?period=2026-Q1").as_staff(&province).await;
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("UBND xã Kim Bình") && page.contains("Xếp hạng"));
    assert!(page.contains("Biểu đồ phễu: các xã, phường") && page.contains("<svg"), "{page}");
    assert!(page.contains("Hài lòng chung của các xã, đã điều chỉnh theo cơ cấu thủ tục"));
    let Reply { status, bytes: csv, .. } =
        app.get("/api/v1/province/ranking?period=2026-Q1&format=csv").as_staff(&province).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&csv);
    assert_eq!((rows[0][0].as_str(), rows[1][1].as_str(), rows[1][0].as_str()), ("Hạng", seed.unit, "1"));
    let Reply { status, bytes: xlsx, .. } =
        app.get("/api/v1/province/ranking?period=2026-Q1&format=xlsx").as_staff(&province).await;
    assert_eq!(status, 200);
    assert_eq!(xlsx_rows(&xlsx, 1)[3][1], seed.other_unit.to_string());
    // the staff's upload page loads its script from a file (CSP: no inline code)
    let Reply { status, bytes: page, .. } = app.get("/province/upload").as_staff(&province).await;
    let page = String::from_utf8(page).unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("<script src=\"/static/upload.js?v=") && !page.contains("style="));
    // the schema the JSON follows is served and is JSON
    let schema = ok_json(app.get("/api/v1/exports/schema.json")).await;
    assert_eq!(schema["properties"]["schema"]["const"], "sipas-province-export/1");
}

#[actix_web::test]
async fn the_periodic_report_is_a_printable_vietnamese_page_without_inline_code() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 2, 8, 0), 85, 40, 1, 5);
    fill(&app, &seed.officers, &seed.procedures, local(2025, 10, 2, 8, 0), 85, 20, 0, 6);
    let key = app.api_key(seed.unit);
    let Reply { status, bytes: body, .. } = app.get("/reports/periodic?period=2026-Q1").with_key(&key).await;
    assert_eq!(status, 200);
    let html = String::from_utf8(body).unwrap();
    for needle in [
        "Báo cáo định kỳ công tác cải cách hành chính",
        "Quý 1/2026",
        "Quý 4/2025",
        "Quý 1/2025",
        "Chỉ số hài lòng về cung ứng dịch vụ hành chính công",
        "Nguyễn Thị Lan",
        "chưa đối chiếu với văn bản đã ký",
        "E1.1",
        "Đăng ký khai sinh",
        // indicators 5, 6 and 9 have no data: no agency band, the "n of 9" wording instead
        "xếp loại cần đủ 9 chỉ số",
        "chỉ tiêu (tối đa",
        "TT01.I2",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert!(!html.contains("style=") && !html.contains("<style") && !html.contains("<script"));
    let Reply { status, .. } = app.get("/reports/periodic?period=2026-Q1").await;
    assert_eq!(status, 401);
}

/// Section 6 of the report counts the period's follow-ups by what became of them. Dates are local
/// (UTC+7): a follow-up opened at 03:00 on 1 January belongs to Q1 although it is still 31 December
/// in UTC, and a reply at 06:00 the day after the deadline is late although UTC still has the
/// deadline's date.
#[actix_web::test]
async fn the_periodic_report_counts_follow_ups_answered_on_time_in_local_dates() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 2, 8, 0), 85, 10, 0, 7);
    fill(&app, &[seed.other_officer], &seed.procedures, local(2026, 1, 2, 8, 0), 85, 2, 0, 8);
    let mut conn = app.conn();
    let ids = |unit: &str, conn: &mut PgConnection| -> Vec<i64> {
        responses::table
            .inner_join(invitations::table)
            .filter(invitations::unit_code.eq(unit))
            .select(responses::id)
            .order(responses::id)
            .load(conn)
            .unwrap()
    };
    let mine = ids(seed.unit, &mut conn);
    let theirs = ids(seed.other_unit, &mut conn);
    // (response, unit, opened, deadline, replied, status, outcome)
    type Row<'a> = (i64, &'a str, &'a str, &'a str, Option<&'a str>, &'a str, Option<&'a str>);
    let rows: [Row; 7] = [
        // on time; opened on 1 January local time (31 December in UTC)
        (
            mine[0],
            seed.unit,
            "2026-01-01 03:00+07",
            "2026-01-09",
            Some("2026-01-09 16:00+07"),
            "answered",
            None,
        ),
        // late: 10 January local, still 9 January in UTC
        (
            mine[1],
            seed.unit,
            "2026-01-05 09:00+07",
            "2026-01-09",
            Some("2026-01-10 06:00+07"),
            "closed",
            Some("resolved"),
        ),
        // not replied, deadline passed
        (mine[2], seed.unit, "2026-02-02 09:00+07", "2026-02-06", None, "in_progress", None),
        // closed without a reply
        (mine[3], seed.unit, "2026-03-02 09:00+07", "2026-03-06", None, "closed", Some("unfounded")),
        // not replied, deadline still ahead
        (mine[4], seed.unit, "2026-03-31 16:00+07", "2099-01-01", None, "new", None),
        // outside the period: 31 December local time
        (mine[5], seed.unit, "2025-12-31 23:00+07", "2026-01-08", None, "new", None),
        // another commune's
        (theirs[0], seed.other_unit, "2026-01-05 09:00+07", "2026-01-09", None, "new", None),
    ];
    for (response, unit, opened, deadline, replied, status, outcome) in rows {
        diesel::sql_query(
            "INSERT INTO followups (response_id, unit_code, officer_code, triggers, owner, status, \
               opened_at, deadline, reply, replied_at, replied_by, outcome) \
             SELECT $1, $2, i.officer_code, ARRAY['reply_wanted'], 'leader:' || $2, $3, $4::timestamptz, \
               $5::date, CASE WHEN $6::timestamptz IS NULL THEN NULL ELSE 'Đã xử lý.' END, $6::timestamptz, \
               CASE WHEN $6::timestamptz IS NULL THEN NULL ELSE 'test' END, $7 \
             FROM responses r JOIN invitations i ON i.id = r.invitation_id WHERE r.id = $1",
        )
        .bind::<diesel::sql_types::BigInt, _>(response)
        .bind::<diesel::sql_types::Text, _>(unit)
        .bind::<diesel::sql_types::Text, _>(status)
        .bind::<diesel::sql_types::Text, _>(opened)
        .bind::<diesel::sql_types::Text, _>(deadline)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(replied)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(outcome)
        .execute(&mut conn)
        .unwrap();
    }
    let q1 = (
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
    );
    let counts = sipas::reporting::report::followup_counts(&mut conn, seed.unit, q1.0, q1.1).unwrap();
    assert_eq!(
        counts,
        sipas::reporting::report::FollowupCounts {
            opened: 5,
            replied_on_time: 1,
            replied_late: 1,
            overdue: 1,
            pending: 1,
            closed_without_reply: 1,
        }
    );
    // due = on time 1 + late 1 + overdue 1: 1 of 3 on time
    assert_eq!(counts.on_time_rate(), "33,33");
    let key = app.api_key(seed.unit);
    let Reply { status, bytes: body, .. } = app.get("/reports/periodic?period=2026-Q1").with_key(&key).await;
    assert_eq!(status, 200);
    let html = String::from_utf8(body).unwrap();
    let section = &html[html.find("6. Phản ánh").unwrap()..html.find("7. Ghi chú").unwrap()];
    for needle in [
        "Số phản ánh, kiến nghị phát sinh</th><td class=\"num\">5<",
        "Đã trả lời đúng hạn</th><td class=\"num\">1<",
        "Chưa trả lời, đã quá hạn</th><td class=\"num\">1<",
        "Tỉ lệ trả lời đúng hạn (%)</th><td class=\"num\">33,33<",
    ] {
        assert!(section.contains(needle), "missing {needle} in {section}");
    }
    // the same report from the command line, printed to PDF by Chromium: A4 portrait, every
    // section on paper, the officers' table included (SIPAS_KEEP_PDF=DIR keeps report.pdf)
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    let config = sipas::config::Config { database_url: Some(app.url.clone()), ..(*app.state.config).clone() };
    sipas::cli::reporting::periodic_report(&config, "2026-Q1", Some(&file), Some(seed.unit), "share45")
        .unwrap();
    let pdf = crate::harness::print_to_pdf(format!("file://{}", file.display()), "report.pdf").await;
    assert!((pdf.width - 595.28).abs() < 1.0 && (pdf.height - 841.89).abs() < 1.0, "{:?}", pdf.page_size());
    assert!((1..=6).contains(&pdf.pages), "{} pages", pdf.pages);
    let text: String = pdf.text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "BÁO CÁO ĐỊNH KỲ CÔNG TÁC CẢI CÁCH HÀNH CHÍNH",
        "6. Phản ánh, kiến nghị và việc trả lời",
        "Tỉ lệ trả lời đúng hạn (%) 33,33",
        "5. Đánh giá cán bộ, công chức theo Thông tư 01/2018/TT-VPCP",
        "CB02",
        "5b. So sánh công bằng giữa cán bộ và thủ tục",
        "7. Ghi chú về phiếu khảo sát",
    ] {
        assert!(text.contains(needle), "the printed report lacks {needle}: {text}");
    }
}

#[actix_web::test]
async fn the_public_page_shows_only_groups_with_enough_responses_and_nothing_about_officers() {
    let app = TestApp::new().await;
    let seed = app.seed();
    // in the quarter before this one: the page shows closed quarters only (SECURITY.md, finding 2)
    let now = {
        use chrono::Datelike as _;
        let today = sipas::kernel::time::today();
        let start =
            chrono::NaiveDate::from_ymd_opt(today.year(), (today.month() - 1) / 3 * 3 + 1, 1).unwrap();
        sipas::kernel::time::midnight(start) - Duration::days(10)
    };
    // birth registration: 8 responses; certification: 2 (under min_n = 5)
    for i in 0..8 {
        let o = seed.officers[i % 2];
        case(&app, o, seed.procedures[0], now, &[("CASE.OVERALL", 5), ("E1.1", 4), ("TT01.I7", 2)]);
    }
    for _ in 0..2 {
        case(&app, seed.officers[0], seed.procedures[2], now, &[("CASE.OVERALL", 1)]);
    }
    let r = app.get(&format!("/public/{}", seed.unit)).await;
    let (status, body) = (r.status, r.bytes.clone());
    assert_eq!(status, 200);
    assert!(r.header("cache-control").contains("max-age"));
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("Đăng ký khai sinh"));
    assert!(html.contains("80,00%") || html.contains("100,00%"), "the headline rate is shown");
    assert!(!html.contains("Chứng thực bản sao"), "a procedure under min_n is not shown");
    for secret in ["Nguyễn Thị Lan", "Hoàng Văn Minh", "CB01", "CB02", "TT01"] {
        assert!(!html.contains(secret), "{secret} must not appear");
    }
    assert!(!html.contains("style=") && !html.contains("<script"));
    let json = ok_json(app.get(&format!("/api/v1/public/{}", seed.unit))).await;
    assert_eq!(json["latest"]["responses"], 10);
    assert_eq!(json["procedures"].as_array().unwrap().len(), 1);
    assert_eq!(json["procedures"][0]["key"], seed.procedures[0]);
    assert_eq!(json["procedures"][0]["overall"], 100.0);
    let text = json.to_string();
    for secret in ["Nguyễn Thị Lan", "CB01", "officer", "tt01", "comment"] {
        assert!(!text.to_lowercase().contains(&secret.to_lowercase()), "{secret} in {text}");
    }
    sipas::reporting::public::set_public_page(&mut app.conn(), seed.unit, false, "test").unwrap();
    for uri in
        [format!("/public/{}", seed.unit), format!("/api/v1/public/{}", seed.unit), "/public/NOWHERE".into()]
    {
        let r = app.get(&uri).await;
        let (status, body) = (r.status, r.bytes.clone());
        assert_eq!(status, 404, "{uri}");
        if uri.starts_with("/public/") {
            assert!(r.header("content-type").starts_with("text/html"));
            assert!(String::from_utf8(body).unwrap().contains("Không có trang kết quả công khai"));
        }
    }
}

#[actix_web::test]
async fn province_staff_upload_exports_in_chromium_and_see_which_were_refused() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("tests/browser/node_modules/playwright-core").is_dir(),
        "the browser tests need their node modules: run `npm ci --prefix tests/browser`"
    );
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 12, 1, 21);
    let key = app.api_key(seed.unit);
    let genuine = export_json(&app, &key, "2026-Q1").await;
    let mut doc: Value = serde_json::from_slice(&genuine).unwrap();
    doc["content"]["totals"]["responses"] = Value::from(500);
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = (dir.path().join("chiemhoa-q1.json"), dir.path().join("sua-doi.json"));
    std::fs::write(&good, &genuine).unwrap();
    std::fs::write(&bad, serde_json::to_vec(&doc).unwrap()).unwrap();
    let base = app.spawn_server();
    let script = root.join("tests/browser/upload.mjs");
    let session = app.province_session();
    let output = actix_web::web::block(move || {
        std::process::Command::new("node").arg(script).arg(base).arg(session).arg(&bad).arg(&good).output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let seen: Value = serde_json::from_str(stdout.trim()).unwrap();
    let row =
        |name: &str| seen["rows"].as_array().unwrap().iter().find(|r| r["cells"][0] == name).unwrap().clone();
    // the changed file is refused with its reason in Vietnamese and English …
    let bad = row("sua-doi.json");
    assert_eq!(bad["status"], "refused");
    let reason = bad["cells"][5].as_str().unwrap();
    assert!(reason.contains("tệp đã bị sửa") && reason.contains("changed after it was exported"), "{reason}");
    // … and the genuine one, sent with it, is named as not stored: all or none
    let good = row("chiemhoa-q1.json");
    assert_eq!(good["status"], "not_stored");
    assert_eq!((good["cells"][2].as_str(), good["cells"][3].as_str()), (Some("CHIEMHOA"), Some("2026-Q1")));
    assert!(seen["summary"].as_str().unwrap().starts_with("Không tệp nào được lưu"), "{seen}");
    let stored: Vec<i64> =
        province_exports::table.select(province_exports::responses).load(&mut app.conn()).unwrap();
    assert!(stored.is_empty(), "nothing of a refused upload is stored: {stored:?}");
}

/// Finding 1 of issue 21 (SECURITY.md): the attacker's forged exports, each with its hash
/// recomputed and signed again with the commune's own key (an insider's forgery), so that the
/// hash and signature checks alone would pass, are refused with a reason, store nothing, and
/// never make the genuine export be dropped.
#[actix_web::test]
async fn forged_inflated_foreign_future_dated_or_older_exports_are_refused_with_a_reason() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 30, 0, 31);
    let key = app.api_key(seed.unit);
    let genuine: Value = serde_json::from_slice(&export_json(&app, &key, "2026-Q1").await).unwrap();
    let province = app.province_session();
    // each forgery signed again with the commune's own key, as an insider holding it could:
    // the signature then verifies, and the checks of the content must refuse it
    let forge = |change: &dyn Fn(&mut Value)| {
        let mut doc = genuine.clone();
        change(&mut doc["content"]);
        doc["sha256"] = Value::from(sipas::reporting::content::content_hash(&doc["content"]));
        app.sign_as(&mut doc, seed.unit);
        serde_json::to_vec(&doc).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("inflated index", forge(&|c| c["unit_figures"]["sipas_index"] = Value::from(99.5)), "SIPAS index"),
        (
            "inflated counts",
            forge(&|c| {
                c["totals"]["responses"] = Value::from(500);
                c["unit_figures"]["responses"] = Value::from(500);
            }),
            "responses",
        ),
        (
            "inflated statement",
            forge(&|c| c["unit_figures"]["criteria"]["E1.1"]["rate"] = Value::from(100.0)),
            "E1.1",
        ),
        ("a unit that does not exist", forge(&|c| c["unit"]["code"] = Value::from("MAODANH")), "MAODANH"),
        ("dated 9999-12-31", forge(&|c| c["generated_at"] = Value::from("9999-12-31T00:00:00Z")), "future"),
        (
            "a period not begun",
            forge(&|c| {
                c["period"]["key"] = Value::from("2099-Q1");
                c["period"]["from"] = Value::from("2099-01-01");
                c["period"]["to"] = Value::from("2099-03-31");
            }),
            "not begun",
        ),
        ("a year 9999 period", forge(&|c| c["period"]["key"] = Value::from("9999-Q4")), "period"),
    ];
    for (what, body, reason) in &cases {
        let r = app
            .post("/api/v1/province/exports")
            .payload("application/json", body.clone())
            .as_staff(&province)
            .await;
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        let b = r.json();
        assert_eq!(b["error"], "export_refused", "{what}");
        assert!(b["message"].as_str().unwrap().contains(reason), "{what}: {b}");
        assert_eq!(stored(&app), 0, "{what} was stored");
    }
    // the genuine export is stored …
    let r = app
        .post("/api/v1/province/exports")
        .payload("application/json", serde_json::to_vec(&genuine).unwrap())
        .as_staff(&province)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // … and an older one of the same commune and period is refused aloud, not dropped silently
    let older = forge(&|c| c["generated_at"] = Value::from("2026-02-01T00:00:00Z"));
    let r = app.post("/api/v1/province/exports").payload("application/json", older).as_staff(&province).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("newer export"), "{}", r.body);
    let kept: Vec<uuid::Uuid> =
        province_exports::table.select(province_exports::export_id).load(&mut app.conn()).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].to_string(), genuine["content"]["export_id"].as_str().unwrap());
}

/// Sends one JSON document to the province import.
async fn import_doc(app: &TestApp, province: &str, doc: &Value) -> Reply {
    app.post("/api/v1/province/exports")
        .payload("application/json", serde_json::to_vec(doc).unwrap())
        .as_staff(province)
        .await
}

/// Asserts a 422 that stores nothing, with `en` in the English reason and `vi` in the Vietnamese.
fn assert_refused(app: &TestApp, what: &str, r: &Reply, en: &str, vi: &str) {
    assert_eq!(r.status, 422, "{what}: {}", r.body);
    let b = r.json();
    assert_eq!(b["error"], "export_refused", "{what}");
    assert!(b["message"].as_str().unwrap().contains(en), "{what}: {b}");
    let reason = &b["files"][0]["reason"];
    assert!(reason["en"].as_str().unwrap().contains(en), "{what}: {reason}");
    assert!(reason["vi"].as_str().unwrap().contains(vi), "{what}: {reason}");
    assert_eq!(stored(app), 0, "{what} was stored");
}

/// The signature block an export carries, checked here with ed25519-dalek directly: the key id is
/// the first 16 hex digits of the public key's SHA-256, the signature is over the canonical
/// content (the bytes its `sha256` covers).
pub(crate) fn verify_independently(doc: &Value) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let sig = &doc["signature"];
    assert_eq!(sig["algorithm"], "ed25519", "{sig}");
    let public: [u8; 32] = b64.decode(sig["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
    let signature: [u8; 64] = b64.decode(sig["signature"].as_str().unwrap()).unwrap().try_into().unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
    let canonical = sipas::reporting::content::canonical(&doc["content"]);
    assert_eq!(sipas::kernel::hashing::sha256_hex(canonical.as_bytes()), doc["sha256"].as_str().unwrap());
    key.verify_strict(canonical.as_bytes(), &ed25519_dalek::Signature::from_bytes(&signature)).unwrap();
    let id = &sipas::kernel::hashing::sha256_hex(&public)[..16];
    assert_eq!(sig["key_id"], id);
    id.to_string()
}

/// Finding 1 of issue 21, the part plausibility cannot reach: a consistently forged export under
/// a real commune's code (recomputed hash, figures that follow from their counts) is refused by
/// its signature; so are one altered figure, a rival commune's signature, a key of the forger's
/// own making, a signature moved from another export, a flipped signature byte and an unsigned
/// export. The genuine signed exports are then accepted.
#[actix_web::test]
async fn a_consistent_forgery_altered_figure_foreign_key_or_unsigned_export_is_refused_by_its_signature() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 30, 0, 51);
    fill(&app, &[seed.other_officer], &seed.procedures, local(2026, 1, 3, 8, 0), 90, 30, 0, 52);
    let (k1, k2) = (app.api_key(seed.unit), app.api_key(seed.other_unit));
    let province = app.province_session();
    let r = app.get("/api/v1/exports/province?period=2026-Q1&format=json").with_key(&k1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let chiemhoa: Value = r.json();
    let kimbinh: Value = serde_json::from_slice(&export_json(&app, &k2, "2026-Q1").await).unwrap();
    // the signature is the unit's current key, as `sipas export-key show` names it
    let current = sipas::reporting::signing::current_key(&mut app.conn(), seed.unit).unwrap().unwrap();
    assert_eq!(verify_independently(&chiemhoa), current.key_id);
    assert_eq!(chiemhoa["signature"]["public_key"], current.public_key);
    assert_eq!(r.headers.get("x-signature-key-id").unwrap().to_str().unwrap(), current.key_id);
    verify_independently(&kimbinh);
    let rehash = |doc: &mut Value| doc["sha256"] = Value::from(content_hash(&doc["content"]));

    // Kim Bình's genuine figures filed under Chiêm Hóa's code: every figure follows from its
    // counts and the unit exists, so only the signature can tell
    let mut forged = kimbinh.clone();
    forged["content"]["unit"] = chiemhoa["content"]["unit"].clone();
    rehash(&mut forged);
    let content: sipas::reporting::content::Content =
        serde_json::from_value(forged["content"].clone()).unwrap();
    let instrument = app.state.instruments.current();
    assert_eq!(sipas::reporting::plausible::check_figures(&content, instrument), Ok(()));
    assert_eq!(sipas::reporting::plausible::check_dates(&content, Utc::now()), Ok(()));
    let r = import_doc(&app, &province, &forged).await;
    assert_refused(&app, "consistent forgery", &r, "signature is not valid", "chữ ký không hợp lệ");
    // the same forgery signed by Kim Bình with its own registered key
    let mut rival = forged.clone();
    app.sign_as(&mut rival, seed.other_unit);
    let r = import_doc(&app, &province, &rival).await;
    assert_refused(
        &app,
        "a rival's key",
        &r,
        "registered for another unit (KIMBINH)",
        "đã đăng ký cho đơn vị khác",
    );
    // one altered figure, the hash recomputed
    let mut altered = chiemhoa.clone();
    let flagged = altered["content"]["unit_figures"]["flagged"].as_u64().unwrap();
    altered["content"]["unit_figures"]["flagged"] = Value::from(flagged + 1);
    rehash(&mut altered);
    let r = import_doc(&app, &province, &altered).await;
    assert_refused(&app, "one altered figure", &r, "signature is not valid", "chữ ký không hợp lệ");
    // a key of the forger's own making, its public half and key id carried in the block
    let own = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let mut made = forged.clone();
    {
        use base64::Engine as _;
        use ed25519_dalek::Signer as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let public = own.verifying_key().to_bytes();
        let canonical = sipas::reporting::content::canonical(&made["content"]);
        made["signature"] = serde_json::json!({
            "algorithm": "ed25519",
            "key_id": &sipas::kernel::hashing::sha256_hex(&public)[..16],
            "public_key": b64.encode(public),
            "signature": b64.encode(own.sign(canonical.as_bytes()).to_bytes()),
        });
    }
    verify_independently(&made);
    let r = import_doc(&app, &province, &made).await;
    assert_refused(
        &app,
        "a key of its own",
        &r,
        "is registered for unit CHIEMHOA",
        "chưa được đăng ký cho đơn vị CHIEMHOA",
    );
    // Chiêm Hóa's genuine signature moved onto the forgery
    let mut moved = forged.clone();
    moved["signature"] = chiemhoa["signature"].clone();
    let r = import_doc(&app, &province, &moved).await;
    assert_refused(&app, "a moved signature", &r, "signature is not valid", "chữ ký không hợp lệ");
    // one bit of the genuine signature flipped
    let mut flipped = chiemhoa.clone();
    {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut bytes = b64.decode(flipped["signature"]["signature"].as_str().unwrap()).unwrap();
        bytes[10] ^= 1;
        flipped["signature"]["signature"] = Value::from(b64.encode(bytes));
    }
    let r = import_doc(&app, &province, &flipped).await;
    assert_refused(&app, "a flipped bit", &r, "signature is not valid", "chữ ký không hợp lệ");
    // no signature at all (as an export made before signatures)
    let mut unsigned = chiemhoa.clone();
    unsigned.as_object_mut().unwrap().remove("signature");
    let r = import_doc(&app, &province, &unsigned).await;
    assert_refused(&app, "unsigned", &r, "the export is unsigned", "bản xuất chưa được ký");
    // the genuine exports are accepted, each recorded with the key that signed it
    for doc in [&chiemhoa, &kimbinh] {
        let r = import_doc(&app, &province, doc).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let keys: Vec<Option<String>> = province_exports::table
        .order(province_exports::unit_code)
        .select(province_exports::key_id)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(
        keys,
        [chiemhoa["signature"]["key_id"].as_str(), kimbinh["signature"]["key_id"].as_str()]
            .map(|k| k.map(String::from))
    );
}

/// A unit's key is rotated: exports signed with the new key are refused until the province
/// registers it, then accepted; once the old key is revoked, an export it signed is refused
/// whatever it claims. A unit without a key exports unsigned, says so, and the province refuses
/// it. The command line's key commands do each step and refuse mistakes.
#[actix_web::test]
async fn a_rotated_key_signs_once_registered_and_a_revoked_or_missing_key_is_refused() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 30, 0, 61);
    fill(&app, &[seed.other_officer], &seed.procedures, local(2026, 1, 3, 8, 0), 85, 30, 0, 62);
    let (k1, k2) = (app.api_key(seed.unit), app.api_key(seed.other_unit));
    let province = app.province_session();
    let config = sipas::config::Config { database_url: Some(app.url.clone()), ..(*app.state.config).clone() };
    let cli = sipas::cli::signing::show(&config, seed.unit).unwrap();
    let old: Value = serde_json::from_slice(&export_json(&app, &k1, "2026-Q1").await).unwrap();
    let old_id = old["signature"]["key_id"].as_str().unwrap().to_string();
    assert!(cli.contains(&old_id) && cli.contains(old["signature"]["public_key"].as_str().unwrap()), "{cli}");
    assert!(
        sipas::cli::signing::create(&config, seed.unit, false)
            .unwrap_err()
            .contains("already has an export key"),
        "create does not replace a key"
    );
    let r = import_doc(&app, &province, &old).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // rotation: the new key signs at once, and the province does not know it yet
    let out = sipas::cli::signing::create(&config, seed.unit, true).unwrap();
    let new_key = sipas::reporting::signing::current_key(&mut app.conn(), seed.unit).unwrap().unwrap();
    assert_ne!(new_key.key_id, old_id);
    assert!(out.contains(&new_key.key_id) && out.contains(&new_key.public_key), "{out}");
    let new: Value = serde_json::from_slice(&export_json(&app, &k1, "2026-Q1").await).unwrap();
    assert_eq!(verify_independently(&new), new_key.key_id);
    let r = import_doc(&app, &province, &new).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains(&format!("no key {} is registered for unit CHIEMHOA", new_key.key_id)),
        "{}",
        r.body
    );
    // the province registers it (a mistyped key id and another unit are refused), then accepts
    let typo =
        sipas::cli::signing::register(&config, seed.unit, &new_key.public_key, Some("0123456789abcdef"));
    assert!(typo.unwrap_err().contains("does not match the public key"));
    let registered =
        sipas::cli::signing::register(&config, seed.unit, &new_key.public_key, Some(&new_key.key_id));
    assert_eq!(registered.unwrap(), format!("registered key {} for unit CHIEMHOA", new_key.key_id));
    let again = sipas::cli::signing::register(&config, seed.other_unit, &new_key.public_key, None);
    assert!(again.unwrap_err().contains("already registered for unit CHIEMHOA"));
    assert!(sipas::cli::signing::register(&config, seed.unit, "bm90IGEga2V5", None).is_err());
    let r = import_doc(&app, &province, &new).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // the old key revoked: an export it signed is refused, named as revoked
    assert_eq!(
        sipas::cli::signing::revoke(&config, &old_id).unwrap(),
        format!("key {old_id} of unit CHIEMHOA is revoked")
    );
    // (whoever still holds the old private key could sign anything with it: the revocation is
    // what refuses it, whatever date the export claims)
    let r = import_doc(&app, &province, &old).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let b = r.json();
    assert!(b["message"].as_str().unwrap().contains(&format!("key {old_id} of CHIEMHOA was revoked")), "{b}");
    assert!(b["files"][0]["reason"]["vi"].as_str().unwrap().contains("đã bị thu hồi"), "{b}");
    let listed = sipas::cli::signing::list(&config, Some(seed.unit)).unwrap();
    assert!(listed.lines().any(|l| l.contains(&old_id) && l.contains("revoked")), "{listed}");
    assert!(listed.lines().any(|l| l.contains(&new_key.key_id) && !l.contains("revoked")), "{listed}");
    let audited: i64 = sipas::schema::audit_log::table
        .filter(
            sipas::schema::audit_log::action
                .like("province_key.%")
                .or(sipas::schema::audit_log::action.like("export_key.%")),
        )
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    // seed: 2 keys and 2 registrations; here a rotation, a registration and a revocation
    assert_eq!(audited, 7);
    // a unit without a key: the export says it is unsigned, and the province refuses it
    diesel::update(
        sipas::schema::export_keys::table.filter(sipas::schema::export_keys::unit_code.eq(seed.other_unit)),
    )
    .set(sipas::schema::export_keys::retired_at.eq(Some(Utc::now())))
    .execute(&mut app.conn())
    .unwrap();
    let r = app.get("/api/v1/exports/province?period=2026-Q1&format=csv").with_key(&k2).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers.get("x-signature-key-id").unwrap().to_str().unwrap(), "unsigned");
    let csv = r.bytes.clone();
    let rows = csv_rows(&csv);
    assert!(rows.iter().any(|row| row[5] == "signature_key_id" && row[8] == "unsigned"), "the CSV says it");
    let unsigned: Value = serde_json::from_slice(&export_json(&app, &k2, "2026-Q1").await).unwrap();
    assert_eq!(unsigned["signature"]["algorithm"], "none");
    assert!(unsigned["signature"]["note"].as_str().unwrap().contains("sipas export-key create"));
    let r = import_doc(&app, &province, &unsigned).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("the export is unsigned") && r.body.contains("the unit has no export signing key"),
        "{}",
        r.body
    );
    let r = app.post("/api/v1/province/exports").payload("text/csv", csv).as_staff(&province).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.json()["files"][0]["reason"]["vi"].as_str().unwrap().contains("bản xuất chưa được ký"),
        "{}",
        r.body
    );
}

/// The second formula in exports and the printed report (issue 16): `formula=mean100` scores
/// every statement by its mean level as 0–100 and says so in `measure.formula`, the note, the CSV
/// meta rows and the report; the figures follow from the file's own counts under that formula;
/// the province, which ranks every commune under one formula, refuses it by name; a bad formula
/// is a 400.
#[actix_web::test]
async fn a_mean_formula_export_and_report_state_their_formula_and_the_province_refuses_to_rank_them() {
    let app = TestApp::new().await;
    let seed = app.seed();
    fill(&app, &seed.officers, &seed.procedures, local(2026, 1, 3, 8, 0), 80, 30, 0, 41);
    let key = app.api_key(seed.unit);
    let mean =
        ok_json(app.get("/api/v1/stats?from=2026-01-01&to=2026-03-31&formula=mean100").with_key(&key)).await;
    let r =
        app.get("/api/v1/exports/province?period=2026-Q1&format=json&formula=mean100").with_key(&key).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let doc: Value = serde_json::from_slice(&r.bytes).unwrap();
    let c = &doc["content"];
    assert_eq!(c["measure"]["formula"], "mean100");
    assert!(c["measure"]["note"].as_str().unwrap().contains("81,25"), "{}", c["measure"]["note"]);
    for k in ["sipas_index", "overall", "elements", "criteria"] {
        assert_eq!(c["unit_figures"][k], mean["groups"][0][k], "{k}");
    }
    // the figures follow from the counts under the mean: the mean of the overall levels as 0–100
    let counts = c["unit_figures"]["overall"]["counts"].as_object().unwrap();
    let (mut sum, mut n) = (0.0, 0.0);
    for (level, count) in counts {
        let (l, k) = (level.parse::<f64>().unwrap(), count.as_f64().unwrap());
        sum += (l - 1.0) / 4.0 * k;
        n += k;
    }
    let expected = (10_000.0 * sum / n).round() / 100.0;
    assert_eq!(c["unit_figures"]["overall"]["rate"].as_f64().unwrap(), expected);
    // the default export says share45, and its figures differ
    let share: Value = serde_json::from_slice(&export_json(&app, &key, "2026-Q1").await).unwrap();
    assert_eq!(share["content"]["measure"]["formula"], "share45");
    assert_ne!(share["content"]["unit_figures"]["overall"]["rate"], c["unit_figures"]["overall"]["rate"]);

    // CSV: the formula and the note are meta rows
    let Reply { status, bytes, .. } =
        app.get("/api/v1/exports/province?period=2026-Q1&format=csv&formula=mean100").with_key(&key).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&bytes);
    let meta = |m: &str| rows.iter().find(|r| r[2] == "meta" && r[5] == m).map(|r| r[8].clone());
    assert_eq!(meta("formula").as_deref(), Some("mean100"));
    assert!(meta("measure_note").is_some_and(|n| n.contains("trung bình")));
    assert!(rows[0].iter().any(|h| !h.is_empty()));

    // the printed report states the formula and writes changes in points of the score
    let Reply { status, bytes, .. } =
        app.get("/reports/periodic?period=2026-Q1&formula=mean100").with_key(&key).await;
    assert_eq!(status, 200);
    let html = String::from_utf8(bytes).unwrap();
    assert!(
        html.contains(r#"id="formula""#) && html.contains("Điểm trung bình quy về thang 0–100"),
        "formula stated"
    );
    assert!(html.contains("Thay đổi (điểm)") && !html.contains("Thay đổi (điểm %)"));
    let Reply { bytes, .. } = app.get("/reports/periodic?period=2026-Q1").with_key(&key).await;
    let html = String::from_utf8(bytes).unwrap();
    assert!(html.contains("Tỉ lệ hài lòng (mức 4 và 5)") && html.contains("Thay đổi (điểm %)"));

    // the province: a mean export is refused by name (in both languages), a tampered one by its figures
    let province = app.province_session();
    let r = import_doc(&app, &province, &doc).await;
    assert_refused(&app, "a mean100 export", &r, "formula mean100", "công thức mean100");
    let mut forged = doc.clone();
    forged["content"]["unit_figures"]["overall"]["rate"] = Value::from(99.0);
    forged["sha256"] = Value::from(content_hash(&forged["content"]));
    app.sign_as(&mut forged, seed.unit);
    let r = import_doc(&app, &province, &forged).await;
    assert_refused(&app, "an inflated mean", &r, "overall satisfaction", "số liệu không khớp");
    let r = import_doc(&app, &province, &share).await;
    assert_eq!(r.status, 201, "{}", r.body);

    for url in [
        "/api/v1/exports/province?period=2026-Q1&formula=mean",
        "/reports/periodic?period=2026-Q1&formula=MEAN100",
    ] {
        let r = app.get(url).with_key(&key).await;
        assert_eq!(r.status, 400, "{url}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_formula", "{url}");
    }
}
