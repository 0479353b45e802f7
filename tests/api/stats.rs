//! Statistics through the API on real PostgreSQL: the figures equal an independent computation of
//! DESIGN.md §4 from the raw answers, groups under `min_n` are suppressed, periods follow local
//! time, filters narrow, flagged responses stay apart, and a rebuild gives the incremental result.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use sipas::schema::{answers, invitations, responses};
use sipas::stats::rollup;

use crate::fixtures::{answer, issue, local, stats};
use crate::harness::{SEED, TestApp};

const LOCAL: i32 = 7 * 3600;

fn group<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["key"] == key))
        .unwrap_or_else(|| panic!("no group {key} in {body}"))
}

// ------------------------------------------------------------------ a generated data set

const STATEMENTS: [(&str, &[&str]); 5] = [
    ("E1", &["E1.1", "E1.2", "E1.3", "E1.4"]),
    ("E2", &["E2.1", "E2.2", "E2.3", "E2.4"]),
    ("E3", &["E3.1", "E3.2", "E3.3", "E3.4", "E3.5"]),
    ("E4", &["E4.1", "E4.2", "E4.3"]),
    ("E5", &["E5.1", "E5.2", "E5.3"]),
];

/// Fills the seeded database with invitations and responses over 2025–2026 through the writers'
/// interface: some answers arrive in two steps (TT01.I1 after TT01.I7), some responses are held,
/// and one I7 complaint is found unfounded.
fn generate(app: &TestApp, n: usize, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let officers = [SEED.officers[0], SEED.officers[1], SEED.other_officer];
    let channels = ["desk", "desk", "desk", "online", "postal"];
    let start = local(2025, 1, 1, 0, 0);
    let mut responded = Vec::new();
    for i in 0..n {
        let officer = officers[rng.random_range(0..officers.len())];
        let procedure = SEED.procedures[rng.random_range(0..SEED.procedures.len())];
        let channel = channels[rng.random_range(0..channels.len())];
        // spread over two years, at any hour (so local and UTC days differ)
        let at = start + Duration::minutes(rng.random_range(0..2 * 365 * 24 * 60));
        let inv = issue(app, officer, procedure, channel, at).id;
        if rng.random_bool(0.3) {
            continue;
        }
        let submitted = at + Duration::minutes(rng.random_range(1..3000));
        let worse = officer == SEED.officers[1];
        let lv = |rng: &mut SmallRng| -> Value {
            let base: i64 = if worse { 2 } else { 3 };
            Value::from((base + rng.random_range(0..3)).min(5))
        };
        let mut first = vec![("CASE.OVERALL", lv(&mut rng))];
        let mut later = Vec::new();
        if rng.random_bool(0.6) {
            first.push(("TT01.I7", Value::from(if rng.random_bool(0.15) { 2 } else { 1 })));
            let i1 = ("TT01.I1", Value::from(rng.random_range(1..4)));
            // half the time the I1 answer comes in a later addition: the I7 points must follow
            if rng.random_bool(0.5) {
                later.push(i1)
            } else {
                first.push(i1)
            }
            if rng.random_bool(0.8) {
                first.push(("TT01.I3", Value::from(rng.random_range(1..4))));
            }
        }
        if rng.random_bool(0.4) {
            for (e, codes) in STATEMENTS {
                if e == "E5" {
                    let gate = rng.random_bool(0.3);
                    later.push(("E5.GATE", Value::from(if gate { 1 } else { 2 })));
                    if !gate {
                        continue;
                    }
                }
                for code in codes {
                    if rng.random_bool(0.85) {
                        later.push((code, lv(&mut rng)));
                    }
                }
            }
        }
        if rng.random_bool(0.2) {
            later.push(("EXP", Value::from(vec![rng.random_range(1..4), 5])));
        }
        if rng.random_bool(0.1) {
            later.push(("COMMENT", Value::from("Cán bộ nhiệt tình")));
        }
        let rid = answer(app, inv, submitted, &first);
        if !later.is_empty() {
            answer(app, inv, submitted + Duration::minutes(3), &later);
        }
        responded.push((i, rid));
    }
    let instruments = app.state.instruments.clone();
    let mut conn = app.conn();
    for (i, rid) in &responded {
        if i % 17 == 3 {
            rollup::set_held(&mut conn, &instruments, *rid, true).unwrap();
        }
    }
    // the first I7 complaint a follow-up found unfounded
    let complaint: Option<i64> = answers::table
        .filter(answers::item_code.eq("TT01.I7").and(answers::level.eq(2)))
        .select(answers::response_id)
        .first(&mut conn)
        .optional()
        .unwrap();
    if let Some(rid) = complaint {
        rollup::set_i7_unfounded(&mut conn, &instruments, rid, true).unwrap();
    }
}

// ------------------------------------------------------------------ the independent computation

/// A stored answer: its level (scale, choice) or its choices (multi).
type Stored = (Option<i16>, Option<Vec<Option<i16>>>);

/// A raw response as read back from the tables.
struct Raw {
    local_day: NaiveDate,
    unit: String,
    officer: String,
    procedure: String,
    field: String,
    channel: String,
    held: bool,
    unfounded: bool,
    answers: BTreeMap<String, Stored>,
}

struct RawInvitation {
    local_day: NaiveDate,
    unit: String,
    officer: String,
    procedure: String,
    field: String,
    channel: String,
}

fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&FixedOffset::east_opt(LOCAL).unwrap()).date_naive()
}

