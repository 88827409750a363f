//! Queries as every module writes them: `query(sql).bind(..).execute(executor)`, or
//! `query_as::<Row>(sql)...fetch_one(executor)` for rows read into a `Deserialize` type.
//!
//! The SQL is the common subset of SQLite and PostgreSQL with `$N` parameters; the executor is a
//! pool (`store.reader()`, `store.writer()`), an acquired connection or a transaction.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::conn::{Executor, IntoExecutor};
use super::row::Row;
use super::statement::{Done, Error, Outcome, Statement, Want};
use super::value::Param;

/// A statement and its parameters.
#[must_use = "a query does nothing until it is executed"]
pub struct Query<'q> {
    statement: Statement<'q>,
}

/// A statement whose rows are read as `T`.
#[must_use = "a query does nothing until it is fetched"]
pub struct QueryAs<'q, T> {
    query: Query<'q>,
    row: PhantomData<fn() -> T>,
}

/// A statement to execute.
pub fn query(sql: &str) -> Query<'_> {
    Query {
        statement: Statement {
            sql,
            params: Vec::new(),
        },
    }
}

/// A statement whose rows are read as `T` (a tuple reads columns in order, a struct by name).
pub fn query_as<T: DeserializeOwned>(sql: &str) -> QueryAs<'_, T> {
    QueryAs {
        query: query(sql),
        row: PhantomData,
    }
}

impl<'q> Query<'q> {
    /// Binds the next parameter (`$1`, then `$2`, ...).
    pub fn bind(mut self, value: impl Param) -> Self {
        self.statement.params.push(value.to_value());
        self
    }

    pub async fn execute<'e>(self, executor: impl IntoExecutor<'e>) -> Result<Done, Error> {
        match executor
            .into_executor()
            .run(&self.statement, Want::Nothing)
            .await?
        {
            Outcome::Done(done) => Ok(done),
            Outcome::Rows(rows) => Ok(Done::new(rows.len() as u64)),
        }
    }

    async fn rows<'e>(&self, executor: impl IntoExecutor<'e>, want: Want) -> Result<Vec<Row>, Error> {
        match Executor::run(executor.into_executor(), &self.statement, want).await? {
            Outcome::Rows(rows) => Ok(rows),
            Outcome::Done(_) => Ok(Vec::new()),
        }
    }
}

impl<T> QueryAs<'_, T> {
    /// Binds the next parameter (`$1`, then `$2`, ...).
    pub fn bind(mut self, value: impl Param) -> Self {
        self.query = self.query.bind(value);
        self
    }
}

impl<T: DeserializeOwned> QueryAs<'_, T> {
    pub async fn fetch_all<'e>(self, executor: impl IntoExecutor<'e>) -> Result<Vec<T>, Error> {
        let rows = self.query.rows(executor, Want::All).await?;
        rows.into_iter().map(|row| Ok(row.decode()?)).collect()
    }

    /// The first row, if there is one.
    pub async fn fetch_optional<'e>(self, executor: impl IntoExecutor<'e>) -> Result<Option<T>, Error> {
        let rows = self.query.rows(executor, Want::One).await?;
        match rows.into_iter().next() {
            Some(row) => Ok(Some(row.decode()?)),
            None => Ok(None),
        }
    }

    /// The first row; [`Error::RowNotFound`] without one.
    pub async fn fetch_one<'e>(self, executor: impl IntoExecutor<'e>) -> Result<T, Error> {
        self.fetch_optional(executor).await?.ok_or(Error::RowNotFound)
    }
}
