//! Cash on delivery settlement: matching a courier's remittance to the COD orders whose cash it collected, the
//! cash still outstanding by age, and refusal rates. Pure rules; the store loads the orders (docs/cod.md).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::currency::Currency;

/// The largest amount one line or deduction may carry; with at most `MAX_LINES` of each, no sum can overflow.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;
/// The most lines (and the most deductions) in one remittance.
pub const MAX_LINES: usize = 1_000;

/// How a remittance line names its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineKey {
    OrderNumber(String),
    TrackingNumber(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIn {
    pub key: LineKey,
    pub amount_minor: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeductionKind {
    Fee,
    ReturnFee,
    Other,
}

impl DeductionKind {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "fee" => Some(DeductionKind::Fee),
            "return_fee" => Some(DeductionKind::ReturnFee),
            "other" => Some(DeductionKind::Other),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deduction {
    pub kind: DeductionKind,
    pub amount_minor: i64,
    /// Informational only: deductions are not matched to orders.
    pub order_number: Option<String>,
}

/// A remittance as the courier sent it, checked field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemittanceIn {
    pub courier: String,
    pub reference: String,
    pub remitted_at: OffsetDateTime,
    pub currency: Currency,
    pub lines: Vec<LineIn>,
    pub deductions: Vec<Deduction>,
}

/// A COD order of the courier whose cash was collected, as the store loads it for matching.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collected {
    pub order_id: Uuid,
    pub order_number: String,
    pub tracking_numbers: Vec<String>,
    pub currency: Currency,
    pub collected_minor: i64,
    pub collected_at: OffsetDateTime,
    /// What earlier remittances already paid over for this order.
    pub remitted_minor: i64,
}

impl Collected {
    /// What the courier still owes for this order.
    pub fn owed(&self) -> i64 {
        self.collected_minor - self.remitted_minor
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineResult {
    /// The amount equals what is owed for the order.
    Matched,
    /// Less than owed: the rest stays outstanding.
    Short,
    /// More than owed.
    Excess,
    /// No collected COD order of this courier has this number.
    Unknown,
    /// The order is already paid over in full (by another remittance, or an earlier line of this one).
    Duplicate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineOut {
    pub order_number: Option<String>,
    pub tracking_number: Option<String>,
    pub amount_minor: i64,
    /// What the order owed when the line was matched; null for `unknown` and `duplicate`.
    pub expected_minor: Option<i64>,
    pub result: LineResult,
    /// The order the line pays for (matched, short, excess).
    #[serde(default)]
    pub order_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sums {
    pub remitted: i64,
    pub expected: i64,
    pub deductions: i64,
    pub net: i64,
    pub difference: i64,
}

/// A stored remittance: it never changes after it is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remittance {
    pub id: Uuid,
    pub courier: String,
    pub reference: String,
    #[serde(with = "time::serde::rfc3339")]
    pub remitted_at: OffsetDateTime,
    pub currency: Currency,
    pub lines: Vec<LineOut>,
    pub deductions: Vec<Deduction>,
    pub sums: Sums,
}

/// A line whose order is in another currency than the remittance: refused, naming the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrencyMismatch {
    pub line: usize,
    pub order_number: String,
    pub order_currency: Currency,
}

fn find<'a>(key: &LineKey, orders: &'a [Collected]) -> Option<&'a Collected> {
    orders.iter().find(|o| match key {
        LineKey::OrderNumber(n) => &o.order_number == n,
        LineKey::TrackingNumber(t) => o.tracking_numbers.iter().any(|x| x == t),
    })
}

/// Matches every line of `input` against `orders` (the courier's collected COD orders with what earlier
/// remittances paid for each). A line pays for what its order still owes; an order owing nothing is `duplicate`.
pub fn settle(id: Uuid, input: RemittanceIn, orders: &[Collected]) -> Result<Remittance, Vec<CurrencyMismatch>> {
    let mut paid_now: HashMap<Uuid, i64> = HashMap::new();
    let mut mismatches = Vec::new();
    let mut lines = Vec::with_capacity(input.lines.len());
    for (i, line) in input.lines.iter().enumerate() {
        let (order_number, tracking_number) = match &line.key {
            LineKey::OrderNumber(n) => (Some(n.clone()), None),
            LineKey::TrackingNumber(t) => (None, Some(t.clone())),
        };
        let mut out = LineOut {
            order_number,
            tracking_number,
            amount_minor: line.amount_minor,
            expected_minor: None,
            result: LineResult::Unknown,
            order_id: None,
        };
        if let Some(order) = find(&line.key, orders) {
            out.order_number = Some(order.order_number.clone());
            if out.tracking_number.is_none() {
                out.tracking_number = order.tracking_numbers.first().cloned();
            }
            if order.currency != input.currency {
                mismatches.push(CurrencyMismatch {
                    line: i,
                    order_number: order.order_number.clone(),
                    order_currency: order.currency,
                });
            }
            let owed = order.owed() - paid_now.get(&order.order_id).copied().unwrap_or(0);
            if owed <= 0 {
                out.result = LineResult::Duplicate;
            } else {
                out.expected_minor = Some(owed);
                out.order_id = Some(order.order_id);
                out.result = match line.amount_minor.cmp(&owed) {
                    std::cmp::Ordering::Equal => LineResult::Matched,
                    std::cmp::Ordering::Less => LineResult::Short,
                    std::cmp::Ordering::Greater => LineResult::Excess,
                };
                *paid_now.entry(order.order_id).or_default() += line.amount_minor;
            }
        }
        lines.push(out);
    }
    if !mismatches.is_empty() {
        return Err(mismatches);
    }
    // Bounded by MAX_LINES x MAX_AMOUNT_MINOR, far inside i64.
    let remitted: i64 = lines.iter().map(|l| l.amount_minor).sum();
    let expected: i64 = lines.iter().filter_map(|l| l.expected_minor).sum();
    let deductions: i64 = input.deductions.iter().map(|d| d.amount_minor).sum();
    Ok(Remittance {
        id,
        courier: input.courier,
        reference: input.reference,
        remitted_at: input.remitted_at,
        currency: input.currency,
        lines,
        deductions: input.deductions,
        sums: Sums {
            remitted,
            expected,
            deductions,
            net: remitted - deductions,
            difference: remitted - expected,
        },
    })
}

/// The ageing buckets of outstanding cash, by whole days since collection.
pub const BUCKETS: [&str; 4] = ["0-7", "8-14", "15-30", "over_30"];

/// Whole days from `collected_at` to `as_of` (0 when collected after `as_of`).
pub fn age_days(collected_at: OffsetDateTime, as_of: OffsetDateTime) -> i64 {
    (as_of - collected_at).whole_days().max(0)
}

/// The index into `BUCKETS` of an age in days.
pub fn bucket(age_days: i64) -> usize {
    match age_days {
        ..=7 => 0,
        8..=14 => 1,
        15..=30 => 2,
        _ => 3,
    }
}

/// Cash one courier owes in one currency at `as_of`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outstanding {
    pub courier: String,
    pub currency: Currency,
    pub buckets: [i64; 4],
    pub orders: Vec<OutstandingOrder>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutstandingOrder {
    pub order_number: String,
    pub collected_at: OffsetDateTime,
    pub amount_minor: i64,
    pub age_days: i64,
}

/// Groups what each order still owes by courier and currency, oldest collection first; orders owing nothing are
/// left out. `orders` is `(courier, order)`.
pub fn outstanding(orders: &[(String, Collected)], as_of: OffsetDateTime) -> Vec<Outstanding> {
    let mut groups: Vec<Outstanding> = Vec::new();
    let mut sorted: Vec<&(String, Collected)> = orders.iter().filter(|(_, o)| o.owed() > 0).collect();
    sorted.sort_by(|a, b| {
        (&a.0, a.1.currency.code(), a.1.collected_at, &a.1.order_number).cmp(&(
            &b.0,
            b.1.currency.code(),
            b.1.collected_at,
            &b.1.order_number,
        ))
    });
    for (courier, o) in sorted {
        let age = age_days(o.collected_at, as_of);
        let position = groups
            .iter()
            .position(|g| &g.courier == courier && g.currency == o.currency);
        let group = match position {
            Some(i) => &mut groups[i],
            None => {
                groups.push(Outstanding {
                    courier: courier.clone(),
                    currency: o.currency,
                    buckets: [0; 4],
                    orders: Vec::new(),
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        group.buckets[bucket(age)] += o.owed();
        group.orders.push(OutstandingOrder {
            order_number: o.order_number.clone(),
            collected_at: o.collected_at,
            amount_minor: o.owed(),
            age_days: age,
        });
    }
    groups
}

/// One shipped COD order, for refusal rates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippedCod {
    pub courier: String,
    pub shipped_at: OffsetDateTime,
    /// Refused at the door and returned to origin.
    pub refused: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusalRate {
    pub courier: String,
    pub shipped: i64,
    pub refused: i64,
    /// refused / shipped in basis points, rounded half up; 0 when nothing shipped.
    pub refusal_rate_bp: i64,
}

/// Refusal rates per courier, by courier name.
pub fn refusal_rates(shipped: &[ShippedCod]) -> Vec<RefusalRate> {
    let mut by: std::collections::BTreeMap<&str, (i64, i64)> = std::collections::BTreeMap::new();
    for s in shipped {
        let e = by.entry(&s.courier).or_default();
        e.0 += 1;
        e.1 += i64::from(s.refused);
    }
    by.into_iter()
        .map(|(courier, (shipped, refused))| RefusalRate {
            courier: courier.to_owned(),
            shipped,
            refused,
            refusal_rate_bp: if shipped == 0 {
                0
            } else {
                (refused * 10_000 * 2 + shipped) / (shipped * 2)
            },
        })
        .collect()
}

#[cfg(test)]
#[path = "cod_tests.rs"]
mod tests;
