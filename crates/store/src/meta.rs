//! Small key/value settings of the deployment itself (not of any tenant).

use crate::{Store, StoreError, on_pool};

/// Wall-clock milliseconds since the Unix epoch (for row timestamps).
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Reads a deployment-level setting.
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let value = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(value)
    }

    /// Writes a deployment-level setting only if it is not set yet; returns whether this
    /// call set it. Used to make first-start bootstrap idempotent across nodes.
    pub async fn meta_set_if_absent(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let result = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(result == 1)
    }
}
