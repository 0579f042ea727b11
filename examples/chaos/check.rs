//! The verdict: the record of what clients were told, held against what the database and the stream hold.
//! Pure: `verdict` takes both and counts every kind of violation, so its rules have unit tests below.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::record::{AckedLine, Intent, Outcome};
use crate::snapshot::Snapshot;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub acknowledged: usize,
    /// Acknowledged orders missing, or stored with other lines or another total than the client was told.
    pub lost: usize,
    /// Extra orders for one intent, and orders reachable through more than one key or none.
    pub duplicated: usize,
    /// SKUs whose reservation does not match the open orders, or whose stock went below zero.
    pub oversold: usize,
    /// Orders no client was told about: their intent ended without a 201 for them.
    pub phantom: usize,
    /// Definite refusals (409 insufficient_stock and the like).
    pub failed_definite: usize,
    /// Intents that ended without a definite answer.
    pub undetermined: usize,
    pub attempts: usize,
    /// Answers 500: whatever breaks, Orderly owes a retryable 503, never a 500.
    pub server_errors: usize,
    /// Longest stretch of the load window without a 201 (ms).
    pub unavailable_ms: u64,
    /// Orders whose event sequences are not 1..n.
    pub event_gaps: usize,
    pub unpublished: i64,
    /// Events missing from the stream, in it more than once, in it without being in the database, or out of order
    /// within their order.
    pub stream_missing: usize,
    pub stream_duplicates: usize,
    pub stream_unknown: usize,
    pub stream_out_of_order: usize,
}

impl Verdict {
    pub fn violations(&self) -> usize {
        self.lost
            + self.server_errors
            + self.duplicated
            + self.oversold
            + self.phantom
            + self.event_gaps
            + usize::try_from(self.unpublished.max(0)).unwrap_or(usize::MAX)
            + self.stream_missing
            + self.stream_duplicates
            + self.stream_unknown
            + self.stream_out_of_order
    }
}

pub fn verdict(intents: &[Intent], window_ms: u64, s: &Snapshot, check_stream: bool) -> Verdict {
    let mut v = Verdict {
        attempts: intents.iter().map(|i| i.attempts.len()).sum(),
        server_errors: intents
            .iter()
            .flat_map(|i| &i.attempts)
            .filter(|a| a.answer.starts_with("500"))
            .count(),
        unpublished: if check_stream { s.unpublished } else { 0 },
        ..Verdict::default()
    };
    let mut by_customer: HashMap<&str, Vec<&crate::snapshot::StoredOrder>> = HashMap::new();
    for o in &s.orders {
        by_customer
            .entry(o.customer_id.as_deref().unwrap_or(""))
            .or_default()
            .push(o);
    }
    let mut acked_times = Vec::new();
    let mut known_customers = BTreeSet::new();
    for i in intents {
        known_customers.insert(i.customer_id.as_str());
        let stored = by_customer.get(i.customer_id.as_str()).map_or(&[][..], Vec::as_slice);
        match &i.outcome {
            Outcome::Acknowledged(a) => {
                v.acknowledged += 1;
                if let Some(last) = i.attempts.last() {
                    acked_times.push(last.done_ms);
                }
                let found = stored.iter().find(|o| o.id == a.order_id);
                let same = found.is_some_and(|o| {
                    o.number == a.number && o.grand_total_minor == a.grand_total_minor && lines_of(s, &o.id) == a.lines
                });
                if !same {
                    v.lost += 1;
                }
                v.duplicated += stored.len().saturating_sub(usize::from(found.is_some()));
            }
            Outcome::Refused { .. } => {
                v.failed_definite += 1;
                v.phantom += stored.len();
            }
            Outcome::Undetermined => {
                v.undetermined += 1;
                v.phantom += stored.len();
            }
        }
    }
    v.phantom += s
        .orders
        .iter()
        .filter(|o| !known_customers.contains(o.customer_id.as_deref().unwrap_or("")))
        .count();
    v.duplicated += keys_per_order(s);
    v.oversold = oversold(s);
    v.unavailable_ms = longest_gap(&mut acked_times, window_ms);
    v.event_gaps = s
        .orders
        .iter()
        .filter(|o| {
            let mut seqs = s.events.get(&o.id).cloned().unwrap_or_default();
            seqs.sort_unstable();
            seqs.is_empty() || seqs.iter().enumerate().any(|(n, seq)| *seq != n as i64 + 1)
        })
        .count();
    if check_stream {
        stream_checks(&mut v, s);
    }
    v
}

