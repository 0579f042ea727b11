//! What an order brought across from the legacy system keeps of its origin: the legacy ids, shown in the API
//! view and held by the `order.imported` and `order.legacy_synced` events.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::order::Order;

/// The legacy identity of an imported order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyRef {
    pub order_id: i64,
    pub order_no: String,
    pub customer_id: i64,
    pub customer_name: String,
}

/// `order.imported`: the order as the import built it, with its legacy ids and the legacy row's checksum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub legacy: LegacyRef,
    pub checksum: String,
    pub order: Order,
}

/// One field a delta import changed, with its value before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: serde_json::Value,
    pub to: serde_json::Value,
}

/// `order.legacy_synced`: the legacy system moved the order on (a delivery, a refund); what changed, the new
/// checksum, and the order's state afterwards (which replaying the event restores).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Synced {
    pub checksum: String,
    pub changes: Vec<FieldChange>,
    pub order: Order,
}

/// The Orderly id of the legacy order `legacy_id`: the same for every import of it, so a rerun finds it again and
/// two stores that imported the same export agree. A version 8 UUID over SHA-256 of `orderly-legacy-order:<id>`.
pub fn order_id(legacy_id: i64) -> Uuid {
    derived_id(&format!("orderly-legacy-order:{legacy_id}"))
}

/// A stable id for something the import makes on an order (its shipment, return, each refund).
pub fn derived_id(name: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    Uuid::new_v8(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(order_id(42), order_id(42));
        assert_ne!(order_id(42), order_id(43));
        assert_eq!(order_id(42).get_version_num(), 8);
    }
}
