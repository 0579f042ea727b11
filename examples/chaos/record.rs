//! What the load client recorded: one line of JSON per order a client meant to place (an intent), with every
//! attempt it made and the answer it finally settled on. The checker reads it back.

use serde::{Deserialize, Serialize};

/// One order a checkout client meant to place. `customer_id` is unique per intent, so every order in the database
/// can be traced back to the intent it came from, whatever key it was placed under.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Intent {
    pub intent: String,
    pub customer_id: String,
    pub attempts: Vec<Attempt>,
    pub outcome: Outcome,
}

/// One HTTP request: its key, when it left and came back (ms since the load started) and what came back.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attempt {
    pub key: String,
    pub sent_ms: u64,
    pub done_ms: u64,
    /// `201`, `409 insufficient_stock`, `503 database_unavailable`, `timeout`, `connect` ...
    pub answer: String,
}

/// Where an intent ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// 201: the order as the client was told about it.
    Acknowledged(Acked),
    /// A definite refusal (a 4xx the client does not retry).
    Refused { status: u16, code: String },
    /// No definite answer before the client gave up.
    Undetermined,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acked {
    pub order_id: String,
    pub number: String,
    pub key: String,
    pub grand_total_minor: i64,
    /// (sku, quantity, unit price, line total), in line order.
    pub lines: Vec<AckedLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckedLine {
    pub sku: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub total_minor: i64,
}

/// The record's first line: what was run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    pub scenario: String,
    pub started_unix_ms: u64,
    pub seconds: u64,
}

impl Acked {
    /// Reads the order view of a 201 body.
    pub fn from_view(view: &serde_json::Value, key: &str) -> Option<Acked> {
        let amount = |v: &serde_json::Value| v.get("amount_minor").and_then(serde_json::Value::as_i64);
        let lines = view
            .get("lines")?
            .as_array()?
            .iter()
            .map(|l| {
                Some(AckedLine {
                    sku: l.get("sku")?.as_str()?.to_owned(),
                    quantity: l.get("quantity")?.as_i64()?,
                    unit_price_minor: amount(l.get("unit_price")?)?,
                    total_minor: amount(l.get("total")?)?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Acked {
            order_id: view.get("id")?.as_str()?.to_owned(),
            number: view.get("number")?.as_str()?.to_owned(),
            key: key.to_owned(),
            grand_total_minor: amount(view.get("totals")?.get("grand_total")?)?,
            lines,
        })
    }
}
