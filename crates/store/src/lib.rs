//! Durable state of the control plane behind one API with two backends.
//!
//! The embedded default is SQLite in the data directory (no other server needed); the
//! scale-out path is PostgreSQL, shared by several stateless Cloudward nodes. Both backends
//! run the same SQL (SQLite accepts PostgreSQL's `$1` placeholders) and pass the same
//! conformance suite (`tests/conformance.rs`).
//!
//! Invariant upheld here: **every row belongs to one account and every query that reads
//! tenant data is scoped by account** — methods take the `account_id` explicitly, never
//! infer it, and look rows up by `(account_id, key)`.

mod access_keys;
mod accounts;
mod error;
mod meta;
mod migrations;
mod protection;
mod ram;
mod rd;
mod sts;

pub use access_keys::{AccessKeyOwner, AccessKeyRecord, AccessKeyStatus};
pub use accounts::{AccountKind, AccountRecord};
pub use error::StoreError;
pub use meta::now_ms;
pub use protection::{KeyUse, NotificationRecord, NotificationStatus, QuarantineRecord};
#[allow(unused_imports)]
pub use ram::*;
#[allow(unused_imports)]
pub use rd::*;
#[allow(unused_imports)]
pub use sts::*;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The connection pool of whichever backend is configured.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same query-building code against whichever backend the store uses.
///
/// The body is instantiated once per backend, so it must only use SQL that both accept
/// (`$1` placeholders, `BIGINT`, `TEXT`; byte columns are declared per backend in the
/// migrations but read and written as `Vec<u8>` by both).
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Starts a transaction that will write.
///
/// On SQLite a plain `BEGIN` is deferred: a transaction that reads and then writes fails
/// with `SQLITE_BUSY` (without waiting) when another writer committed in between, so
/// concurrent writers would see spurious errors. `BEGIN IMMEDIATE` takes the write lock up
/// front and waits (busy timeout) instead. PostgreSQL's `BEGIN` needs no such care.
pub(crate) trait BeginWrite {
    /// The database of the pool.
    type Db: sqlx::Database;
    /// Begins a transaction that holds the write lock from its start (SQLite).
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>>
    + Send {
        self.begin()
    }
}

/// Which database engine backs a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file in the data directory.
    Sqlite,
    /// A shared PostgreSQL server.
    Postgres,
}

/// Handle to the control plane's relational state. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
}

impl Store {
    /// Opens (creating if needed) the embedded SQLite database at `path` and applies
    /// pending migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL survives a process crash; the audit log, which must also survive
            // power loss, lives in its own file with its own durability setting.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let store = Self {
            pool: Pool::Sqlite(pool),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens an in-memory SQLite database (tests and throw-away servers).
    pub async fn open_sqlite_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every connection to `:memory:` would be a separate database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let store = Self {
            pool: Pool::Sqlite(pool),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to PostgreSQL at `url` and applies pending migrations.
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        let store = Self {
            pool: Pool::Postgres(pool),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Connects to PostgreSQL with every table in `schema` (created if missing). Tests use
    /// a fresh schema each so they can share one database without seeing each other.
    pub async fn open_postgres_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        use std::str::FromStr;
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || schema.is_empty()
        {
            return Err(StoreError::Corrupt {
                what: "schema name (letters, digits and _ only)",
            });
        }
        let base = sqlx::postgres::PgConnectOptions::from_str(url)?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(base.clone())
            .await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&admin)
        .await?;
        admin.close().await;
        let options = base.options([("search_path", schema)]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let store = Self {
            pool: Pool::Postgres(pool),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection, waiting for checked-out ones to be returned. After this
    /// the SQLite WAL is checkpointed and the files are consistent on disk.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// Cheap liveness probe used by `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }
}
