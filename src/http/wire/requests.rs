//! Order requests as clients send them, parsed into domain values with every bad field reported at once.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::currency::Currency;
use crate::domain::order::{NewOrder, PaymentMethod, ShipTo, phone};
use crate::domain::text::text;
use crate::domain::values::{CountryCode, CustomerId, Invalid, Quantity, Sku};
use crate::http::error::FieldError;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipToRequest {
    #[schema(schema_with = super::schema::text_200)]
    pub name: String,
    #[schema(schema_with = super::schema::text_300)]
    pub line1: String,
    #[serde(default)]
    #[schema(schema_with = super::schema::optional_text_300)]
    pub line2: Option<String>,
    #[schema(schema_with = super::schema::text_100)]
    pub city: String,
    /// ISO 3166-1 alpha-2; the country must have a VAT rate configured.
    #[schema(schema_with = super::schema::country)]
    pub country: String,
    #[schema(schema_with = super::schema::phone)]
    pub phone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    #[schema(schema_with = super::schema::sku)]
    pub sku: String,
    /// 1 to `max_quantity` (1000 by default).
    #[serde(deserialize_with = "crate::http::wire::schema::integral::required")]
    #[schema(schema_with = super::schema::quantity)]
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    /// Staff and services only; a customer's orders are always their own.
    #[serde(default)]
    #[schema(schema_with = super::schema::customer_id)]
    pub customer_id: Option<String>,
    #[schema(schema_with = super::schema::currency)]
    pub currency: String,
    pub ship_to: ShipToRequest,
    /// 1 to `max_lines` (100 by default), each SKU once.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<LineRequest>,
    /// `card` or `cod` (cash on delivery).
    #[schema(schema_with = super::schema::payment_method)]
    pub payment_method: String,
}

/// Limits that apply while parsing an order.
#[derive(Clone, Copy, Debug)]
pub struct OrderLimits {
    pub max_lines: usize,
    pub max_quantity: u32,
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn check<T>(&mut self, pointer: impl Into<String>, r: Result<T, Invalid>) -> Option<T> {
        r.map_err(|e| {
            self.0.push(FieldError {
                pointer: pointer.into(),
                detail: e.0,
            })
        })
        .ok()
    }
}

impl CreateOrderRequest {
    /// Parses into a domain `NewOrder`, or every field error found.
    pub fn parse(self, limits: OrderLimits) -> Result<NewOrder, Vec<FieldError>> {
        let mut errs = Errors(Vec::new());
        let customer_id = self
            .customer_id
            .as_deref()
            .and_then(|c| errs.check("/customer_id", CustomerId::parse(c)).map(Some))
            .flatten();
        let currency = errs.check(
            "/currency",
            self.currency.parse::<Currency>().map_err(|e| Invalid(e.to_string())),
        );
        let payment_method = errs.check(
            "/payment_method",
            PaymentMethod::parse(&self.payment_method)
                .ok_or_else(|| Invalid("payment_method is `card` or `cod`".into())),
        );
        let ship_to = self.ship_to.parse_into("/ship_to", &mut errs.0);

        if self.lines.is_empty() {
            errs.0.push(FieldError {
                pointer: "/lines".into(),
                detail: "an order needs at least one line".into(),
            });
        }
        if self.lines.len() > limits.max_lines {
            errs.0.push(FieldError {
                pointer: "/lines".into(),
                detail: format!("an order may have at most {} lines", limits.max_lines),
            });
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.iter().enumerate() {
            let sku = errs.check(format!("/lines/{i}/sku"), Sku::parse(&l.sku));
            let quantity = errs.check(
                format!("/lines/{i}/quantity"),
                Quantity::parse(l.quantity, limits.max_quantity),
            );
            if let Some(sku) = &sku
                && lines.iter().any(|(s, _): &(Sku, Quantity)| s == sku)
            {
                errs.0.push(FieldError {
                    pointer: format!("/lines/{i}/sku"),
                    detail: "each SKU may appear on one line only".into(),
                });
            }
            if let (Some(sku), Some(quantity)) = (sku, quantity) {
                lines.push((sku, quantity));
            }
        }
        match (currency, payment_method, ship_to) {
            (Some(currency), Some(payment_method), Some(ship_to)) if errs.0.is_empty() => Ok(NewOrder {
                customer_id,
                currency,
                ship_to,
                lines,
                payment_method,
            }),
            _ => Err(errs.0),
        }
    }
}

impl ShipToRequest {
    /// The address, or `None` with every bad field added to `errors` (pointers under `at`, e.g. `/ship_to`).
    pub fn parse_into(&self, at: &str, errors: &mut Vec<FieldError>) -> Option<ShipTo> {
        let mut errs = Errors(std::mem::take(errors));
        let name = errs.check(format!("{at}/name"), text(&self.name, 200));
        let line1 = errs.check(format!("{at}/line1"), text(&self.line1, 300));
        let line2 = match self.line2.as_deref() {
            Some(l) => errs.check(format!("{at}/line2"), text(l, 300)).map(Some),
            None => Some(None),
        };
        let city = errs.check(format!("{at}/city"), text(&self.city, 100));
        let country = errs.check(format!("{at}/country"), CountryCode::parse(&self.country));
        let phone = errs.check(format!("{at}/phone"), phone(&self.phone));
        *errors = errs.0;
        Some(ShipTo {
            name: name?,
            line1: Some(line1?),
            line2: line2?,
            city: city?,
            country: country?,
            phone: Some(phone?),
        })
    }
}