fn read_raw(app: &TestApp) -> (Vec<Raw>, Vec<RawInvitation>) {
    use sipas::schema::procedures;
    let mut conn = app.conn();
    let fields: BTreeMap<String, String> = procedures::table
        .select((procedures::code, procedures::field_code))
        .load::<(String, String)>(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    type R = (i64, DateTime<Utc>, String, String, String, String, bool, bool);
    let rows: Vec<R> = responses::table
        .select((
            responses::id,
            responses::submitted_at,
            responses::unit_code,
            responses::officer_code,
            responses::procedure_code,
            responses::channel,
            responses::held,
            responses::tt01_i7_unfounded,
        ))
        .load(&mut conn)
        .unwrap();
    type A = (i64, String, Option<i16>, Option<Vec<Option<i16>>>);
    let all: Vec<A> = answers::table
        .select((answers::response_id, answers::item_code, answers::level, answers::choices))
        .load(&mut conn)
        .unwrap();
    let mut by_response: BTreeMap<i64, BTreeMap<String, Stored>> = BTreeMap::new();
    for (rid, code, level, choices) in all {
        by_response.entry(rid).or_default().insert(code, (level, choices));
    }
    let raws = rows
        .into_iter()
        .map(|(id, at, unit, officer, procedure, channel, held, unfounded)| Raw {
            local_day: local_day(at),
            field: fields[&procedure].clone(),
            unit,
            officer,
            procedure,
            channel,
            held,
            unfounded,
            answers: by_response.remove(&id).unwrap_or_default(),
        })
        .collect();
    let invs: Vec<(DateTime<Utc>, String, String, String, String)> = invitations::table
        .select((
            invitations::issued_at,
            invitations::unit_code,
            invitations::officer_code,
            invitations::procedure_code,
            invitations::channel,
        ))
        .load(&mut conn)
        .unwrap();
    let invs = invs
        .into_iter()
        .map(|(at, unit, officer, procedure, channel)| RawInvitation {
            local_day: local_day(at),
            field: fields[&procedure].clone(),
            unit,
            officer,
            procedure,
            channel,
        })
        .collect();
    (raws, invs)
}

fn key_of(
    group_by: &str,
    day: NaiveDate,
    unit: &str,
    officer: &str,
    procedure: &str,
    field: &str,
    channel: &str,
) -> String {
    use chrono::Datelike;
    let (y, m) = (day.year(), day.month());
    match group_by {
        "none" => "all".into(),
        "officer" => officer.into(),
        "procedure" => procedure.into(),
        "field" => field.into(),
        "unit" => unit.into(),
        "channel" => channel.into(),
        "month" => format!("{y}-{m:02}"),
        "quarter" => format!("{y}-Q{}", m.div_ceil(3)),
        "half" => format!("{y}-H{}", if m < 7 { 1 } else { 2 }),
        "year" => format!("{y}"),
        other => panic!("{other}"),
    }
}

fn close(api: &Value, expected: Option<f64>, what: &str) {
    match expected {
        None => assert!(api.is_null(), "{what}: expected null, API says {api}"),
        Some(e) => {
            let a = api.as_f64().unwrap_or_else(|| panic!("{what}: expected {e}, API says {api}"));
            assert!((a - e).abs() < 0.01 + 1e-9, "{what}: expected {e:.4}, API says {a}");
        }
    }
}

/// 100 × positives ÷ answers of one item's levels, written out plainly.
fn rate(levels: &[i16]) -> Option<f64> {
    if levels.is_empty() {
        return None;
    }
    let positive = levels.iter().filter(|l| **l >= 4).count();
    Some(100.0 * positive as f64 / levels.len() as f64)
}

fn wilson(k: usize, n: usize) -> (f64, f64) {
    let z = 1.96_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let c = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let h = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (100.0 * (c - h), 100.0 * (c + h))
}

/// Checks every group of an API answer against the raw rows, for one query.
fn check_against_raw(
    body: &Value,
    raws: &[Raw],
    invs: &[RawInvitation],
    group_by: &str,
    (from, to): (NaiveDate, NaiveDate),
    keep: &dyn Fn(&str, &str, &str, &str, &str) -> bool,
    min_n: usize,
) {
    let in_range = |d: NaiveDate| d >= from && d <= to;
    let mut groups: BTreeMap<String, Vec<&Raw>> = BTreeMap::new();
    let mut flagged: BTreeMap<String, usize> = BTreeMap::new();
    for r in raws.iter().filter(|r| in_range(r.local_day)) {
        if !keep(&r.unit, &r.officer, &r.procedure, &r.field, &r.channel) {
            continue;
        }
        let key = key_of(group_by, r.local_day, &r.unit, &r.officer, &r.procedure, &r.field, &r.channel);
        if r.held {
            *flagged.entry(key).or_default() += 1;
        } else {
            groups.entry(key).or_default().push(r);
        }
    }
    let mut issued: BTreeMap<String, usize> = BTreeMap::new();
    for i in invs.iter().filter(|i| in_range(i.local_day)) {
        if keep(&i.unit, &i.officer, &i.procedure, &i.field, &i.channel) {
            *issued
                .entry(key_of(group_by, i.local_day, &i.unit, &i.officer, &i.procedure, &i.field, &i.channel))
                .or_default() += 1;
        }
    }
    let keys: BTreeSet<&String> = groups.keys().chain(issued.keys()).chain(flagged.keys()).collect();
    for key in keys {
        let g = group(body, key);
        let rs = groups.get(key).cloned().unwrap_or_default();
        let what = |s: &str| format!("{group_by} {key} {s}");
        assert_eq!(g["responses"], rs.len(), "{}", what("responses"));
        assert_eq!(g["invitations"], issued.get(key).copied().unwrap_or(0), "{}", what("invitations"));
        assert_eq!(g["flagged"], flagged.get(key).copied().unwrap_or(0), "{}", what("flagged"));
        let invited = issued.get(key).copied().unwrap_or(0);
        close(
            &g["response_rate"],
            (invited > 0).then(|| 100.0 * rs.len() as f64 / invited as f64),
            &what("response rate"),
        );
        if rs.len() < min_n {
            assert_eq!(g["suppressed"], true, "{}", what("suppressed"));
            assert!(
                g.get("overall").is_none() && g.get("sipas_index").is_none(),
                "{}",
                what("rates left out")
            );
            continue;
        }
        assert_eq!(g["suppressed"], false, "{}", what("suppressed"));
        let levels = |code: &str| -> Vec<i16> { rs.iter().filter_map(|r| r.answers.get(code)?.0).collect() };
        let overall = levels("CASE.OVERALL");
        close(&g["overall"]["rate"], rate(&overall), &what("overall"));
        let (lo, hi) = wilson(overall.iter().filter(|l| **l >= 4).count(), overall.len());
        close(&g["overall"]["ci95"][0], Some(lo), &what("overall ci low"));
        close(&g["overall"]["ci95"][1], Some(hi), &what("overall ci high"));
        let mut element_indices = Vec::new();
        for (e, codes) in STATEMENTS {
            let rates: Vec<f64> = codes.iter().filter_map(|c| rate(&levels(c))).collect();
            let index = (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64);
            close(&g["elements"][e]["index"], index, &what(e));
            let answered = rs.iter().filter(|r| codes.iter().any(|c| r.answers.contains_key(*c))).count();
            assert_eq!(g["elements"][e]["n"], answered, "{}", what("element n"));
            element_indices.extend(index);
            for c in codes {
                let l = levels(c);
                close(&g["criteria"][*c]["rate"], rate(&l), &what(c));
                assert_eq!(g["criteria"][*c]["n"], l.len(), "{}", what(c));
                for level in 1..=5 {
                    let count = l.iter().filter(|x| **x == level).count();
                    let api =
                        g["criteria"][*c]["counts"].get(level.to_string()).cloned().unwrap_or(Value::from(0));
                    assert_eq!(api, count, "{}", what(&format!("{c} level {level}")));
                }
            }
        }
        let sipas = (!element_indices.is_empty())
            .then(|| element_indices.iter().sum::<f64>() / element_indices.len() as f64);
        close(&g["sipas_index"], sipas, &what("SIPAS index"));
        // EXP: responses that answered, and how often option 5 was chosen
        let exp: Vec<&Vec<Option<i16>>> =
            rs.iter().filter_map(|r| r.answers.get("EXP")?.1.as_ref()).collect();
        assert_eq!(g["items"]["EXP"]["n"], exp.len(), "{}", what("EXP n"));
        let fives = exp.iter().filter(|c| c.contains(&Some(5))).count();
        assert_eq!(g["items"]["EXP"]["counts"].get("5").cloned().unwrap_or(Value::from(0)), fives);
        // TT01, written out from the law's table: I1 early 2, on time 1, late 0; I3 none 2, once
        // 1, more 0; I7 "no" 2 when I1 is early else 1, "yes" 0, unfounded complaints left out.
        let mut total = 0.0;
        let mut scored = Vec::new();
        for code in ["TT01.I1", "TT01.I3", "TT01.I4", "TT01.I7"] {
            let mut points = Vec::new();
            for r in &rs {
                let Some(level) = r.answers.get(code).and_then(|a| a.0) else { continue };
                let p = match (code, level) {
                    ("TT01.I7", 1) => {
                        if r.answers.get("TT01.I1").and_then(|a| a.0) == Some(1) {
                            2
                        } else {
                            1
                        }
                    }
                    ("TT01.I7", _) if r.unfounded => continue,
                    ("TT01.I7", _) => 0,
                    (_, 1) => 2,
                    (_, 2) => 1,
                    _ => 0,
                };
                points.push(p);
            }
            let score = (!points.is_empty())
                .then(|| (10.0 * points.iter().sum::<i32>() as f64 / points.len() as f64).round() / 10.0);
            close(&g["tt01"][code], score, &what(code));
            if let Some(s) = score {
                total += s;
                scored.push(code);
            }
        }
        // indicator 8 comes from the follow-ups, and the generated data has none: a unit's group
        // scores it 2, an officer's or a procedure's does not carry it
        match g["tt01"].get("TT01.I8") {
            Some(Value::Null) | None => {}
            Some(i8) => {
                close(i8, Some(2.0), &what("TT01.I8"));
                total += 2.0;
                scored.push("TT01.I8");
            }
        }
        close(&g["tt01"]["total"], (!scored.is_empty()).then_some(total), &what("TT01 total"));
        assert_eq!(g["tt01"]["scored"], serde_json::json!(scored), "{}", what("scored"));
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[actix_web::test]
async fn api_figures_equal_an_independent_computation_from_the_raw_answers() {
    let app = TestApp::new().await;
    app.seed();
    generate(&app, 450, 11);
    let key = app.api_key(SEED.unit);
    let (raws, invs) = read_raw(&app);
    let ours = |u: &str, _: &str, _: &str, _: &str, _: &str| u == SEED.unit;
    for group_by in
        ["none", "officer", "procedure", "field", "unit", "channel", "month", "quarter", "half", "year"]
    {
        let body = stats(&app, &key, &format!("from=2025-01-01&to=2026-12-31&group_by={group_by}")).await;
        assert_eq!(body["group_by"], group_by);
        check_against_raw(&body, &raws, &invs, group_by, (d(2025, 1, 1), d(2026, 12, 31)), &ours, 5);
    }
    // a range that starts and ends inside months reads days at both ends and whole months between
    let body = stats(&app, &key, "from=2025-02-10&to=2025-11-20&group_by=quarter").await;
    check_against_raw(&body, &raws, &invs, "quarter", (d(2025, 2, 10), d(2025, 11, 20)), &ours, 5);
    // filters
    let body = stats(
        &app,
        &key,
        &format!("from=2025-01-01&to=2026-12-31&group_by=month&officer={}", SEED.officers[0]),
    )
    .await;
    let officer = |u: &str, o: &str, _: &str, _: &str, _: &str| u == SEED.unit && o == SEED.officers[0];
    check_against_raw(&body, &raws, &invs, "month", (d(2025, 1, 1), d(2026, 12, 31)), &officer, 5);
    let body =
        stats(&app, &key, "from=2025-01-01&to=2026-12-31&group_by=procedure&field=HOTICH&channel=desk").await;
    let civil = |u: &str, _: &str, _: &str, f: &str, c: &str| u == SEED.unit && f == "HOTICH" && c == "desk";
    check_against_raw(&body, &raws, &invs, "procedure", (d(2025, 1, 1), d(2026, 12, 31)), &civil, 5);
    let body = stats(
        &app,
        &key,
        &format!("from=2025-06-01&to=2026-05-31&group_by=half&procedure={}", SEED.procedures[3]),
    )
    .await;
    let land = |u: &str, _: &str, p: &str, _: &str, _: &str| u == SEED.unit && p == SEED.procedures[3];
    check_against_raw(&body, &raws, &invs, "half", (d(2025, 6, 1), d(2026, 5, 31)), &land, 5);
}

#[actix_web::test]
async fn a_rebuild_from_the_raw_answers_gives_the_same_statistics_as_the_incremental_path() {
    let app = TestApp::new().await;
    app.seed();
    generate(&app, 250, 5);
    let key = app.api_key(SEED.unit);
    let queries = [
        "from=2025-01-01&to=2026-12-31&group_by=officer",
        "from=2025-03-15&to=2026-02-10&group_by=month&include_flagged=true",
        "from=2025-01-01&to=2026-12-31&group_by=procedure",
        "from=2025-01-01&to=2025-12-31&group_by=none",
    ];
    let mut incremental = Vec::new();
    for q in queries {
        incremental.push(stats(&app, &key, q).await);
    }
    let mut conn = app.conn();
    let folded = rollup::compact(&mut conn).unwrap();
    assert!(folded > 0, "there were deltas to fold");
    for (q, before) in queries.iter().zip(&incremental) {
        assert_eq!(&stats(&app, &key, q).await, before, "after compaction: {q}");
    }
    rollup::rebuild(&mut conn, &app.state.instruments).unwrap();
    for (q, before) in queries.iter().zip(&incremental) {
        assert_eq!(&stats(&app, &key, q).await, before, "after rebuild: {q}");
    }
    // and the raw scan the benchmark compares with says the same
    for q in queries {
        let params: std::collections::HashMap<String, String> = q
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([("unit".to_string(), SEED.unit.to_string())])
            .collect();
        let request = sipas::stats::query::StatsQuery::parse(&params).unwrap();
        let raw = sipas::stats::query::run(
            &mut conn,
            &app.state.instruments,
            &request,
            5,
            sipas::stats::query::Source::Raw,
        )
        .unwrap();
        assert_eq!(serde_json::to_value(raw).unwrap(), stats(&app, &key, q).await, "raw scan: {q}");
    }
}

#[actix_web::test]
async fn a_group_under_min_n_shows_its_count_but_not_its_rates() {
    let app = TestApp::with_config(|c| c.min_n = Some(3)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let at = local(2026, 3, 10, 9, 0);
    for level in [5, 4] {
        let inv = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id;
        answer(&app, inv, at, &[("CASE.OVERALL", Value::from(level))]);
    }
    for level in [5, 1, 2] {
        let inv = issue(&app, SEED.officers[1], SEED.procedures[0], "desk", at).id;
        answer(&app, inv, at, &[("CASE.OVERALL", Value::from(level))]);
    }
    let body = stats(&app, &key, "from=2026-03-01&to=2026-03-31&group_by=officer").await;
    let small = group(&body, SEED.officers[0]);
    assert_eq!(small["responses"], 2);
    assert_eq!(small["invitations"], 2);
    assert_eq!(small["suppressed"], true);
    for hidden in ["overall", "sipas_index", "elements", "criteria", "items", "tt01"] {
        assert!(small.get(hidden).is_none(), "{hidden} left out: {small}");
    }
    let enough = group(&body, SEED.officers[1]);
    assert_eq!(enough["suppressed"], false);
    // 1 positive (the 5) of 3 → 33.33%
    assert_eq!(enough["overall"]["rate"], 33.33);
    assert_eq!(enough["overall"]["counts"], serde_json::json!({"1": 1, "2": 1, "5": 1}));
    // configured min_n (3) overrides the instrument's (5): the whole commune has 5 responses
    let all = stats(&app, &key, "from=2026-03-01&to=2026-03-31").await;
    assert_eq!(group(&all, "all")["suppressed"], false);
    assert_eq!(group(&all, "all")["label"], "UBND xã Chiêm Hóa");
}

#[actix_web::test]
async fn elements_and_statements_without_answers_are_null_never_zero() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let at = local(2026, 5, 4, 10, 0);
    let inv = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id;
    answer(
        &app,
        inv,
        at,
        &[("CASE.OVERALL", Value::from(4)), ("E1.1", Value::from(5)), ("E1.2", Value::from(2))],
    );
    let body = stats(&app, &key, "from=2026-05-01&to=2026-05-31").await;
    let g = group(&body, "all");
    // E1 = (100 + 0) / 2 = 50; the other elements have no answer; the SIPAS index is E1's alone
    assert_eq!(g["elements"]["E1"], serde_json::json!({"index": 50.0, "n": 1}));
    assert_eq!(g["elements"]["E2"], serde_json::json!({"index": null, "n": 0}));
    assert_eq!(g["sipas_index"], 50.0);
    assert!(g["criteria"]["E3.1"]["rate"].is_null() && g["criteria"]["E3.1"]["ci95"].is_null());
    assert_eq!(g["criteria"]["E3.1"]["n"], 0);
    // no case indicator has data; indicator 8 (no follow-up in the period) is 2, alone: no band
    assert!(g["tt01"]["TT01.I1"].is_null() && g["tt01"]["band"].is_null());
    assert_eq!(g["tt01"]["total"], 2.0);
    assert_eq!(g["tt01"]["scored"], serde_json::json!(["TT01.I8"]));
}

#[actix_web::test]
async fn periods_follow_local_time_and_count_responses_when_submitted() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    // issued 31 March 16:50 UTC = 23:50 local (Q1); answered 17:30 UTC = 00:30 on 1 April local (Q2)
    let issued = Utc.with_ymd_and_hms(2026, 3, 31, 16, 50, 0).unwrap();
    let inv = issue(&app, SEED.officers[0], SEED.procedures[1], "desk", issued).id;
    answer(
        &app,
        inv,
        Utc.with_ymd_and_hms(2026, 3, 31, 17, 30, 0).unwrap(),
        &[("CASE.OVERALL", Value::from(5))],
    );
    let body = stats(&app, &key, "from=2026-01-01&to=2026-12-31&group_by=quarter").await;
    let keys: Vec<&str> =
        body["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]);
    assert_eq!(group(&body, "2026-Q1")["invitations"], 1);
    assert_eq!(group(&body, "2026-Q1")["responses"], 0);
    assert!(group(&body, "2026-Q1")["response_rate"].as_f64() == Some(0.0));
    assert_eq!(group(&body, "2026-Q2")["responses"], 1);
    assert!(group(&body, "2026-Q2")["response_rate"].is_null(), "no invitation in Q2");
    assert_eq!(group(&body, "2026-Q2")["label"], "Quý 2/2026");
    let months = stats(&app, &key, "from=2026-03-31&to=2026-04-01&group_by=month").await;
    assert_eq!(group(&months, "2026-03")["invitations"], 1);
    assert_eq!(group(&months, "2026-04")["responses"], 1);
    assert_eq!(group(&months, "2026-04")["label"], "Tháng 4/2026");
    let halves = stats(&app, &key, "from=2026-01-01&to=2026-12-31&group_by=half").await;
    assert_eq!(group(&halves, "2026-H1")["responses"], 1);
    assert_eq!(group(&halves, "2026-H1")["label"], "6 tháng đầu năm 2026");
    let years = stats(&app, &key, "from=2025-12-31&to=2026-01-01&group_by=year").await;
    assert_eq!(years["groups"].as_array().unwrap().len(), 2);
    assert_eq!(group(&years, "2026")["label"], "Năm 2026");
    // 1 April alone: the response, not the invitation
    let day = stats(&app, &key, "from=2026-04-01&to=2026-04-01").await;
    assert_eq!(
        (group(&day, "all")["responses"].clone(), group(&day, "all")["invitations"].clone()),
        (1.into(), 0.into())
    );
}

#[actix_web::test]
async fn flagged_responses_are_counted_apart_and_left_out_unless_asked_for() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let at = local(2026, 6, 1, 9, 0);
    let mut ids = Vec::new();
    for level in [5, 5, 1] {
        let inv = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id;
        ids.push(answer(&app, inv, at, &[("CASE.OVERALL", Value::from(level))]));
    }
    let mut conn = app.conn();
    let changed = rollup::set_held(&mut conn, &app.state.instruments, ids[0], true).unwrap();
    assert_eq!(changed, rollup::StatusChange::Changed);
    let g = stats(&app, &key, "from=2026-06-01&to=2026-06-30").await;
    let g = group(&g, "all");
    // the held 5 is out: one 5 and one 1 remain → 50%
    assert_eq!((g["responses"].clone(), g["flagged"].clone()), (2.into(), 1.into()));
    assert_eq!(g["overall"]["rate"], 50.0);
    let with = stats(&app, &key, "from=2026-06-01&to=2026-06-30&include_flagged=true").await;
    let with = group(&with, "all");
    assert_eq!((with["responses"].clone(), with["flagged"].clone()), (3.into(), 1.into()));
    assert_eq!(with["overall"]["rate"], 66.67);
    // reviewed genuine: back in, without a rebuild
    rollup::set_held(&mut conn, &app.state.instruments, ids[0], false).unwrap();
    let back = stats(&app, &key, "from=2026-06-01&to=2026-06-30").await;
    assert_eq!(group(&back, "all")["responses"], 3);
    assert_eq!(group(&back, "all")["flagged"], 0);
}

#[actix_web::test]
async fn an_unfounded_i7_complaint_leaves_the_indicator_and_an_early_result_added_later_raises_it() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let at = local(2026, 7, 1, 9, 0);
    let a = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id;
    answer(&app, a, at, &[("CASE.OVERALL", Value::from(5)), ("TT01.I7", Value::from(1))]);
    let b = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id;
    let complaint = answer(&app, b, at, &[("CASE.OVERALL", Value::from(2)), ("TT01.I7", Value::from(2))]);
    let tt = |body: &Value| group(body, "all")["tt01"]["TT01.I7"].clone();
    // "no" without I1 = 1 point, "yes" = 0 → (1 + 0) / 2 = 0.5
    assert_eq!(tt(&stats(&app, &key, "from=2026-07-01&to=2026-07-01").await), 0.5);
    // the first resident adds I1 = early: their "no" now earns 2 → (2 + 0) / 2 = 1.0
    answer(&app, a, at + Duration::minutes(2), &[("TT01.I1", Value::from(1))]);
    assert_eq!(tt(&stats(&app, &key, "from=2026-07-01&to=2026-07-01").await), 1.0);
    // the complaint is found unfounded: that case leaves the indicator → 2 / 1 = 2.0
    rollup::set_i7_unfounded(&mut app.conn(), &app.state.instruments, complaint, true).unwrap();
    let body = stats(&app, &key, "from=2026-07-01&to=2026-07-01").await;
    assert_eq!(tt(&body), 2.0);
    // I1 = 2.0 too, and I8 = 2 (no follow-up in the period): total 6.0 over three indicators of
    // nine — no band, the "n of 9" wording
    let g = group(&body, "all");
    assert_eq!(g["tt01"]["total"], 6.0);
    assert_eq!(g["tt01"]["scored"], serde_json::json!(["TT01.I1", "TT01.I7", "TT01.I8"]));
    assert_eq!(g["tt01"]["band"], Value::Null);
    assert_eq!(g["tt01"]["of"], 9);
    assert_eq!(g["tt01"]["summary"]["vi"], "6,0 điểm trên 3/9 chỉ tiêu (tối đa 6)");
    assert_eq!(g["tt01"]["summary"]["en"], "6.0 points over 3 of 9 indicators (out of 6)");
    // its answer still counts as an answer of the item
    assert_eq!(g["items"]["TT01.I7"]["counts"], serde_json::json!({"1": 1, "2": 1}));
    // and a rebuild agrees
    rollup::rebuild(&mut app.conn(), &app.state.instruments).unwrap();
    assert_eq!(stats(&app, &key, "from=2026-07-01&to=2026-07-01").await, body);
}

#[actix_web::test]
async fn an_api_key_reads_only_its_own_unit() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let ours = app.api_key(SEED.unit);
    let at = local(2026, 8, 3, 9, 0);
    let inv = issue(&app, SEED.other_officer, SEED.procedures[0], "desk", at).id;
    answer(&app, inv, at, &[("CASE.OVERALL", Value::from(5))]);
    let r = app.get(&format!("/api/v1/stats?from=2026-08-01&to=2026-08-31&unit={}", SEED.other_unit));
    let r = r.with_key(&ours).await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 403);
    assert_eq!(body["error"], "forbidden");
    // without a unit, our own unit: the neighbour's response is not there
    let body = stats(&app, &ours, "from=2026-08-01&to=2026-08-31&group_by=unit").await;
    assert_eq!(body["groups"], serde_json::json!([]));
    let theirs = app.api_key(SEED.other_unit);
    let body = stats(&app, &theirs, "from=2026-08-01&to=2026-08-31&group_by=unit").await;
    assert_eq!(group(&body, SEED.other_unit)["responses"], 1);
    assert_eq!(group(&body, SEED.other_unit)["label"], "UBND xã Kim Bình");
    let r = app.get("/api/v1/stats?from=2026-08-01&to=2026-08-31").await;
    let (status, body) = (r.status, r.json());
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");
}

