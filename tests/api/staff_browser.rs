//! Runs the staff pages' browser scripts (`tests/browser/*.mjs`, playwright-core driving Debian's
//! headless Chromium) against a real server. The scripts save screenshots under `artifacts/`;
//! with `UPDATE_SCREENSHOTS=1` they also refresh the committed ones in `docs/screenshots/`.
//! Missing tools fail the test with the command that installs them; it never passes silently.

use std::path::Path;
use std::process::Command;

/// Runs `tests/browser/{script}` with `args`; panics with its output unless it succeeds.
/// Returns its standard output.
pub async fn run_script(script: &str, args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/browser").join(script);
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        root.join("tests/browser/node_modules/playwright-core").is_dir(),
        "the browser tests need their node modules: run `npm ci --prefix tests/browser`"
    );
    assert!(
        Path::new(&chromium).exists(),
        "the browser tests need Debian's Chromium at {chromium}: run `apt-get install -y chromium`"
    );
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
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
