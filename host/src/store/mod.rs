//! The database: one `Store` over SQLite (embedded, the default) or PostgreSQL (scale-out).
//!
//! Every module writes its SQL once, in the common subset of the two dialects (`$N` parameters,
//! `RETURNING`, BIGINT millisecond times, TEXT ids), and runs it through this module's
//! [`query`] and [`query_as`]; the few places that differ ask [`Store::backend`].
//!
//! SQLite runs in-process on the calling thread (rusqlite): a query is a few microseconds of
//! SQLite, not a round trip to a worker thread. It allows one writer at a time, so writes go
//! through a pool of one connection (no `SQLITE_BUSY` between our own writers) while reads use a
//! pool of several. PostgreSQL runs through sqlx, one pool for both.

mod any;
mod conn;
mod query;
mod row;
mod sqlite;
mod statement;
mod value;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Executor as _};

pub use conn::{Conn, Executor, IntoExecutor, Pool, Tx};
pub use query::{Query, QueryAs, query, query_as};
pub use row::{DecodeError, Row};
pub use statement::{Done, Error};
pub use value::{Kind, Param, Value};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Failure to open or migrate the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("could not create the data folder {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("could not open the SQLite database: {0}")]
    Open(#[source] rusqlite::Error),
    #[error("could not apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// How SQLite is reached: in-process on the calling thread (the store's way), or through sqlx's
/// worker thread per connection (kept only so `bazaar bench` can measure the two side by side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteDriver {
    InProcess,
    Sqlx,
}

/// Pools for reading and writing, and which database they reach.
#[derive(Clone, Debug)]
pub struct Store {
    read: Pool,
    write: Pool,
    backend: Backend,
    url: String,
}

impl Store {
    /// Opens the database at `url` (`sqlite://...` or `postgres://...`) without migrating it.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, SqliteDriver::InProcess).await
    }

    /// Opens the database at `url`, reaching SQLite the way `driver` says.
    pub async fn connect_with(url: &str, driver: SqliteDriver) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let (read, write) = match (backend, driver) {
            (Backend::Sqlite, SqliteDriver::InProcess) => {
                let target =
                    sqlite::Target::parse(url).ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
                // The writer first: it creates the file (`mode=rwc`) and turns WAL on.
                let write = sqlite::Pool::open(&target, 1).map_err(StoreError::Open)?;
                let read = sqlite::Pool::open(&target, 4).map_err(StoreError::Open)?;
                (Pool::Sqlite(read), Pool::Sqlite(write))
            }
            (Backend::Sqlite, SqliteDriver::Sqlx) => {
                let options = any_options(url)?;
                let write = sqlx_sqlite_pool(1).connect_with(options.clone()).await;
                let read = sqlx_sqlite_pool(4).connect_with(options).await;
                (
                    Pool::Any(read.map_err(StoreError::Connect)?),
                    Pool::Any(write.map_err(StoreError::Connect)?),
                )
            }
            (Backend::Postgres, _) => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(any_options(url)?)
                    .await
                    .map_err(StoreError::Connect)?;
                (Pool::Any(pool.clone()), Pool::Any(pool))
            }
        };
        Ok(Self {
            read,
            write,
            backend,
            url: url.to_owned(),
        })
    }

    /// Opens (creating it if needed) the SQLite database inside `data_dir`.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let file = data_dir.join("bazaar.db");
        Self::connect(&format!("sqlite://{}?mode=rwc", file.display())).await
    }

    /// Applies every pending migration of this backend (through a connection of its own, which
    /// sqlx's migrator needs).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let pool = match self.backend {
            Backend::Sqlite => sqlx_sqlite_pool(1),
            Backend::Postgres => AnyPoolOptions::new().max_connections(1),
        };
        let pool = pool
            .connect_with(any_options(&self.url)?)
            .await
            .map_err(StoreError::Connect)?;
        let migrated = migrator.run(&pool).await;
        pool.close().await;
        Ok(migrated?)
    }

    /// The pool for queries that only read.
    pub fn reader(&self) -> &Pool {
        &self.read
    }

    /// The pool for changes; begin transactions here.
    pub fn writer(&self) -> &Pool {
        &self.write
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What a `SELECT` that takes rows in order ends with: row locks on PostgreSQL, which a
    /// second node waits for (and then sees the rows as the first left them); nothing on
    /// SQLite, whose single writer already runs one such transaction at a time.
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Closes both pools, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

fn any_options(url: &str) -> Result<AnyConnectOptions, StoreError> {
    Ok(AnyConnectOptions::from_str(url)
        .map_err(StoreError::Connect)?
        .disable_statement_logging())
}

fn sqlx_sqlite_pool(size: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        // A local file cannot drop the connection: no ping round trip before each use.
        .test_before_acquire(false)
        .max_connections(size)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .await?;
                Ok(())
            })
        })
}

/// `$start, $start+1, ...` for `count` parameters, for `IN (...)` lists and multi-row inserts.
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The current time in Unix milliseconds, the representation every table uses.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A unique, time-ordered identifier with a prefix that says what it names (`prj_01j...`).
///
/// Identifiers made later sort after earlier ones (ULID), which is what cursor pagination and
/// "newest first" listings rely on.
pub fn new_id(prefix: &str) -> String {
    use std::sync::{LazyLock, Mutex};
    static GENERATOR: LazyLock<Mutex<ulid::Generator>> = LazyLock::new(|| Mutex::new(ulid::Generator::new()));
    // `Ulid::default()` is the nil id, so the fallback must be a fresh one, not the default.
    #[allow(clippy::unwrap_or_default)]
    let ulid = GENERATOR
        .lock()
        .map(|mut generator| generator.generate())
        .ok()
        .and_then(Result::ok)
        .unwrap_or_else(ulid::Ulid::new);
    format!("{prefix}_{}", ulid.to_string().to_lowercase())
}
