//! Storage for STS sessions issued by AssumeRole.
//!
//! A session row holds the temporary AccessKey's secret sealed under the root key (the
//! server needs it to check signatures) and only a SHA-256 digest of the SecurityToken
//! (the server only needs to compare it).

use sqlx::Row;

use crate::{Store, StoreError, on_pool};

/// Schema of this module for SQLite (applied as one migration).
pub(crate) const MIGRATION_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS sts_sessions (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    role_name TEXT NOT NULL,
    session_name TEXT NOT NULL,
    secret_ciphertext BLOB NOT NULL,
    token_digest BLOB NOT NULL,
    session_policy TEXT,
    source_identity TEXT,
    caller_arn TEXT NOT NULL,
    chain_depth BIGINT NOT NULL,
    mfa_present BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sts_sessions_expiry ON sts_sessions(expires_at_ms);
";
/// Schema of this module for PostgreSQL.
pub(crate) const MIGRATION_POSTGRES: &str = "
CREATE TABLE IF NOT EXISTS sts_sessions (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    role_name TEXT NOT NULL,
    session_name TEXT NOT NULL,
    secret_ciphertext BYTEA NOT NULL,
    token_digest BYTEA NOT NULL,
    session_policy TEXT,
    source_identity TEXT,
    caller_arn TEXT NOT NULL,
    chain_depth BIGINT NOT NULL,
    mfa_present BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sts_sessions_expiry ON sts_sessions(expires_at_ms);
";

/// One role session.
#[derive(Clone, PartialEq, Eq)]
pub struct StsSessionRecord {
    /// Temporary AccessKeyId (`STS.…`).
    pub access_key_id: String,
    /// Account owning the role (the session acts in it).
    pub account_id: String,
    /// Role id.
    pub role_id: String,
    /// Role name.
    pub role_name: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// Temporary secret sealed under the root key (AAD: the AccessKeyId).
    pub secret_ciphertext: Vec<u8>,
    /// SHA-256 of the SecurityToken.
    pub token_digest: Vec<u8>,
    /// Session policy document, if one was passed to AssumeRole.
    pub session_policy: Option<String>,
    /// `SourceIdentity`, carried through role chains.
    pub source_identity: Option<String>,
    /// ARN of the identity that called AssumeRole.
    pub caller_arn: String,
    /// 1 for a session created by a user or root, +1 per chained AssumeRole.
    pub chain_depth: i64,
    /// Whether the creating identity had MFA.
    pub mfa_present: bool,
    /// Issue time, ms since epoch.
    pub created_at_ms: i64,
    /// Expiry, ms since epoch.
    pub expires_at_ms: i64,
}

impl std::fmt::Debug for StsSessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsSessionRecord")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("role_name", &self.role_name)
            .field("session_name", &self.session_name)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "access_key_id, account_id, role_id, role_name, session_name, secret_ciphertext, token_digest, session_policy, source_identity, caller_arn, chain_depth, mfa_present, created_at_ms, expires_at_ms";

impl Store {
    /// Stores a new session.
    pub async fn insert_sts_session(&self, s: &StsSessionRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO sts_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            )))
            .bind(&s.access_key_id)
            .bind(&s.account_id)
            .bind(&s.role_id)
            .bind(&s.role_name)
            .bind(&s.session_name)
            .bind(&s.secret_ciphertext)
            .bind(&s.token_digest)
            .bind(&s.session_policy)
            .bind(&s.source_identity)
            .bind(&s.caller_arn)
            .bind(s.chain_depth)
            .bind(i64::from(s.mfa_present))
            .bind(s.created_at_ms)
            .bind(s.expires_at_ms)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "sts session"))?;
        });
        Ok(())
    }

    /// Finds a session by its temporary AccessKeyId (the lookup that establishes the
    /// account, like [`Store::find_access_key`]).
    pub async fn find_sts_session(
        &self,
        access_key_id: &str,
    ) -> Result<Option<StsSessionRecord>, StoreError> {
        let record = on_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM sts_sessions WHERE access_key_id = $1"
            )))
            .bind(access_key_id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(StsSessionRecord {
                    access_key_id: row.try_get(0)?,
                    account_id: row.try_get(1)?,
                    role_id: row.try_get(2)?,
                    role_name: row.try_get(3)?,
                    session_name: row.try_get(4)?,
                    secret_ciphertext: row.try_get(5)?,
                    token_digest: row.try_get(6)?,
                    session_policy: row.try_get(7)?,
                    source_identity: row.try_get(8)?,
                    caller_arn: row.try_get(9)?,
                    chain_depth: row.try_get(10)?,
                    mfa_present: row.try_get::<i64, _>(11)? != 0,
                    created_at_ms: row.try_get(12)?,
                    expires_at_ms: row.try_get(13)?,
                }),
            }
        });
        Ok(record)
    }

    /// Deletes sessions that expired before `now_ms`; returns how many.
    pub async fn purge_expired_sts_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sts_sessions WHERE expires_at_ms < $1")
                .bind(now_ms)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
