//! The two statements that place an order, between claiming the key and COMMIT: one reads the products and their
//! prices, locks the stock rows and takes the order number; the other writes the stock reservations, the order,
//! its lines (as `unnest` arrays), its event and the stored idempotent response, as one statement of CTEs.

use std::sync::LazyLock;

use sqlx::{PgConnection, Row};

use super::uow::{StockArrays, bind_event, contention_error, sku_strings};
use crate::audit::chain::{self, GENESIS};
use crate::domain::order::Order;
use crate::domain::search::SearchKeys;
use crate::domain::stock::StockLevel;
use crate::domain::values::{CustomerId, Sku};
use crate::store::commands::{Placed, Placing};
use crate::store::rows::{self, headers_to_json};
use crate::store::{StoreError, db_error};

/// See `load_for_placing`.
pub(super) static LOAD_FOR_PLACING: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH locked AS MATERIALIZED (\
       SELECT sku, on_hand, reserved FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE) \
     SELECT p.sku, p.name_en, p.name_ar, p.tax_class, p.active, \
       ARRAY(SELECT pp.currency::text FROM product_prices pp WHERE pp.sku = p.sku ORDER BY pp.currency) \
         AS currencies, \
       ARRAY(SELECT pp.amount_minor FROM product_prices pp WHERE pp.sku = p.sku ORDER BY pp.currency) \
         AS amounts, \
       l.on_hand, l.reserved, (SELECT count(*) FROM locked) AS n_locked, \
       (SELECT nextval('order_number_seq')) AS seq, {} AS open_unpaid \
     FROM products p LEFT JOIN locked l ON l.sku = p.sku WHERE p.sku = ANY($1) ORDER BY p.sku",
        super::unpaid::open_unpaid_of("$2")
    )
});

/// The number (and the customer's open unpaid orders) when none of the SKUs is in the catalog.
static NUMBER_ONLY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT nextval('order_number_seq') AS seq, {} AS open_unpaid",
        super::unpaid::open_unpaid_of("$1")
    )
});

/// One round trip instead of four: the stock rows are locked (in SKU order, as `lock_stock` does) by the same
/// statement that reads the products and their prices and takes the next order number (evaluated once, as an
/// init plan), and counts the open unpaid orders of `customer` (NULL: none; also an init plan, read after
/// `unpaid::lock_customer`). A pricing error still wins over a stock error; the locks taken are released by the rollback, and
/// the number is left unused (numbers are unique, not contiguous: ADR 0001).
pub(super) async fn load_for_placing(
    conn: &mut PgConnection,
    skus: &[Sku],
    customer: Option<&CustomerId>,
) -> Result<Placing, StoreError> {
    let customer = customer.map(|c| c.as_str());
    let found = sqlx::query(&LOAD_FOR_PLACING)
        .bind(sku_strings(skus))
        .bind(customer)
        .fetch_all(&mut *conn)
        .await
        .map_err(contention_error)?;
    let (number, open_unpaid) = match found.first() {
        Some(r) => (
            r.try_get("seq").map_err(StoreError::internal)?,
            r.try_get("open_unpaid").map_err(StoreError::internal)?,
        ),
        // None of the SKUs is in the catalog, so the order is refused as unknown; only this rare refusal pays a
        // second round trip for the number the port promises.
        None => {
            let r = sqlx::query(&NUMBER_ONLY)
                .bind(customer)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_error)?;
            (
                r.try_get("seq").map_err(StoreError::internal)?,
                r.try_get("open_unpaid").map_err(StoreError::internal)?,
            )
        }
    };
    let mut product_rows = Vec::with_capacity(found.len());
    let mut price_rows = Vec::with_capacity(found.len());
    let mut stock = Vec::with_capacity(found.len());
    for r in &found {
        let sku: String = r.try_get("sku").map_err(StoreError::internal)?;
        let currencies: Vec<String> = r.try_get("currencies").map_err(StoreError::internal)?;
        let amounts: Vec<i64> = r.try_get("amounts").map_err(StoreError::internal)?;
        for (c, a) in currencies.into_iter().zip(amounts) {
            price_rows.push((sku.clone(), c, a));
        }
        let on_hand: Option<i64> = r.try_get("on_hand").map_err(StoreError::internal)?;
        let reserved: Option<i64> = r.try_get("reserved").map_err(StoreError::internal)?;
        if let (Some(on_hand), Some(reserved)) = (on_hand, reserved) {
            stock.push((
                Sku::parse(&sku).map_err(StoreError::internal)?,
                StockLevel { on_hand, reserved },
            ));
        }
        product_rows.push(rows::ProductRow {
            sku,
            name_en: r.try_get("name_en").map_err(StoreError::internal)?,
            name_ar: r.try_get("name_ar").map_err(StoreError::internal)?,
            tax_class: r.try_get("tax_class").map_err(StoreError::internal)?,
            active: r.try_get("active").map_err(StoreError::internal)?,
        });
    }
    Ok(Placing {
        products: rows::products_from_rows(product_rows, price_rows)?,
        stock,
        number,
        open_unpaid,
    })
}

