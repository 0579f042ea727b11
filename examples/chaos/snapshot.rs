//! What the database and the event stream hold after a scenario, read directly (never through the API under test).
//! The same statements run on PostgreSQL and SQLite: ids and keys are read as text, numbers as 64-bit integers.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use sqlx::Row;

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub orders: Vec<StoredOrder>,
    /// order id -> (sku, quantity, unit price, line total), in line order.
    pub lines: BTreeMap<String, Vec<(String, i64, i64, i64)>>,
    /// order id -> event sequences.
    pub events: BTreeMap<String, Vec<i64>>,
    pub event_ids: Vec<String>,
    pub stock: Vec<StockRow>,
    /// The order id in each stored 201 answer to `POST /v1/orders`, by Idempotency-Key.
    pub keys: Vec<(String, String)>,
    /// Events still waiting for the relay when the snapshot was taken.
    pub unpublished: i64,
    /// The stream's messages in stream order: (event id, order id, sequence).
    pub stream: Vec<(String, String, i64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOrder {
    pub id: String,
    pub number: String,
    pub customer_id: Option<String>,
    pub order_status: String,
    pub grand_total_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockRow {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
}

const ORDERS: &str = "SELECT CAST(id AS TEXT), number, customer_id, order_status, \
    CAST(grand_total_minor AS BIGINT) FROM orders";
const LINES: &str = "SELECT CAST(order_id AS TEXT), sku, CAST(quantity AS BIGINT), \
    CAST(unit_price_minor AS BIGINT), CAST(total_minor AS BIGINT) FROM order_lines ORDER BY order_id, line_no";
const EVENTS: &str = "SELECT CAST(id AS TEXT), CAST(order_id AS TEXT), CAST(sequence AS BIGINT) FROM order_events";
const STOCK: &str = "SELECT sku, CAST(on_hand AS BIGINT), CAST(reserved AS BIGINT) FROM stock";
const KEYS: &str = "SELECT key, response_body FROM idempotency_keys WHERE status_code = 201";
const UNPUBLISHED: &str = "SELECT CAST(count(*) AS BIGINT) FROM order_events WHERE published_at IS NULL";

/// Reads every table the checks need; the same code for both backends.
macro_rules! read_tables {
    ($pool:expr) => {{
        let pool = $pool;
        let mut s = Snapshot::default();
        for r in sqlx::query(ORDERS).fetch_all(pool).await? {
            s.orders.push(StoredOrder {
                id: r.try_get(0)?,
                number: r.try_get(1)?,
                customer_id: r.try_get(2)?,
                order_status: r.try_get(3)?,
                grand_total_minor: r.try_get(4)?,
            });
        }
        for r in sqlx::query(LINES).fetch_all(pool).await? {
            s.lines.entry(r.try_get(0)?).or_default().push((
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
            ));
        }
        for r in sqlx::query(EVENTS).fetch_all(pool).await? {
            s.event_ids.push(r.try_get(0)?);
            s.events.entry(r.try_get(1)?).or_default().push(r.try_get(2)?);
        }
        for r in sqlx::query(STOCK).fetch_all(pool).await? {
            s.stock.push(StockRow {
                sku: r.try_get(0)?,
                on_hand: r.try_get(1)?,
                reserved: r.try_get(2)?,
            });
        }
        for r in sqlx::query(KEYS).fetch_all(pool).await? {
            let body: Option<Vec<u8>> = r.try_get(1)?;
            let order = body
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_owned));
            if let Some(order) = order {
                s.keys.push((r.try_get(0)?, order));
            }
        }
        s.unpublished = sqlx::query(UNPUBLISHED).fetch_one(pool).await?.try_get(0)?;
        s
    }};
}

/// Waits (up to `wait`) for the relay to publish everything, then reads the database.
pub async fn read_database(url: &str, wait: Duration) -> anyhow::Result<Snapshot> {
    let until = tokio::time::Instant::now() + wait;
    loop {
        let s = if url.starts_with("sqlite:") {
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            read_tables!(&pool)
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            read_tables!(&pool)
        };
        if s.unpublished == 0 || tokio::time::Instant::now() >= until {
            return Ok(s);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every message of the stream, in stream order.
pub async fn read_stream(nats_url: &str, stream: &str) -> anyhow::Result<Vec<(String, String, i64)>> {
    let client = async_nats::connect(nats_url).await.context("connecting to NATS")?;
    let js = async_nats::jetstream::new(client);
    let mut handle = js.get_stream(stream).await.context("the event stream")?;
    let state = handle.info().await?.state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return Ok(out);
    }
    for seq in state.first_sequence..=state.last_sequence {
        let m = handle
            .get_raw_message(seq)
            .await
            .with_context(|| format!("stream message {seq}"))?;
        let payload: serde_json::Value = serde_json::from_slice(&m.payload)?;
        let field = |name: &str| payload.get(name).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let (id, order) = (field("id"), field("order_id"));
        let sequence = payload.get("sequence").and_then(serde_json::Value::as_i64).unwrap_or(0);
        out.push((id, order, sequence));
    }
    Ok(out)
}
