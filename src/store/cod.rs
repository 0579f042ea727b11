//! The COD settlement part of the port (docs/cod.md): storing a courier's remittance once under its natural key
//! `(courier, reference)`, and the reads behind outstanding cash and refusal rates. Posting is one flow, written
//! once over `RemittanceTx`; each adapter opens the transaction holding the settlement lock, so two remittances
//! never match the same order's cash at the same time.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use crate::domain::cod::{self, Collected, CurrencyMismatch, Remittance, RemittanceIn, ShippedCod};

/// A checked remittance and the fingerprint of the request body it came in.
#[derive(Clone, Debug)]
pub struct PostRemittance {
    pub input: RemittanceIn,
    pub fingerprint: String,
}

/// What posting a remittance did.
#[derive(Debug)]
pub enum Posted {
    /// Stored now.
    Created(Remittance),
    /// The same `(courier, reference)` with the same body was stored before: that remittance.
    Replayed(Remittance),
    /// The same `(courier, reference)` was stored with another body.
    Conflict,
    /// Lines name orders in another currency; nothing was stored.
    CurrencyMismatch(Vec<CurrencyMismatch>),
}

/// A COD order with the courier it belongs to.
pub type CourierOrder = (String, Collected);

#[async_trait]
pub trait Settlement: Send + Sync {
    async fn post_remittance(&self, post: &PostRemittance) -> Result<Posted, StoreError>;
    async fn get_remittance(&self, id: Uuid) -> Result<Option<Remittance>, StoreError>;
    /// COD orders collected at or before `as_of` (of `courier`, or every courier), each with what remittances dated
    /// at or before `as_of` paid over for it.
    async fn cod_collected(
        &self,
        courier: Option<&str>,
        as_of: OffsetDateTime,
    ) -> Result<Vec<CourierOrder>, StoreError>;
    /// Every shipped COD order (of `courier`, or every courier): its courier, first shipment time and whether it
    /// was refused.
    async fn cod_shipped(&self, courier: Option<&str>) -> Result<Vec<ShippedCod>, StoreError>;
}

/// The steps of posting a remittance, inside one transaction that holds the settlement lock.
#[async_trait]
pub(crate) trait RemittanceTx: Send {
    /// The stored remittance with this natural key: its fingerprint and document.
    async fn find(&mut self, courier: &str, reference: &str) -> Result<Option<(String, String)>, StoreError>;
    /// The courier's collected COD orders with everything paid over for each so far.
    async fn collected(&mut self, courier: &str) -> Result<Vec<Collected>, StoreError>;
    /// Stores the remittance and the lines that pay for an order.
    async fn insert(&mut self, remittance: &Remittance, fingerprint: &str, document: &str) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

fn decode(document: &str) -> Result<Remittance, StoreError> {
    serde_json::from_str(document).map_err(StoreError::internal)
}

/// Replays or refuses a known natural key; otherwise matches the lines and stores the remittance.
pub(crate) async fn post(mut tx: Box<dyn RemittanceTx>, post: &PostRemittance) -> Result<Posted, StoreError> {
    let input = &post.input;
    if let Some((fingerprint, document)) = tx.find(&input.courier, &input.reference).await? {
        return Ok(if fingerprint == post.fingerprint {
            Posted::Replayed(decode(&document)?)
        } else {
            Posted::Conflict
        });
    }
    let orders = tx.collected(&input.courier).await?;
    let remittance = match cod::settle(Uuid::now_v7(), input.clone(), &orders) {
        Ok(r) => r,
        Err(mismatches) => return Ok(Posted::CurrencyMismatch(mismatches)),
    };
    let document = serde_json::to_string(&remittance).map_err(StoreError::internal)?;
    tx.insert(&remittance, &post.fingerprint, &document).await?;
    tx.commit().await?;
    Ok(Posted::Created(remittance))
}

/// Parses a stored remittance document.
pub(crate) fn stored(document: &str) -> Result<Remittance, StoreError> {
    decode(document)
}

/// The courier and tracking numbers of an order's `progress` document.
/// A shipped COD order as the refusal rates count it, from its stored progress document and payment status: its
/// first shipment names the courier (none: not counted).
pub(crate) fn shipped_cod(
    progress: &str,
    payment_status: &str,
) -> Result<Option<crate::domain::cod::ShippedCod>, StoreError> {
    Ok(shipments_of(progress)?
        .into_iter()
        .next()
        .map(|(courier, _, shipped_at)| crate::domain::cod::ShippedCod {
            courier,
            shipped_at,
            refused: payment_status == "cod_refused",
        }))
}

pub(crate) fn shipments_of(progress: &str) -> Result<Vec<(String, String, OffsetDateTime)>, StoreError> {
    let p: crate::domain::order::Progress = serde_json::from_str(progress).map_err(StoreError::internal)?;
    Ok(p.shipments
        .into_iter()
        .map(|s| (s.carrier, s.tracking_number, s.shipped_at))
        .collect())
}

/// The latest time a database holds: "as of" for posting, where every earlier remittance counts.
pub(crate) const END_OF_TIME: OffsetDateTime = time::macros::datetime!(9999-12-31 0:00 UTC);
