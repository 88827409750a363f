//! SQLite through rusqlite, on the calling thread.
//!
//! A pool is a few open connections and a semaphore with as many permits: checking one out is an
//! uncontended permit and a `Vec::pop`. Statements are prepared once per connection and kept
//! (rusqlite's statement cache), parameters bound by their `$N` number.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::row::Row;
use super::statement::{Done, Error, Outcome, Statement, Want};
use super::value::Value;

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a checkout waits for a connection to come back.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// Where a `sqlite:` URL points, and how to open it.
#[derive(Debug, Clone)]
pub struct Target {
    path: PathBuf,
    flags: OpenFlags,
}

impl Target {
    /// Reads `sqlite://PATH` or `sqlite:PATH`, with an optional `?mode=ro|rw|rwc` (read-write
    /// by default, as sqlx opens it).
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE;
        for option in options.split('&').filter(|o| !o.is_empty()) {
            match option {
                "mode=ro" => flags = OpenFlags::SQLITE_OPEN_READ_ONLY,
                "mode=rw" => flags = OpenFlags::SQLITE_OPEN_READ_WRITE,
                "mode=rwc" => flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
                _ => return None,
            }
        }
        // Migrations run on a connection of their own (sqlx's migrator), which a private
        // in-memory database would not share: a store lives in a file.
        if path.is_empty() || path.starts_with(":memory:") {
            return None;
        }
        Some(Target {
            path: path.into(),
            flags,
        })
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(&self.path, self.flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        if !self.flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY) {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }
}

/// Open connections to one database file.
#[derive(Debug)]
pub struct Pool {
    target: Target,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    size: u32,
}

/// A connection checked out of a [`Pool`].
pub struct Conn {
    conn: Option<Connection>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// Opens `size` connections to `target`.
    pub fn open(target: &Target, size: u32) -> rusqlite::Result<Arc<Self>> {
        let idle = (0..size)
            .map(|_| target.open())
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Arc::new(Pool {
            target: target.clone(),
            idle: Mutex::new(idle),
            permits: Arc::new(Semaphore::new(size as usize)),
            size,
        }))
    }

    pub(crate) async fn acquire(self: &Arc<Self>) -> Result<Conn, Error> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => return Err(Error::Closed),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                match tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) => return Err(Error::Closed),
                    Err(_) => return Err(Error::PoolTimedOut),
                }
            }
        };
        let conn = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        // A permit comes with an idle connection, unless one was discarded: then a new one.
        let conn = match conn {
            Some(conn) => conn,
            None => self.target.open()?,
        };
        Ok(Conn {
            conn: Some(conn),
            pool: self.clone(),
            _permit: permit,
        })
    }

    /// Waits (at most 5 s) for every connection to come back, then closes them.
    pub(crate) async fn close(&self) {
        let all = tokio::time::timeout(Duration::from_secs(5), self.permits.acquire_many(self.size)).await;
        self.permits.close();
        drop(all);
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Conn {
    /// The connection, unless it was discarded (then every statement on it fails).
    fn get(&mut self) -> Result<&mut Connection, Error> {
        self.conn.as_mut().ok_or(Error::Closed)
    }

    pub(crate) fn execute_batch(&mut self, sql: &str) -> Result<(), Error> {
        Ok(self.get()?.execute_batch(sql)?)
    }

    /// Closes this connection instead of returning it (its state is unknown).
    pub(crate) fn discard(&mut self) {
        self.conn = None;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.pool.permits.is_closed()
        {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
    }
}

/// Runs one statement on `conn`.
pub(crate) fn run(conn: &mut Conn, query: &Statement<'_>, want: Want) -> Result<Outcome, Error> {
    let conn: &Connection = conn.get()?;
    let mut statement = conn.prepare_cached(query.sql)?;
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix(['$', '?']))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(index);
        let value = query
            .params
            .get(number - 1)
            .ok_or(rusqlite::Error::InvalidParameterCount(
                query.params.len(),
                statement.parameter_count(),
            ))?;
        statement.raw_bind_parameter(index, value)?;
    }
    if want == Want::Nothing && statement.column_count() == 0 {
        return Ok(Outcome::Done(Done::new(statement.raw_execute()? as u64)));
    }
    let columns: Arc<[String]> = statement.column_names().into_iter().map(str::to_owned).collect();
    let width = columns.len();
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        if want == Want::Nothing {
            continue;
        }
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Value::Null(super::value::Kind::Text),
                ValueRef::Integer(n) => Value::BigInt(n),
                ValueRef::Real(x) => Value::Double(x),
                ValueRef::Text(bytes) => Value::Text(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|e| rusqlite::Error::Utf8Error(e.utf8_error()))?,
                ),
                ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
            });
        }
        out.push(Row {
            columns: columns.clone(),
            values,
        });
        if want == Want::One {
            break;
        }
    }
    if want == Want::Nothing {
        return Ok(Outcome::Done(Done::new(conn.changes())));
    }
    Ok(Outcome::Rows(out))
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null(_) => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Bool(b) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*b))),
            Value::SmallInt(n) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*n))),
            Value::Int(n) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*n))),
            Value::BigInt(n) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*n)),
            Value::Real(x) => ToSqlOutput::Owned(rusqlite::types::Value::Real(f64::from(*x))),
            Value::Double(x) => ToSqlOutput::Owned(rusqlite::types::Value::Real(*x)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_file_and_how_to_open_it() {
        let target = Target::parse("sqlite:///var/lib/bazaar/bazaar.db?mode=rwc").unwrap();
        assert_eq!(target.path, PathBuf::from("/var/lib/bazaar/bazaar.db"));
        assert!(target.flags.contains(OpenFlags::SQLITE_OPEN_CREATE));
        let target = Target::parse("sqlite:data/bazaar.db").unwrap();
        assert_eq!(target.path, PathBuf::from("data/bazaar.db"));
        assert!(!target.flags.contains(OpenFlags::SQLITE_OPEN_CREATE));
        assert!(
            Target::parse("sqlite://x.db?mode=ro")
                .unwrap()
                .flags
                .contains(OpenFlags::SQLITE_OPEN_READ_ONLY)
        );
        for bad in [
            "sqlite:",
            "sqlite::memory:",
            "sqlite://x.db?cache=private",
            "postgres://x",
        ] {
            assert!(Target::parse(bad).is_none(), "{bad}");
        }
    }
}
