//! RAM roles.

use sqlx::Row;

use crate::{Store, StoreError, on_pool};

/// One RAM role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRecord {
    /// Owning account.
    pub account_id: String,
    /// Stable numeric id.
    pub role_id: String,
    /// Name, unique in the account (roles cannot be renamed).
    pub role_name: String,
    /// `acs:ram::<account>:role/<RoleName>`.
    pub arn: String,
    /// Description (0..=1024 characters).
    pub description: String,
    /// Trust policy (JSON text).
    pub assume_role_policy_document: String,
    /// Longest session `AssumeRole` may grant, in seconds (3,600..=43,200).
    pub max_session_duration: i64,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// Last update, ms since the epoch.
    pub updated_at_ms: i64,
}

const COLUMNS: &str = "account_id, role_id, role_name, arn, description, assume_role_policy_document, max_session_duration, created_at_ms, updated_at_ms";

macro_rules! role_from_row {
    ($row:expr) => {
        RoleRecord {
            account_id: $row.try_get(0)?,
            role_id: $row.try_get(1)?,
            role_name: $row.try_get(2)?,
            arn: $row.try_get(3)?,
            description: $row.try_get(4)?,
            assume_role_policy_document: $row.try_get(5)?,
            max_session_duration: $row.try_get(6)?,
            created_at_ms: $row.try_get(7)?,
            updated_at_ms: $row.try_get(8)?,
        }
    };
}

impl Store {
    /// Creates a role (used by Resource Directory for the access role of member accounts,
    /// and by `CreateRole` through [`Store::insert_role_limited`]). Fails with
    /// `AlreadyExists { entity: "role" }` if the name is taken in the account.
    pub async fn insert_role(&self, role: &RoleRecord) -> Result<(), StoreError> {
        self.insert_role_limited(role, i64::MAX).await.map(|_| ())
    }

    /// Creates a role unless the account already has `limit` roles; returns `false` when
    /// the limit stopped it.
    pub async fn insert_role_limited(
        &self,
        role: &RoleRecord,
        limit: i64,
    ) -> Result<bool, StoreError> {
        let inserted = on_pool!(self, |pool| {
            sqlx::query(sql!(
                "INSERT INTO ram_roles ({COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE (SELECT COUNT(*) FROM ram_roles WHERE account_id = $1) < $10"
            ))
            .bind(&role.account_id)
            .bind(&role.role_id)
            .bind(&role.role_name)
            .bind(&role.arn)
            .bind(&role.description)
            .bind(&role.assume_role_policy_document)
            .bind(role.max_session_duration)
            .bind(role.created_at_ms)
            .bind(role.updated_at_ms)
            .bind(limit)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "role"))?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// A role by name, scoped by account. Role names in ARNs are case-insensitive (Alibaba
    /// prints them in lower case), so an exact match wins and otherwise case is ignored.
    pub async fn get_role(
        &self,
        account_id: &str,
        role_name: &str,
    ) -> Result<Option<RoleRecord>, StoreError> {
        let role = on_pool!(self, |pool| {
            let row = sqlx::query(sql!(
                "SELECT {COLUMNS} FROM ram_roles WHERE account_id = $1 AND LOWER(role_name) = LOWER($2) ORDER BY CASE WHEN role_name = $2 THEN 0 ELSE 1 END LIMIT 1"
            ))
            .bind(account_id)
            .bind(role_name)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(role_from_row!(row)),
            }
        });
        Ok(role)
    }

    /// Roles of an account ordered by name, after `after` (exclusive), at most `limit`.
    pub async fn list_roles(
        &self,
        account_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RoleRecord>, StoreError> {
        let roles = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {COLUMNS} FROM ram_roles WHERE account_id = $1 AND role_name > $2 ORDER BY role_name LIMIT $3"
            ))
            .bind(account_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(role_from_row!(row));
            }
            out
        });
        Ok(roles)
    }

    /// Replaces the mutable fields of a role (description, trust policy, max session
    /// duration, update time); returns whether the role exists.
    pub async fn update_role(&self, role: &RoleRecord) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_roles SET description = $3, assume_role_policy_document = $4, max_session_duration = $5, updated_at_ms = $6 WHERE account_id = $1 AND role_name = $2",
            )
            .bind(&role.account_id)
            .bind(&role.role_name)
            .bind(&role.description)
            .bind(&role.assume_role_policy_document)
            .bind(role.max_session_duration)
            .bind(role.updated_at_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Deletes a role and its tags (the caller checks attachments first); returns whether
    /// it existed.
    pub async fn delete_role(&self, account_id: &str, role_name: &str) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            let changed =
                sqlx::query("DELETE FROM ram_roles WHERE account_id = $1 AND role_name = $2")
                    .bind(account_id)
                    .bind(role_name)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            sqlx::query(
                "DELETE FROM ram_tags WHERE account_id = $1 AND resource_type = 'role' AND resource_name = $2",
            )
            .bind(account_id)
            .bind(role_name)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// Number of roles in the account.
    pub async fn count_roles(&self, account_id: &str) -> Result<i64, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ram_roles WHERE account_id = $1")
                .bind(account_id)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }
}
