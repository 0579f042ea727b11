//! The JSON of COD settlement: the remittance a courier sends, checked into `domain::cod::RemittanceIn` with a
//! JSON pointer for every bad field, and the documents answered.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::domain::cod::{
    self, Deduction, DeductionKind, LineIn, LineKey, Outstanding, RefusalRate, Remittance, RemittanceIn,
};
use crate::domain::currency::Currency;
use crate::domain::text::text;
use crate::domain::{Money, cod::MAX_AMOUNT_MINOR};
use crate::http::error::{ApiError, FieldError};
use crate::http::wire::MoneyView;
use crate::http::wire::schema::{self, integral};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemittanceRequest {
    /// The courier, as shipments name it in `carrier`.
    #[schema(schema_with = schema::text_100)]
    pub courier: String,
    /// The courier's reference for this remittance; with `courier`, its natural key.
    #[schema(schema_with = schema::text_100)]
    pub reference: String,
    /// RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    pub remitted_at: String,
    #[schema(schema_with = schema::currency)]
    pub currency: String,
    /// Each names its order by `order_number` or by `tracking_number`, not both.
    #[schema(min_items = 1, max_items = 1000)]
    pub lines: Vec<RemittanceLineRequest>,
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub deductions: Vec<DeductionRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemittanceLineRequest {
    #[serde(default)]
    #[schema(schema_with = schema::optional_text_100)]
    pub order_number: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::optional_text_100)]
    pub tracking_number: Option<String>,
    #[serde(deserialize_with = "integral::required")]
    #[schema(schema_with = schema::cod_amount)]
    pub amount_minor: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeductionRequest {
    #[schema(schema_with = schema::deduction_kind)]
    pub kind: String,
    #[serde(deserialize_with = "integral::required")]
    #[schema(schema_with = schema::cod_amount)]
    pub amount_minor: i64,
    /// Informational: a deduction is not matched to an order.
    #[serde(default)]
    #[schema(schema_with = schema::optional_text_100)]
    pub order_number: Option<String>,
}

/// Collects field errors while parsing.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, pointer: String, detail: impl Into<String>) {
        self.0.push(FieldError {
            pointer,
            detail: detail.into(),
        });
    }

    fn text(&mut self, pointer: String, raw: &str) -> Option<String> {
        text(raw, 100).map_err(|e| self.push(pointer, e.0)).ok()
    }

    fn amount(&mut self, pointer: String, amount: i64) {
        if !(1..=MAX_AMOUNT_MINOR).contains(&amount) {
            self.push(pointer, format!("between 1 and {MAX_AMOUNT_MINOR} minor units"));
        }
    }
}

pub fn rfc3339(pointer: &str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .map(|t| t.to_offset(time::UtcOffset::UTC))
        .map_err(|_| ApiError::field(pointer, "must be an RFC 3339 time such as 2026-12-01T10:00:00Z"))
}

/// Checks every field, reporting all bad ones at once.
pub fn parse(r: RemittanceRequest) -> Result<RemittanceIn, ApiError> {
    let mut e = Errors::default();
    let courier = e.text("/courier".into(), &r.courier);
    let reference = e.text("/reference".into(), &r.reference);
    let remitted_at = rfc3339("/remitted_at", &r.remitted_at)
        .map_err(|_| {
            e.push(
                "/remitted_at".into(),
                "must be an RFC 3339 time such as 2026-12-01T10:00:00Z",
            )
        })
        .ok();
    let currency = r
        .currency
        .parse::<Currency>()
        .map_err(|err| e.push("/currency".into(), err.to_string()))
        .ok();
    if r.lines.is_empty() || r.lines.len() > cod::MAX_LINES {
        e.push("/lines".into(), format!("1 to {} lines", cod::MAX_LINES));
    }
    if r.deductions.len() > cod::MAX_LINES {
        e.push("/deductions".into(), format!("at most {} deductions", cod::MAX_LINES));
    }
    let mut lines = Vec::with_capacity(r.lines.len());
    for (i, l) in r.lines.iter().enumerate() {
        let key = match (&l.order_number, &l.tracking_number) {
            (Some(n), None) => e.text(format!("/lines/{i}/order_number"), n).map(LineKey::OrderNumber),
            (None, Some(t)) => e
                .text(format!("/lines/{i}/tracking_number"), t)
                .map(LineKey::TrackingNumber),
            _ => {
                e.push(
                    format!("/lines/{i}"),
                    "name the order by order_number or by tracking_number, not both",
                );
                None
            }
        };
        e.amount(format!("/lines/{i}/amount_minor"), l.amount_minor);
        if let Some(key) = key {
            lines.push(LineIn {
                key,
                amount_minor: l.amount_minor,
            });
        }
    }
    let mut deductions = Vec::with_capacity(r.deductions.len());
    for (i, d) in r.deductions.iter().enumerate() {
        let kind = DeductionKind::parse(&d.kind);
        if kind.is_none() {
            e.push(format!("/deductions/{i}/kind"), "one of fee, return_fee, other");
        }
        e.amount(format!("/deductions/{i}/amount_minor"), d.amount_minor);
        let order_number = match &d.order_number {
            Some(n) => e.text(format!("/deductions/{i}/order_number"), n),
            None => None,
        };
        if let Some(kind) = kind {
            deductions.push(Deduction {
                kind,
                amount_minor: d.amount_minor,
                order_number,
            });
        }
    }
    match (courier, reference, remitted_at, currency) {
        (Some(courier), Some(reference), Some(remitted_at), Some(currency)) if e.0.is_empty() => Ok(RemittanceIn {
            courier,
            reference,
            remitted_at,
            currency,
            lines,
            deductions,
        }),
        _ => Err(ApiError::Validation(e.0)),
    }
}

