//! The external contract: the OpenAPI document the service serves is generated from the
//! handlers (`src/openapi.rs`), and a change to it shows in review as a change to the committed
//! snapshot `docs/openapi.json`. After a deliberate change, `UPDATE_SNAPSHOTS=1 cargo test
//! contract` rewrites the snapshot; review its diff and commit it with the code.

use std::path::PathBuf;

use actix_web::dev::ResourceDef;
use serde_json::Value;

use crate::harness::TestApp;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json")
}

/// Every operation of the document: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[actix_web::test]
async fn the_served_openapi_document_is_the_committed_snapshot() {
    let app = TestApp::new().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").starts_with("application/json"));
    let served = res.json();
    let path = snapshot_path();
    let pretty = serde_json::to_string_pretty(&served).expect("serialisable") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &pretty).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let committed: Value = serde_json::from_str(&committed).unwrap_or(Value::Null);
    if committed != served {
        let changed: Vec<String> = operations(&served)
            .iter()
            .filter(|(m, p, op)| committed["paths"][p][m.to_lowercase()] != *op)
            .map(|(m, p, _)| format!("{m} {p}"))
            .collect();
        panic!(
            "the served OpenAPI document differs from docs/openapi.json (operations changed or added: {changed:?}); \
             if the change is meant, run `UPDATE_SNAPSHOTS=1 cargo test contract` and commit the snapshot"
        );
    }
}

#[actix_web::test]
async fn every_path_parameter_of_the_contract_is_defined() {
    let doc = sipas::openapi::document();
    let doc = serde_json::to_value(&doc).expect("serialisable");
    let mut undefined = Vec::new();
    for (method, path, op) in operations(&doc) {
        let defined: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        let mut rest = path.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map(|c| open + c).expect("a closed parameter");
            let name = &rest[open + 1..close];
            if !defined.contains(&name) {
                undefined.push(format!("{method} {path}: {{{name}}}"));
            }
            rest = &rest[close + 1..];
        }
    }
    assert!(undefined.is_empty(), "path parameters without a definition: {undefined:?}");
}

#[actix_web::test]
async fn every_documented_operation_is_a_route_of_the_access_table() {
    let doc = serde_json::to_value(sipas::openapi::document()).expect("serialisable");
    let mut unknown = Vec::new();
    for (method, path, _) in operations(&doc) {
        // a concrete address of the documented template: `/q/{token}.png` → `/q/x.png`
        let mut concrete = String::new();
        let mut rest = path.as_str();
        while let Some(open) = rest.find('{') {
            concrete.push_str(&rest[..open]);
            concrete.push('x');
            rest = &rest[rest[open..].find('}').map(|c| open + c + 1).expect("closed")..];
        }
        concrete.push_str(rest);
        let served = sipas::auth::access::ROUTES
            .iter()
            .any(|r| r.method == method && ResourceDef::new(r.pattern).is_match(&concrete));
        if !served {
            unknown.push(format!("{method} {path}"));
        }
    }
    assert!(unknown.is_empty(), "documented but not routes of the service: {unknown:?}");
}
