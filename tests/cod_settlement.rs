//! COD settlement over HTTP, on SQLite and PostgreSQL (docs/cod.md): remittances matched to collected COD orders,
//! stored once under `(courier, reference)`, outstanding cash by age, refusal rates, the `cod_cancelled` payment
//! status, and the finance scopes.
//!
//! Ageing is tested by moving `as_of`: the orders are collected now, and the report is asked for days later.

mod common;

use common::cod::{collected, number, place_cod, shipped};
use common::{TestApp, assert_problem};
use futures::future::join_all;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn finance(app: &TestApp) -> String {
    app.token("fin-1", "finance:read finance:write")
}

async fn post(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/cod/remittances", app.api))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn get_ok(app: &TestApp, path: &str) -> Value {
    let response = get(app, &finance(app), path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn remittance(reference: &str, lines: Value, deductions: Value) -> Value {
    json!({"courier": "Aramex", "reference": reference, "remitted_at": "2026-12-01T10:00:00Z", "currency": "KWD",
           "lines": lines, "deductions": deductions})
}

fn kwd(amount: i64) -> Value {
    json!({"amount_minor": amount, "currency": "KWD"})
}

fn results(r: &Value) -> Vec<&str> {
    r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["result"].as_str().unwrap())
        .collect()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

async fn lines_are_matched_short_excess_unknown_and_duplicate(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 50).await;
    let a = collected(&app, "Aramex", "AX-1").await;
    let b = collected(&app, "Aramex", "AX-2").await;
    let c = collected(&app, "Aramex", "AX-3").await;
    let other = collected(&app, "DHL", "DH-1").await;
    let body = remittance(
        "AR-2026-12-01",
        json!([
            {"order_number": number(&a), "amount_minor": 1235},
            {"tracking_number": "AX-2", "amount_minor": 1135},
            {"order_number": number(&c), "amount_minor": 1300},
            {"order_number": "KW-999999999", "amount_minor": 500},
            {"order_number": number(&other), "amount_minor": 1235},
            {"order_number": number(&a), "amount_minor": 1235},
        ]),
        json!([{"kind": "fee", "amount_minor": 300}, {"kind": "return_fee", "amount_minor": 200, "order_number": number(&b)}]),
    );
    let response = post(&app, &finance(&app), &body).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let r: Value = response.json().await.unwrap();
    assert_eq!(
        results(&r),
        ["matched", "short", "excess", "unknown", "unknown", "duplicate"]
    );
    assert_eq!(r["lines"][1]["order_number"], json!(number(&b)));
    assert_eq!(r["lines"][1]["expected_minor"], 1235);
    assert_eq!(r["lines"][0]["tracking_number"], "AX-1");
    assert_eq!(r["lines"][3]["expected_minor"], Value::Null);
    let remitted = 1235 + 1135 + 1300 + 500 + 1235 + 1235;
    assert_eq!(
        r["sums"],
        json!({"remitted": kwd(remitted), "expected": kwd(3 * 1235), "deductions": kwd(500),
               "net": kwd(remitted - 500), "difference": kwd(remitted - 3 * 1235)})
    );
    assert_eq!(
        r["deductions"][1],
        json!({"kind": "return_fee", "amount_minor": 200, "order_number": number(&b)})
    );
    assert_eq!(location, format!("/v1/cod/remittances/{}", r["id"].as_str().unwrap()));
    assert_eq!(get_ok(&app, &location).await, r);

    // A later remittance: A is paid over already; B's shortfall of 100 is what B still owes.
    let later = remittance(
        "AR-2026-12-08",
        json!([{"order_number": number(&a), "amount_minor": 1235}, {"order_number": number(&b), "amount_minor": 100}]),
        json!([]),
    );
    let r2: Value = post(&app, &finance(&app), &later).await.json().await.unwrap();
    assert_eq!(results(&r2), ["duplicate", "matched"]);
    assert_eq!(r2["lines"][1]["expected_minor"], 100);
    assert_eq!(r2["sums"]["expected"], kwd(100));
    assert_eq!(r2["sums"]["difference"], kwd(1235));
}

async fn the_same_remittance_posted_twice_is_one(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let a = collected(&app, "Aramex", "AX-1").await;
    let body = remittance(
        "R-1",
        json!([{"order_number": number(&a), "amount_minor": 1235}]),
        json!([]),
    );
    let first = post(&app, &finance(&app), &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = post(&app, &finance(&app), &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    // The same remittance spelled differently: the time in another zone, no deductions at all.
    let mut respelled = body.clone();
    respelled["remitted_at"] = json!("2026-12-01T13:00:00+03:00");
    respelled.as_object_mut().unwrap().remove("deductions");
    let replay = post(&app, &finance(&app), &respelled).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap(), first);

    let mut changed = body.clone();
    changed["lines"][0]["amount_minor"] = json!(1000);
    let problem = assert_problem(post(&app, &finance(&app), &changed).await, 409, "remittance_conflict").await;
    assert!(problem["detail"].as_str().unwrap().contains("R-1"), "{problem}");
    assert_eq!(get_ok(&app, "/v1/cod/outstanding").await["couriers"], json!([]));
}

async fn concurrent_posts_store_one_and_never_pay_an_order_twice(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let a = collected(&app, "Aramex", "AX-1").await;
    let token = finance(&app);
    let same = remittance(
        "R-1",
        json!([{"order_number": number(&a), "amount_minor": 1235}]),
        json!([]),
    );
    let answers = join_all((0..8).map(|_| post(&app, &token, &same))).await;
    let mut statuses = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for response in answers {
        statuses.push(response.status().as_u16());
        let r: Value = response.json().await.unwrap();
        ids.insert(r["id"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    assert_eq!(ids.len(), 1);

    // Two different remittances claiming the same order at once: one pays it, the other finds it paid.
    let b = collected(&app, "Aramex", "AX-2").await;
    let claims = (0..6).map(|i| {
        let body = remittance(
            &format!("C-{i}"),
            json!([{"order_number": number(&b), "amount_minor": 1235}]),
            json!([]),
        );
        let (app, token) = (&app, &token);
        async move { post(app, token, &body).await.json::<Value>().await.unwrap() }
    });
    let mut found: Vec<String> = join_all(claims)
        .await
        .iter()
        .map(|r| r["lines"][0]["result"].as_str().unwrap().to_owned())
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "duplicate",
            "duplicate",
            "duplicate",
            "duplicate",
            "duplicate",
            "matched"
        ]
    );
}

async fn outstanding_cash_is_aged_by_days_since_collection(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let before = OffsetDateTime::now_utc();
    let a = collected(&app, "Aramex", "AX-1").await;
    let b = collected(&app, "Aramex", "AX-2").await;
    collected(&app, "DHL", "DH-1").await;
    let now = OffsetDateTime::now_utc();
    let at = |days: i64| rfc3339(now + time::Duration::days(days));
    for (days, bucket) in [
        (0, "0-7"),
        (7, "0-7"),
        (8, "8-14"),
        (14, "8-14"),
        (15, "15-30"),
        (30, "15-30"),
        (31, "over_30"),
    ] {
        let report = get_ok(&app, &format!("/v1/cod/outstanding?courier=Aramex&as_of={}", at(days))).await;
        let couriers = report["couriers"].as_array().unwrap();
        assert_eq!(couriers.len(), 1, "{report}");
        assert_eq!(couriers[0]["courier"], "Aramex");
        assert_eq!(couriers[0]["currency"], "KWD");
        for name in ["0-7", "8-14", "15-30", "over_30"] {
            let expected = if name == bucket { 2 * 1235 } else { 0 };
            assert_eq!(couriers[0]["buckets"][name], kwd(expected), "{days} days: {report}");
        }
        let orders = couriers[0]["orders"].as_array().unwrap();
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[0]["age_days"], days);
        assert_eq!(orders[0]["amount"], kwd(1235));
    }
    // Before the collections there was nothing to remit; every courier by default.
    let early = get_ok(
        &app,
        &format!(
            "/v1/cod/outstanding?as_of={}",
            rfc3339(before - time::Duration::hours(1))
        ),
    )
    .await;
    assert_eq!(early["couriers"], json!([]));
    assert_eq!(
        get_ok(&app, "/v1/cod/outstanding").await["couriers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A short line leaves the shortfall outstanding; a full one clears the order.
    let body = remittance(
        "R-1",
        json!([{"order_number": number(&a), "amount_minor": 1000}, {"order_number": number(&b), "amount_minor": 1235}]),
        json!([]),
    );
    assert_eq!(post(&app, &finance(&app), &body).await.status(), 201);
    let report = get_ok(&app, &format!("/v1/cod/outstanding?courier=Aramex&as_of={}", at(1))).await;
    let orders = &report["couriers"][0]["orders"];
    assert_eq!(orders.as_array().unwrap().len(), 1, "{report}");
    assert_eq!(orders[0]["order_number"], json!(number(&a)));
    assert_eq!(orders[0]["amount"], kwd(235));
    assert_eq!(report["couriers"][0]["buckets"]["0-7"], kwd(235));
}

async fn refusal_rates_count_shipped_and_refused_cod_orders(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 20).await;
    let start = OffsetDateTime::now_utc();
    for i in 0..3 {
        let o = shipped(&app, "Aramex", &format!("AX-{i}")).await;
        if i == 0 {
            app.step(&o, "cod/refuse", Some(json!({"reason": "not at home"}))).await;
        }
    }
    let s = shipped(&app, "SMSA", "SM-1").await;
    app.step(&s, "cod/refuse", None).await;
    place_cod(&app, 1).await; // never shipped: not counted
    let report = get_ok(&app, "/v1/cod/returns").await;
    assert_eq!(
        report["couriers"],
        json!([{"courier": "Aramex", "shipped": 3, "refused": 1, "refusal_rate_bp": 3333},
               {"courier": "SMSA", "shipped": 1, "refused": 1, "refusal_rate_bp": 10000}])
    );
    let one = get_ok(&app, "/v1/cod/returns?courier=SMSA").await;
    assert_eq!(one["couriers"].as_array().unwrap().len(), 1);
    let window = format!(
        "/v1/cod/returns?from={}&to={}",
        rfc3339(start - time::Duration::days(2)),
        rfc3339(start)
    );
    assert_eq!(get_ok(&app, &window).await["couriers"], json!([]));
}

async fn a_cancelled_cod_order_owes_no_cash(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let o = place_cod(&app, 1).await;
    let o = app.step(&o, "cancel", None).await;
    assert_eq!(
        o["status"],
        json!({"order": "cancelled", "payment": "cod_cancelled", "fulfilment": "unfulfilled"})
    );
    let events = app
        .state
        .store
        .order_events(uuid::Uuid::parse_str(o["id"].as_str().unwrap()).unwrap())
        .await
        .unwrap();
    let replayed = orderly::domain::order::Order::replay(&events).unwrap();
    assert_eq!(replayed.status.payment.to_string(), "cod_cancelled");
    assert_eq!(get_ok(&app, "/v1/cod/outstanding").await["couriers"], json!([]));
    assert_eq!(get_ok(&app, "/v1/cod/returns").await["couriers"], json!([]));
}

async fn finance_scopes_are_required(app: TestApp) {
    let staff = app.staff();
    let body = remittance("R-1", json!([{"order_number": "KW-1", "amount_minor": 1}]), json!([]));
    let problem = assert_problem(post(&app, &staff, &body).await, 403, "insufficient_scope").await;
    assert!(problem["detail"].as_str().unwrap().contains("finance:write"));
    let reader = app.token("fin-2", "finance:read");
    assert_problem(post(&app, &reader, &body).await, 403, "insufficient_scope").await;
    for path in [
        "/v1/cod/outstanding",
        "/v1/cod/returns",
        &format!("/v1/cod/remittances/{}", uuid::Uuid::now_v7()),
    ] {
        assert_problem(get(&app, &staff, path).await, 403, "insufficient_scope").await;
    }
    let missing = get(&app, &reader, &format!("/v1/cod/remittances/{}", uuid::Uuid::now_v7())).await;
    assert_problem(missing, 404, "remittance_not_found").await;
    assert_problem(
        get(&app, &reader, "/v1/cod/remittances/not-a-uuid").await,
        404,
        "remittance_not_found",
    )
    .await;
}

async fn bad_remittances_are_refused_with_pointers(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let a = collected(&app, "Aramex", "AX-1").await;
    let token = finance(&app);
    let bad = json!({"courier": " ", "reference": "R", "remitted_at": "yesterday", "currency": "XXX",
        "lines": [{"amount_minor": 5}, {"order_number": "A", "tracking_number": "B", "amount_minor": 5},
                  {"order_number": "A", "amount_minor": 0}],
        "deductions": [{"kind": "tip", "amount_minor": -1}]});
    let problem = assert_problem(post(&app, &token, &bad).await, 422, "validation_failed").await;
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/courier",
            "/remitted_at",
            "/currency",
            "/lines/0",
            "/lines/1",
            "/lines/2/amount_minor",
            "/deductions/0/kind",
            "/deductions/0/amount_minor"
        ]
    );
    let empty = remittance("R", json!([]), json!([]));
    assert_problem(post(&app, &token, &empty).await, 422, "validation_failed").await;
    let huge = remittance("R", json!([{"order_number": "A", "amount_minor": i64::MAX}]), json!([]));
    assert_problem(post(&app, &token, &huge).await, 422, "validation_failed").await;
    let mut aed = remittance(
        "R",
        json!([{"order_number": number(&a), "amount_minor": 1235}]),
        json!([]),
    );
    aed["currency"] = json!("AED");
    let problem = assert_problem(post(&app, &token, &aed).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/lines/0");
    assert!(problem["errors"][0]["detail"].as_str().unwrap().contains("KWD"));
    let query = get(&app, &token, "/v1/cod/outstanding?as_of=soon").await;
    assert_eq!(
        assert_problem(query, 422, "validation_failed").await["errors"][0]["pointer"],
        "/as_of"
    );
    // Nothing refused was stored.
    assert_eq!(
        get_ok(&app, "/v1/cod/outstanding").await["couriers"][0]["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

on_both_backends!(
    lines_are_matched_short_excess_unknown_and_duplicate,
    the_same_remittance_posted_twice_is_one,
    concurrent_posts_store_one_and_never_pay_an_order_twice,
    outstanding_cash_is_aged_by_days_since_collection,
    refusal_rates_count_shipped_and_refused_cod_orders,
    a_cancelled_cod_order_owes_no_cash,
    finance_scopes_are_required,
    bad_remittances_are_refused_with_pointers,
);
