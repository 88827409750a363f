//! PostgreSQL (and, for comparison, SQLite) through sqlx's `Any` driver.

use std::sync::Arc;

use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Column, Row as _, ValueRef as _};

use super::row::Row;
use super::statement::{Done, Outcome, Statement, Want};
use super::value::{Kind, Value};

/// Runs one statement on `conn`.
pub(crate) async fn run(
    conn: &mut AnyConnection,
    query: &Statement<'_>,
    want: Want,
) -> Result<Outcome, sqlx::Error> {
    let mut statement = sqlx::query(query.sql);
    for value in &query.params {
        statement = match value {
            Value::Null(kind) => bind_null(statement, *kind),
            Value::Bool(b) => statement.bind(*b),
            Value::SmallInt(n) => statement.bind(*n),
            Value::Int(n) => statement.bind(*n),
            Value::BigInt(n) => statement.bind(*n),
            Value::Real(x) => statement.bind(*x),
            Value::Double(x) => statement.bind(*x),
            Value::Text(s) => statement.bind(s.as_str()),
            Value::Blob(b) => statement.bind(b.as_slice()),
        };
    }
    match want {
        Want::Nothing => Ok(Outcome::Done(Done::new(
            statement.execute(conn).await?.rows_affected(),
        ))),
        Want::One => {
            let row = statement.fetch_optional(conn).await?;
            Ok(Outcome::Rows(
                row.map(|row| to_row(&row, columns(&row)))
                    .transpose()?
                    .into_iter()
                    .collect(),
            ))
        }
        Want::All => {
            let rows = statement.fetch_all(conn).await?;
            let Some(first) = rows.first() else {
                return Ok(Outcome::Rows(Vec::new()));
            };
            let names = columns(first);
            Ok(Outcome::Rows(
                rows.iter()
                    .map(|row| to_row(row, names.clone()))
                    .collect::<Result<_, _>>()?,
            ))
        }
    }
}

/// Runs transaction control, which takes no parameters and must not be prepared.
pub(crate) async fn control(conn: &mut AnyConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::Executor::execute(conn, sql).await.map(drop)
}

/// Rolls back a connection dropped inside a transaction, then lets it go back to the pool; one
/// that cannot be rolled back is closed instead.
pub(crate) fn roll_back_and_return(mut conn: PoolConnection<Any>) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                if control(&mut conn, "ROLLBACK").await.is_err() {
                    drop(conn.detach());
                }
            });
        }
        Err(_) => drop(conn.detach()),
    }
}

type Bound<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_null(statement: Bound<'_>, kind: Kind) -> Bound<'_> {
    match kind {
        Kind::Bool => statement.bind(None::<bool>),
        Kind::SmallInt => statement.bind(None::<i16>),
        Kind::Int => statement.bind(None::<i32>),
        Kind::BigInt => statement.bind(None::<i64>),
        Kind::Real => statement.bind(None::<f32>),
        Kind::Double => statement.bind(None::<f64>),
        Kind::Text => statement.bind(None::<String>),
        Kind::Blob => statement.bind(None::<Vec<u8>>),
    }
}

fn columns(row: &AnyRow) -> Arc<[String]> {
    row.columns().iter().map(|c| c.name().to_owned()).collect()
}

fn to_row(row: &AnyRow, columns: Arc<[String]>) -> Result<Row, sqlx::Error> {
    let mut values = Vec::with_capacity(columns.len());
    for i in 0..columns.len() {
        let raw = row.try_get_raw(i)?;
        let kind = raw.type_info().kind();
        let null = raw.is_null();
        values.push(match kind {
            _ if null => Value::Null(Kind::Text),
            AnyTypeInfoKind::Null => Value::Null(Kind::Text),
            AnyTypeInfoKind::Bool => Value::Bool(row.try_get(i)?),
            AnyTypeInfoKind::SmallInt => Value::SmallInt(row.try_get(i)?),
            AnyTypeInfoKind::Integer => Value::Int(row.try_get(i)?),
            AnyTypeInfoKind::BigInt => Value::BigInt(row.try_get(i)?),
            AnyTypeInfoKind::Real => Value::Real(row.try_get(i)?),
            AnyTypeInfoKind::Double => Value::Double(row.try_get(i)?),
            AnyTypeInfoKind::Text => Value::Text(row.try_get(i)?),
            AnyTypeInfoKind::Blob => Value::Blob(row.try_get(i)?),
        });
    }
    Ok(Row { columns, values })
}
