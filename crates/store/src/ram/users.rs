//! RAM users.

use sqlx::Row;

use crate::{Store, StoreError, on_pool};

/// One RAM user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Owning account.
    pub account_id: String,
    /// Stable numeric id (survives renames; everything else refers to the user by it).
    pub user_id: String,
    /// Name, unique in the account.
    pub user_name: String,
    /// Display name.
    pub display_name: String,
    /// Mobile phone (`<country code>-<number>`), empty if unset.
    pub mobile_phone: String,
    /// Email, empty if unset.
    pub email: String,
    /// Comments, empty if unset.
    pub comments: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// Last update, ms since the epoch.
    pub updated_at_ms: i64,
    /// Last console logon, ms since the epoch.
    pub last_login_at_ms: Option<i64>,
}

/// What still refers to a user (a user can be deleted only when all are zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserDependents {
    /// AccessKeys.
    pub access_keys: i64,
    /// Group memberships.
    pub groups: i64,
    /// Attached policies.
    pub policies: i64,
    /// Whether a login profile exists.
    pub login_profile: bool,
    /// Whether an MFA device is bound.
    pub mfa_device: bool,
}

const COLUMNS: &str = "account_id, user_id, user_name, display_name, mobile_phone, email, comments, created_at_ms, updated_at_ms, last_login_at_ms";

macro_rules! user_from_row {
    ($row:expr) => {
        UserRecord {
            account_id: $row.try_get(0)?,
            user_id: $row.try_get(1)?,
            user_name: $row.try_get(2)?,
            display_name: $row.try_get(3)?,
            mobile_phone: $row.try_get(4)?,
            email: $row.try_get(5)?,
            comments: $row.try_get(6)?,
            created_at_ms: $row.try_get(7)?,
            updated_at_ms: $row.try_get(8)?,
            last_login_at_ms: $row.try_get(9)?,
        }
    };
}
pub(crate) use user_from_row;

impl Store {
    /// Creates a user unless the account already has `limit` users (then `false`). A
    /// taken name is `AlreadyExists { entity: "user" }`.
    pub async fn insert_user(&self, user: &UserRecord, limit: i64) -> Result<bool, StoreError> {
        let inserted = on_pool!(self, |pool| {
            sqlx::query(sql!(
                "INSERT INTO ram_users ({COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE (SELECT COUNT(*) FROM ram_users WHERE account_id = $1) < $11"
            ))
            .bind(&user.account_id)
            .bind(&user.user_id)
            .bind(&user.user_name)
            .bind(&user.display_name)
            .bind(&user.mobile_phone)
            .bind(&user.email)
            .bind(&user.comments)
            .bind(user.created_at_ms)
            .bind(user.updated_at_ms)
            .bind(user.last_login_at_ms)
            .bind(limit)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "user"))?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// A user by name.
    pub async fn get_user(
        &self,
        account_id: &str,
        user_name: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("user_name", account_id, user_name).await
    }

    /// A user by id.
    pub async fn get_user_by_id(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("user_id", account_id, user_id).await
    }

    async fn user_where(
        &self,
        column: &'static str,
        account_id: &str,
        value: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let user = on_pool!(self, |pool| {
            let row = sqlx::query(sql!(
                "SELECT {COLUMNS} FROM ram_users WHERE account_id = $1 AND {column} = $2"
            ))
            .bind(account_id)
            .bind(value)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(user_from_row!(row)),
            }
        });
        Ok(user)
    }

    /// Users of an account by name, after `after` (exclusive), at most `limit`.
    pub async fn list_users(
        &self,
        account_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let users = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {COLUMNS} FROM ram_users WHERE account_id = $1 AND user_name > $2 ORDER BY user_name LIMIT $3"
            ))
            .bind(account_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(user_from_row!(row));
            }
            out
        });
        Ok(users)
    }

    /// Rewrites a user's mutable fields (by user id), including a rename, which also
    /// renames the owner of its AccessKeys and its tags. A taken new name is
    /// `AlreadyExists { entity: "user" }`. Returns whether the user exists.
    pub async fn update_user(&self, user: &UserRecord) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            let old_name: Option<String> = sqlx::query_scalar(
                "SELECT user_name FROM ram_users WHERE account_id = $1 AND user_id = $2",
            )
            .bind(&user.account_id)
            .bind(&user.user_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(old_name) = old_name else {
                return Ok(false);
            };
            sqlx::query(
                "UPDATE ram_users SET user_name = $3, display_name = $4, mobile_phone = $5, email = $6, comments = $7, updated_at_ms = $8 WHERE account_id = $1 AND user_id = $2",
            )
            .bind(&user.account_id)
            .bind(&user.user_id)
            .bind(&user.user_name)
            .bind(&user.display_name)
            .bind(&user.mobile_phone)
            .bind(&user.email)
            .bind(&user.comments)
            .bind(user.updated_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(|err| StoreError::from_insert(err, "user"))?;
            if old_name != user.user_name {
                sqlx::query(
                    "UPDATE access_keys SET owner_name = $3 WHERE account_id = $1 AND owner_kind = 'user' AND owner_id = $2",
                )
                .bind(&user.account_id)
                .bind(&user.user_id)
                .bind(&user.user_name)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE ram_tags SET resource_name = $3 WHERE account_id = $1 AND resource_type = 'user' AND resource_name = $2",
                )
                .bind(&user.account_id)
                .bind(&old_name)
                .bind(&user.user_name)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            true
        });
        Ok(changed)
    }

    /// Records a console logon.
    pub async fn record_user_login(
        &self,
        account_id: &str,
        user_id: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_users SET last_login_at_ms = $3 WHERE account_id = $1 AND user_id = $2",
            )
            .bind(account_id)
            .bind(user_id)
            .bind(at_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// What still refers to a user.
    pub async fn user_dependents(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<UserDependents, StoreError> {
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT \
                 (SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND owner_kind = 'user' AND owner_id = $2), \
                 (SELECT COUNT(*) FROM ram_group_members WHERE account_id = $1 AND user_id = $2), \
                 (SELECT COUNT(*) FROM ram_attachments WHERE account_id = $1 AND principal_kind = 'user' AND principal_id = $2), \
                 (SELECT COUNT(*) FROM ram_login_profiles WHERE account_id = $1 AND user_id = $2), \
                 (SELECT COUNT(*) FROM ram_mfa_devices WHERE account_id = $1 AND user_id = $2)",
            )
            .bind(account_id)
            .bind(user_id)
            .fetch_one(pool)
            .await?;
            (
                row.try_get::<i64, _>(0)?,
                row.try_get::<i64, _>(1)?,
                row.try_get::<i64, _>(2)?,
                row.try_get::<i64, _>(3)?,
                row.try_get::<i64, _>(4)?,
            )
        });
        Ok(UserDependents {
            access_keys: row.0,
            groups: row.1,
            policies: row.2,
            login_profile: row.3 > 0,
            mfa_device: row.4 > 0,
        })
    }

    /// Deletes a user and its tags (the caller checks [`Store::user_dependents`] first);
    /// returns whether it existed.
    pub async fn delete_user(&self, account_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "DELETE FROM ram_tags WHERE account_id = $1 AND resource_type = 'user' AND resource_name IN (SELECT user_name FROM ram_users WHERE account_id = $1 AND user_id = $2)",
            )
            .bind(account_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            let changed =
                sqlx::query("DELETE FROM ram_users WHERE account_id = $1 AND user_id = $2")
                    .bind(account_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }
}
