//! Console sign-in state: login-profile status and locks, password history, failed
//! sign-ins, the short-lived tickets between sign-in steps, and console sessions
//! (migration 6).
//!
//! Secrets never reach this module in the clear: passwords arrive as Argon2id PHC strings,
//! tickets and session tokens as SHA-256 digests (hex). Every query is scoped by account,
//! except the two lookups that *establish* the account from a presented secret —
//! [`Store::take_signin_ticket`] and [`Store::find_console_session`] — which, like the
//! AccessKey and STS lookups, find a row by the digest of a random 256-bit value.

use sqlx::Row;

use super::credentials::{PROFILE_COLUMNS, profile_from_row};
use super::{flag, to_flag};
use crate::{LoginProfileRecord, LoginProfileStatus, Store, StoreError, on_pool};

/// Migration 6 (both backends run the same SQL: no byte columns).
pub(crate) const MIGRATION: &str = "
ALTER TABLE ram_login_profiles ADD COLUMN status TEXT NOT NULL DEFAULT 'Active';
ALTER TABLE ram_login_profiles ADD COLUMN last_login_at_ms BIGINT;
ALTER TABLE ram_login_profiles ADD COLUMN password_changed_at_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ram_login_profiles ADD COLUMN locked_until_ms BIGINT;
ALTER TABLE ram_login_profiles ADD COLUMN leak_locked_at_ms BIGINT;
UPDATE ram_login_profiles SET password_changed_at_ms = updated_at_ms;
CREATE TABLE IF NOT EXISTS ram_password_history (
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id, seq)
);
CREATE TABLE IF NOT EXISTS ram_signin_failures (
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    source_ip TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ram_signin_failures_user ON ram_signin_failures(account_id, user_id, at_ms);
CREATE TABLE IF NOT EXISTS ram_signin_tickets (
    ticket_digest TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    mfa_verified BIGINT NOT NULL,
    device_name TEXT,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS ram_console_sessions (
    session_id TEXT PRIMARY KEY,
    token_digest TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    mfa_present BIGINT NOT NULL,
    source_ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);
CREATE INDEX IF NOT EXISTS ram_console_sessions_user ON ram_console_sessions(account_id, user_id);
";

/// Password hashes kept per user: the largest `PasswordReusePrevention` the API accepts.
pub const PASSWORD_HISTORY_KEEP: i64 = 24;

/// A pending sign-in between two steps, found by the digest of its ticket.
#[derive(Clone, PartialEq, Eq)]
pub struct SigninTicketRecord {
    /// SHA-256 (hex) of the ticket handed to the browser.
    pub ticket_digest: String,
    /// Account of the user signing in.
    pub account_id: String,
    /// The user signing in.
    pub user_id: String,
    /// The step the ticket is good for (`MFA`, `BindMFA`, `ChangePassword`).
    pub stage: String,
    /// Whether an MFA code was already checked in this sign-in.
    pub mfa_verified: bool,
    /// For `BindMFA`: the virtual MFA device created for the user.
    pub device_name: Option<String>,
    /// Creation time, ms.
    pub created_at_ms: i64,
    /// Not accepted from this time on, ms.
    pub expires_at_ms: i64,
}

impl std::fmt::Debug for SigninTicketRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigninTicketRecord")
            .field("account_id", &self.account_id)
            .field("user_id", &self.user_id)
            .field("stage", &self.stage)
            .field("mfa_verified", &self.mfa_verified)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// A console session, found by the digest of its cookie token.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleSessionRecord {
    /// Public id (listed and revoked by administrators; not a credential).
    pub session_id: String,
    /// SHA-256 (hex) of the session token in the cookie.
    pub token_digest: String,
    /// Account of the user.
    pub account_id: String,
    /// The signed-in user.
    pub user_id: String,
    /// Whether MFA was used at sign-in (`acs:MFAPresent`).
    pub mfa_present: bool,
    /// Address the sign-in came from.
    pub source_ip: String,
    /// `User-Agent` at sign-in.
    pub user_agent: String,
    /// Sign-in time, ms.
    pub created_at_ms: i64,
    /// Expiry, ms.
    pub expires_at_ms: i64,
    /// Revocation (sign-out or administrator), ms.
    pub revoked_at_ms: Option<i64>,
}

impl std::fmt::Debug for ConsoleSessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSessionRecord")
            .field("session_id", &self.session_id)
            .field("account_id", &self.account_id)
            .field("user_id", &self.user_id)
            .field("mfa_present", &self.mfa_present)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("revoked_at_ms", &self.revoked_at_ms)
            .finish_non_exhaustive()
    }
}

const TICKET_COLUMNS: &str = "ticket_digest, account_id, user_id, stage, mfa_verified, device_name, created_at_ms, expires_at_ms";
const SESSION_COLUMNS: &str = "session_id, token_digest, account_id, user_id, mfa_present, source_ip, user_agent, created_at_ms, expires_at_ms, revoked_at_ms";

