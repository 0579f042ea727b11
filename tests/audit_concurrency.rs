//! The audit log is one chain even when catalog and stock writes race: concurrent writers never chain onto the
//! same row (which would fork the chain, or fail on the duplicate `seq` as a 500), on either backend.

mod common;

use common::legacy::{orderly, scalar};
use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn concurrent_writes_make_one_unbroken_chain(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for i in 0..4 {
        app.stocked(&format!("SKU-{i}"), 100, "KWD", 1).await;
    }
    let writes = (0..40).map(|n| {
        let (client, api, token) = (app.client.clone(), app.api.clone(), app.staff());
        tokio::spawn(async move {
            client
                .put(format!("{api}/v1/stock/SKU-{}", n % 4))
                .bearer_auth(token)
                .json(&json!({"on_hand": n + 10}))
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    for write in writes.collect::<Vec<_>>() {
        assert_eq!(write.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(scalar(&app.db, "SELECT count(*) FROM audit_log").await, 48);
    let out = orderly(&app.db, &["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("audit_rows=48 broken=0"), "{stdout}");
}

on_each_backend!(concurrent_writes_make_one_unbroken_chain);
