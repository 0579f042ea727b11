//! What the console tests share: the seeded catalog and orders, and reading a page's hidden form fields.

use serde_json::{Value, json};

use crate::common::{CUSTOMER_SCOPES, TestApp, order_body};

pub const SKU: &str = "OUD-ROYAL-50";
pub const ARABIC_NAME: &str = "فاطمة الكندري";

/// The backend's name, for screenshot files.
pub fn backend(app: &TestApp) -> &'static str {
    if app.db.config.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A product at 1.235 KWD with 50 on hand, an order of three by a customer with an Arabic name, and another
/// order by someone else; returns the first order.
pub async fn seed(app: &TestApp) -> Value {
    app.stocked(SKU, 1235, "KWD", 50).await;
    let customer = app.token("cust-42", CUSTOMER_SCOPES);
    let mut other = order_body("KWD", "KW", &[(SKU, 1)]);
    other["ship_to"]["name"] = json!("John Smith");
    let response = app
        .create_order(&app.token("cust-7", CUSTOMER_SCOPES), "seed-other", &other)
        .await;
    assert!(response.status().is_success());
    let response = app
        .create_order(&customer, "seed-1", &order_body("KWD", "KW", &[(SKU, 3)]))
        .await;
    assert!(response.status().is_success());
    response.json().await.expect("order")
}

/// The order as the API has it now.
pub async fn api_order(app: &TestApp, id: &str) -> Value {
    app.get_order(&app.staff(), id).await.json().await.expect("order json")
}

/// The value of the first hidden input named `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .map(|i| i + marker.len())
        .unwrap_or_else(|| panic!("no {name} in page"));
    html[start..].split('"').next().unwrap_or_default().to_owned()
}

/// The hidden fields of the form with id `form`.
pub fn form_fields(html: &str, form: &str) -> (String, String, String) {
    let start = html
        .find(&format!("id=\"{form}\""))
        .unwrap_or_else(|| panic!("no form {form}"));
    let section = &html[start..];
    (
        hidden(section, "csrf"),
        hidden(section, "key"),
        hidden(section, "version"),
    )
}
