//! Table-driven: every state-changing endpoint honours Idempotency-Key (replay, reuse) and If-Match (428, 412),
//! on both backends.

mod common;

use common::{TestApp, assert_problem, order_body};
use serde_json::{Value, json};

/// A staff step: the action path after `/v1/orders/{id}/` and its body.
type Step = (String, Option<Value>);

/// One endpoint: how to bring an order to where the command is valid, the action path and two distinct bodies.
struct Case {
    name: &'static str,
    method: &'static str,
    /// Staff steps to run first: (action, body).
    setup: fn(&Value) -> Vec<Step>,
    action: fn(&Value) -> String,
    body: fn(&Value) -> Option<Value>,
    other_body: fn(&Value) -> Option<Value>,
}

fn total(o: &Value) -> i64 {
    o["totals"]["grand_total"]["amount_minor"].as_i64().unwrap()
}

fn ship_all() -> Value {
    json!({"lines": [{"sku": "OUD", "quantity": 2}], "carrier": "Aramex", "tracking_number": "T1"})
}

fn authorize(o: &Value) -> Step {
    (
        "payment/authorize".into(),
        Some(json!({"amount_minor": total(o), "provider_ref": "p"})),
    )
}

fn capture(o: &Value) -> Step {
    ("payment/capture".into(), Some(json!({"amount_minor": total(o)})))
}

fn ship() -> Step {
    ("shipments".into(), Some(ship_all()))
}

fn first(o: &Value, list: &str) -> String {
    o[list][0]["id"].as_str().unwrap().to_owned()
}

const CASES: &[Case] = &[
    Case {
        name: "cancel",
        method: "card",
        setup: |_| vec![],
        action: |_| "cancel".into(),
        body: |_| Some(json!({"reason": "changed my mind"})),
        other_body: |_| Some(json!({"reason": "found it cheaper"})),
    },
    Case {
        name: "authorize",
        method: "card",
        setup: |_| vec![],
        action: |_| "payment/authorize".into(),
        body: |o| Some(json!({"amount_minor": total(o), "provider_ref": "a"})),
        other_body: |o| Some(json!({"amount_minor": total(o), "provider_ref": "b"})),
    },
    Case {
        name: "capture",
        method: "card",
        setup: |o| vec![authorize(o)],
        action: |_| "payment/capture".into(),
        body: |_| Some(json!({"amount_minor": 100})),
        other_body: |_| Some(json!({"amount_minor": 200})),
    },
    Case {
        name: "void",
        method: "card",
        setup: |o| vec![authorize(o)],
        action: |_| "payment/void".into(),
        body: |_| None,
        other_body: |_| Some(json!({"reason": "fraud check"})),
    },
    Case {
        name: "fail",
        method: "card",
        setup: |_| vec![],
        action: |_| "payment/fail".into(),
        body: |_| Some(json!({"reason": "declined"})),
        other_body: |_| Some(json!({"reason": "expired card"})),
    },
    Case {
        name: "ship",
        method: "cod",
        setup: |_| vec![],
        action: |_| "shipments".into(),
        body: |_| Some(ship_all()),
        other_body: |_| {
            Some(json!({"lines": [{"sku": "OUD", "quantity": 1}], "carrier": "Aramex", "tracking_number": "T2"}))
        },
    },
    Case {
        name: "deliver",
        method: "cod",
        setup: |_| vec![ship()],
        action: |o| format!("shipments/{}/deliver", first(o, "shipments")),
        body: |_| None,
        other_body: |_| Some(json!({"reason": "left with the guard"})),
    },
    Case {
        name: "cod collect",
        method: "cod",
        setup: |_| vec![ship()],
        action: |_| "cod/collect".into(),
        body: |o| Some(json!({"amount_minor": total(o), "courier_ref": "d1"})),
        other_body: |o| Some(json!({"amount_minor": total(o), "courier_ref": "d2"})),
    },
    Case {
        name: "cod refuse",
        method: "cod",
        setup: |_| vec![ship()],
        action: |_| "cod/refuse".into(),
        body: |_| Some(json!({"reason": "not home"})),
        other_body: |_| Some(json!({"reason": "refused"})),
    },
    Case {
        name: "request return",
        method: "card",
        setup: |o| vec![authorize(o), capture(o), ship()],
        action: |_| "returns".into(),
        body: |_| Some(json!({"lines": [{"sku": "OUD", "quantity": 1}], "reason": "too big"})),
        other_body: |_| Some(json!({"lines": [{"sku": "OUD", "quantity": 2}]})),
    },
    Case {
        name: "receive return",
        method: "cod",
        setup: |_| vec![ship(), ("cod/refuse".into(), None)],
        action: |o| format!("returns/{}/receive", first(o, "returns")),
        body: |_| Some(json!({"restock": true})),
        other_body: |_| Some(json!({"restock": false})),
    },
    Case {
        name: "refund",
        method: "card",
        setup: |o| vec![authorize(o), capture(o)],
        action: |_| "refunds".into(),
        body: |_| Some(json!({"amount_minor": 100, "reason": "goodwill"})),
        other_body: |_| Some(json!({"amount_minor": 200})),
    },
];

