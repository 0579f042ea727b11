//! The checked-in OpenAPI document is the one the code generates and serves.
//! After an intended API change: `UPDATE_OPENAPI=1 cargo test --test openapi`, then review the diff.

mod common;

use common::{Backend, TestApp};

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");

#[test]
fn the_checked_in_document_matches_the_generated_one() {
    let generated = orderly::http::openapi::document();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(CHECKED_IN, format!("{generated}\n")).unwrap();
    }
    let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap();
    assert!(
        checked_in.trim_end() == generated.trim_end(),
        "docs/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test --test openapi"
    );
    let doc: serde_json::Value = serde_json::from_str(generated).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/orders",
        "/v1/orders/{id}",
        "/v1/orders/{id}/cancel",
        "/v1/products/{sku}",
        "/v1/stock/{sku}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let list_params = doc["paths"]["/v1/orders"]["get"]["parameters"].as_array().unwrap();
    assert!(list_params.iter().all(|p| p["in"] == "query"));
}

#[tokio::test]
async fn the_document_is_served_at_openapi_json() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let served = app
        .client
        .get(format!("{}/openapi.json", app.api))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, orderly::http::openapi::document());
}
