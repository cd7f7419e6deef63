//! Credential protection: AccessKey last-use details, leak quarantine, and the outbox of
//! security notifications to an account's contacts.
//!
//! Every query is scoped by `account_id` except the two the request path needs before it
//! knows the caller's account (the quarantine lookup by AccessKeyId, which is the
//! credential's own id) and the notification deliverer's scan of due work, which hands each
//! row to code that reads the contacts of that row's account only.

use sqlx::Row;

use crate::{Store, StoreError, on_pool};

/// SQL of migration 5 (same text on both backends).
pub(crate) const MIGRATION: &str = "
ALTER TABLE access_keys ADD COLUMN last_used_service TEXT;
ALTER TABLE access_keys ADD COLUMN last_used_action TEXT;
ALTER TABLE access_keys ADD COLUMN last_used_ip TEXT;
CREATE TABLE IF NOT EXISTS access_key_quarantine (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    quarantined_by TEXT NOT NULL,
    quarantined_at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_key_quarantine_account ON access_key_quarantine(account_id);
CREATE TABLE IF NOT EXISTS security_notifications (
    notification_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    delivered_at_ms BIGINT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS security_notifications_due ON security_notifications(status, next_attempt_at_ms);
CREATE INDEX IF NOT EXISTS security_notifications_account ON security_notifications(account_id, created_at_ms);
";

/// One successful authentication with a permanent key: what `GetAccessKeyLastUsed` serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUse {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// Product name (`Ram`, `Sts`, …) or empty when the version was unknown.
    pub service: String,
    /// API action name.
    pub action: String,
    /// Source address of the request.
    pub source_ip: String,
}

/// Why and since when an AccessKey is quarantined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantineRecord {
    /// The quarantined key.
    pub access_key_id: String,
    /// Its account.
    pub account_id: String,
    /// Free text given by whoever quarantined it (e.g. where the key was found).
    pub reason: String,
    /// `api`, `scanner`, … (who detected the leak).
    pub source: String,
    /// The principal that quarantined it (ARN-like text).
    pub quarantined_by: String,
    /// When, ms since the epoch.
    pub quarantined_at_ms: i64,
}

/// Delivery state of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationStatus {
    /// Not delivered yet; retried at `next_attempt_at_ms`.
    Pending,
    /// A contact acknowledged it (2xx).
    Delivered,
    /// Gave up after the maximum number of attempts.
    Failed,
    /// The account has no contact to deliver to; kept for `ListSecurityNotifications`.
    NoContact,
}

impl NotificationStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "Pending",
            NotificationStatus::Delivered => "Delivered",
            NotificationStatus::Failed => "Failed",
            NotificationStatus::NoContact => "NoContact",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "Pending" => NotificationStatus::Pending,
            "Delivered" => NotificationStatus::Delivered,
            "Failed" => NotificationStatus::Failed,
            "NoContact" => NotificationStatus::NoContact,
            _ => {
                return Err(StoreError::Corrupt {
                    what: "security_notifications.status",
                });
            }
        })
    }
}

/// One security notification to an account's contacts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRecord {
    /// Unique id (also sent as the delivery id, so receivers can deduplicate retries).
    pub notification_id: String,
    /// Account whose contacts receive it.
    pub account_id: String,
    /// Event kind, e.g. `AccessKeyQuarantined`.
    pub kind: String,
    /// JSON body sent to the webhook.
    pub payload: String,
    /// When it was queued, ms since the epoch.
    pub created_at_ms: i64,
    /// Delivery state.
    pub status: NotificationStatus,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When the next attempt is due, ms since the epoch.
    pub next_attempt_at_ms: i64,
    /// When it was delivered.
    pub delivered_at_ms: Option<i64>,
    /// Why the last attempt failed (never contains secrets: status line or error kind).
    pub last_error: Option<String>,
}

const NOTIFICATION_COLUMNS: &str = "notification_id, account_id, kind, payload, created_at_ms, status, attempts, next_attempt_at_ms, delivered_at_ms, last_error";

macro_rules! notification_from_row {
    ($row:expr) => {
        NotificationRecord {
            notification_id: $row.try_get(0)?,
            account_id: $row.try_get(1)?,
            kind: $row.try_get(2)?,
            payload: $row.try_get(3)?,
            created_at_ms: $row.try_get(4)?,
            status: NotificationStatus::parse(&$row.try_get::<String, _>(5)?)?,
            attempts: $row.try_get(6)?,
            next_attempt_at_ms: $row.try_get(7)?,
            delivered_at_ms: $row.try_get(8)?,
            last_error: $row.try_get(9)?,
        }
    };
}

const QUARANTINE_COLUMNS: &str =
    "access_key_id, account_id, reason, source, quarantined_by, quarantined_at_ms";

macro_rules! quarantine_from_row {
    ($row:expr) => {
        QuarantineRecord {
            access_key_id: $row.try_get(0)?,
            account_id: $row.try_get(1)?,
            reason: $row.try_get(2)?,
            source: $row.try_get(3)?,
            quarantined_by: $row.try_get(4)?,
            quarantined_at_ms: $row.try_get(5)?,
        }
    };
}

/// SQL text assembled from this module's constants (never from input), marked safe.
macro_rules! sql {
    ($($arg:tt)*) => {
        sqlx::AssertSqlSafe(format!($($arg)*))
    };
}

