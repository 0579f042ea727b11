//! `GET /v1/orders?q=`: finding an order by the customer's name in Arabic or English however it is spelled, by a
//! phone in any form, by part of an order number (Orderly's or a legacy one), or by customer id; with the list's
//! filters and cursor pagination; on both backends.

mod common;

use std::collections::BTreeSet;

use common::{Backend, TestApp, assert_problem};
use serde_json::{Value, json};

/// Places an order for `customer` shipped to `name` at `phone` in `country`; returns (id, number).
async fn order(app: &TestApp, customer: &str, name: &str, phone: &str, country: &str) -> (String, String) {
    let body = json!({
        "customer_id": customer,
        "currency": "KWD",
        "ship_to": {"name": name, "line1": "Block 3", "city": "Salmiya", "country": country, "phone": phone},
        "lines": [{"sku": "OUD-1", "quantity": 1}],
        "payment_method": "cod",
    });
    let key = format!("k-{customer}-{}", uuid::Uuid::new_v4());
    let created = app.create_order(&app.staff(), &key, &body).await;
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap_or_default());
    let v: Value = created.json().await.unwrap();
    (
        v["id"].as_str().unwrap().to_owned(),
        v["number"].as_str().unwrap().to_owned(),
    )
}

async fn search_page(app: &TestApp, query: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(format!("{}/v1/orders", app.api))
        .bearer_auth(app.staff())
        .query(query)
        .send()
        .await
        .unwrap()
}

/// The customer ids of every order `q` finds (all pages).
async fn found(app: &TestApp, q: &str) -> BTreeSet<String> {
    let page: Value = search_page(app, &[("q", q), ("limit", "100")])
        .await
        .json()
        .await
        .unwrap();
    assert!(page["next_cursor"].is_null(), "{q}: more than a page");
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{q}: {page}"))
        .iter()
        .map(|o| o["customer_id"].as_str().unwrap().to_owned())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

async fn names_in_arabic_and_english_are_found_however_they_are_spelled(app: TestApp) {
    app.stocked("OUD-1", 1_235, "KWD", 1_000).await;
    let people = [
        ("c-ahmad-1", "أحمد عبدالله"),
        ("c-ahmad-2", "أَحْمَـــد الكندري"),
        ("c-ahmad-3", "احمد"),
        ("c-mohammad", "محمد الأحمدي"),
        ("c-fatima", "فاطمة الزهراء"),
        ("c-mustafa", "مصطفى"),
        ("c-ali", "علی رضا"),
        ("c-karim", "کریم"),
        ("c-amna", "آمنة"),
        ("c-iman", "إيمان مؤمن"),
        ("c-hani", "هانئ"),
        ("c-fatima-en", "Fatima Al-Kandari"),
        ("c-jose", "José Núñez"),
    ];
    for (i, (customer, name)) in people.iter().enumerate() {
        order(&app, customer, name, &format!("+9655000{i:04}"), "KW").await;
    }
    // Hamza forms, tatweel and harakat fold away; `احمد` is a prefix of `الأحمدي`'s second word only after "ال".
    assert_eq!(found(&app, "احمد").await, set(&["c-ahmad-1", "c-ahmad-2", "c-ahmad-3"]));
    assert_eq!(found(&app, "أَحمد عبد").await, set(&["c-ahmad-1"]));
    assert_eq!(found(&app, "الاحمد").await, set(&["c-mohammad"]));
    assert_eq!(found(&app, "فاطمه").await, set(&["c-fatima"]), "ta marbuta");
    assert_eq!(found(&app, "مصطفي").await, set(&["c-mustafa"]), "alef maqsura");
    assert_eq!(found(&app, "علي").await, set(&["c-ali"]), "Persian yeh");
    assert_eq!(found(&app, "كريم").await, set(&["c-karim"]), "Persian keheh");
    assert_eq!(found(&app, "امنه").await, set(&["c-amna"]), "alef with madda");
    assert_eq!(
        found(&app, "ايمان مومن").await,
        set(&["c-iman"]),
        "hamza below, waw with hamza"
    );
    assert_eq!(found(&app, "هاني").await, set(&["c-hani"]), "yeh with hamza");
    assert_eq!(found(&app, "fatima al").await, set(&["c-fatima-en"]));
    assert_eq!(found(&app, "KANDARI").await, set(&["c-fatima-en"]));
    assert_eq!(
        found(&app, "nunez jose").await,
        set(&["c-jose"]),
        "accents, case and word order"
    );
    assert_eq!(
        found(&app, "fatimah").await,
        set(&[]),
        "every query word must be a prefix"
    );
}

async fn phones_are_found_in_every_form_and_customer_ids_whole(app: TestApp) {
    app.stocked("OUD-1", 1_235, "KWD", 1_000).await;
    order(&app, "c-kw", "Ali", "+965 5000 0001", "KW").await;
    order(&app, "c-kw-national", "Badr", "50000002", "KW").await;
    order(&app, "c-eg", "Hoda", "+20 100 123 4567", "EG").await;
    order(&app, "Cust-Mixed-Case", "Noor", "+965 6000 0003", "KW").await;
    for q in [
        "+965 5000 0001",
        "0096550000001",
        "٥٠٠٠٠٠٠١",
        "50000001",
        "965-5000-0001",
    ] {
        assert_eq!(found(&app, q).await, set(&["c-kw"]), "{q}");
    }
    assert_eq!(
        found(&app, "+965 5000 0002").await,
        set(&["c-kw-national"]),
        "stored without its calling code"
    );
    assert_eq!(
        found(&app, "٠١٠٠١٢٣٤٥٦٧").await,
        set(&["c-eg"]),
        "Arabic-Indic digits, trunk 0"
    );
    assert_eq!(found(&app, "00201001234567").await, set(&["c-eg"]));
    assert_eq!(found(&app, "cust-mixed-case").await, set(&["Cust-Mixed-Case"]));
    assert_eq!(found(&app, "cust-mixed").await, set(&[]), "a customer id matches whole");
}

async fn order_numbers_match_by_any_fragment_of_four_characters(app: TestApp) {
    app.stocked("OUD-1", 1_235, "KWD", 1_000).await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        numbers.push(order(&app, &format!("c-{i}"), "Salem", "+96550001000", "KW").await.1);
    }
    let last = &numbers[2];
    let fragment = &last[last.len() - 5..];
    assert_eq!(found(&app, fragment).await, set(&["c-2"]), "{fragment} of {last}");
    assert_eq!(found(&app, &last.to_lowercase()).await, set(&["c-2"]));
    assert_eq!(
        found(&app, &last[..4]).await.len(),
        3,
        "the store prefix is in every number"
    );
}

