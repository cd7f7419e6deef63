//! RAM groups and memberships.

use sqlx::Row;

use super::users::{UserRecord, user_from_row};
use crate::{Store, StoreError, on_pool};

/// One RAM group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    /// Owning account.
    pub account_id: String,
    /// Stable numeric id (survives renames).
    pub group_id: String,
    /// Name, unique in the account.
    pub group_name: String,
    /// Comments.
    pub comments: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// Last update, ms since the epoch.
    pub updated_at_ms: i64,
}

/// A group with the time a user joined it, or a user with the time it joined a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMembership<T> {
    /// The group or user.
    pub entity: T,
    /// When the user joined, ms since the epoch.
    pub joined_at_ms: i64,
}

const COLUMNS: &str = "account_id, group_id, group_name, comments, created_at_ms, updated_at_ms";

macro_rules! group_from_row {
    ($row:expr) => {
        GroupRecord {
            account_id: $row.try_get(0)?,
            group_id: $row.try_get(1)?,
            group_name: $row.try_get(2)?,
            comments: $row.try_get(3)?,
            created_at_ms: $row.try_get(4)?,
            updated_at_ms: $row.try_get(5)?,
        }
    };
}

impl Store {
    /// Creates a group unless the account already has `limit` groups (then `false`).
    pub async fn insert_group(&self, group: &GroupRecord, limit: i64) -> Result<bool, StoreError> {
        let inserted = on_pool!(self, |pool| {
            sqlx::query(sql!(
                "INSERT INTO ram_groups ({COLUMNS}) SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT COUNT(*) FROM ram_groups WHERE account_id = $1) < $7"
            ))
            .bind(&group.account_id)
            .bind(&group.group_id)
            .bind(&group.group_name)
            .bind(&group.comments)
            .bind(group.created_at_ms)
            .bind(group.updated_at_ms)
            .bind(limit)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "group"))?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// A group by name.
    pub async fn get_group(
        &self,
        account_id: &str,
        group_name: &str,
    ) -> Result<Option<GroupRecord>, StoreError> {
        let group = on_pool!(self, |pool| {
            let row = sqlx::query(sql!(
                "SELECT {COLUMNS} FROM ram_groups WHERE account_id = $1 AND group_name = $2"
            ))
            .bind(account_id)
            .bind(group_name)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(group_from_row!(row)),
            }
        });
        Ok(group)
    }

    /// Groups of an account by name, after `after` (exclusive), at most `limit`.
    pub async fn list_groups(
        &self,
        account_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<GroupRecord>, StoreError> {
        let groups = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {COLUMNS} FROM ram_groups WHERE account_id = $1 AND group_name > $2 ORDER BY group_name LIMIT $3"
            ))
            .bind(account_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(group_from_row!(row));
            }
            out
        });
        Ok(groups)
    }

    /// Renames a group or changes its comments (by group id). A taken name is
    /// `AlreadyExists { entity: "group" }`. Returns whether the group exists.
    pub async fn update_group(&self, group: &GroupRecord) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_groups SET group_name = $3, comments = $4, updated_at_ms = $5 WHERE account_id = $1 AND group_id = $2",
            )
            .bind(&group.account_id)
            .bind(&group.group_id)
            .bind(&group.group_name)
            .bind(&group.comments)
            .bind(group.updated_at_ms)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "group"))?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Deletes a group (the caller checks members and attachments first).
    pub async fn delete_group(&self, account_id: &str, group_id: &str) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM ram_groups WHERE account_id = $1 AND group_id = $2")
                .bind(account_id)
                .bind(group_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Number of members of a group.
    pub async fn group_member_count(
        &self,
        account_id: &str,
        group_id: &str,
    ) -> Result<i64, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM ram_group_members WHERE account_id = $1 AND group_id = $2",
            )
            .bind(account_id)
            .bind(group_id)
            .fetch_one(pool)
            .await?
        });
        Ok(n)
    }

    /// Adds a user to a group unless the user is already in `limit` groups (then
    /// `false`). Already a member is `AlreadyExists { entity: "group membership" }`.
    pub async fn add_user_to_group(
        &self,
        account_id: &str,
        group_id: &str,
        user_id: &str,
        now_ms: i64,
        limit: i64,
    ) -> Result<bool, StoreError> {
        let inserted = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO ram_group_members (account_id, group_id, user_id, joined_at_ms) SELECT $1, $2, $3, $4 WHERE (SELECT COUNT(*) FROM ram_group_members WHERE account_id = $1 AND user_id = $3) < $5",
            )
            .bind(account_id)
            .bind(group_id)
            .bind(user_id)
            .bind(now_ms)
            .bind(limit)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "group membership"))?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// Removes a user from a group; returns whether it was a member.
    pub async fn remove_user_from_group(
        &self,
        account_id: &str,
        group_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM ram_group_members WHERE account_id = $1 AND group_id = $2 AND user_id = $3",
            )
            .bind(account_id)
            .bind(group_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// The groups a user belongs to, by group name.
    pub async fn list_groups_for_user(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Vec<GroupMembership<GroupRecord>>, StoreError> {
        let groups = on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT g.account_id, g.group_id, g.group_name, g.comments, g.created_at_ms, g.updated_at_ms, m.joined_at_ms FROM ram_group_members m JOIN ram_groups g ON g.account_id = m.account_id AND g.group_id = m.group_id WHERE m.account_id = $1 AND m.user_id = $2 ORDER BY g.group_name",
            )
            .bind(account_id)
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(GroupMembership {
                    entity: group_from_row!(row),
                    joined_at_ms: row.try_get(6)?,
                });
            }
            out
        });
        Ok(groups)
    }

    /// Members of a group by user name, after `after` (exclusive), at most `limit`.
    pub async fn list_users_for_group(
        &self,
        account_id: &str,
        group_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<GroupMembership<UserRecord>>, StoreError> {
        let users = on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT u.account_id, u.user_id, u.user_name, u.display_name, u.mobile_phone, u.email, u.comments, u.created_at_ms, u.updated_at_ms, u.last_login_at_ms, m.joined_at_ms FROM ram_group_members m JOIN ram_users u ON u.account_id = m.account_id AND u.user_id = m.user_id WHERE m.account_id = $1 AND m.group_id = $2 AND u.user_name > $3 ORDER BY u.user_name LIMIT $4",
            )
            .bind(account_id)
            .bind(group_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(GroupMembership {
                    entity: user_from_row!(row),
                    joined_at_ms: row.try_get(10)?,
                });
            }
            out
        });
        Ok(users)
    }
}