/// See `insert_placed`.
pub(super) const INSERT_PLACED: &str = "WITH o AS (INSERT INTO orders (id, number, store, customer_id, currency, \
       payment_method, order_status, \
       payment_status, fulfilment_status, ship_to, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, \
       shipping_tax_minor, grand_total_minor, version, created_at, updated_at, progress, search_tokens, search_phone) \
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
       $20::jsonb, $48, $49)), \
     l AS (INSERT INTO order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, \
       tax_class, subtotal_minor, tax_minor, total_minor) \
       SELECT $1, * FROM unnest($21::int4[], $22::text[], $23::text[], $24::text[], $25::int4[], $26::int8[], \
       $27::text[], $28::int8[], $29::int8[], $30::int8[])), \
     e AS (INSERT INTO order_events (id, order_id, sequence, type, data, actor, occurred_at, prev_hash, hash) \
       VALUES ($31, $32, $33, $34, $35::jsonb, $36, $37, $46, $47)), \
     s AS (UPDATE stock AS s SET on_hand = v.on_hand, reserved = v.reserved, updated_at = now() \
       FROM unnest($43::text[], $44::int8[], $45::int8[]) AS v(sku, on_hand, reserved) \
       WHERE s.sku = v.sku AND s.sku = ANY($43)) \
     UPDATE idempotency_keys SET status_code = $40, response_headers = $41, response_body = $42 \
     WHERE principal = $38 AND key = $39";

/// One round trip instead of five: the reserved stock levels (rows this transaction has locked; `s.sku = ANY`
/// keeps the generic plan on the primary key, see `write_stock`), the order, its lines, its event and the stored
/// response, as one statement (foreign keys are checked at its end, when the order row exists). The event is the
/// order's first, so it chains onto the genesis hash.
pub(super) async fn insert_placed(conn: &mut PgConnection, placed: &Placed<'_>) -> Result<(), StoreError> {
    let Placed {
        reserved,
        order: o,
        event: e,
        key,
        response,
    } = placed;
    let lines = LineArrays::of(o)?;
    let stock = StockArrays::of(reserved);
    let keys = SearchKeys::of(o);
    let query = sqlx::query(INSERT_PLACED)
        .bind(o.id)
        .bind(&o.number)
        .bind(o.store.as_str())
        .bind(o.customer_id.as_ref().map(|c| c.as_str()))
        .bind(o.currency.code())
        .bind(o.payment_method.as_str())
        .bind(o.status.order.to_string())
        .bind(o.status.payment.to_string())
        .bind(o.status.fulfilment.to_string())
        .bind(serde_json::to_string(&o.ship_to).map_err(StoreError::internal)?)
        .bind(i32::try_from(o.vat_rate.get()).map_err(StoreError::internal)?)
        .bind(o.totals.subtotal.amount_minor())
        .bind(o.totals.tax.amount_minor())
        .bind(o.totals.shipping.amount_minor())
        .bind(o.shipping_tax.amount_minor())
        .bind(o.totals.grand_total.amount_minor())
        .bind(o.version)
        .bind(o.created_at)
        .bind(o.updated_at)
        .bind(serde_json::to_string(&o.progress).map_err(StoreError::internal)?)
        .bind(&lines.line_no)
        .bind(&lines.sku)
        .bind(&lines.name_en)
        .bind(&lines.name_ar)
        .bind(&lines.qty)
        .bind(&lines.price)
        .bind(&lines.class)
        .bind(&lines.sub)
        .bind(&lines.tax)
        .bind(&lines.total);
    bind_event(query, e)
        .bind(&key.principal)
        .bind(&key.key)
        .bind(i32::from(response.status))
        .bind(headers_to_json(&response.headers))
        .bind(&response.body)
        .bind(&stock.skus)
        .bind(&stock.on_hand)
        .bind(&stock.reserved)
        .bind(GENESIS)
        .bind(chain::of_event(GENESIS, e))
        .bind(&keys.tokens)
        .bind(keys.phone.as_deref())
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The lines of an order as one array per column, for `unnest`.
struct LineArrays<'a> {
    line_no: Vec<i32>,
    sku: Vec<&'a str>,
    name_en: Vec<&'a str>,
    name_ar: Vec<&'a str>,
    qty: Vec<i32>,
    price: Vec<i64>,
    class: Vec<&'a str>,
    sub: Vec<i64>,
    tax: Vec<i64>,
    total: Vec<i64>,
}

