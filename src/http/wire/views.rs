//! Orders as the API shows them: statuses, lines, totals, payment, shipments, returns and refunds.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::MoneyView;
use crate::domain::Money;
use crate::domain::events::SkuQuantity;
use crate::domain::order::Order;

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    #[schema(example = "open")]
    pub order: String,
    #[schema(example = "pending")]
    pub payment: String,
    #[schema(example = "unfulfilled")]
    pub fulfilment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipToView {
    pub name: String,
    /// Null only on an order imported from the legacy system without an address line.
    pub line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    pub country: String,
    /// E.164. Null only on an order imported from the legacy system without a phone.
    pub phone: Option<String>,
}

/// Where an imported order came from: its ids in the legacy system.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegacyView {
    pub order_id: i64,
    #[schema(example = "DXB-2019-0001234")]
    pub order_no: String,
    pub customer_id: i64,
    pub customer_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    pub sku: String,
    pub name_en: String,
    pub name_ar: String,
    pub quantity: u32,
    pub unit_price: MoneyView,
    pub tax_class: String,
    /// Quantity times unit price, before VAT.
    pub subtotal: MoneyView,
    pub tax: MoneyView,
    pub total: MoneyView,
    /// Units shipped so far.
    pub shipped: u32,
    /// Units asked back (returns and parcels refused at the door).
    pub returned: u32,
    /// Money refunded against this line.
    pub refunded: MoneyView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub authorized: MoneyView,
    /// Captured by card or collected in cash.
    pub captured: MoneyView,
    pub refunded: MoneyView,
    /// Captured minus refunded.
    pub refundable: MoneyView,
    /// The payment provider's reference for the authorisation; staff only (null for a customer).
    pub provider_ref: Option<String>,
    /// The courier's reference for cash collected; staff only (null for a customer).
    pub courier_ref: Option<String>,
    /// What the customer still owes beyond what is captured or authorised (card orders; after an edit raised the
    /// total, an authorisation of exactly this is the next command). Zero when nothing is due.
    pub balance_due: MoneyView,
    /// Money captured or authorised above the total (after an edit lowered it); refunded first by a refund. Zero
    /// when nothing is due.
    pub refund_due: MoneyView,
    /// COD orders only: the cash the courier is to collect (the total while the payment is `cod_pending`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_collect: Option<MoneyView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitsView {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    pub id: Uuid,
    pub lines: Vec<UnitsView>,
    pub carrier: String,
    pub tracking_number: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub shipped_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnView {
    pub id: Uuid,
    pub lines: Vec<UnitsView>,
    pub reason: Option<String>,
    /// A cash-on-delivery parcel refused at the door, travelling back to the warehouse.
    pub to_origin: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<OffsetDateTime>,
    pub restocked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    pub id: Uuid,
    pub amount: MoneyView,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub refunded_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsView {
    pub subtotal: MoneyView,
    /// All VAT on the order, shipping included.
    pub tax: MoneyView,
    pub shipping: MoneyView,
    pub grand_total: MoneyView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: Uuid,
    #[schema(example = "KW-000000042")]
    pub number: String,
    pub customer_id: Option<String>,
    pub currency: String,
    pub payment_method: String,
    pub status: StatusView,
    pub ship_to: ShipToView,
    pub lines: Vec<LineView>,
    pub totals: TotalsView,
    pub payment: PaymentView,
    pub shipments: Vec<ShipmentView>,
    pub returns: Vec<ReturnView>,
    pub refunds: Vec<RefundView>,
    /// VAT rate applied, in basis points (500 = 5%).
    pub vat_rate_bp: u32,
    pub version: i64,
    /// Present on orders imported from the legacy system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy: Option<LegacyView>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

fn units(lines: &[SkuQuantity]) -> Vec<UnitsView> {
    lines
        .iter()
        .map(|l| UnitsView {
            sku: l.sku.as_str().to_owned(),
            quantity: l.quantity.get(),
        })
        .collect()
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        let money = |minor: i64| MoneyView::from(Money::new(minor, o.currency));
        let p = &o.progress;
        let dues = o.dues();
        OrderView {
            id: o.id,
            number: o.number.clone(),
            customer_id: o.customer_id.as_ref().map(|c| c.as_str().to_owned()),
            currency: o.currency.code().to_owned(),
            payment_method: o.payment_method.as_str().to_owned(),
            status: StatusView {
                order: o.status.order.to_string(),
                payment: o.status.payment.to_string(),
                fulfilment: o.status.fulfilment.to_string(),
            },
            ship_to: ShipToView {
                name: o.ship_to.name.clone(),
                line1: o.ship_to.line1.clone(),
                line2: o.ship_to.line2.clone(),
                city: o.ship_to.city.clone(),
                country: o.ship_to.country.as_str().to_owned(),
                phone: o.ship_to.phone.clone(),
            },
            lines: o
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| LineView {
                    sku: l.sku.as_str().to_owned(),
                    name_en: l.name_en.clone(),
                    name_ar: l.name_ar.clone(),
                    quantity: l.quantity.get(),
                    unit_price: l.unit_price.into(),
                    tax_class: l.tax_class.as_str().to_owned(),
                    subtotal: l.subtotal.into(),
                    tax: l.tax.into(),
                    total: l.total.into(),
                    shipped: p.lines.get(i).map_or(0, |lp| lp.shipped),
                    returned: p.lines.get(i).map_or(0, |lp| lp.returned),
                    refunded: money(p.refunded.get(i).copied().unwrap_or(0)),
                })
                .collect(),
            totals: TotalsView {
                subtotal: o.totals.subtotal.into(),
                tax: o.totals.tax.into(),
                shipping: o.totals.shipping.into(),
                grand_total: o.totals.grand_total.into(),
            },
            payment: PaymentView {
                authorized: money(p.authorized_minor),
                captured: money(p.captured()),
                refunded: money(p.refunded_total()),
                refundable: money(p.captured() - p.refunded_total()),
                provider_ref: p.provider_ref.clone(),
                courier_ref: p.courier_ref.clone(),
                balance_due: money(dues.balance_due),
                refund_due: money(dues.refund_due),
                to_collect: dues.to_collect.map(money),
            },
            shipments: p
                .shipments
                .iter()
                .map(|s| ShipmentView {
                    id: s.id,
                    lines: units(&s.lines),
                    carrier: s.carrier.clone(),
                    tracking_number: s.tracking_number.clone(),
                    shipped_at: s.shipped_at,
                    delivered_at: s.delivered_at,
                })
                .collect(),
            returns: p
                .returns
                .iter()
                .map(|r| ReturnView {
                    id: r.id,
                    lines: units(&r.lines),
                    reason: r.reason.clone(),
                    to_origin: r.to_origin,
                    received_at: r.received_at,
                    restocked: r.restocked,
                })
                .collect(),
            refunds: p
                .refunds
                .iter()
                .map(|r| RefundView {
                    id: r.id,
                    amount: money(r.amount_minor),
                    reason: r.reason.clone(),
                    refunded_at: r.refunded_at,
                })
                .collect(),
            vat_rate_bp: o.vat_rate.get(),
            version: o.version,
            legacy: o.legacy.as_ref().map(|l| LegacyView {
                order_id: l.order_id,
                order_no: l.order_no.clone(),
                customer_id: l.customer_id,
                customer_name: l.customer_name.clone(),
            }),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

impl OrderView {
    /// The order as a customer reading their own sees it: without the payment provider's or the courier's
    /// references, which are for staff reconciling with them.
    pub fn for_customer(mut self) -> Self {
        self.payment.provider_ref = None;
        self.payment.courier_ref = None;
        self
    }

    /// The staff view, or the customer's when `customer` is set.
    pub fn of(order: &Order, customer: bool) -> Self {
        let view = OrderView::from(order);
        if customer { view.for_customer() } else { view }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPageView {
    pub items: Vec<OrderView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}