fn lines_of(s: &Snapshot, order: &str) -> Vec<AckedLine> {
    s.lines
        .get(order)
        .map(|ls| {
            ls.iter()
                .map(|(sku, quantity, unit, total)| AckedLine {
                    sku: sku.clone(),
                    quantity: *quantity,
                    unit_price_minor: *unit,
                    total_minor: *total,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every order is reachable through exactly one stored 201: more than one key, or none, counts.
fn keys_per_order(s: &Snapshot) -> usize {
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (_, order) in &s.keys {
        *keys.entry(order.as_str()).or_default() += 1;
    }
    s.orders
        .iter()
        .filter(|o| keys.get(o.id.as_str()).copied().unwrap_or(0) != 1)
        .count()
}

/// Nothing here ships, so each SKU's reservation must equal the units of its orders that are not cancelled.
fn oversold(s: &Snapshot) -> usize {
    let open: BTreeSet<&str> = s
        .orders
        .iter()
        .filter(|o| o.order_status != "cancelled")
        .map(|o| o.id.as_str())
        .collect();
    let mut units: BTreeMap<&str, i64> = BTreeMap::new();
    for (order, lines) in &s.lines {
        if open.contains(order.as_str()) {
            for (sku, quantity, _, _) in lines {
                *units.entry(sku.as_str()).or_default() += quantity;
            }
        }
    }
    s.stock
        .iter()
        .filter(|r| {
            r.on_hand < 0
                || r.reserved < 0
                || r.reserved > r.on_hand
                || r.reserved != units.get(r.sku.as_str()).copied().unwrap_or(0)
        })
        .count()
}

fn longest_gap(times: &mut [u64], window_ms: u64) -> u64 {
    times.sort_unstable();
    let mut last = 0;
    let mut longest = 0;
    for &t in times.iter().filter(|t| **t <= window_ms) {
        longest = longest.max(t - last);
        last = t;
    }
    longest.max(window_ms.saturating_sub(last))
}

fn stream_checks(v: &mut Verdict, s: &Snapshot) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (id, _, _) in &s.stream {
        *seen.entry(id.as_str()).or_default() += 1;
    }
    let in_db: BTreeSet<&str> = s.event_ids.iter().map(String::as_str).collect();
    v.stream_missing = in_db.iter().filter(|id| !seen.contains_key(*id)).count();
    v.stream_duplicates = seen.values().map(|n| n - 1).sum();
    v.stream_unknown = seen.keys().filter(|id| !in_db.contains(*id)).count();
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (_, order, sequence) in &s.stream {
        let prev = last.insert(order.as_str(), *sequence).unwrap_or(0);
        if *sequence <= prev {
            v.stream_out_of_order += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Acked, Attempt};
    use crate::snapshot::{StockRow, StoredOrder};

    fn attempt(key: &str, done_ms: u64, answer: &str) -> Attempt {
        Attempt {
            key: key.into(),
            sent_ms: done_ms.saturating_sub(5),
            done_ms,
            answer: answer.into(),
        }
    }

    fn acked(intent: &str, order: &str, done_ms: u64) -> Intent {
        Intent {
            intent: intent.into(),
            customer_id: format!("chaos-{intent}"),
            attempts: vec![attempt(&format!("k-{intent}"), done_ms, "201")],
            outcome: Outcome::Acknowledged(Acked {
                order_id: order.into(),
                number: format!("N-{order}"),
                key: format!("k-{intent}"),
                grand_total_minor: 200,
                lines: vec![AckedLine {
                    sku: "A".into(),
                    quantity: 2,
                    unit_price_minor: 100,
                    total_minor: 200,
                }],
            }),
        }
    }

    /// The database exactly as the acknowledged intents say, published once each, in order.
    fn matching(intents: &[Intent]) -> Snapshot {
        let mut s = Snapshot::default();
        for i in intents {
            if let Outcome::Acknowledged(a) = &i.outcome {
                store(&mut s, &a.order_id, &i.customer_id, &a.key);
            }
        }
        s
    }

    fn store(s: &mut Snapshot, order: &str, customer: &str, key: &str) {
        s.orders.push(StoredOrder {
            id: order.into(),
            number: format!("N-{order}"),
            customer_id: Some(customer.into()),
            order_status: "open".into(),
            grand_total_minor: 200,
        });
        s.lines.insert(order.into(), vec![("A".into(), 2, 100, 200)]);
        s.events.insert(order.into(), vec![1]);
        let event = format!("e-{order}");
        s.event_ids.push(event.clone());
        s.stream.push((event, order.into(), 1));
        s.keys.push((key.into(), order.into()));
        let units: i64 = s.orders.iter().filter(|o| o.order_status != "cancelled").count() as i64 * 2;
        s.stock = vec![StockRow {
            sku: "A".into(),
            on_hand: 1000,
            reserved: units,
        }];
    }

    #[test]
    fn a_database_that_matches_the_record_has_no_violation() {
        let intents = [acked("a", "o1", 100), acked("b", "o2", 300)];
        let v = verdict(&intents, 1000, &matching(&intents), true);
        assert_eq!((v.acknowledged, v.violations()), (2, 0), "{v:?}");
        assert_eq!(v.unavailable_ms, 700, "from the last 201 to the end of the window");
    }

    #[test]
    fn an_acknowledged_order_missing_or_altered_is_lost() {
        let intents = [acked("a", "o1", 100), acked("b", "o2", 300)];
        let mut s = matching(&intents);
        s.orders.retain(|o| o.id != "o1");
        assert_eq!(verdict(&intents, 1000, &s, false).lost, 1);
        let mut s = matching(&intents);
        s.orders[1].grand_total_minor = 199;
        assert_eq!(verdict(&intents, 1000, &s, false).lost, 1);
        let mut s = matching(&intents);
        s.lines.insert("o2".into(), vec![("A".into(), 3, 100, 300)]);
        assert_eq!(verdict(&intents, 1000, &s, false).lost, 1);
    }

    #[test]
    fn a_second_order_for_one_intent_is_a_duplicate() {
        let intents = [acked("a", "o1", 100)];
        let mut s = matching(&intents);
        store(&mut s, "o9", "chaos-a", "another-key");
        let v = verdict(&intents, 1000, &s, true);
        assert_eq!(v.duplicated, 1, "{v:?}");
    }

    #[test]
    fn an_order_nobody_was_told_about_is_a_phantom() {
        let mut undetermined = acked("a", "o1", 100);
        undetermined.outcome = Outcome::Undetermined;
        let intents = [undetermined];
        let mut s = Snapshot::default();
        store(&mut s, "o1", "chaos-a", "k-a");
        let v = verdict(&intents, 1000, &s, true);
        assert_eq!((v.phantom, v.undetermined), (1, 1), "{v:?}");
    }

    #[test]
    fn a_reservation_that_does_not_match_the_open_orders_is_oversold() {
        let intents = [acked("a", "o1", 100)];
        let mut s = matching(&intents);
        s.stock[0].reserved += 1;
        assert_eq!(verdict(&intents, 1000, &s, false).oversold, 1);
        let mut s = matching(&intents);
        s.stock[0].on_hand = 1;
        assert_eq!(verdict(&intents, 1000, &s, false).oversold, 1);
    }

    #[test]
    fn event_gaps_and_stream_faults_are_counted() {
        let intents = [acked("a", "o1", 100), acked("b", "o2", 300)];
        let mut s = matching(&intents);
        s.events.insert("o1".into(), vec![1, 3]);
        s.stream.push(s.stream[0].clone());
        s.stream.retain(|(id, _, _)| id != "e-o2");
        let v = verdict(&intents, 1000, &s, true);
        assert_eq!(
            (v.event_gaps, v.stream_duplicates, v.stream_missing),
            (1, 1, 1),
            "{v:?}"
        );
        assert_eq!(v.stream_out_of_order, 1, "o1's event came again after itself");
    }

    #[test]
    fn a_500_on_the_way_is_a_violation_even_when_the_retry_succeeded() {
        let mut a = acked("a", "o1", 100);
        a.attempts.insert(0, attempt("k-a", 50, "500 internal_error"));
        let intents = [a];
        let v = verdict(&intents, 1000, &matching(&intents), true);
        assert_eq!((v.server_errors, v.violations()), (1, 1), "{v:?}");
    }

    #[test]
    fn the_longest_gap_counts_from_the_start_of_the_window() {
        assert_eq!(longest_gap(&mut [5000, 1000, 1500], 6000), 3500);
        assert_eq!(longest_gap(&mut [], 6000), 6000);
    }
}
