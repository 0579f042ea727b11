//! A JSON body parsed into a `serde_json::Value` in one streaming pass that refuses an object naming the same key
//! twice. serde_json keeps the last of duplicate keys; other parsers (a proxy, a WAF, the client's own logs) keep
//! the first, so `{"reason":"ok","reason":"<something else>"}` could be checked as one thing and stored as another.
//! RFC 8259 leaves the behaviour open; refusing is the only answer every reader agrees on.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// How the duplicate-key error is told apart from serde_json's own syntax errors.
const DUPLICATE: &str = "duplicate key ";

/// Why a body is not acceptable JSON.
#[derive(Debug)]
pub enum Refused {
    /// Not JSON (serde_json's message).
    Syntax(String),
    /// An object names a key twice: the JSON pointer of the second occurrence.
    DuplicateKey(String),
}

/// Parses `bytes` as one JSON document whose objects name each key once.
pub fn parse(bytes: &[u8]) -> Result<Value, Refused> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, Unique>(&mut de)
        .map_err(|e| match e.inner().to_string().strip_prefix(DUPLICATE) {
            // The path is the object's; the key is the rest of the message, before serde_json's position.
            Some(rest) => {
                let key = rest.rsplit_once(" at line ").map_or(rest, |(key, _)| key);
                Refused::DuplicateKey(format!(
                    "{}/{}",
                    super::pointer(e.path()),
                    key.replace('~', "~0").replace('/', "~1")
                ))
            }
            None => Refused::Syntax(e.into_inner().to_string()),
        })?
        .0;
    de.end().map_err(|e| Refused::Syntax(e.to_string()))?;
    Ok(value)
}

/// A `Value` built by `UniqueVisitor`.
struct Unique(Value);

impl<'de> de::Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(Seed)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE}{key}")));
            }
            let value = map.next_value_seed(Seed)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// Parses one nested value the same way.
struct Seed;

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(UniqueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate_at(body: &str) -> String {
        match parse(body.as_bytes()) {
            Err(Refused::DuplicateKey(at)) => at,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn a_body_with_distinct_keys_parses_as_serde_json_does() {
        let body = r#"{"b":[1,2.5,{"c":null,"d":true}],"a":"x","n":-7,"u":18446744073709551615}"#;
        let expected: Value = serde_json::from_str(body).unwrap();
        assert_eq!(parse(body.as_bytes()).unwrap(), expected);
    }

    #[test]
    fn a_duplicate_key_is_refused_with_its_pointer() {
        assert_eq!(duplicate_at(r#"{"reason":"a","reason":"b"}"#), "/reason");
        assert_eq!(
            duplicate_at(r#"{"ship_to":{"city":"a","name":"n","city":"b"}}"#),
            "/ship_to/city"
        );
        assert_eq!(
            duplicate_at(r#"{"lines":[{"sku":"A"},{"sku":"A","sku":"B"}]}"#),
            "/lines/1/sku"
        );
    }

    #[test]
    fn the_same_key_in_different_objects_is_fine() {
        assert!(parse(br#"{"a":{"k":1},"b":{"k":2},"c":[{"k":3},{"k":4}]}"#).is_ok());
    }

    #[test]
    fn syntax_errors_stay_syntax_errors() {
        assert!(matches!(parse(br#"{"a":1"#), Err(Refused::Syntax(_))));
        assert!(matches!(parse(br#"{"a":1} trailing"#), Err(Refused::Syntax(_))));
        assert!(matches!(parse(b""), Err(Refused::Syntax(_))));
    }
}
