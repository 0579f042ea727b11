//! The product and stock forms over HTTP, on both backends: saved through the API's parsing and the store's
//! audited writes, refused in plain words next to the field.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestApp;
use crate::http::get;
use crate::support::{SKU, hidden, seed};

crate::on_both_backends!(products_and_stock_are_edited_through_the_catalog);

async fn products_and_stock_are_edited_through_the_catalog(app: TestApp) {
    seed(&app).await;
    let staff = app.staff();
    let page = get(&app, "/console/products", Some(&staff)).await.text().await.unwrap();
    assert!(page.contains(SKU) && page.contains("1.235 KWD"));
    let page = get(&app, &format!("/console/products/{SKU}"), Some(&staff))
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("name_en", "Royal oud 50 ml"),
        ("name_ar", "عود ملكي"),
        ("price_KWD", "1.500"),
        ("price_AED", "45"),
        ("tax_class", "standard"),
        ("active", "on"),
    ];
    let url = format!("{}/console/products/{SKU}", app.api);
    let response = client.post(&url).bearer_auth(&staff).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let product: serde_json::Value = get(&app, &format!("/v1/products/{SKU}"), Some(&staff))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(product["name_ar"], "عود ملكي");
    assert_eq!(
        product["prices"],
        json!([{"amount_minor": 1500, "currency": "KWD"}, {"amount_minor": 4500, "currency": "AED"}])
    );
    let bad = [
        ("csrf", csrf.as_str()),
        ("name_en", ""),
        ("name_ar", "x"),
        ("price_KWD", "1.5555"),
    ];
    let response = client.post(&url).bearer_auth(&staff).form(&bad).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stock = format!("{url}/stock");
    let response = client
        .post(&stock)
        .bearer_auth(&staff)
        .form(&[("csrf", csrf.as_str()), ("on_hand", "70")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.stock(SKU).await["on_hand"], 70);
    // Below what open orders reserve (4 units): refused, shown next to the field.
    let response = client
        .post(&stock)
        .bearer_auth(&staff)
        .form(&[("csrf", csrf.as_str()), ("on_hand", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(app.stock(SKU).await["on_hand"], 70);
}
