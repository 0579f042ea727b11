//! Order shapes on the wire, and their conversion to and from the domain: `requests` parses what clients send
//! (collecting every bad field with its JSON pointer), `views` renders orders. Money is always
//! `{"amount_minor", "currency"}`.

mod requests;
pub mod schema;
mod views;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Money;

pub use requests::{CreateOrderRequest, LineRequest, OrderLimits, ShipToRequest};
pub use views::{
    LineView, OrderPageView, OrderView, PaymentView, RefundView, ReturnView, ShipToView, ShipmentView, StatusView,
    TotalsView, UnitsView,
};

/// An amount in integer minor units (fils, halalas, cents) of an ISO 4217 currency.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct MoneyView {
    #[serde(deserialize_with = "schema::integral::required")]
    #[schema(schema_with = schema::non_negative)]
    pub amount_minor: i64,
    #[schema(schema_with = schema::currency)]
    pub currency: String,
}

impl From<Money> for MoneyView {
    fn from(m: Money) -> Self {
        MoneyView {
            amount_minor: m.amount_minor(),
            currency: m.currency().code().to_owned(),
        }
    }
}
