//! The catalog on SQLite: products with their prices, stock levels, and the audited writes of both.

use super::*;

/// Creates or replaces a product and its prices on `conn`; true when it was created.
pub(super) async fn upsert_product(conn: &mut sqlx::SqliteConnection, product: &Product) -> Result<bool, StoreError> {
    let existed: Option<i64> = sqlx::query_scalar("SELECT 1 FROM products WHERE sku = ?")
        .bind(product.sku.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    let now = micros(OffsetDateTime::now_utc());
    sqlx::query(
        "INSERT INTO products (sku, name_en, name_ar, tax_class, active, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (sku) DO UPDATE SET name_en = excluded.name_en, name_ar = excluded.name_ar, \
         tax_class = excluded.tax_class, active = excluded.active, updated_at = excluded.updated_at",
    )
    .bind(product.sku.as_str())
    .bind(&product.name_en)
    .bind(&product.name_ar)
    .bind(product.tax_class.as_str())
    .bind(i64::from(product.active))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM product_prices WHERE sku = ?")
        .bind(product.sku.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    for price in &product.prices {
        sqlx::query("INSERT INTO product_prices (sku, currency, amount_minor) VALUES (?, ?, ?)")
            .bind(product.sku.as_str())
            .bind(price.currency().code())
            .bind(price.amount_minor())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(existed.is_none())
}

#[async_trait]
impl Catalog for SqliteStore {
    async fn put_product(&self, product: &Product, by: &Actor) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let before = load_products(&mut tx, std::slice::from_ref(&product.sku)).await?.pop();
        let created = upsert_product(&mut tx, product).await?;
        let at = crate::domain::order::now_micros(OffsetDateTime::now_utc());
        audit::append(&mut tx, &[product_entry(by, at, before.as_ref(), product)]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        Ok(load_products(&mut conn, std::slice::from_ref(sku)).await?.pop())
    }

    async fn set_stock(&self, sku: &Sku, on_hand: i64, by: &Actor) -> Result<StockLevel, StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM products WHERE sku = ?")
            .bind(sku.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if exists.is_none() {
            return Err(StoreError::NotFound(crate::store::Missing::Product));
        }
        let current = sqlx::query("SELECT on_hand, reserved FROM stock WHERE sku = ?")
            .bind(sku.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let before = current.as_ref().map(stock_level).transpose()?;
        let level = before
            .unwrap_or_else(StockLevel::empty)
            .with_on_hand(on_hand)
            .map_err(|source: StockError| StoreError::Stock {
                sku: sku.clone(),
                source,
            })?;
        sqlx::query(
            "INSERT INTO stock (sku, on_hand, reserved, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (sku) DO UPDATE SET on_hand = excluded.on_hand, updated_at = excluded.updated_at",
        )
        .bind(sku.as_str())
        .bind(level.on_hand)
        .bind(level.reserved)
        .bind(micros(OffsetDateTime::now_utc()))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let at = crate::domain::order::now_micros(OffsetDateTime::now_utc());
        audit::append(&mut tx, &[stock_entry(by, at, sku, before, level)]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(level)
    }

    async fn get_stock(&self, sku: &Sku) -> Result<Option<StockLevel>, StoreError> {
        let row = sqlx::query("SELECT on_hand, reserved FROM stock WHERE sku = ?")
            .bind(sku.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        row.as_ref().map(stock_level).transpose()
    }

    async fn list_products(&self, after: Option<&Sku>, limit: u32) -> Result<Vec<ProductStock>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        sqlite_rows::list_products(&mut conn, after.map(Sku::as_str), limit).await
    }
}
