//! What an engine runs: a statement with its parameters, what it is run for, what it gives,
//! and how it fails.

use super::row::{DecodeError, Row};
use super::value::Value;

/// A statement and its parameters.
pub(crate) struct Statement<'q> {
    pub(crate) sql: &'q str,
    pub(crate) params: Vec<Value>,
}

/// A database failure, whichever database it came from.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("the query returned no row")]
    RowNotFound,
    #[error("a row did not decode: {0}")]
    Decode(#[from] DecodeError),
    #[error("timed out waiting for a database connection")]
    PoolTimedOut,
    #[error("the database is closed")]
    Closed,
}

/// What a statement changed.
#[derive(Debug, Clone, Copy)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub(crate) fn new(rows_affected: u64) -> Self {
        Done { rows_affected }
    }

    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// What a statement is run for: its count, its first row, or all its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Nothing,
    One,
    All,
}

/// What running a statement gives: a count, or rows.
pub(crate) enum Outcome {
    Done(Done),
    Rows(Vec<Row>),
}
