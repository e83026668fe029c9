//! Reading a JSON body into its type without serde's leniency about shapes: serde's derived
//! structs also take a JSON array of their fields in order (`[null, null]` for a patch), which a
//! client never means and the contract does not allow. [`Strict`] reads a [`Value`] as
//! `serde_json` does, except that a struct (or a struct variant) takes only a JSON object, at
//! every depth (DESIGN §4: the server is exactly as strict as its contract).

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, Error as _, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Error, Value};

/// A JSON value to deserialise from, strictly (see the module documentation).
pub struct Strict(pub Value);

impl<'de> IntoDeserializer<'de, Error> for Strict {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Unexpected::Signed)
            .or_else(|| n.as_u64().map(Unexpected::Unsigned))
            .unwrap_or_else(|| Unexpected::Float(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> de::Deserializer<'de> for Strict {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                _ => Err(Error::custom("a number out of range")),
            },
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter().map(Strict));
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Object(fields) => {
                let mut map = MapDeserializer::new(fields.into_iter().map(|(k, v)| (k, Strict(v))));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Strict(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(visitor),
            ref other => Err(Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(variant.into_deserializer()),
            Value::Object(fields) if fields.len() == 1 => {
                let map = MapDeserializer::new(fields.into_iter().map(|(k, v)| (k, Strict(v))));
                visitor.visit_enum(de::value::MapAccessDeserializer::new(map))
            }
            ref other => Err(Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::Strict;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        a: Option<u8>,
        b: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        WithValue(u8),
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        inner: Option<Inner>,
        list: Vec<u8>,
        kind: Kind,
        other: Option<Kind>,
    }

    #[test]
    fn objects_read_as_serde_json_reads_them() {
        let value =
            json!({"inner": {"a": 1}, "list": [1, 2], "kind": "plain", "other": {"with_value": 3}});
        let read = Outer::deserialize(Strict(value)).unwrap();
        assert_eq!(
            read,
            Outer {
                inner: Some(Inner {
                    a: Some(1),
                    b: None
                }),
                list: vec![1, 2],
                kind: Kind::Plain,
                other: Some(Kind::WithValue(3)),
            }
        );
    }

    #[test]
    fn a_struct_written_as_an_array_is_refused_at_any_depth() {
        assert!(serde_json::from_value::<Inner>(json!([null, null])).is_ok());
        assert!(Inner::deserialize(Strict(json!([null, null]))).is_err());
        let nested = json!({"inner": [1, "x"], "list": [], "kind": "plain", "other": null});
        assert!(serde_json::from_value::<Outer>(nested.clone()).is_ok());
        let error = Outer::deserialize(Strict(nested)).unwrap_err();
        assert!(
            error.to_string().contains("invalid type: sequence"),
            "{error}"
        );
    }
}
