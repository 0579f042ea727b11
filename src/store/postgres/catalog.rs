//! The catalog on PostgreSQL: products with their prices, stock levels, and the audited writes of both.

use super::*;

/// Creates or replaces a product and its prices on `conn`; true when it was created.
pub(super) async fn upsert_product(conn: &mut sqlx::PgConnection, product: &Product) -> Result<bool, StoreError> {
    let created: bool = sqlx::query_scalar(
        "INSERT INTO products (sku, name_en, name_ar, tax_class, active, updated_at) \
         VALUES ($1, $2, $3, $4, $5, now()) \
         ON CONFLICT (sku) DO UPDATE SET name_en = EXCLUDED.name_en, name_ar = EXCLUDED.name_ar, \
         tax_class = EXCLUDED.tax_class, active = EXCLUDED.active, updated_at = now() \
         RETURNING (xmax = 0)",
    )
    .bind(product.sku.as_str())
    .bind(&product.name_en)
    .bind(&product.name_ar)
    .bind(product.tax_class.as_str())
    .bind(product.active)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM product_prices WHERE sku = $1")
        .bind(product.sku.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    let currencies: Vec<&str> = product.prices.iter().map(|p| p.currency().code()).collect();
    let amounts: Vec<i64> = product.prices.iter().map(|p| p.amount_minor()).collect();
    sqlx::query(
        "INSERT INTO product_prices (sku, currency, amount_minor) \
         SELECT $1, c, a FROM unnest($2::text[], $3::int8[]) AS v(c, a)",
    )
    .bind(product.sku.as_str())
    .bind(&currencies)
    .bind(&amounts)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(created)
}

#[async_trait]
impl Catalog for PostgresStore {
    async fn put_product(&self, product: &Product, by: &Actor) -> Result<bool, StoreError> {
        self.writing(async {
            let mut tx = self.db.write().await?;
            audit::lock(&mut tx).await?;
            let before = load_products(&mut tx, &[product.sku.as_str().to_owned()]).await?.pop();
            let created = upsert_product(&mut tx, product).await?;
            let at = crate::domain::order::now_micros(OffsetDateTime::now_utc());
            audit::append(&mut tx, &[product_entry(by, at, before.as_ref(), product)]).await?;
            tx.commit().await.map_err(db_error)?;
            Ok(created)
        })
        .await
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let mut conn = self.db.read().await?;
        Ok(load_products(&mut conn, &[sku.as_str().to_owned()]).await?.pop())
    }

    async fn set_stock(&self, sku: &Sku, on_hand: i64, by: &Actor) -> Result<StockLevel, StoreError> {
        self.writing(async {
            let mut tx = self.db.write().await?;
            audit::lock(&mut tx).await?;
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM products WHERE sku = $1")
                .bind(sku.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
            if exists.is_none() {
                return Err(StoreError::NotFound(crate::store::Missing::Product));
            }
            let inserted = sqlx::query(
                "INSERT INTO stock (sku, on_hand, reserved) VALUES ($1, 0, 0) ON CONFLICT (sku) DO NOTHING",
            )
            .bind(sku.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected()
                == 1;
            let row = sqlx::query("SELECT on_hand, reserved FROM stock WHERE sku = $1 FOR UPDATE")
                .bind(sku.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
            let before = stock_level(&row)?;
            let level = before
                .with_on_hand(on_hand)
                .map_err(|source: StockError| StoreError::Stock {
                    sku: sku.clone(),
                    source,
                })?;
            sqlx::query("UPDATE stock SET on_hand = $2, updated_at = now() WHERE sku = $1")
                .bind(sku.as_str())
                .bind(level.on_hand)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            let at = crate::domain::order::now_micros(OffsetDateTime::now_utc());
            let before = (!inserted).then_some(before);
            audit::append(&mut tx, &[stock_entry(by, at, sku, before, level)]).await?;
            tx.commit().await.map_err(db_error)?;
            Ok(level)
        })
        .await
    }

    async fn get_stock(&self, sku: &Sku) -> Result<Option<StockLevel>, StoreError> {
        let mut conn = self.db.read().await?;
        let row = sqlx::query("SELECT on_hand, reserved FROM stock WHERE sku = $1")
            .bind(sku.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
        row.as_ref().map(stock_level).transpose()
    }

    async fn list_products(&self, after: Option<&Sku>, limit: u32) -> Result<Vec<ProductStock>, StoreError> {
        let mut conn = self.db.read().await?;
        pg_rows::list_products(&mut conn, after.map(Sku::as_str), limit).await
    }
}