#[actix_web::test]
async fn bad_parameters_are_refused_with_400_in_the_standard_shape() {
    let app = TestApp::new().await;
    app.seed();
    let key = app.api_key(SEED.unit);
    for (query, code) in [
        ("to=2026-01-31", "missing_parameter"),
        ("from=2026-02-30&to=2026-03-01", "invalid_date"),
        ("from=2026-03-01&to=2026-02-01", "invalid_range"),
        ("from=2026-01-01&to=2026-01-31&group_by=week", "invalid_group_by"),
        ("from=2026-01-01&to=2026-01-31&channel=fax", "invalid_filter"),
        ("from=2026-01-01&to=2026-01-31&officer=%27%3B%20drop", "invalid_filter"),
        ("from=2026-01-01&to=2026-01-31&limit=5", "unknown_parameter"),
    ] {
        let r = app.get(&format!("/api/v1/stats?{query}")).with_key(&key).await;
        let (status, body) = (r.status, r.json());
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"], code, "{query}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// Runs `sipas demo` on the app's database; returns what it printed.
fn run_demo(app: &TestApp, responses: u32, seed: u32) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipas"))
        .args(["demo", "--responses", &responses.to_string(), "--seed", &seed.to_string()])
        .env("DATABASE_URL", &app.url)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[actix_web::test]
async fn the_demo_command_fills_the_tables_the_service_reads() {
    let app = TestApp::new().await;
    let indexes_before = indexes_of_loaded_tables(&mut app.conn());
    assert!(run_demo(&app, 3000, 3).contains("3000 responses"));
    // the load drops the indexes of the empty tables and builds them again, all of them
    assert_eq!(indexes_of_loaded_tables(&mut app.conn()), indexes_before);
    let key = app.api_key("CHIEMHOA");
    let today = Utc::now().with_timezone(&FixedOffset::east_opt(LOCAL).unwrap()).date_naive();
    let from = today - chrono::Days::new(800);
    let body = stats(&app, &key, &format!("from={from}&to={today}&group_by=field")).await;
    let (raws, invs) = read_raw(&app);
    let chiemhoa = |u: &str, _: &str, _: &str, _: &str, _: &str| u == "CHIEMHOA";
    check_against_raw(&body, &raws, &invs, "field", (from, today), &chiemhoa, 5);
    // land cases rate lower than civil status, as the demo intends
    let land = group(&body, "DATDAI")["overall"]["rate"].as_f64().unwrap();
    let civil = group(&body, "HOTICH")["overall"]["rate"].as_f64().unwrap();
    assert!(land < civil, "land {land} vs civil status {civil}");
    assert_eq!(group(&body, "DATDAI")["label"], "Đất đai");
    let all: usize = raws.len();
    assert_eq!(all, 3000);
    assert!(invs.len() > 3600 && invs.len() < 5000, "{} invitations", invs.len());
}

/// The one text column of every row a query returns.
fn lines(conn: &mut PgConnection, sql: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let lines: Vec<Line> = diesel::sql_query(sql).load(conn).unwrap();
    lines.into_iter().map(|l| l.line).collect()
}

/// Every index and key of the tables `sipas demo` loads, as definitions, in name order.
fn indexes_of_loaded_tables(conn: &mut PgConnection) -> Vec<String> {
    let lines = lines(
        conn,
        "SELECT indexname || ': ' || indexdef AS line FROM pg_indexes \
         WHERE tablename IN ('invitations', 'responses', 'answers') \
         UNION ALL \
         SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid IN ('invitations'::regclass, 'responses'::regclass, 'answers'::regclass) \
         ORDER BY 1",
    );
    assert!(lines.len() > 20, "{} indexes and constraints", lines.len());
    lines
}

/// Every non-zero row of both roll-up tables, in key order.
fn rollup_tables(conn: &mut PgConnection) -> Vec<String> {
    lines(
        conn,
        "SELECT t::text AS line FROM ( \
           SELECT 'day' AS tab, grouping_set, day, unit_code, officer_code, procedure_code, channel, held, \
                  item_code, level, n, scored, points FROM rollup_day \
           UNION ALL \
           SELECT 'month', grouping_set, month, unit_code, officer_code, procedure_code, channel, held, \
                  item_code, level, n, scored, points FROM rollup_month) t \
         WHERE n <> 0 OR scored <> 0 OR points <> 0 \
         ORDER BY tab, unit_code, grouping_set, day, officer_code, procedure_code, channel, held, item_code, level",
    )
}

#[actix_web::test]
async fn the_demo_roll_ups_counted_while_generating_equal_a_rebuild_from_the_raw_answers() {
    let app = TestApp::new().await;
    let said = run_demo(&app, 2000, 11);
    assert!(said.contains("roll-ups counted while generating"), "{said}");
    let mut conn = app.conn();
    // the staged integrity patterns went through the answer path: fold their deltas first
    rollup::compact(&mut conn).unwrap();
    let counted = rollup_tables(&mut conn);
    assert!(counted.len() > 10_000, "{} roll-up rows", counted.len());
    rollup::rebuild(&mut conn, &app.state.instruments).unwrap();
    let rebuilt = rollup_tables(&mut conn);
    assert_eq!(counted.len(), rebuilt.len());
    for (c, r) in counted.iter().zip(&rebuilt) {
        assert_eq!(c, r);
    }
}

#[actix_web::test]
async fn the_demo_rebuilds_the_roll_ups_when_its_second_connection_fails() {
    let app = TestApp::new().await;
    let mut conn = app.conn();
    // nothing listens on port 1: the roll-up writer gives up, the load goes on
    let said = sipas::demo::generate(
        &mut conn,
        Some("postgres://nobody@127.0.0.1:1/nothing"),
        &app.state.instruments,
        sipas::demo::Plan::ending_yesterday(600, 5),
    )
    .unwrap();
    assert!(said.contains("roll-ups rebuilt from the raw answers"), "{said}");
    let responses: i64 = responses::table.count().get_result(&mut conn).unwrap();
    assert_eq!(responses, 600);
    let written = rollup_tables(&mut conn);
    assert!(written.len() > 1_000, "{} roll-up rows", written.len());
    rollup::rebuild(&mut conn, &app.state.instruments).unwrap();
    assert_eq!(written, rollup_tables(&mut conn));
}

#[actix_web::test]
async fn answers_sent_through_the_survey_api_show_in_the_statistics_at_once() {
    let app = TestApp::with_config(|c| {
        c.min_n = Some(1);
        c.integrity.min_seconds_to_answer = 0; // answered right after issue: not what this test is about
    })
    .await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let mut tokens = Vec::new();
    for officer in [SEED.officers[0], SEED.officers[0], SEED.officers[1]] {
        let body = serde_json::json!({
            "procedure_code": SEED.procedures[0], "officer_code": officer, "unit_code": SEED.unit
        });
        let res = app.post_json("/api/v1/invitations", &body).with_key(&key).await;
        assert_eq!(res.status, 201);
        let body = res.json();
        tokens.push(body["token"].as_str().unwrap().to_string());
    }
    let post = |token: &str, answers: Value| {
        app.post_json(&format!("/api/v1/responses/{token}"), &serde_json::json!({ "answers": answers }))
    };
    let first = post(&tokens[0], serde_json::json!({"CASE.OVERALL": 5, "TT01.I7": 1})).await;
    assert_eq!(first.status, 201);
    // an addition: the early result raises the I7 points of the same case
    let added = post(&tokens[0], serde_json::json!({"TT01.I1": 1, "E1.1": 4})).await;
    assert_eq!(added.status, 200);
    let second = post(&tokens[2], serde_json::json!({"CASE.OVERALL": 2})).await;
    assert_eq!(second.status, 201);
    // yesterday too, in case local midnight passed while the test ran
    let today = Utc::now().with_timezone(&FixedOffset::east_opt(LOCAL).unwrap()).date_naive();
    let range = format!("from={}&to={today}&group_by=officer", today - chrono::Days::new(1));
    let body = stats(&app, &key, &range).await;
    let a = group(&body, SEED.officers[0]);
    assert_eq!((a["responses"].clone(), a["invitations"].clone()), (1.into(), 2.into()));
    assert_eq!(a["response_rate"], 50.0);
    assert_eq!(a["overall"]["rate"], 100.0);
    assert_eq!(a["tt01"]["TT01.I7"], 2.0);
    assert_eq!(a["tt01"]["TT01.I1"], 2.0);
    assert_eq!(a["elements"]["E1"], serde_json::json!({"index": 100.0, "n": 1}));
    let b = group(&body, SEED.officers[1]);
    assert_eq!(b["overall"]["rate"], 0.0);
    assert_eq!(b["overall"]["counts"], serde_json::json!({"2": 1}));
    // the same after the compactor folds the deltas, and after a rebuild from the raw answers
    rollup::compact(&mut app.conn()).unwrap();
    assert_eq!(stats(&app, &key, &range).await, body);
    rollup::rebuild(&mut app.conn(), &app.state.instruments).unwrap();
    assert_eq!(stats(&app, &key, &range).await, body);
}

#[actix_web::test]
async fn case_facts_and_answers_give_indicators_one_two_and_seven_from_the_facts() {
    let app = TestApp::with_config(|c| {
        c.min_n = Some(1);
        c.integrity.min_seconds_to_answer = 0; // answered right after issue: not what this test is about
    })
    .await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let today = sipas::kernel::time::today();
    let tomorrow = (today + Duration::days(1)).format("%Y-%m-%d").to_string();
    let day = today.format("%Y-%m-%d").to_string();
    let base = serde_json::json!({
        "procedure_code": SEED.procedures[0], "officer_code": SEED.officers[0], "unit_code": SEED.unit,
    });
    // A: returned today, due tomorrow → early (indicator 1: 2 points); its one step was done on
    // its due day → indicator 2: 1 point. Its resident says "late" and "no harassment".
    let mut a = base.clone();
    a["case_number"] = "F-A".into();
    a["due_at"] = tomorrow.clone().into();
    a["returned_at"] = day.clone().into();
    a["steps"] = serde_json::json!([{"unit": "Công chức Tư pháp - Hộ tịch", "due_at": day, "done_at": day}]);
    // B: no facts; its resident says "on time" and "no harassment".
    let mut b = base.clone();
    b["case_number"] = "F-B".into();
    for (body, answers) in [
        (&a, serde_json::json!({"CASE.OVERALL": 5, "TT01.I1": 3, "TT01.I7": 1})),
        (&b, serde_json::json!({"CASE.OVERALL": 4, "TT01.I1": 2, "TT01.I7": 1})),
    ] {
        let r = app.post_json("/api/v1/invitations", body).with_key(&key).await;
        assert_eq!(r.status, 201, "{}", r.json());
        let token = r.json()["token"].as_str().unwrap_or_default().to_string();
        let r = app
            .post_json(&format!("/api/v1/responses/{token}"), &serde_json::json!({ "answers": answers }))
            .await;
        assert_eq!(r.status, 201, "{}", r.json());
    }
    let q = format!("from={day}&to={day}");
    let body = stats(&app, &key, &q).await;
    let t = &group(&body, "all")["tt01"];
    // I1: A from facts 2, B from its resident 1 → 1.5, mixed; the residents' view (0 + 1) / 2 = 0.5
    assert_eq!(t["TT01.I1"], 1.5, "{t}");
    assert_eq!(t["indicators"]["TT01.I1"]["source"], "mixed");
    assert_eq!(
        (
            t["indicators"]["TT01.I1"]["from_facts"].as_u64(),
            t["indicators"]["TT01.I1"]["from_resident"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(t["indicators"]["TT01.I1"]["resident_view"], 0.5);
    // I2: only A has steps → 1.0, from the facts
    assert_eq!(t["TT01.I2"], 1.0);
    assert_eq!(t["indicators"]["TT01.I2"]["source"], "facts");
    // I7: A's "no" earns 2 since the facts say early (its resident's "late" would give 1); B's 1 → 1.5
    assert_eq!(t["TT01.I7"], 1.5);
    assert_eq!(t["indicators"]["TT01.I7"]["resident_view"], 1.0);
    // with I8 = 2 (no follow-up), four of nine scored: 1.5 + 1.0 + 1.5 + 2 = 6.0, no band
    assert_eq!(t["TT01.I8"], 2.0);
    assert_eq!(t["indicators"]["TT01.I8"]["source"], "followups");
    assert_eq!(t["total"], 6.0);
    assert_eq!(t["band"], Value::Null);
    assert_eq!(t["summary"]["vi"], "6,0 điểm trên 4/9 chỉ tiêu (tối đa 8)");
    // the officer over their five: the same three of five, no band either
    let by_officer = stats(&app, &key, &format!("{q}&group_by=officer")).await;
    let o = &group(&by_officer, SEED.officers[0])["tt01"];
    assert_eq!((o["of"].as_u64(), o["band"].clone()), (Some(5), Value::Null));
    assert_eq!(o["summary"]["vi"], "4,0 điểm trên 3/5 chỉ tiêu (tối đa 6)");
    // the compactor and a rebuild from the raw tables agree with the incremental figures
    rollup::compact(&mut app.conn()).unwrap();
    assert_eq!(stats(&app, &key, &q).await, body, "after compaction");
    rollup::rebuild(&mut app.conn(), &app.state.instruments).unwrap();
    assert_eq!(stats(&app, &key, &q).await, body, "after rebuild");
}

/// Opens a follow-up for a response as of `opened` (local date), due `deadline`, replied on
/// `replied` if given.
fn followup(
    app: &TestApp,
    response: i64,
    opened: NaiveDate,
    deadline: NaiveDate,
    replied: Option<NaiveDate>,
) {
    let at = |d: NaiveDate| format!("'{}T10:00:00+07:00'::timestamptz", d.format("%Y-%m-%d"));
    let (status, reply) = match replied {
        Some(d) => ("'answered'", format!("'Đã trả lời', {}", at(d))),
        None => ("'new'", "NULL, NULL".to_string()),
    };
    diesel::sql_query(format!(
        "INSERT INTO followups (response_id, unit_code, officer_code, triggers, owner, status, opened_at, deadline, reply, replied_at) \
         SELECT r.id, r.unit_code, r.officer_code, ARRAY['comment'], 'leader:' || r.unit_code, {status}, {}, '{}'::date, {reply} \
         FROM responses r WHERE r.id = {response}",
        at(opened),
        deadline.format("%Y-%m-%d"),
    ))
    .execute(&mut app.conn())
    .unwrap();
}

#[actix_web::test]
async fn indicator_eight_follows_the_units_follow_ups_on_time_late_and_prolonged() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let at = local(2026, 3, 2, 9, 0);
    let mut ids = Vec::new();
    for _ in 0..10 {
        let inv = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id;
        ids.push(answer(&app, inv, at, &[("CASE.OVERALL", Value::from(2))]));
    }
    let i8 = |body: &Value, key: &str| group(body, key)["tt01"]["TT01.I8"].clone();
    // Q1 without follow-ups: 2
    assert_eq!(i8(&stats(&app, &key, "from=2026-01-01&to=2026-03-31").await, "all"), 2.0);
    // nine answered on time, one late: 90% → 1
    for id in &ids[..9] {
        followup(&app, *id, d(2026, 3, 2), d(2026, 3, 16), Some(d(2026, 3, 10)));
    }
    followup(&app, ids[9], d(2026, 3, 2), d(2026, 3, 16), Some(d(2026, 3, 17)));
    let body = stats(&app, &key, "from=2026-01-01&to=2026-03-31&group_by=quarter").await;
    assert_eq!(i8(&body, "2026-Q1"), 1.0);
    assert_eq!(group(&body, "2026-Q1")["tt01"]["indicators"]["TT01.I8"]["source"], "followups");
    // a second late one: 9 of 11 on time, under 90% → 0
    let inv = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id;
    let late = answer(&app, inv, at, &[("CASE.OVERALL", Value::from(1))]);
    followup(&app, late, d(2026, 3, 3), d(2026, 3, 17), Some(d(2026, 3, 20)));
    assert_eq!(i8(&stats(&app, &key, "from=2026-01-01&to=2026-03-31").await, "all"), 0.0);
    // in April, all on time but one still unanswered past its deadline (prolonged): 0; Q2 alone
    let at = local(2026, 4, 6, 9, 0);
    let a = answer(
        &app,
        issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id,
        at,
        &[("CASE.OVERALL", Value::from(2))],
    );
    let b = answer(
        &app,
        issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id,
        at,
        &[("CASE.OVERALL", Value::from(2))],
    );
    followup(&app, a, d(2026, 4, 6), d(2026, 4, 20), Some(d(2026, 4, 8)));
    let q2 = "from=2026-04-01&to=2026-06-30";
    assert_eq!(i8(&stats(&app, &key, q2).await, "all"), 2.0);
    followup(&app, b, d(2026, 4, 6), d(2026, 4, 20), None);
    assert_eq!(i8(&stats(&app, &key, q2).await, "all"), 0.0);
    // an officer is not judged on indicator 8
    let by_officer = stats(&app, &key, &format!("{q2}&group_by=officer")).await;
    assert_eq!(group(&by_officer, SEED.officers[0])["tt01"].get("TT01.I8"), None);
}

/// The 95% Wilson interval, in percent, of a sum `k` of 0–1 scores over `n` answers.
fn wilson_f(k: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (100.0 * (centre - half), 100.0 * (centre + half))
}

/// The second formula (issue 16): the mean level on 1–5 shown as 0–100, chosen per query and
/// stated in the answer; the share of levels 4–5 stays the default. 5, 5, 4, 3 scores 81.25
/// under the mean and 75 under the share; elements and the index are means of those scores.
#[actix_web::test]
async fn the_mean_formula_scores_5_5_4_3_as_81_25_and_states_itself() {
    let app = TestApp::with_config(|c| c.min_n = Some(1)).await;
    app.seed();
    let key = app.api_key(SEED.unit);
    let at = local(2026, 6, 2, 9, 0);
    for (overall, e11, e12) in [(5, 5, 1), (5, 5, 2), (4, 4, 1), (3, 3, 1)] {
        let inv = issue(&app, SEED.officers[0], SEED.procedures[0], "desk", at).id;
        answer(
            &app,
            inv,
            at,
            &[("CASE.OVERALL", Value::from(overall)), ("E1.1", Value::from(e11)), ("E1.2", Value::from(e12))],
        );
    }
    let dates = "from=2026-06-01&to=2026-06-30";
    let share = stats(&app, &key, dates).await;
    assert_eq!(share["formula"], "share45");
    let explicit = stats(&app, &key, &format!("{dates}&formula=share45")).await;
    assert_eq!(explicit["groups"], share["groups"]);
    let g = group(&share, "all");
    assert_eq!(g["overall"]["rate"], 75.0);

    let mean = stats(&app, &key, &format!("{dates}&formula=mean100")).await;
    assert_eq!(mean["formula"], "mean100");
    let m = group(&mean, "all");
    // (4.25 − 1) ÷ 4 × 100 = 81.25; the counts are the same under both formulas
    assert_eq!(m["overall"]["rate"], 81.25);
    assert_eq!(m["overall"]["counts"], g["overall"]["counts"]);
    let (lo, hi) = wilson_f(3.25, 4.0);
    let ci = &m["overall"]["ci95"];
    assert!(
        (ci[0].as_f64().unwrap() - lo).abs() < 0.006 && (ci[1].as_f64().unwrap() - hi).abs() < 0.006,
        "{ci}"
    );
    // E1.1 = 81.25, E1.2 = (1.25 − 1) ÷ 4 × 100 = 6.25; E1 is their mean, the index E1's alone
    assert_eq!(m["criteria"]["E1.1"]["rate"], 81.25);
    assert_eq!(m["criteria"]["E1.2"]["rate"], 6.25);
    assert_eq!(m["elements"]["E1"]["index"], 43.75);
    assert_eq!(m["sipas_index"], 43.75);
    // under the share: E1.1 75, E1.2 0, E1 37.5
    assert_eq!(g["elements"]["E1"]["index"], 37.5);
    // counts and TT01 points do not depend on the formula
    assert_eq!(m["tt01"], g["tt01"]);
    assert_eq!(m["responses"], g["responses"]);

    let r = app.get(&format!("/api/v1/stats?{dates}&formula=median")).with_key(&key).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_formula");
    let r = app.get(&format!("/api/v1/stats/comparison?{dates}&formula=mean100")).with_key(&key).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_formula");
}
