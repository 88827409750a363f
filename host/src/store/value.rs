//! Values that cross the store seam: query parameters and the cells of a result row.

/// The type of a value, kept for `NULL` too: PostgreSQL plans a statement from its parameters'
/// types, so a missing `BIGINT` must be sent as a `BIGINT` null, not a text one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    SmallInt,
    Int,
    BigInt,
    Real,
    Double,
    Text,
    Blob,
}

/// One parameter or one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null(Kind),
    Bool(bool),
    SmallInt(i16),
    Int(i32),
    BigInt(i64),
    Real(f32),
    Double(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// The value as an integer, for the integer and boolean cells (SQLite keeps booleans as
    /// integers).
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Bool(b) => Some(i64::from(b)),
            Value::SmallInt(n) => Some(i64::from(n)),
            Value::Int(n) => Some(i64::from(n)),
            Value::BigInt(n) => Some(n),
            _ => None,
        }
    }
}

/// A Rust value that can be bound to a query parameter.
pub trait Param {
    /// The parameter's type when it is `NULL`.
    const KIND: Kind;
    fn to_value(&self) -> Value;
}

macro_rules! param {
    ($($ty:ty => $kind:ident, |$v:ident| $make:expr;)*) => {$(
        impl Param for $ty {
            const KIND: Kind = Kind::$kind;
            fn to_value(&self) -> Value {
                let $v = self;
                $make
            }
        }
    )*};
}

param! {
    bool => Bool, |v| Value::Bool(*v);
    i16 => SmallInt, |v| Value::SmallInt(*v);
    i32 => Int, |v| Value::Int(*v);
    i64 => BigInt, |v| Value::BigInt(*v);
    f32 => Real, |v| Value::Real(*v);
    f64 => Double, |v| Value::Double(*v);
    str => Text, |v| Value::Text(v.to_owned());
    String => Text, |v| Value::Text(v.clone());
    [u8] => Blob, |v| Value::Blob(v.to_vec());
    Vec<u8> => Blob, |v| Value::Blob(v.clone());
}

impl<T: Param + ?Sized> Param for &T {
    const KIND: Kind = T::KIND;
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: Param> Param for Option<T> {
    const KIND: Kind = T::KIND;
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null(T::KIND),
        }
    }
}
