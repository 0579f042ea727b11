//! A stored COD remittance is a record finance reconciles against: the database itself refuses to change or delete
//! it (migration 0008's triggers), on both backends, whoever connects.

mod common;

use common::legacy::try_sql;

use common::*;
use serde_json::json;

async fn a_stored_remittance_cannot_be_changed_or_deleted(app: TestApp) {
    let finance = app.token("fin-1", "finance:read finance:write");
    app.stocked("OUD", 1235, "KWD", 50).await;
    let order = common::cod::collected(&app, "Aramex", "AX-1").await;
    let body = json!({"courier": "Aramex", "reference": "AR-1", "remitted_at": "2026-12-01T10:00:00Z",
        "currency": "KWD", "lines": [{"order_number": order["number"], "amount_minor": 1235}], "deductions": []});
    let response = app
        .client
        .post(format!("{}/v1/cod/remittances", app.api))
        .bearer_auth(&finance)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let stored: serde_json::Value = response.json().await.unwrap();
    assert_eq!(stored["lines"][0]["result"], "matched");
    for statement in [
        "UPDATE cod_remittances SET reference = 'AR-2'",
        "DELETE FROM cod_remittances",
        "UPDATE cod_remitted SET amount_minor = 1",
        "DELETE FROM cod_remitted",
    ] {
        let refused = try_sql(&app.db, statement).await.expect_err(statement);
        assert!(refused.contains("append-only"), "{statement}: {refused}");
    }
    let again: serde_json::Value = app
        .client
        .get(format!(
            "{}/v1/cod/remittances/{}",
            app.api,
            stored["id"].as_str().unwrap()
        ))
        .bearer_auth(&finance)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, stored, "unchanged");
}

on_both_backends!(a_stored_remittance_cannot_be_changed_or_deleted,);
