//! `orderly verify`: walks every order's event chain and the audit chain, a page at a time (memory stays bounded
//! by the page size, whatever the size of the database), and reports each broken link. An order's chain is
//! broken at the first event that is missing (a gap in 1, 2, 3 ..., or fewer events than the order's version),
//! unsealed, chained onto the wrong predecessor, or whose content no longer hashes to its stored hash; the rest
//! of that order's chain is not judged. The audit chain is judged the same way by `seq`.

use std::fmt;

use uuid::Uuid;

use super::chain::{self, GENESIS};
use crate::store::audit::{ChainCursor, ChainLink, StoredEvent};
use crate::store::{Store, StoreError};

/// Rows per page read.
const PAGE: u32 = 1000;

/// One broken link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    Event { order_id: Uuid, sequence: i64, why: String },
    Audit { seq: i64, why: String },
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Event {
                order_id,
                sequence,
                why,
            } => write!(f, "BROKEN order={order_id} event={sequence}: {why}"),
            Broken::Audit { seq, why } => write!(f, "BROKEN audit_row={seq}: {why}"),
        }
    }
}

/// What a walk found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub orders: u64,
    pub events: u64,
    pub audit_rows: u64,
    pub broken: u64,
    /// The last audit row and its hash: record it elsewhere to detect a later truncation of the newest rows.
    pub audit_head: Option<(i64, String)>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VERIFY orders={} events={} audit_rows={} broken={}",
            self.orders, self.events, self.audit_rows, self.broken
        )?;
        if let Some((seq, hash)) = &self.audit_head {
            write!(f, " audit_head={seq}:{hash}")?;
        }
        Ok(())
    }
}

/// The walk of one order's chain.
struct OrderWalk {
    order_id: Uuid,
    version: i64,
    next_sequence: i64,
    prev_hash: String,
    broken: bool,
}

impl OrderWalk {
    fn new(link: &ChainLink) -> Self {
        OrderWalk {
            order_id: link.order_id,
            version: link.order_version,
            next_sequence: 1,
            prev_hash: GENESIS.to_owned(),
            broken: false,
        }
    }

    fn event(&mut self, e: &StoredEvent) -> Option<Broken> {
        if self.broken {
            return None;
        }
        let fault = if e.sequence != self.next_sequence {
            Some((self.next_sequence, "missing".to_owned()))
        } else {
            match (&e.prev_hash, &e.hash) {
                (None, _) | (_, None) => Some((e.sequence, "not sealed (no hash)".to_owned())),
                (Some(prev), _) if *prev != self.prev_hash => {
                    Some((e.sequence, "prev_hash is not the hash of the event before".to_owned()))
                }
                (Some(prev), Some(hash)) => {
                    let recomputed = chain::event_hash(
                        prev,
                        &chain::EventContent {
                            id: e.id,
                            order_id: self.order_id,
                            sequence: e.sequence,
                            kind: &e.kind,
                            occurred_at: e.occurred_at,
                            actor: &e.actor,
                            data: &e.data,
                        },
                    );
                    if recomputed == *hash {
                        self.prev_hash = hash.clone();
                        self.next_sequence += 1;
                        None
                    } else {
                        Some((e.sequence, "content does not match its hash".to_owned()))
                    }
                }
            }
        };
        self.fail(fault)
    }

    /// After the order's last event: the order's version says how many there must be.
    fn finish(&mut self) -> Option<Broken> {
        if self.broken || self.next_sequence > self.version {
            return None;
        }
        let why = format!("missing (the order is at version {})", self.version);
        self.fail(Some((self.next_sequence, why)))
    }

    fn fail(&mut self, fault: Option<(i64, String)>) -> Option<Broken> {
        let (sequence, why) = fault?;
        self.broken = true;
        Some(Broken::Event {
            order_id: self.order_id,
            sequence,
            why,
        })
    }
}

/// Walks both chains, calling `report` with each broken link as it is found.
pub async fn verify(store: &dyn Store, mut report: impl FnMut(&Broken)) -> Result<Summary, StoreError> {
    let mut summary = Summary::default();
    let mut found = |b: Broken, summary: &mut Summary| {
        summary.broken += 1;
        report(&b);
    };
    let mut walk: Option<OrderWalk> = None;
    let mut after: Option<ChainCursor> = None;
    loop {
        let page = store.event_chains(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(ChainCursor {
            order_id: last.order_id,
            sequence: last.event.as_ref().map_or(0, |e| e.sequence),
        });
        for link in &page {
            if walk.as_ref().is_none_or(|w| w.order_id != link.order_id) {
                if let Some(b) = walk.as_mut().and_then(OrderWalk::finish) {
                    found(b, &mut summary);
                }
                walk = Some(OrderWalk::new(link));
                summary.orders += 1;
            }
            let (Some(w), Some(e)) = (walk.as_mut(), &link.event) else {
                continue;
            };
            summary.events += 1;
            if let Some(b) = w.event(e) {
                found(b, &mut summary);
            }
        }
    }
    if let Some(b) = walk.as_mut().and_then(OrderWalk::finish) {
        found(b, &mut summary);
    }

    // A break does not end the audit walk: it goes on from the row found, so each break is reported.
    let (mut next_seq, mut prev_hash) = (1i64, GENESIS.to_owned());
    loop {
        let page = store.audit_chain(next_seq - 1, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for r in &page {
            summary.audit_rows += 1;
            summary.audit_head = Some((r.seq, r.hash.clone()));
            let fault = if r.seq != next_seq {
                Some((next_seq, "missing"))
            } else if r.prev_hash != prev_hash {
                Some((r.seq, "prev_hash is not the hash of the row before"))
            } else {
                None
            };
            let fault =
                fault.or_else(|| (r.recomputed_hash() != r.hash).then_some((r.seq, "content does not match its hash")));
            if let Some((seq, why)) = fault {
                found(Broken::Audit { seq, why: why.into() }, &mut summary);
            }
            next_seq = r.seq + 1;
            prev_hash = r.hash.clone();
        }
    }
    Ok(summary)
}