impl<'a> LineArrays<'a> {
    fn of(o: &'a Order) -> Result<Self, StoreError> {
        let n = o.lines.len();
        let mut a = LineArrays {
            line_no: Vec::with_capacity(n),
            sku: Vec::with_capacity(n),
            name_en: Vec::with_capacity(n),
            name_ar: Vec::with_capacity(n),
            qty: Vec::with_capacity(n),
            price: Vec::with_capacity(n),
            class: Vec::with_capacity(n),
            sub: Vec::with_capacity(n),
            tax: Vec::with_capacity(n),
            total: Vec::with_capacity(n),
        };
        for (i, l) in o.lines.iter().enumerate() {
            a.line_no.push(i32::try_from(i + 1).map_err(StoreError::internal)?);
            a.sku.push(l.sku.as_str());
            a.name_en.push(l.name_en.as_str());
            a.name_ar.push(l.name_ar.as_str());
            a.qty
                .push(i32::try_from(l.quantity.get()).map_err(StoreError::internal)?);
            a.price.push(l.unit_price.amount_minor());
            a.class.push(l.tax_class.as_str());
            a.sub.push(l.subtotal.amount_minor());
            a.tax.push(l.tax.amount_minor());
            a.total.push(l.total.amount_minor());
        }
        Ok(a)
    }
}

/// See `save_edited`.
const SAVE_EDITED: &str = "WITH u AS (UPDATE orders SET ship_to = $2::jsonb, vat_rate_bp = $3, subtotal_minor = $4, tax_minor = $5, \
       shipping_minor = $6, shipping_tax_minor = $7, grand_total_minor = $8, search_tokens = $9, \
       search_phone = $10 WHERE id = $1) \
     INSERT INTO order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, tax_class, \
       subtotal_minor, tax_minor, total_minor) \
     SELECT $1, * FROM unnest($11::int4[], $12::text[], $13::text[], $14::text[], $15::int4[], $16::int8[], \
       $17::text[], $18::int8[], $19::int8[], $20::int8[])";

/// What an edit changes beyond the mutable part `save_order` writes: the address (and with it the search keys),
/// the totals and the lines, replaced as a whole: the old lines are deleted first (a delete and an insert of the
/// same keys cannot share one statement), then the order is updated and the new lines inserted in one.
pub(super) async fn save_edited(conn: &mut PgConnection, o: &Order) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM order_lines WHERE order_id = $1")
        .bind(o.id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    let lines = LineArrays::of(o)?;
    let keys = SearchKeys::of(o);
    sqlx::query(SAVE_EDITED)
        .bind(o.id)
        .bind(serde_json::to_string(&o.ship_to).map_err(StoreError::internal)?)
        .bind(i32::try_from(o.vat_rate.get()).map_err(StoreError::internal)?)
        .bind(o.totals.subtotal.amount_minor())
        .bind(o.totals.tax.amount_minor())
        .bind(o.totals.shipping.amount_minor())
        .bind(o.shipping_tax.amount_minor())
        .bind(o.totals.grand_total.amount_minor())
        .bind(&keys.tokens)
        .bind(keys.phone.as_deref())
        .bind(&lines.line_no)
        .bind(&lines.sku)
        .bind(&lines.name_en)
        .bind(&lines.name_ar)
        .bind(&lines.qty)
        .bind(&lines.price)
        .bind(&lines.class)
        .bind(&lines.sub)
        .bind(&lines.tax)
        .bind(&lines.total)
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}