/// The fingerprint of a checked remittance: the same remittance however it was spelled (key order, time zone,
/// deductions left out or empty) gives the same fingerprint.
pub fn fingerprint(r: &RemittanceIn) -> Result<String, ApiError> {
    let lines: Vec<serde_json::Value> = r
        .lines
        .iter()
        .map(|l| match &l.key {
            LineKey::OrderNumber(n) => serde_json::json!({"order_number": n, "amount_minor": l.amount_minor}),
            LineKey::TrackingNumber(t) => serde_json::json!({"tracking_number": t, "amount_minor": l.amount_minor}),
        })
        .collect();
    let canonical = serde_json::json!({
        "courier": r.courier,
        "reference": r.reference,
        "remitted_at": r.remitted_at.unix_timestamp_nanos().to_string(),
        "currency": r.currency.code(),
        "lines": lines,
        "deductions": r.deductions,
    });
    let bytes = serde_json::to_vec(&canonical).map_err(ApiError::internal)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemittanceLineView {
    pub order_number: Option<String>,
    pub tracking_number: Option<String>,
    pub amount_minor: i64,
    /// What the order owed; null for `unknown` and `duplicate`.
    pub expected_minor: Option<i64>,
    /// `matched`, `short`, `excess`, `unknown` or `duplicate`.
    #[schema(value_type = String)]
    pub result: cod::LineResult,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeductionView {
    /// `fee`, `return_fee` or `other`.
    #[schema(value_type = String)]
    pub kind: DeductionKind,
    pub amount_minor: i64,
    pub order_number: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SumsView {
    /// The sum of the lines.
    pub remitted: MoneyView,
    /// The sum of `expected_minor` over the lines that found their order.
    pub expected: MoneyView,
    pub deductions: MoneyView,
    /// remitted - deductions.
    pub net: MoneyView,
    /// remitted - expected.
    pub difference: MoneyView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemittanceView {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub courier: String,
    pub reference: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub remitted_at: OffsetDateTime,
    pub currency: String,
    pub lines: Vec<RemittanceLineView>,
    pub deductions: Vec<DeductionView>,
    pub sums: SumsView,
}

impl From<Remittance> for RemittanceView {
    fn from(r: Remittance) -> Self {
        let money = |m: i64| MoneyView::from(Money::new(m, r.currency));
        RemittanceView {
            id: r.id,
            courier: r.courier.clone(),
            reference: r.reference.clone(),
            remitted_at: r.remitted_at,
            currency: r.currency.code().to_owned(),
            sums: SumsView {
                remitted: money(r.sums.remitted),
                expected: money(r.sums.expected),
                deductions: money(r.sums.deductions),
                net: money(r.sums.net),
                difference: money(r.sums.difference),
            },
            lines: r
                .lines
                .into_iter()
                .map(|l| RemittanceLineView {
                    order_number: l.order_number,
                    tracking_number: l.tracking_number,
                    amount_minor: l.amount_minor,
                    expected_minor: l.expected_minor,
                    result: l.result,
                })
                .collect(),
            deductions: r
                .deductions
                .into_iter()
                .map(|d| DeductionView {
                    kind: d.kind,
                    amount_minor: d.amount_minor,
                    order_number: d.order_number,
                })
                .collect(),
        }
    }
}

/// Outstanding cash by days since collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketsView {
    #[serde(rename = "0-7")]
    pub days_0_7: MoneyView,
    #[serde(rename = "8-14")]
    pub days_8_14: MoneyView,
    #[serde(rename = "15-30")]
    pub days_15_30: MoneyView,
    pub over_30: MoneyView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutstandingOrderView {
    pub order_number: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub collected_at: OffsetDateTime,
    /// Collected and not yet remitted.
    pub amount: MoneyView,
    pub age_days: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CourierOutstandingView {
    pub courier: String,
    pub currency: String,
    pub buckets: BucketsView,
    pub orders: Vec<OutstandingOrderView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutstandingView {
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    pub couriers: Vec<CourierOutstandingView>,
}

impl From<Outstanding> for CourierOutstandingView {
    fn from(o: Outstanding) -> Self {
        let money = |m: i64| MoneyView::from(Money::new(m, o.currency));
        CourierOutstandingView {
            currency: o.currency.code().to_owned(),
            buckets: BucketsView {
                days_0_7: money(o.buckets[0]),
                days_8_14: money(o.buckets[1]),
                days_15_30: money(o.buckets[2]),
                over_30: money(o.buckets[3]),
            },
            orders: o
                .orders
                .iter()
                .map(|x| OutstandingOrderView {
                    order_number: x.order_number.clone(),
                    collected_at: x.collected_at,
                    amount: money(x.amount_minor),
                    age_days: x.age_days,
                })
                .collect(),
            courier: o.courier,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefusalRateView {
    pub courier: String,
    /// COD orders whose first shipment left in the window.
    pub shipped: i64,
    /// Of those, refused at the door (returned to origin).
    pub refused: i64,
    /// refused / shipped in basis points (1 bp = 0.01 %), rounded half up.
    pub refusal_rate_bp: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnsView {
    pub couriers: Vec<RefusalRateView>,
}

impl From<RefusalRate> for RefusalRateView {
    fn from(r: RefusalRate) -> Self {
        RefusalRateView {
            courier: r.courier,
            shipped: r.shipped,
            refused: r.refused,
            refusal_rate_bp: r.refusal_rate_bp,
        }
    }
}
