//! The hash chains that make the audit trail tamper-evident: order events are chained per order, audit rows in one
//! global chain. A link is `hash = hex(SHA-256(prev_hash || content))`, where `prev_hash` is the 64 hex digits of
//! the link before (or [`GENESIS`] for the first) and `content` a canonical JSON array of the row's own fields.
//! docs/operations.md ("The hash, precisely") defines the encoding so an auditor can recompute it without
//! this code; any change here is a new format version (the first element of the array) and a new ADR.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

/// The `prev_hash` of the first link of every chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of one order event that its hash covers (everything but `position` and `published_at`, which the
/// outbox relay owns).
pub struct EventContent<'a> {
    pub id: Uuid,
    pub order_id: Uuid,
    pub sequence: i64,
    pub kind: &'a str,
    pub occurred_at: OffsetDateTime,
    pub actor: &'a str,
    pub data: &'a serde_json::Value,
}

/// The fields of one audit row that its hash covers: all of them but the hashes.
pub struct AuditContent<'a> {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: &'a str,
    pub request_id: Option<&'a str>,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub before: Option<&'a serde_json::Value>,
    pub after: Option<&'a serde_json::Value>,
}

/// Microseconds since the Unix epoch, rounded down: what both databases store (PostgreSQL `timestamptz` and the
/// SQLite integer columns), so a time read back hashes as it did when written.
pub fn micros(t: OffsetDateTime) -> i64 {
    let nanos = t.unix_timestamp_nanos();
    i64::try_from(nanos.div_euclid(1_000)).unwrap_or(i64::MAX)
}

/// JSON without whitespace, object keys sorted by their UTF-8 bytes (equivalently by code point), strings with
/// serde_json's minimal escaping. Python's `json.dumps(v, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)` writes the same bytes for the integers, strings, arrays and objects events hold.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `["orderly.event.v1", id, order_id, sequence, type, occurred_at_micros, actor, data]`, canonical.
pub fn event_content(e: &EventContent<'_>) -> String {
    canonical_json(&serde_json::json!([
        "orderly.event.v1",
        e.id.to_string(),
        e.order_id.to_string(),
        e.sequence,
        e.kind,
        micros(e.occurred_at),
        e.actor,
        e.data,
    ]))
}

/// `["orderly.audit.v1", seq, at_micros, actor, request_id, entity_type, entity_id, action, before, after]`,
/// canonical (`null` for an absent request id, before or after).
pub fn audit_content(a: &AuditContent<'_>) -> String {
    canonical_json(&serde_json::json!([
        "orderly.audit.v1",
        a.seq,
        micros(a.at),
        a.actor,
        a.request_id,
        a.entity_type,
        a.entity_id,
        a.action,
        a.before,
        a.after,
    ]))
}

/// The hash of a link: lowercase hex of SHA-256 over the previous hash (as its 64 hex characters) followed by the
/// canonical content.
pub fn link(prev_hash: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(content.as_bytes());
    hex::encode(h.finalize())
}

/// The hash of an order event whose predecessor hashed to `prev_hash`.
pub fn event_hash(prev_hash: &str, e: &EventContent<'_>) -> String {
    link(prev_hash, &event_content(e))
}

/// The hash of an audit row whose predecessor hashed to `prev_hash`.
pub fn audit_hash(prev_hash: &str, a: &AuditContent<'_>) -> String {
    link(prev_hash, &audit_content(a))
}

/// The canonical content of a domain event, as its stored row will hash.
pub fn event_content_of(e: &crate::domain::events::OrderEvent) -> String {
    let data = e.change.data();
    event_content(&EventContent {
        id: e.id,
        order_id: e.order_id,
        sequence: e.sequence,
        kind: e.kind(),
        occurred_at: e.occurred_at,
        actor: &e.actor,
        data: &data,
    })
}

/// The hash of a domain event chained after `prev_hash`, as the adapters store it.
pub fn of_event(prev_hash: &str, e: &crate::domain::events::OrderEvent) -> String {
    link(prev_hash, &event_content_of(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b": [1, {"z": null, "a": "x\n"}], "a": true}"#).unwrap();
        assert_eq!(canonical_json(&v), r#"{"a":true,"b":[1,{"a":"x\n","z":null}]}"#);
    }

    #[test]
    fn a_known_link_hashes_as_documented() {
        // The example of docs/operations.md: SHA-256 of GENESIS followed by `["orderly.audit.v1",1,...]`.
        let content = audit_content(&AuditContent {
            seq: 1,
            at: OffsetDateTime::from_unix_timestamp(1_764_676_800).unwrap(),
            actor: "ops",
            request_id: Some("req-1"),
            entity_type: "stock",
            entity_id: "OUD-1",
            action: "set",
            before: None,
            after: Some(&serde_json::json!({"on_hand": 5, "reserved": 0})),
        });
        assert_eq!(
            content,
            r#"["orderly.audit.v1",1,1764676800000000,"ops","req-1","stock","OUD-1","set",null,{"on_hand":5,"reserved":0}]"#
        );
        let mut h = Sha256::new();
        h.update(format!("{GENESIS}{content}").as_bytes());
        assert_eq!(link(GENESIS, &content), hex::encode(h.finalize()));
    }

    #[test]
    fn micros_round_down_before_the_epoch_too() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(-1).unwrap();
        assert_eq!(micros(t), -1);
    }
}
