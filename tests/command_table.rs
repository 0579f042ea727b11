//! Walks the command table and holds the router, the scope check, the OpenAPI document and the domain to it: for
//! every command the route and method answer, the scopes are the ones enforced, the success status is the one
//! returned, the problem codes are the ones documented, and the body parses into the domain command of the same
//! name. Every other operation of `operations()` is held to the document too.

mod common;

use std::collections::BTreeSet;

use common::{Backend, TestApp, order_body};
use orderly::http::commands::{COMMANDS, Context, Entry};
use orderly::http::openapi::{Operation, document_value, operations};
use orderly::http::wire::OrderLimits;
use serde_json::{Value, json};

/// How to reach the state where a command succeeds, and a body for it; keyed by the command's name.
struct Scenario {
    method: &'static str,
    setup: &'static [&'static str],
    body: fn(&Value) -> Option<Value>,
}

fn total(o: &Value) -> i64 {
    o["totals"]["grand_total"]["amount_minor"].as_i64().unwrap()
}

fn scenario(name: &str) -> Scenario {
    let s = |method, setup, body| Scenario { method, setup, body };
    match name {
        "cancel" => s("card", &[], |_| Some(json!({"reason": "changed my mind"}))),
        "authorize" => s("card", &[], |o| {
            Some(json!({"amount_minor": total(o), "provider_ref": "auth-1"}))
        }),
        "capture" => s("card", &["authorize"], |o| Some(json!({"amount_minor": total(o)}))),
        "void" => s("card", &["authorize"], |_| None),
        "fail" => s("card", &[], |_| Some(json!({"reason": "declined"}))),
        "ship" => s("cod", &[], |_| Some(ship_body())),
        "deliver" => s("cod", &["ship"], |_| None),
        "collect_cod" => s("cod", &["ship", "deliver"], |o| {
            Some(json!({"amount_minor": total(o), "courier_ref": "c-1"}))
        }),
        "refuse_cod" => s("cod", &["ship"], |_| Some(json!({"reason": "not home"}))),
        "request_return" => s("cod", &["ship", "deliver"], |_| {
            Some(json!({"lines": [{"sku": "OUD", "quantity": 1}]}))
        }),
        "receive_return" => s("cod", &["ship", "refuse_cod"], |_| Some(json!({"restock": true}))),
        "refund" => s("card", &["authorize", "capture"], |_| {
            Some(json!({"amount_minor": 100}))
        }),
        "edit" => s("card", &["authorize"], |_| {
            Some(json!({"operations": [{"op": "set_quantity", "sku": "OUD", "quantity": 1}]}))
        }),
        other => panic!("no scenario for the command `{other}`: add one here"),
    }
}

fn ship_body() -> Value {
    json!({"lines": [{"sku": "OUD", "quantity": 2}], "carrier": "Aramex", "tracking_number": "T1"})
}

fn entry(name: &str) -> &'static Entry {
    COMMANDS.iter().find(|e| e.spec.name == name).unwrap()
}

/// The path after `/v1/orders/{id}/` of a command on `order`, with its sub-id filled from the order.
fn action(e: &Entry, order: &Value) -> String {
    let mut action = e.spec.path.trim_start_matches("/v1/orders/{id}/").to_owned();
    if let Some(sub) = e.spec.sub_id {
        let list = if sub.param == "shipment_id" {
            "shipments"
        } else {
            "returns"
        };
        let id = order[list][0]["id"].as_str().unwrap();
        action = action.replace(&format!("{{{}}}", sub.param), id);
    }
    action
}

fn setup_body(name: &str, o: &Value) -> Option<Value> {
    match name {
        "authorize" => Some(json!({"amount_minor": total(o), "provider_ref": "p"})),
        "capture" => Some(json!({"amount_minor": total(o)})),
        "ship" => Some(ship_body()),
        _ => None,
    }
}

