//! Unpaid orders, as the open-orders cap and the expiry sweeper see them, in SQL both adapters share.
//!
//! An order is *open and unpaid* while it is open or confirmed and nothing has been paid or authorised for it:
//! a card order whose payment is `pending` (or `failed`: terminal, so it can never ship, yet it holds its stock),
//! or a COD order still `cod_pending` that has not shipped (once the parcel is out, the courier collects).
//!
//! Orders imported from the legacy system are left out of both: they were placed under its rules, a re-import
//! keeps them in step only while Orderly has not changed them, and years-old unpaid ones must not block a
//! customer or be expired the moment the service starts.

use uuid::Uuid;

/// The condition on an `orders` row for an open unpaid order (the cap counts these per customer).
pub(crate) const OPEN_UNPAID: &str = "legacy IS NULL AND order_status IN ('open', 'confirmed') \
    AND ((payment_method = 'card' AND payment_status IN ('pending', 'failed')) \
      OR (payment_status = 'cod_pending' AND fulfilment_status = 'unfulfilled'))";

/// The condition for a card order the sweeper may expire (before its age is checked); the same test as
/// `Order::is_unpaid_card_order`, which the domain checks again under the order's lock.
pub(crate) const EXPIRABLE: &str =
    "legacy IS NULL AND payment_method = 'card' AND order_status = 'open' AND payment_status IN ('pending', 'failed')";

/// An order the sweeper may expire: its id and the version it was seen at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expirable {
    pub id: Uuid,
    pub version: i64,
}