async fn search_combines_with_filters_and_pages_newest_first(app: TestApp) {
    app.stocked("OUD-1", 1_235, "KWD", 1_000).await;
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(
            order(&app, &format!("c-{i:02}"), "سارة المطيري", "+96550002000", "KW")
                .await
                .0,
        );
    }
    order(&app, "c-other", "Layla", "+96550003000", "KW").await;
    let cancelled = &ids[3];
    let cancel = app.cancel(&app.staff(), cancelled, 1, "cancel-1").await;
    assert_eq!(cancel.status(), 200);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", "ساره"), ("limit", "10")];
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let page: Value = search_page(&app, &query).await.json().await.unwrap();
        for o in page["items"].as_array().unwrap() {
            seen.push(o["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "three pages, newest first, no repeats, no gaps");

    let only_cancelled: Value = search_page(&app, &[("q", "المطيري"), ("status", "cancelled")])
        .await
        .json()
        .await
        .unwrap();
    let items = only_cancelled["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], cancelled.as_str());

    let future: Value = search_page(&app, &[("q", "ساره"), ("created_from", "2100-01-01T00:00:00Z")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(future["items"].as_array().unwrap().len(), 0);
}

async fn a_query_of_stop_characters_or_one_letter_is_refused_and_customers_cannot_search(app: TestApp) {
    for q in ["!!", "  ", "a", "ـ", "-- .."] {
        assert_problem(search_page(&app, &[("q", q)]).await, 422, "validation_failed").await;
    }
    let customer = app
        .client
        .get(format!("{}/v1/orders", app.api))
        .bearer_auth(app.customer("c-1"))
        .query(&[("q", "احمد")])
        .send()
        .await
        .unwrap();
    assert_problem(customer, 403, "insufficient_scope").await;
}

on_both_backends!(
    names_in_arabic_and_english_are_found_however_they_are_spelled,
    phones_are_found_in_every_form_and_customer_ids_whole,
    order_numbers_match_by_any_fragment_of_four_characters,
    search_combines_with_filters_and_pages_newest_first,
    a_query_of_stop_characters_or_one_letter_is_refused_and_customers_cannot_search,
);

/// Orders brought across from the legacy system are found by their legacy number and by their Arabic names as the
/// export spelled them (tatweel, harakat, forms that are not NFC), whatever the search's spelling.
async fn legacy_orders_are_found_by_legacy_number_and_name(backend: Backend) {
    let Some(db) = common::fresh_db(backend).await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let export = common::legacy::temp("export", &root);
    let expected = common::legacy::generate(&export, &["--orders", "40", "--seed", "7"]);
    common::legacy::import(&db, &export, &common::legacy::temp("report", &root), &[]);
    let app = TestApp::serve(db).await;
    let accepted = expected["orders_detail"].as_object().expect("expected orders");
    let (legacy_id, want) = accepted.iter().next().expect("an accepted order");
    let number = want["number"].as_str().expect("number");
    let fragment = &number[number.len() - 6..];
    let page: Value = search_page(&app, &[("q", &fragment.to_lowercase()), ("limit", "100")])
        .await
        .json()
        .await
        .unwrap();
    let numbers: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap())
        .collect();
    assert!(numbers.contains(&number), "{legacy_id}: {fragment} -> {numbers:?}");
    let name = want["ship_name"].as_str().expect("name");
    let first_word = orderly::domain::search::fold(name)
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    let by_name: Value = search_page(&app, &[("q", first_word.as_str()), ("limit", "100")])
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = by_name["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&number), "{name} as {first_word} -> {ids:?}");
}

mod legacy {
    use super::*;
    on_each_backend!(legacy_orders_are_found_by_legacy_number_and_name);
}