async fn prepared(app: &TestApp, name: &str) -> (Value, Option<Value>) {
    let scenario = scenario(name);
    let mut body = order_body("KWD", "KW", &[("OUD", 2)]);
    body["payment_method"] = json!(scenario.method);
    let mut o: Value = app
        .create_order(&app.staff(), &uuid::Uuid::new_v4().to_string(), &body)
        .await
        .json()
        .await
        .unwrap();
    for step in scenario.setup {
        let body = setup_body(step, &o);
        o = app.step(&o, &action(entry(step), &o), body).await;
    }
    let body = (scenario.body)(&o);
    (o, body)
}

/// The (status, code) pairs the document lists for an operation, and its success statuses.
fn documented(doc: &Value, op: &Operation) -> (BTreeSet<(u16, String)>, BTreeSet<u16>) {
    let operation = &doc["paths"][op.path][op.method];
    assert!(
        operation.is_object(),
        "{} {} is not in the document",
        op.method,
        op.path
    );
    let mut problems = BTreeSet::new();
    let mut success = BTreeSet::new();
    for (status, response) in operation["responses"].as_object().unwrap() {
        let status: u16 = status.parse().unwrap();
        let schema = &response["content"]["application/problem+json"]["schema"];
        if schema.is_object() {
            for code in schema["properties"]["code"]["enum"].as_array().unwrap() {
                problems.insert((status, code.as_str().unwrap().to_owned()));
            }
        } else {
            success.insert(status);
        }
    }
    (problems, success)
}

fn declared(op: &Operation) -> BTreeSet<(u16, String)> {
    op.problems
        .iter()
        .map(|c| (c.status().as_u16(), c.as_str().to_owned()))
        .collect()
}

#[test]
fn the_document_lists_each_operation_as_declared() {
    let doc = document_value();
    let ops = operations();
    let mut seen = BTreeSet::new();
    for op in &ops {
        assert!(
            seen.insert((op.method, op.path)),
            "{} {} declared twice",
            op.method,
            op.path
        );
        let operation = &doc["paths"][op.path][op.method];
        assert_eq!(operation["operationId"], op.operation_id);
        let scopes: Vec<&str> = operation["security"][0]["bearer"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(scopes, op.scopes, "{}", op.operation_id);
        let (problems, success) = documented(&doc, op);
        assert_eq!(problems, declared(op), "{}: documented problems", op.operation_id);
        let expected: BTreeSet<u16> = op.success.iter().map(|s| s.as_u16()).collect();
        assert_eq!(success, expected, "{}: documented success", op.operation_id);
        for name in path_params(op.path) {
            let params = operation["parameters"].as_array().unwrap();
            assert!(
                params.iter().any(|p| p["in"] == "path" && p["name"] == name),
                "{}: path parameter {name} undeclared",
                op.operation_id
            );
        }
    }
    // Nothing in the document that is not declared.
    let mut in_doc = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            in_doc.insert((method.clone(), path.clone()));
        }
    }
    let declared: BTreeSet<(String, String)> = ops.iter().map(|o| (o.method.into(), o.path.into())).collect();
    assert_eq!(in_doc, declared);
}

fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

/// Sends one request and returns (status, code), checking the answer is one the document lists for `op`.
async fn answer(op: &Operation, request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["code"].as_str().unwrap_or("").to_owned();
    let doc = document_value();
    let (problems, success) = documented(&doc, op);
    assert!(
        success.contains(&status) || problems.contains(&(status, code.clone())),
        "{}: answered {status} {code}, which the document does not list",
        op.operation_id
    );
    (status, code)
}

