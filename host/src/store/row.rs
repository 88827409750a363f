//! A result row, and reading Rust values out of it with serde.
//!
//! Any `Deserialize` type is a row type: a tuple (or tuple struct) reads the columns in order, a
//! struct reads them by name. Integers narrow with a range check (serde's), SQLite's integer
//! booleans read as `bool`, a `BLOB` reads as `Vec<u8>`, `NULL` reads as `None`.

use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::value::Value;

/// One row of a result, its cells in select order.
#[derive(Debug, Clone)]
pub struct Row {
    pub(crate) columns: Arc<[String]>,
    pub(crate) values: Vec<Value>,
}

/// A row that does not fit the type it is read into.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

impl de::Error for DecodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DecodeError(msg.to_string())
    }
}

impl Row {
    /// Reads the row as `T`.
    pub fn decode<T: de::DeserializeOwned>(self) -> Result<T, DecodeError> {
        T::deserialize(RowDeserializer(self))
    }
}

struct RowDeserializer(Row);

impl<'de> de::Deserializer<'de> for RowDeserializer {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let Row { columns, values } = self.0;
        let mut cells = Cells {
            columns,
            values: values.into_iter(),
            at: 0,
        };
        let value = visitor.visit_seq(&mut cells)?;
        match cells.values.len() {
            0 => Ok(value),
            extra => Err(DecodeError(format!(
                "the row has {extra} more columns than the type reads"
            ))),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let Row { columns, values } = self.0;
        visitor.visit_map(Cells {
            columns,
            values: values.into_iter(),
            at: 0,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct enum identifier ignored_any
    }
}

/// The cells of a row, read in order or as column name and value.
struct Cells {
    columns: Arc<[String]>,
    values: std::vec::IntoIter<Value>,
    at: usize,
}

impl Cells {
    fn in_column<T>(&self, result: Result<T, DecodeError>) -> Result<T, DecodeError> {
        result.map_err(|DecodeError(e)| {
            let column = self.columns.get(self.at - 1).map_or("?", String::as_str);
            DecodeError(format!("column `{column}`: {e}"))
        })
    }
}

impl<'de> SeqAccess<'de> for Cells {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        let Some(value) = self.values.next() else {
            return Ok(None);
        };
        self.at += 1;
        let decoded = seed.deserialize(Cell(value));
        self.in_column(decoded).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.values.len())
    }
}

impl<'de> MapAccess<'de> for Cells {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        let Some(name) = self.columns.get(self.at) else {
            return Ok(None);
        };
        seed.deserialize(name.as_str().into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DecodeError> {
        let value = self
            .values
            .next()
            .ok_or_else(|| DecodeError("a column without a value".into()))?;
        self.at += 1;
        let decoded = seed.deserialize(Cell(value));
        self.in_column(decoded)
    }
}

/// One cell, read as whatever Rust type asks for it.
struct Cell(Value);

impl<'de> de::Deserializer<'de> for Cell {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null(_) => visitor.visit_none(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::SmallInt(n) => visitor.visit_i16(n),
            Value::Int(n) => visitor.visit_i32(n),
            Value::BigInt(n) => visitor.visit_i64(n),
            Value::Real(x) => visitor.visit_f32(x),
            Value::Double(x) => visitor.visit_f64(x),
            Value::Text(s) => visitor.visit_string(s),
            Value::Blob(b) => visitor.visit_byte_buf(b),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null(_) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0.as_i64() {
            Some(n) => visitor.visit_bool(n != 0),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0.as_i64() {
            Some(n) => visitor.visit_f64(n as f64),
            None => self.deserialize_any(visitor),
        }
    }

    /// `Vec<u8>` reads a sequence; a `BLOB` is one.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Blob(bytes) => visitor.visit_seq(de::value::SeqDeserializer::new(bytes.into_iter())),
            other => Cell(other).deserialize_any(visitor),
        }
    }

    /// A unit-variant enum is kept as its name.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Text(s) => visitor.visit_enum(s.into_deserializer()),
            other => Cell(other).deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[(&str, Value)]) -> Row {
        Row {
            columns: cells.iter().map(|(name, _)| name.to_string()).collect(),
            values: cells.iter().map(|(_, value)| value.clone()).collect(),
        }
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Named {
        id: String,
        count: i32,
        done: bool,
        note: Option<String>,
        bytes: Vec<u8>,
    }

    #[test]
    fn structs_read_by_name_and_tuples_in_order() {
        let cells = [
            ("count", Value::BigInt(3)),
            ("id", Value::Text("prj_1".into())),
            ("done", Value::BigInt(1)),
            ("note", Value::Null(super::super::value::Kind::Text)),
            ("bytes", Value::Blob(vec![1, 2])),
        ];
        let named: Named = row(&cells).decode().unwrap();
        assert_eq!(
            named,
            Named {
                id: "prj_1".into(),
                count: 3,
                done: true,
                note: None,
                bytes: vec![1, 2]
            }
        );
        let tuple: (i64, String, bool, Option<String>, Vec<u8>) = row(&cells).decode().unwrap();
        assert_eq!(tuple, (3, "prj_1".into(), true, None, vec![1, 2]));
    }

    #[test]
    fn a_row_that_does_not_fit_names_the_column() {
        let cells = [("count", Value::BigInt(i64::MAX))];
        let error = row(&cells).decode::<(i32,)>().unwrap_err().to_string();
        assert!(error.contains("column `count`"), "{error}");
        let error = row(&[("a", Value::BigInt(1)), ("b", Value::BigInt(2))])
            .decode::<(i64,)>()
            .unwrap_err()
            .to_string();
        assert!(error.contains("more columns"), "{error}");
    }
}
