//! Pools, connections and transactions over either engine.
//!
//! SQLite runs through rusqlite on the calling thread: a statement costs a mutex-free
//! connection checkout and the statement itself, no hand-off to a worker thread and back.
//! PostgreSQL runs through sqlx (its driver is asynchronous on the socket already).
//!
//! A transaction is `BEGIN` on a checked-out connection (`SAVEPOINT` when nested). One dropped
//! without `commit` is rolled back: at once on SQLite, and on PostgreSQL before the connection's
//! next statement, or by a spawned task when the connection itself goes back to the pool.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};

use super::statement::{Error, Outcome, Statement, Want};
use super::{any, sqlite};

/// Connections to one database, shared by cloning.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(Arc<sqlite::Pool>),
    Any(AnyPool),
}

/// A connection checked out of a [`Pool`]; it goes back when dropped.
pub struct Conn {
    engine: Engine,
    /// How many transactions (the outer one and its savepoints) are open.
    depth: u32,
    /// A depth to roll back to before the next statement (a transaction dropped uncommitted).
    unwind_to: Option<u32>,
}

enum Engine {
    Sqlite(sqlite::Conn),
    Any(PoolConnection<Any>),
    /// Handed back to the pool by [`Conn`]'s drop.
    Gone,
}

/// An open transaction: statements run on it through `&mut *tx`; `commit` ends it, dropping it
/// rolls it back.
pub struct Tx<'c> {
    conn: Slot<'c>,
    /// The connection's depth once this transaction began.
    depth: u32,
    open: bool,
}

enum Slot<'c> {
    Owned(Conn),
    Borrowed(&'c mut Conn),
}

/// Where a statement runs.
pub enum Executor<'e> {
    Pool(&'e Pool),
    Conn(&'e mut Conn),
}

/// What a statement can run on: a pool, a connection, a transaction.
pub trait IntoExecutor<'e> {
    fn into_executor(self) -> Executor<'e>;
}

impl<'e> IntoExecutor<'e> for &'e Pool {
    fn into_executor(self) -> Executor<'e> {
        Executor::Pool(self)
    }
}

impl<'e> IntoExecutor<'e> for &'e mut Conn {
    fn into_executor(self) -> Executor<'e> {
        Executor::Conn(self)
    }
}

impl<'e, 'c> IntoExecutor<'e> for &'e mut Tx<'c> {
    fn into_executor(self) -> Executor<'e> {
        Executor::Conn(self)
    }
}

impl Executor<'_> {
    pub(crate) async fn run(self, query: &Statement<'_>, want: Want) -> Result<Outcome, Error> {
        match self {
            Executor::Pool(pool) => pool.acquire().await?.run(query, want).await,
            Executor::Conn(conn) => conn.run(query, want).await,
        }
    }
}

impl Pool {
    /// Checks a connection out, waiting (at most 10 s) while all are in use.
    pub async fn acquire(&self) -> Result<Conn, Error> {
        let engine = match self {
            Pool::Sqlite(pool) => Engine::Sqlite(pool.acquire().await?),
            Pool::Any(pool) => Engine::Any(pool.acquire().await?),
        };
        Ok(Conn {
            engine,
            depth: 0,
            unwind_to: None,
        })
    }

    /// Begins a transaction on a connection of its own.
    pub async fn begin(&self) -> Result<Tx<'static>, Error> {
        let conn = self.acquire().await?;
        Tx::start(Slot::Owned(conn)).await
    }

    /// Waits for the connections in use to come back, then closes them all.
    pub async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Any(pool) => pool.close().await,
        }
    }
}