async fn every_command_behaves_as_its_row_says(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 1000).await;
    let ops = operations();
    let names: BTreeSet<&str> = COMMANDS.iter().map(|e| e.spec.name).collect();
    assert_eq!(names.len(), COMMANDS.len(), "command names are unique");
    let no_scope = app.token("ops-9", "catalog:write");
    let stranger = app.customer("cust-stranger");
    let limits = OrderLimits {
        max_lines: 100,
        max_quantity: 1_000,
    };
    for e in COMMANDS {
        let spec = e.spec;
        let op = ops.iter().find(|o| o.operation_id == spec.name).unwrap();
        let (order, body) = prepared(&app, spec.name).await;
        let id = order["id"].as_str().unwrap();
        let version = order["version"].as_i64().unwrap();
        let action = action(e, &order);
        let url = format!("{}/v1/orders/{id}/{action}", app.api);
        let post = |token: Option<&str>| {
            let mut r = app
                .client
                .post(&url)
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                .header("if-match", format!("\"{version}\""));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            if let Some(b) = &body {
                r = r.json(b);
            }
            r
        };

        // The domain: the body becomes the command of the same name.
        let sub_id = spec.sub_id.map(|_| {
            let raw = action.split('/').nth(1).unwrap();
            uuid::Uuid::parse_str(raw).unwrap()
        });
        let command = (e.parse)(body.clone().unwrap_or(json!({})), Context { limits, sub_id }).unwrap();
        assert_eq!(command.name(), spec.name);

        // The router: the route answers POST, and only POST.
        assert_eq!(
            answer(op, post(None)).await,
            (401, "unauthenticated".into()),
            "{}",
            spec.name
        );
        let get = app.client.get(&url).bearer_auth(app.staff()).send().await.unwrap();
        assert_eq!(get.status().as_u16(), 405, "{}", spec.name);

        // The scope check: none of the scopes is 403; a customer is let in exactly when the row says so (and
        // then finds no order of theirs).
        let (status, code) = answer(op, post(Some(&no_scope))).await;
        assert_eq!((status, code.as_str()), (403, "insufficient_scope"), "{}", spec.name);
        let (status, code) = answer(op, post(Some(&stranger))).await;
        if spec.customers_may {
            assert_eq!((status, code.as_str()), (404, "order_not_found"), "{}", spec.name);
        } else {
            assert_eq!((status, code.as_str()), (403, "insufficient_scope"), "{}", spec.name);
        }

        // The success status, with the headers the document promises.
        let response = post(Some(&app.staff())).send().await.unwrap();
        assert_eq!(response.status(), spec.success, "{}", spec.name);
        assert!(response.headers().contains_key("etag"), "{}", spec.name);
        assert!(response.headers().contains_key("location"), "{}", spec.name);

        // The domain's answer is one the row lists: the same command on a cancelled order.
        let (cancelled, _) = prepared(&app, "fail").await;
        let cancelled = app.step(&cancelled, "cancel", None).await;
        let id = cancelled["id"].as_str().unwrap();
        let url = format!(
            "{}/v1/orders/{id}/{}",
            app.api,
            action.replace(order["id"].as_str().unwrap(), id)
        );
        let mut request = app
            .client
            .post(url)
            .bearer_auth(app.staff())
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .header("if-match", format!("\"{}\"", cancelled["version"]));
        if let Some(b) = &body {
            request = request.json(b);
        }
        // Whatever the domain says (a failed payment may still be recorded after a cancel), the document lists it.
        answer(op, request).await;
    }
}

on_both_backends_and_pgbouncer!(every_command_behaves_as_its_row_says);

#[tokio::test]
async fn every_operation_documents_what_it_answers_without_credentials_and_scope() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let no_scope = app.token("nobody", "");
    for op in operations() {
        let path = op
            .path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{shipment_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{return_id}", &uuid::Uuid::new_v4().to_string())
            .replace("{sku}", "OUD");
        let url = format!("{}{path}", app.api);
        let method = reqwest::Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
        let (status, code) = answer(&op, app.client.request(method.clone(), &url)).await;
        assert_eq!((status, code.as_str()), (401, "unauthenticated"), "{}", op.operation_id);
        let request = app
            .client
            .request(method, &url)
            .bearer_auth(&no_scope)
            .header("idempotency-key", "k")
            .header("if-match", "\"1\"")
            .json(&json!({}));
        let (status, _) = answer(&op, request).await;
        if !op.scopes.is_empty() {
            assert_eq!(status, 403, "{}", op.operation_id);
        }
    }
}
