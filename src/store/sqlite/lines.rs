//! An order's lines and the columns an edit rewrites, on SQLite.

use sqlx::SqliteConnection;

use crate::domain::order::Order;
use crate::store::{StoreError, db_error};

/// What an edit changes beyond `save_order`'s part: the address with its search keys, the totals, the lines.
pub(super) async fn save_edited(conn: &mut SqliteConnection, o: &Order) -> Result<(), StoreError> {
    let keys = crate::domain::search::SearchKeys::of(o);
    sqlx::query(
        "UPDATE orders SET ship_to = ?, vat_rate_bp = ?, subtotal_minor = ?, tax_minor = ?, shipping_minor = ?, \
         shipping_tax_minor = ?, grand_total_minor = ?, search_name = ?, search_phone = ? WHERE id = ?",
    )
    .bind(serde_json::to_string(&o.ship_to).map_err(StoreError::internal)?)
    .bind(i64::from(o.vat_rate.get()))
    .bind(o.totals.subtotal.amount_minor())
    .bind(o.totals.tax.amount_minor())
    .bind(o.totals.shipping.amount_minor())
    .bind(o.shipping_tax.amount_minor())
    .bind(o.totals.grand_total.amount_minor())
    .bind(keys.name)
    .bind(keys.phone)
    .bind(o.id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM order_lines WHERE order_id = ?")
        .bind(o.id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    insert_lines(conn, o).await
}

pub(super) async fn insert_lines(conn: &mut SqliteConnection, o: &Order) -> Result<(), StoreError> {
    for (i, l) in o.lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, \
             tax_class, subtotal_minor, tax_minor, total_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(o.id.to_string())
        .bind(i64::try_from(i + 1).map_err(StoreError::internal)?)
        .bind(l.sku.as_str())
        .bind(&l.name_en)
        .bind(&l.name_ar)
        .bind(l.quantity.as_i64())
        .bind(l.unit_price.amount_minor())
        .bind(l.tax_class.as_str())
        .bind(l.subtotal.amount_minor())
        .bind(l.tax.amount_minor())
        .bind(l.total.amount_minor())
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}