macro_rules! session_from_row {
    ($row:expr) => {
        ConsoleSessionRecord {
            session_id: $row.try_get(0)?,
            token_digest: $row.try_get(1)?,
            account_id: $row.try_get(2)?,
            user_id: $row.try_get(3)?,
            mfa_present: flag($row.try_get(4)?),
            source_ip: $row.try_get(5)?,
            user_agent: $row.try_get(6)?,
            created_at_ms: $row.try_get(7)?,
            expires_at_ms: $row.try_get(8)?,
            revoked_at_ms: $row.try_get(9)?,
        }
    };
}

impl Store {
    /// Every login profile of the account, by user id.
    pub async fn list_login_profiles(
        &self,
        account_id: &str,
    ) -> Result<Vec<LoginProfileRecord>, StoreError> {
        let profiles = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {PROFILE_COLUMNS} FROM ram_login_profiles WHERE account_id = $1 ORDER BY user_id"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(profile_from_row!(row));
            }
            out
        });
        Ok(profiles)
    }

    /// Sets a login profile's status; returns whether the profile exists.
    pub async fn set_login_profile_status(
        &self,
        account_id: &str,
        user_id: &str,
        status: LoginProfileStatus,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_login_profiles SET status = $3 WHERE account_id = $1 AND user_id = $2",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(status.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Sets (or, with `None`, clears) the temporary lock and the leak lock of a profile.
    pub async fn set_login_lock(
        &self,
        account_id: &str,
        user_id: &str,
        locked_until_ms: Option<i64>,
        leak_locked_at_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_login_profiles SET locked_until_ms = $3, leak_locked_at_ms = $4 WHERE account_id = $1 AND user_id = $2",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(locked_until_ms)
            .bind(leak_locked_at_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Records a successful sign-in: the profile's and the user's last sign-in time; the
    /// failure history of the user is forgotten.
    pub async fn record_login_success(
        &self,
        account_id: &str,
        user_id: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_login_profiles SET last_login_at_ms = $3 WHERE account_id = $1 AND user_id = $2",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(at_ms)
            .execute(pool)
            .await?;
        });
        self.clear_signin_failures(account_id, user_id).await?;
        self.record_user_login(account_id, user_id, at_ms).await
    }

    /// Appends a password hash to the user's history and keeps the newest
    /// [`PASSWORD_HISTORY_KEEP`].
    pub async fn add_password_history(
        &self,
        account_id: &str,
        user_id: &str,
        password_hash: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO ram_password_history (account_id, user_id, seq, password_hash, created_at_ms) SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4 FROM ram_password_history WHERE account_id = $1 AND user_id = $2",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(password_hash)
            .bind(at_ms)
            .execute(pool)
            .await?;
            sqlx::query(
                "DELETE FROM ram_password_history WHERE account_id = $1 AND user_id = $2 AND seq <= (SELECT MAX(seq) FROM ram_password_history WHERE account_id = $1 AND user_id = $2) - $3",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(PASSWORD_HISTORY_KEEP)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The newest `limit` password hashes of the user, newest first.
    pub async fn password_history(
        &self,
        account_id: &str,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let hashes = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT password_hash FROM ram_password_history WHERE account_id = $1 AND user_id = $2 ORDER BY seq DESC LIMIT $3",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(hashes)
    }

    /// Forgets the user's password history (the login profile was deleted).
    pub async fn delete_password_history(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM ram_password_history WHERE account_id = $1 AND user_id = $2")
                .bind(account_id)
                .bind(user_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records one failed sign-in of a user from an address.
    pub async fn record_signin_failure(
        &self,
        account_id: &str,
        user_id: &str,
        source_ip: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO ram_signin_failures (account_id, user_id, at_ms, source_ip) VALUES ($1, $2, $3, $4)",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(at_ms)
            .bind(source_ip)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Failed sign-ins of a user at or after `since_ms`: `(count, distinct addresses)`.
    pub async fn signin_failures_since(
        &self,
        account_id: &str,
        user_id: &str,
        since_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let counts = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT COUNT(*), COUNT(DISTINCT source_ip) FROM ram_signin_failures WHERE account_id = $1 AND user_id = $2 AND at_ms >= $3",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(since_ms)
            .fetch_one(pool)
            .await?;
            (row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?)
        });
        Ok(counts)
    }

    /// Forgets a user's failed sign-ins (success, or a password reset).
    pub async fn clear_signin_failures(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM ram_signin_failures WHERE account_id = $1 AND user_id = $2")
                .bind(account_id)
                .bind(user_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores a sign-in ticket (and drops tickets that expired before `ticket.created_at_ms`).
    pub async fn insert_signin_ticket(
        &self,
        ticket: &SigninTicketRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM ram_signin_tickets WHERE expires_at_ms <= $1")
                .bind(ticket.created_at_ms)
                .execute(pool)
                .await?;
            sqlx::query(sql!(
                "INSERT INTO ram_signin_tickets ({TICKET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&ticket.ticket_digest)
            .bind(&ticket.account_id)
            .bind(&ticket.user_id)
            .bind(&ticket.stage)
            .bind(to_flag(ticket.mfa_verified))
            .bind(&ticket.device_name)
            .bind(ticket.created_at_ms)
            .bind(ticket.expires_at_ms)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "sign-in ticket"))?;
        });
        Ok(())
    }

    /// Takes a ticket by digest: it is deleted in the same statement, so it can be used
    /// once even by concurrent requests. Returns it only if it had not expired at `now_ms`.
    pub async fn take_signin_ticket(
        &self,
        ticket_digest: &str,
        now_ms: i64,
    ) -> Result<Option<SigninTicketRecord>, StoreError> {
        let ticket = on_pool!(self, |pool| {
            let row = sqlx::query(sql!(
                "DELETE FROM ram_signin_tickets WHERE ticket_digest = $1 RETURNING {TICKET_COLUMNS}"
            ))
            .bind(ticket_digest)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(SigninTicketRecord {
                    ticket_digest: row.try_get(0)?,
                    account_id: row.try_get(1)?,
                    user_id: row.try_get(2)?,
                    stage: row.try_get(3)?,
                    mfa_verified: flag(row.try_get(4)?),
                    device_name: row.try_get(5)?,
                    created_at_ms: row.try_get(6)?,
                    expires_at_ms: row.try_get(7)?,
                }),
            }
        });
        Ok(ticket.filter(|t| t.expires_at_ms > now_ms))
    }

    /// Stores a new console session.
    pub async fn insert_console_session(
        &self,
        session: &ConsoleSessionRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(sql!(
                "INSERT INTO ram_console_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(&session.session_id)
            .bind(&session.token_digest)
            .bind(&session.account_id)
            .bind(&session.user_id)
            .bind(to_flag(session.mfa_present))
            .bind(&session.source_ip)
            .bind(&session.user_agent)
            .bind(session.created_at_ms)
            .bind(session.expires_at_ms)
            .bind(session.revoked_at_ms)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "console session"))?;
        });
        Ok(())
    }

    /// A session by the digest of its token (revoked and expired ones included: the caller
    /// decides, so it can say why a session is refused).
    pub async fn find_console_session(
        &self,
        token_digest: &str,
    ) -> Result<Option<ConsoleSessionRecord>, StoreError> {
        let session = on_pool!(self, |pool| {
            let row = sqlx::query(sql!(
                "SELECT {SESSION_COLUMNS} FROM ram_console_sessions WHERE token_digest = $1"
            ))
            .bind(token_digest)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(session_from_row!(row)),
            }
        });
        Ok(session)
    }

    /// Sessions of the account (of one user if given) neither revoked nor expired at
    /// `now_ms`, newest first.
    pub async fn list_console_sessions(
        &self,
        account_id: &str,
        user_id: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<ConsoleSessionRecord>, StoreError> {
        let sessions = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {SESSION_COLUMNS} FROM ram_console_sessions WHERE account_id = $1 AND ($2 IS NULL OR user_id = $2) AND revoked_at_ms IS NULL AND expires_at_ms > $3 ORDER BY created_at_ms DESC, session_id"
            ))
            .bind(account_id)
            .bind(user_id)
            .bind(now_ms)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(session_from_row!(row));
            }
            out
        });
        Ok(sessions)
    }

    /// Revokes the live sessions of the account matching a user and/or a session id
    /// (at least one should be given; with neither, every session of the account).
    /// Returns how many were revoked.
    pub async fn revoke_console_sessions(
        &self,
        account_id: &str,
        user_id: Option<&str>,
        session_id: Option<&str>,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_console_sessions SET revoked_at_ms = $4 WHERE account_id = $1 AND ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR session_id = $3) AND revoked_at_ms IS NULL",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(session_id)
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed)
    }

    /// Revokes one session by the digest of its token (sign-out); returns whether a live
    /// session was revoked.
    pub async fn revoke_console_session_by_token(
        &self,
        token_digest: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_console_sessions SET revoked_at_ms = $2 WHERE token_digest = $1 AND revoked_at_ms IS NULL",
            )
            .bind(token_digest)
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Accepts a TOTP step for a device only if it is later than the last accepted one,
    /// atomically (two concurrent sign-ins cannot both use one code). Returns whether the
    /// step was accepted.
    pub async fn advance_mfa_step(
        &self,
        account_id: &str,
        device_name: &str,
        step: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_mfa_devices SET last_used_step = $3 WHERE account_id = $1 AND device_name = $2 AND (last_used_step IS NULL OR last_used_step < $3)",
            )
            .bind(account_id)
            .bind(device_name)
            .bind(step)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// The account whose alias is `alias` (found by the unique index on the alias).
    pub async fn find_account_by_alias(&self, alias: &str) -> Result<Option<String>, StoreError> {
        let account = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT account_id FROM ram_account_aliases WHERE alias = $1")
                .bind(alias)
                .fetch_optional(pool)
                .await?
        });
        Ok(account)
    }
}
