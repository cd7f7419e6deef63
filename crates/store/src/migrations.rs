//! Schema migrations, applied in order inside one transaction each.
//!
//! Each migration has one text per backend only where the dialects differ (byte columns);
//! the rest is shared SQL.

use crate::{Pool, Store, StoreError, on_pool};

struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

const V1_COMMON: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
";

/// Each domain module owns one migration (its tables, both dialects). Add new versions at
/// the end; never edit an applied one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: "
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    secret_ciphertext BLOB NOT NULL,
    status TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_used_at_ms BIGINT
);
CREATE INDEX IF NOT EXISTS access_keys_owner ON access_keys(account_id, owner_kind, owner_id);
",
        postgres: "
CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    owner_kind TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    secret_ciphertext BYTEA NOT NULL,
    status TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_used_at_ms BIGINT
);
CREATE INDEX IF NOT EXISTS access_keys_owner ON access_keys(account_id, owner_kind, owner_id);
",
    },
    Migration {
        version: 2,
        sqlite: crate::ram::MIGRATION_SQLITE,
        postgres: crate::ram::MIGRATION_POSTGRES,
    },
    Migration {
        version: 3,
        sqlite: crate::rd::MIGRATION_SQLITE,
        postgres: crate::rd::MIGRATION_POSTGRES,
    },
    Migration {
        version: 4,
        sqlite: crate::sts::MIGRATION_SQLITE,
        postgres: crate::sts::MIGRATION_POSTGRES,
    },
    Migration {
        version: 5,
        sqlite: crate::protection::MIGRATION,
        postgres: crate::protection::MIGRATION,
    },
    Migration {
        version: 6,
        sqlite: crate::ram::CONSOLE_MIGRATION,
        postgres: crate::ram::CONSOLE_MIGRATION,
    },
];

impl Store {
    /// Brings the schema up to date. Safe to run concurrently from several nodes on
    /// PostgreSQL: each migration is recorded under a primary key, so a second runner's
    /// insert fails and its transaction rolls back.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)",
            )
            .execute(pool)
            .await?;
        });
        for migration in MIGRATIONS {
            let applied: Option<i64> = on_pool!(self, |pool| {
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(migration.version)
                    .fetch_optional(pool)
                    .await?
            });
            if applied.is_some() {
                continue;
            }
            let body = match self.pool {
                Pool::Sqlite(_) => migration.sqlite,
                Pool::Postgres(_) => migration.postgres,
            };
            let script = if migration.version == 1 {
                format!("{V1_COMMON}{body}")
            } else {
                body.to_owned()
            };
            on_pool!(self, |pool| {
                let mut tx = pool.begin().await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(script.clone()))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
                )
                .bind(migration.version)
                .bind(crate::meta::now_ms())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            });
            tracing::info!(version = migration.version, "applied schema migration");
        }
        Ok(())
    }
}