/// Deliveries need the shipment delivered before collection; the table's setup ships, this delivers when asked.
async fn prepare(app: &TestApp, case: &Case) -> Value {
    let mut body = order_body("KWD", "KW", &[("OUD", 2)]);
    body["payment_method"] = json!(case.method);
    let mut o: Value = app
        .create_order(&app.staff(), &uuid::Uuid::new_v4().to_string(), &body)
        .await
        .json()
        .await
        .unwrap();
    for (action, body) in (case.setup)(&o) {
        o = app.step(&o, &action, body).await;
    }
    if case.name == "cod collect" || case.name == "request return" {
        let shipment = first(&o, "shipments");
        o = app.step(&o, &format!("shipments/{shipment}/deliver"), None).await;
    }
    o
}

async fn every_command_honours_idempotency_key_and_if_match(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 1000).await;
    let staff = app.staff();
    for case in CASES {
        let o = prepare(&app, case).await;
        let id = o["id"].as_str().unwrap();
        let version = o["version"].as_i64().unwrap();
        let action = (case.action)(&o);
        let url = format!("{}/v1/orders/{id}/{action}", app.api);
        let body = (case.body)(&o);
        let name = case.name.replace(' ', "-");

        // No If-Match: 428. Stale If-Match: 412. Neither changes the order.
        let mut no_match = app
            .client
            .post(&url)
            .bearer_auth(&staff)
            .header("idempotency-key", format!("{name}-a"));
        if let Some(b) = &body {
            no_match = no_match.json(b);
        }
        assert_problem(no_match.send().await.unwrap(), 428, "if_match_required").await;
        let stale = app
            .command(&staff, id, &action, version - 1, &format!("{name}-b"), body.clone())
            .await;
        assert_problem(stale, 412, "version_conflict").await;
        let unchanged: Value = app.get_order(&staff, id).await.json().await.unwrap();
        assert_eq!(unchanged["version"], version, "{name}");

        // First use applies; the same key and body replay the same response; another body is refused.
        let key = format!("{name}-c");
        let first = app.command(&staff, id, &action, version, &key, body.clone()).await;
        let status = first.status();
        let first_body: Value = first.json().await.unwrap();
        assert!(status.is_success(), "{name}: {status} {first_body}");
        let replay = app.command(&staff, id, &action, version, &key, body.clone()).await;
        assert_eq!(replay.status(), status, "{name}");
        assert_eq!(replay.headers()["idempotent-replayed"], "true", "{name}");
        assert_eq!(replay.json::<Value>().await.unwrap(), first_body, "{name}");
        let reused = app
            .command(&staff, id, &action, version, &key, (case.other_body)(&o))
            .await;
        assert_problem(reused, 422, "idempotency_key_reused").await;
        let after: Value = app.get_order(&staff, id).await.json().await.unwrap();
        assert_eq!(after["version"], first_body["version"], "{name}: applied exactly once");
    }
}

on_both_backends!(every_command_honours_idempotency_key_and_if_match);