impl Store {
    /// Records a successful use of a permanent key (the caller rate-limits this per key).
    /// Older uses never overwrite newer ones.
    pub async fn record_access_key_use_detail(
        &self,
        access_key_id: &str,
        used: &KeyUse,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE access_keys SET last_used_at_ms = $1, last_used_service = $2, last_used_action = $3, last_used_ip = $4 WHERE access_key_id = $5 AND (last_used_at_ms IS NULL OR last_used_at_ms <= $1)",
            )
            .bind(used.at_ms)
            .bind(&used.service)
            .bind(&used.action)
            .bind(&used.source_ip)
            .bind(access_key_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The last recorded use of a key in `account_id`.
    pub async fn access_key_last_use(
        &self,
        account_id: &str,
        access_key_id: &str,
    ) -> Result<Option<KeyUse>, StoreError> {
        let found = on_pool!(self, |pool| {
            match sqlx::query(
                "SELECT last_used_at_ms, last_used_service, last_used_action, last_used_ip FROM access_keys WHERE account_id = $1 AND access_key_id = $2",
            )
            .bind(account_id)
            .bind(access_key_id)
            .fetch_optional(pool)
            .await?
            {
                None => None,
                Some(row) => {
                    let at: Option<i64> = row.try_get(0)?;
                    match at {
                        None => None,
                        Some(at_ms) => Some(KeyUse {
                            at_ms,
                            service: row.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                            action: row.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                            source_ip: row.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                        }),
                    }
                }
            }
        });
        Ok(found)
    }

    /// Ids of every account, for jobs that sweep all tenants one account at a time.
    pub async fn list_account_ids(&self) -> Result<Vec<String>, StoreError> {
        let ids = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, String>("SELECT account_id FROM accounts ORDER BY account_id")
                .fetch_all(pool)
                .await?
        });
        Ok(ids)
    }

    /// Quarantines a key (or replaces the reason of an existing quarantine).
    pub async fn put_quarantine(&self, record: &QuarantineRecord) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO access_key_quarantine (access_key_id, account_id, reason, source, quarantined_by, quarantined_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (access_key_id) DO UPDATE SET reason = excluded.reason, source = excluded.source, quarantined_by = excluded.quarantined_by, quarantined_at_ms = excluded.quarantined_at_ms",
            )
            .bind(&record.access_key_id)
            .bind(&record.account_id)
            .bind(&record.reason)
            .bind(&record.source)
            .bind(&record.quarantined_by)
            .bind(record.quarantined_at_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Lifts a quarantine; returns whether the key was quarantined.
    pub async fn delete_quarantine(
        &self,
        account_id: &str,
        access_key_id: &str,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM access_key_quarantine WHERE account_id = $1 AND access_key_id = $2",
            )
            .bind(account_id)
            .bind(access_key_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// The quarantine of a key, looked up by the key id alone: the request path asks this
    /// about the credential that just authenticated, whose account is the row's account.
    pub async fn find_quarantine(
        &self,
        access_key_id: &str,
    ) -> Result<Option<QuarantineRecord>, StoreError> {
        let found = on_pool!(self, |pool| {
            match sqlx::query(sql!(
                "SELECT {QUARANTINE_COLUMNS} FROM access_key_quarantine WHERE access_key_id = $1"
            ))
            .bind(access_key_id)
            .fetch_optional(pool)
            .await?
            {
                Some(row) => Some(quarantine_from_row!(row)),
                None => None,
            }
        });
        Ok(found)
    }

    /// The account's quarantined keys, oldest first.
    pub async fn list_quarantines(
        &self,
        account_id: &str,
    ) -> Result<Vec<QuarantineRecord>, StoreError> {
        let list = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {QUARANTINE_COLUMNS} FROM access_key_quarantine WHERE account_id = $1 ORDER BY quarantined_at_ms, access_key_id"
            ))
            .bind(account_id)
            .fetch_all(pool)
            .await?;
            let mut list = Vec::with_capacity(rows.len());
            for row in rows {
                list.push(quarantine_from_row!(row));
            }
            list
        });
        Ok(list)
    }

    /// Queues a notification for the account's contacts.
    pub async fn enqueue_notification(
        &self,
        notification: &NotificationRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(sql!(
                "INSERT INTO security_notifications ({NOTIFICATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(&notification.notification_id)
            .bind(&notification.account_id)
            .bind(&notification.kind)
            .bind(&notification.payload)
            .bind(notification.created_at_ms)
            .bind(notification.status.as_str())
            .bind(notification.attempts)
            .bind(notification.next_attempt_at_ms)
            .bind(notification.delivered_at_ms)
            .bind(&notification.last_error)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Pending notifications due at `now_ms` (all accounts; see the module note), oldest
    /// first.
    pub async fn due_notifications(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let list = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {NOTIFICATION_COLUMNS} FROM security_notifications WHERE status = 'Pending' AND next_attempt_at_ms <= $1 ORDER BY next_attempt_at_ms, notification_id LIMIT $2"
            ))
            .bind(now_ms)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut list = Vec::with_capacity(rows.len());
            for row in rows {
                list.push(notification_from_row!(row));
            }
            list
        });
        Ok(list)
    }

    /// Stores the outcome of a delivery attempt.
    pub async fn update_notification(
        &self,
        notification: &NotificationRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE security_notifications SET status = $1, attempts = $2, next_attempt_at_ms = $3, delivered_at_ms = $4, last_error = $5 WHERE account_id = $6 AND notification_id = $7",
            )
            .bind(notification.status.as_str())
            .bind(notification.attempts)
            .bind(notification.next_attempt_at_ms)
            .bind(notification.delivered_at_ms)
            .bind(&notification.last_error)
            .bind(&notification.account_id)
            .bind(&notification.notification_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The account's most recent notifications, newest first.
    pub async fn list_notifications(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let list = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {NOTIFICATION_COLUMNS} FROM security_notifications WHERE account_id = $1 ORDER BY created_at_ms DESC, notification_id DESC LIMIT $2"
            ))
            .bind(account_id)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut list = Vec::with_capacity(rows.len());
            for row in rows {
                list.push(notification_from_row!(row));
            }
            list
        });
        Ok(list)
    }
}