impl Conn {
    /// Begins a transaction on this connection (a savepoint inside an open one).
    pub async fn begin(&mut self) -> Result<Tx<'_>, Error> {
        Tx::start(Slot::Borrowed(self)).await
    }

    async fn run(&mut self, query: &Statement<'_>, want: Want) -> Result<Outcome, Error> {
        self.unwind().await?;
        match &mut self.engine {
            Engine::Sqlite(conn) => Ok(sqlite::run(conn, query, want)?),
            Engine::Any(conn) => Ok(any::run(conn, query, want).await?),
            Engine::Gone => Err(Error::Closed),
        }
    }

    /// Runs SQL of the store's own (transaction control), without parameters.
    async fn control(&mut self, sql: &str) -> Result<(), Error> {
        match &mut self.engine {
            Engine::Sqlite(conn) => conn.execute_batch(sql),
            Engine::Any(conn) => Ok(any::control(conn, sql).await?),
            Engine::Gone => Err(Error::Closed),
        }
    }

    /// Rolls back what transactions were dropped uncommitted.
    async fn unwind(&mut self) -> Result<(), Error> {
        while let Some(target) = self.unwind_to.filter(|target| *target < self.depth) {
            let sql = rollback_sql(self.depth);
            self.depth -= 1;
            if self.depth == target {
                self.unwind_to = None;
            }
            self.control(&sql).await?;
        }
        self.unwind_to = None;
        Ok(())
    }
}

fn rollback_sql(depth: u32) -> String {
    match depth {
        1 => "ROLLBACK".to_owned(),
        n => format!("ROLLBACK TO SAVEPOINT bazaar_{n}; RELEASE SAVEPOINT bazaar_{n}"),
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.depth == 0 {
            return;
        }
        match &mut self.engine {
            // Synchronous: the connection is clean before it goes back.
            Engine::Sqlite(conn) => {
                if conn.execute_batch("ROLLBACK").is_err() {
                    conn.discard();
                }
            }
            // A connection left in a transaction must not go back as it is.
            Engine::Any(_) => {
                let Engine::Any(conn) = std::mem::replace(&mut self.engine, Engine::Gone) else {
                    unreachable!()
                };
                any::roll_back_and_return(conn);
            }
            Engine::Gone => {}
        }
    }
}

impl<'c> Tx<'c> {
    async fn start(mut conn: Slot<'c>) -> Result<Self, Error> {
        let c = conn.get();
        c.unwind().await?;
        let depth = c.depth + 1;
        let sql = match depth {
            1 => "BEGIN".to_owned(),
            n => format!("SAVEPOINT bazaar_{n}"),
        };
        c.control(&sql).await?;
        c.depth = depth;
        Ok(Tx {
            conn,
            depth,
            open: true,
        })
    }

    /// Makes the transaction's changes permanent (releases the savepoint when nested).
    pub async fn commit(mut self) -> Result<(), Error> {
        let depth = self.depth;
        let conn = self.conn.get();
        conn.unwind().await?;
        let sql = match depth {
            1 => "COMMIT".to_owned(),
            n => format!("RELEASE SAVEPOINT bazaar_{n}"),
        };
        let committed = conn.control(&sql).await;
        if committed.is_ok() {
            self.open = false;
            conn.depth = depth - 1;
        }
        // A failed COMMIT leaves the transaction to the drop, which rolls it back: SQLite keeps
        // a transaction open when COMMIT fails (`SQLITE_BUSY`); PostgreSQL has ended it already
        // and takes the ROLLBACK as a no-op.
        committed
    }
}

impl Slot<'_> {
    fn get(&mut self) -> &mut Conn {
        match self {
            Slot::Owned(conn) => conn,
            Slot::Borrowed(conn) => conn,
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let target = self.depth - 1;
        let conn = self.conn.get();
        if let Engine::Sqlite(sqlite) = &mut conn.engine {
            while conn.depth > target {
                if sqlite.execute_batch(&rollback_sql(conn.depth)).is_err() {
                    // Its state is unknown: close it rather than hand it out again.
                    sqlite.discard();
                    conn.depth = target;
                    break;
                }
                conn.depth -= 1;
            }
            return;
        }
        conn.unwind_to = Some(conn.unwind_to.map_or(target, |t| t.min(target)));
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        match &self.conn {
            Slot::Owned(conn) => conn,
            Slot::Borrowed(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.get()
    }
}
