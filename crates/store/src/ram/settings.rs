//! Account-level RAM settings (password policy, security preference — stored as opaque
//! text the service layer serializes), the account alias, and tags on RAM resources.

use sqlx::Row;

use crate::{Store, StoreError, on_pool};

/// One tag on a RAM resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRecord {
    /// `user`, `role` or `policy`.
    pub resource_type: String,
    /// The resource's name.
    pub resource_name: String,
    /// Tag key.
    pub tag_key: String,
    /// Tag value (may be empty).
    pub tag_value: String,
}

impl Store {
    /// Reads an account-level RAM setting.
    pub async fn get_ram_setting(
        &self,
        account_id: &str,
        setting: &str,
    ) -> Result<Option<String>, StoreError> {
        let value = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT value FROM ram_account_settings WHERE account_id = $1 AND setting = $2",
            )
            .bind(account_id)
            .bind(setting)
            .fetch_optional(pool)
            .await?
        });
        Ok(value)
    }

    /// Writes an account-level RAM setting.
    pub async fn put_ram_setting(
        &self,
        account_id: &str,
        setting: &str,
        value: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO ram_account_settings (account_id, setting, value, updated_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, setting) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms",
            )
            .bind(account_id)
            .bind(setting)
            .bind(value)
            .bind(now_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Sets the account alias. Aliases are unique across the deployment (they name the
    /// logon domain); a taken one is `AlreadyExists { entity: "account alias" }` — found by
    /// the unique index, never by reading another account's row.
    pub async fn set_account_alias(&self, account_id: &str, alias: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO ram_account_aliases (account_id, alias) VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE SET alias = excluded.alias",
            )
            .bind(account_id)
            .bind(alias)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "account alias"))?;
        });
        Ok(())
    }

    /// The account alias, if set.
    pub async fn get_account_alias(&self, account_id: &str) -> Result<Option<String>, StoreError> {
        let alias = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT alias FROM ram_account_aliases WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(alias)
    }

    /// Removes the account alias.
    pub async fn clear_account_alias(&self, account_id: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM ram_account_aliases WHERE account_id = $1")
                .bind(account_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Adds or overwrites tags on one resource, in one transaction; if the resource would
    /// then carry more than `limit` tags nothing changes and the result is `false`.
    pub async fn put_tags(
        &self,
        account_id: &str,
        resource_type: &str,
        resource_name: &str,
        tags: &[(String, String)],
        limit: i64,
    ) -> Result<bool, StoreError> {
        let ok = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            for (key, value) in tags {
                sqlx::query(
                    "INSERT INTO ram_tags (account_id, resource_type, resource_name, tag_key, tag_value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, resource_type, resource_name, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
                )
                .bind(account_id)
                .bind(resource_type)
                .bind(resource_name)
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM ram_tags WHERE account_id = $1 AND resource_type = $2 AND resource_name = $3",
            )
            .bind(account_id)
            .bind(resource_type)
            .bind(resource_name)
            .fetch_one(&mut *tx)
            .await?;
            if count > limit {
                false
            } else {
                tx.commit().await?;
                true
            }
        });
        Ok(ok)
    }

    /// Removes the given tag keys (or every tag, with `None`) from one resource.
    pub async fn remove_tags(
        &self,
        account_id: &str,
        resource_type: &str,
        resource_name: &str,
        keys: Option<&[String]>,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            match keys {
                None => {
                    sqlx::query(
                        "DELETE FROM ram_tags WHERE account_id = $1 AND resource_type = $2 AND resource_name = $3",
                    )
                    .bind(account_id)
                    .bind(resource_type)
                    .bind(resource_name)
                    .execute(pool)
                    .await?;
                }
                Some(keys) => {
                    let mut tx = crate::BeginWrite::begin_write(pool).await?;
                    for key in keys {
                        sqlx::query(
                            "DELETE FROM ram_tags WHERE account_id = $1 AND resource_type = $2 AND resource_name = $3 AND tag_key = $4",
                        )
                        .bind(account_id)
                        .bind(resource_type)
                        .bind(resource_name)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                }
            }
        });
        Ok(())
    }

    /// Tags of resources of one type, ordered by (resource name, key), after the
    /// `(resource name, key)` pair `after` (exclusive), at most `limit`. With `names`, only
    /// those resources.
    pub async fn list_tags(
        &self,
        account_id: &str,
        resource_type: &str,
        names: Option<&[String]>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<TagRecord>, StoreError> {
        let (after_name, after_key) = after.unwrap_or(("", ""));
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT resource_type, resource_name, tag_key, tag_value FROM ram_tags WHERE account_id = $1 AND resource_type = $2 AND (resource_name > $3 OR (resource_name = $3 AND tag_key > $4)) ORDER BY resource_name, tag_key",
            )
            .bind(account_id)
            .bind(resource_type)
            .bind(after_name)
            .bind(after_key)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::new();
            for row in rows {
                let record = TagRecord {
                    resource_type: row.try_get(0)?,
                    resource_name: row.try_get(1)?,
                    tag_key: row.try_get(2)?,
                    tag_value: row.try_get(3)?,
                };
                if names.is_none_or(|names| names.contains(&record.resource_name)) {
                    out.push(record);
                    if i64::try_from(out.len()).unwrap_or(i64::MAX) >= limit {
                        break;
                    }
                }
            }
            out
        });
        Ok(rows)
    }

    /// Tags of one resource, by key.
    pub async fn tags_of(
        &self,
        account_id: &str,
        resource_type: &str,
        resource_name: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT tag_key, tag_value FROM ram_tags WHERE account_id = $1 AND resource_type = $2 AND resource_name = $3 ORDER BY tag_key",
            )
            .bind(account_id)
            .bind(resource_type)
            .bind(resource_name)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?));
            }
            out
        });
        Ok(rows)
    }
}
