//! The survey in a real browser: boots the real server on a free port and runs
//! `tests/browser/survey.mjs` (playwright-core driving Debian's headless Chromium), which answers
//! one survey with JavaScript and one without, by clicking. Screenshots land in `artifacts/`.
//! Missing tools fail the test with the command that installs them; it never passes silently.

use std::path::Path;
use std::process::Command;

use crate::fixtures::stored_for as answers_of;
use crate::harness::{SEED, TestApp};

/// Runs a script of `tests/browser/` with these arguments; fails with its output when it fails.
async fn run_node(script: &str, args: Vec<String>) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/browser").join(script);
    let chromium = tools();
    let output = actix_web::web::block(move || {
        Command::new("node").arg(script).args(args).env("CHROMIUM_PATH", chromium).output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "the browser test failed:\n{stdout}\n{stderr}");
    stdout
}

/// Checks that node, its modules and Chromium are there; returns Chromium's path.
fn tools() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        root.join("tests/browser/node_modules/playwright-core").is_dir()
            && root.join("tests/browser/node_modules/axe-core").is_dir(),
        "the browser tests need their node modules: run `npm ci --prefix tests/browser`"
    );
    assert!(
        Path::new(&chromium).exists(),
        "the browser tests need Debian's Chromium at {chromium}: run `apt-get install -y chromium`"
    );
    assert!(
        Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success()),
        "the browser tests need Node.js: run `apt-get install -y nodejs npm`"
    );
    chromium
}

#[actix_web::test]
async fn a_resident_answers_by_clicking_in_chromium_with_and_without_javascript() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let app = TestApp::new().await;
    app.seed();
    let with_js = app.insert_invitation(SEED.unit, SEED.officers[0], SEED.procedures[0]);
    let without_js = app.insert_invitation(SEED.unit, SEED.officers[1], SEED.procedures[2]);
    let base = app.spawn_server();
    let urls = vec![format!("{base}/s/{}", with_js.token), format!("{base}/s/{}", without_js.token)];
    run_node("survey.mjs", urls).await;

    assert_eq!(
        answers_of(&app, with_js.id),
        ["CASE.OVERALL=4", "COMMENT=Cán bộ hướng dẫn tận tình.", "EXP=2,5,10", "TT01.I1=2", "TT01.I7=1",]
    );
    assert_eq!(
        answers_of(&app, without_js.id),
        [
            "CASE.OVERALL=5",
            "COMMENT=Cán bộ hướng dẫn tận tình.",
            "D.ETHNIC=2",
            "D.SEX=2",
            "E1.2=5",
            "E5.1=3",
            "E5.GATE=1",
            "EXP=2,5,10",
            "TT01.I1=2",
            "TT01.I7=1",
        ]
    );
    assert!(root.join("artifacts/survey-first-screen-nojs-360x740.png").is_file());
    // UPDATE_SCREENSHOTS=1 refreshes the committed screenshots of the survey (docs/screenshots/)
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = root.join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        for entry in std::fs::read_dir(root.join("artifacts")).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("survey-") && name.ends_with("-360x740.png") {
                std::fs::copy(entry.path(), docs.join(&name)).unwrap();
            }
        }
    }
}

#[actix_web::test]
async fn the_read_aloud_button_speaks_each_question_with_a_vietnamese_voice_and_is_absent_without() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let app = TestApp::new().await;
    app.seed();
    let invitations: Vec<_> =
        (0..3).map(|i| app.insert_invitation(SEED.unit, SEED.officers[i % 2], SEED.procedures[i])).collect();
    let base = app.spawn_server();
    let out =
        run_node("read-aloud.mjs", invitations.iter().map(|i| format!("{base}/s/{}", i.token)).collect())
            .await;
    assert!(out.contains("browser read-aloud: 4 passed"));
    assert!(root.join("artifacts/survey-read-aloud-360x740.png").is_file());
    // reading aloud answers nothing: only the tap on "Hài lòng" and the case screen's empty send
    assert_eq!(answers_of(&app, invitations[0].id), ["CASE.OVERALL=4"]);
    assert!(answers_of(&app, invitations[1].id).is_empty());
    assert!(answers_of(&app, invitations[2].id).is_empty());
}

#[actix_web::test]
async fn a_third_language_chosen_on_a_phone_shows_its_texts_and_falls_back_to_vietnamese() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/translations");
    let app = TestApp::with_config(|c| c.translations_dir = Some(dir)).await;
    app.seed();
    let inv = app.insert_invitation(SEED.unit, SEED.officers[0], SEED.procedures[0]);
    let base = app.spawn_server();
    let out = run_node("languages.mjs", vec![format!("{base}/s/{}", inv.token)]).await;
    assert!(out.contains("browser languages: 1 passed"));
    assert_eq!(answers_of(&app, inv.id), ["CASE.OVERALL=4", "TT01.I1=2"]);
    assert!(root.join("artifacts/survey-third-language-360x740.png").is_file());
}

#[actix_web::test]
async fn a_half_filled_screen_is_kept_when_the_resident_leaves_and_statements_come_one_at_a_time() {
    let app = TestApp::new().await;
    app.seed();
    let inv = app.insert_invitation(SEED.unit, SEED.officers[0], SEED.procedures[0]);
    let r = app
        .post_json(
            &format!("/api/v1/responses/{}", inv.token),
            &serde_json::json!({"answers": {"CASE.OVERALL": 4}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let base = app.spawn_server();
    let out = run_node("long-survey.mjs", vec![format!("{base}/s/{}", inv.token)]).await;
    assert!(out.contains("browser long survey: 1 passed"));
    // two statements kept on leaving, the third sent with the form, nothing twice
    assert_eq!(answers_of(&app, inv.id), ["CASE.OVERALL=4", "E1.1=5", "E1.2=3", "E1.3=4"]);
}
