//! Custom policies, their versions, and attachments of (system or custom) policies to
//! users, groups and roles.

use sqlx::Row;

use super::system::system_policy;
use super::{POLICY_TYPE_CUSTOM, POLICY_TYPE_SYSTEM};
use crate::{Store, StoreError, on_pool};

/// One policy document that applies to a principal, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachedPolicy {
    /// `System` or `Custom`.
    pub policy_type: String,
    /// Policy name.
    pub policy_name: String,
    /// The default version id (`v1`, …).
    pub default_version: String,
    /// JSON text of the default version.
    pub document: String,
}

/// A custom policy (its documents live in [`PolicyVersionRecord`]s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRecord {
    /// Owning account.
    pub account_id: String,
    /// Name, unique in the account.
    pub policy_name: String,
    /// Description (0..=1024 characters).
    pub description: String,
    /// The default (active) version id.
    pub default_version: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// Last change (new default version, description), ms since the epoch.
    pub updated_at_ms: i64,
}

/// One version of a custom policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersionRecord {
    /// `v1`, `v2`, … (never reused within a policy).
    pub version_id: String,
    /// The document (JSON text).
    pub document: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
}

/// What [`Store::create_policy_version`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateVersionOutcome {
    /// The version was created with this id.
    Created(String),
    /// The policy already has the maximum number of versions and rotation was not asked for
    /// (or every other version is the default).
    LimitExceeded,
    /// No such custom policy in the account.
    PolicyNotFound,
}

/// The kind of identity a policy is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKindRef {
    /// A RAM user (by user id).
    User,
    /// A RAM group (by group id).
    Group,
    /// A RAM role (by role id).
    Role,
}

impl PrincipalKindRef {
    fn as_str(self) -> &'static str {
        match self {
            PrincipalKindRef::User => "user",
            PrincipalKindRef::Group => "group",
            PrincipalKindRef::Role => "role",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "user" => Ok(PrincipalKindRef::User),
            "group" => Ok(PrincipalKindRef::Group),
            "role" => Ok(PrincipalKindRef::Role),
            _ => Err(StoreError::Corrupt {
                what: "ram_attachments.principal_kind",
            }),
        }
    }
}

/// One attachment row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// User, group or role.
    pub principal_kind: PrincipalKindRef,
    /// The user, group or role id.
    pub principal_id: String,
    /// `System` or `Custom`.
    pub policy_type: String,
    /// Policy name.
    pub policy_name: String,
    /// When it was attached, ms since the epoch.
    pub attached_at_ms: i64,
}

const POLICY_COLUMNS: &str =
    "account_id, policy_name, description, default_version, created_at_ms, updated_at_ms";

macro_rules! policy_from_row {
    ($row:expr) => {
        PolicyRecord {
            account_id: $row.try_get(0)?,
            policy_name: $row.try_get(1)?,
            description: $row.try_get(2)?,
            default_version: $row.try_get(3)?,
            created_at_ms: $row.try_get(4)?,
            updated_at_ms: $row.try_get(5)?,
        }
    };
}

impl Store {
    /// Creates a custom policy with its first version `v1` (the default), unless the
    /// account already has `limit` custom policies (then `false`). A taken name is
    /// `AlreadyExists { entity: "policy" }`.
    pub async fn insert_policy(
        &self,
        policy: &PolicyRecord,
        document: &str,
        limit: i64,
    ) -> Result<bool, StoreError> {
        let inserted = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            let inserted = sqlx::query(
                "INSERT INTO ram_policies (account_id, policy_name, description, default_version, next_version, created_at_ms, updated_at_ms) SELECT $1, $2, $3, 'v1', 2, $4, $4 WHERE (SELECT COUNT(*) FROM ram_policies WHERE account_id = $1) < $5",
            )
            .bind(&policy.account_id)
            .bind(&policy.policy_name)
            .bind(&policy.description)
            .bind(policy.created_at_ms)
            .bind(limit)
            .execute(&mut *tx)
            .await
            .map_err(|err| StoreError::from_insert(err, "policy"))?
            .rows_affected();
            if inserted == 1 {
                sqlx::query(
                    "INSERT INTO ram_policy_versions (account_id, policy_name, version_id, version_num, document, created_at_ms) VALUES ($1, $2, 'v1', 1, $3, $4)",
                )
                .bind(&policy.account_id)
                .bind(&policy.policy_name)
                .bind(document)
                .bind(policy.created_at_ms)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            inserted
        });
        Ok(inserted == 1)
    }

    /// A custom policy by name.
    pub async fn get_policy(
        &self,
        account_id: &str,
        policy_name: &str,
    ) -> Result<Option<PolicyRecord>, StoreError> {
        let policy = on_pool!(self, |pool| {
            let row = sqlx::query(sql!(
                "SELECT {POLICY_COLUMNS} FROM ram_policies WHERE account_id = $1 AND policy_name = $2"
            ))
            .bind(account_id)
            .bind(policy_name)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(policy_from_row!(row)),
            }
        });
        Ok(policy)
    }

    /// Custom policies of an account by name, after `after` (exclusive), at most `limit`.
    pub async fn list_policies(
        &self,
        account_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PolicyRecord>, StoreError> {
        let policies = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT {POLICY_COLUMNS} FROM ram_policies WHERE account_id = $1 AND policy_name > $2 ORDER BY policy_name LIMIT $3"
            ))
            .bind(account_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(policy_from_row!(row));
            }
            out
        });
        Ok(policies)
    }

    /// Changes a custom policy's description; returns whether it exists.
    pub async fn update_policy_description(
        &self,
        account_id: &str,
        policy_name: &str,
        description: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_policies SET description = $3, updated_at_ms = $4 WHERE account_id = $1 AND policy_name = $2",
            )
            .bind(account_id)
            .bind(policy_name)
            .bind(description)
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Deletes a custom policy with all its versions and tags (the caller checks
    /// attachments and non-default versions first); returns whether it existed.
    pub async fn delete_policy(
        &self,
        account_id: &str,
        policy_name: &str,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "DELETE FROM ram_policy_versions WHERE account_id = $1 AND policy_name = $2",
            )
            .bind(account_id)
            .bind(policy_name)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM ram_tags WHERE account_id = $1 AND resource_type = 'policy' AND resource_name = $2",
            )
            .bind(account_id)
            .bind(policy_name)
            .execute(&mut *tx)
            .await?;
            let changed =
                sqlx::query("DELETE FROM ram_policies WHERE account_id = $1 AND policy_name = $2")
                    .bind(account_id)
                    .bind(policy_name)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// Versions of a custom policy, oldest first.
    pub async fn list_policy_versions(
        &self,
        account_id: &str,
        policy_name: &str,
    ) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        let versions = on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT version_id, document, created_at_ms FROM ram_policy_versions WHERE account_id = $1 AND policy_name = $2 ORDER BY version_num",
            )
            .bind(account_id)
            .bind(policy_name)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(PolicyVersionRecord {
                    version_id: row.try_get(0)?,
                    document: row.try_get(1)?,
                    created_at_ms: row.try_get(2)?,
                });
            }
            out
        });
        Ok(versions)
    }

    /// One version of a custom policy.
    pub async fn get_policy_version(
        &self,
        account_id: &str,
        policy_name: &str,
        version_id: &str,
    ) -> Result<Option<PolicyVersionRecord>, StoreError> {
        let version = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT version_id, document, created_at_ms FROM ram_policy_versions WHERE account_id = $1 AND policy_name = $2 AND version_id = $3",
            )
            .bind(account_id)
            .bind(policy_name)
            .bind(version_id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(PolicyVersionRecord {
                    version_id: row.try_get(0)?,
                    document: row.try_get(1)?,
                    created_at_ms: row.try_get(2)?,
                }),
            }
        });
        Ok(version)
    }

    /// Adds a version to a custom policy, in one transaction. When the policy already has
    /// `max_versions` versions: with `rotate`, the oldest non-default version is deleted
    /// first; without, nothing changes and the outcome is `LimitExceeded`.
    #[allow(clippy::too_many_arguments)] // one scalar per column of the new version
    pub async fn create_policy_version(
        &self,
        account_id: &str,
        policy_name: &str,
        document: &str,
        set_as_default: bool,
        rotate: bool,
        max_versions: i64,
        now_ms: i64,
    ) -> Result<CreateVersionOutcome, StoreError> {
        let outcome = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            let row = sqlx::query(
                "SELECT next_version, default_version FROM ram_policies WHERE account_id = $1 AND policy_name = $2",
            )
            .bind(account_id)
            .bind(policy_name)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Ok(CreateVersionOutcome::PolicyNotFound);
            };
            let next: i64 = row.try_get(0)?;
            let default_version: String = row.try_get(1)?;
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM ram_policy_versions WHERE account_id = $1 AND policy_name = $2",
            )
            .bind(account_id)
            .bind(policy_name)
            .fetch_one(&mut *tx)
            .await?;
            if count >= max_versions {
                if !rotate {
                    return Ok(CreateVersionOutcome::LimitExceeded);
                }
                let oldest: Option<String> = sqlx::query_scalar(
                    "SELECT version_id FROM ram_policy_versions WHERE account_id = $1 AND policy_name = $2 AND version_id <> $3 ORDER BY version_num LIMIT 1",
                )
                .bind(account_id)
                .bind(policy_name)
                .bind(&default_version)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(oldest) = oldest else {
                    return Ok(CreateVersionOutcome::LimitExceeded);
                };
                sqlx::query(
                    "DELETE FROM ram_policy_versions WHERE account_id = $1 AND policy_name = $2 AND version_id = $3",
                )
                .bind(account_id)
                .bind(policy_name)
                .bind(&oldest)
                .execute(&mut *tx)
                .await?;
            }
            let version_id = format!("v{next}");
            sqlx::query(
                "INSERT INTO ram_policy_versions (account_id, policy_name, version_id, version_num, document, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(account_id)
            .bind(policy_name)
            .bind(&version_id)
            .bind(next)
            .bind(document)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            let new_default = if set_as_default {
                version_id.clone()
            } else {
                default_version
            };
            sqlx::query(
                "UPDATE ram_policies SET next_version = $3, default_version = $4, updated_at_ms = $5 WHERE account_id = $1 AND policy_name = $2",
            )
            .bind(account_id)
            .bind(policy_name)
            .bind(next + 1)
            .bind(&new_default)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            CreateVersionOutcome::Created(version_id)
        });
        Ok(outcome)
    }

    /// Makes an existing version the default; returns whether policy and version exist.
    pub async fn set_default_policy_version(
        &self,
        account_id: &str,
        policy_name: &str,
        version_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE ram_policies SET default_version = $3, updated_at_ms = $4 WHERE account_id = $1 AND policy_name = $2 AND EXISTS (SELECT 1 FROM ram_policy_versions v WHERE v.account_id = $1 AND v.policy_name = $2 AND v.version_id = $3)",
            )
            .bind(account_id)
            .bind(policy_name)
            .bind(version_id)
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Deletes a non-default version; returns whether a row was deleted (the caller checks
    /// for the default version first; this never deletes the default either).
    pub async fn delete_policy_version(
        &self,
        account_id: &str,
        policy_name: &str,
        version_id: &str,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM ram_policy_versions WHERE account_id = $1 AND policy_name = $2 AND version_id = $3 AND version_id <> (SELECT default_version FROM ram_policies p WHERE p.account_id = $1 AND p.policy_name = $2)",
            )
            .bind(account_id)
            .bind(policy_name)
            .bind(version_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Records an attachment of a policy to a user, group or role unless that principal
    /// already has `limit` attached policies of the same type (then `false`). A duplicate
    /// is `AlreadyExists { entity: "policy attachment" }`.
    pub async fn attach_policy(
        &self,
        account_id: &str,
        attachment: &AttachmentRecord,
        limit: i64,
    ) -> Result<bool, StoreError> {
        let inserted = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO ram_attachments (account_id, principal_kind, principal_id, policy_type, policy_name, attached_at_ms) SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT COUNT(*) FROM ram_attachments WHERE account_id = $1 AND principal_kind = $2 AND principal_id = $3 AND policy_type = $4) < $7",
            )
            .bind(account_id)
            .bind(attachment.principal_kind.as_str())
            .bind(&attachment.principal_id)
            .bind(&attachment.policy_type)
            .bind(&attachment.policy_name)
            .bind(attachment.attached_at_ms)
            .bind(limit)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "policy attachment"))?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// Removes an attachment; returns whether it existed.
    pub async fn detach_policy(
        &self,
        account_id: &str,
        kind: PrincipalKindRef,
        principal_id: &str,
        policy_type: &str,
        policy_name: &str,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM ram_attachments WHERE account_id = $1 AND principal_kind = $2 AND principal_id = $3 AND policy_type = $4 AND policy_name = $5",
            )
            .bind(account_id)
            .bind(kind.as_str())
            .bind(principal_id)
            .bind(policy_type)
            .bind(policy_name)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Attachments of one principal, ordered by attach time.
    pub async fn list_attachments(
        &self,
        account_id: &str,
        kind: PrincipalKindRef,
        principal_id: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        self.attachments_where(
            "account_id = $1 AND principal_kind = $2 AND principal_id = $3",
            account_id,
            kind.as_str(),
            principal_id,
        )
        .await
    }

    /// Attachments of one policy (to any user, group or role of the account).
    pub async fn list_policy_attachments(
        &self,
        account_id: &str,
        policy_type: &str,
        policy_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        self.attachments_where(
            "account_id = $1 AND policy_type = $2 AND policy_name = $3",
            account_id,
            policy_type,
            policy_name,
        )
        .await
    }

    async fn attachments_where(
        &self,
        condition: &'static str,
        account_id: &str,
        second: &str,
        third: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT principal_kind, principal_id, policy_type, policy_name, attached_at_ms FROM ram_attachments WHERE {condition} ORDER BY attached_at_ms, policy_type, policy_name"
            ))
            .bind(account_id)
            .bind(second)
            .bind(third)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((
                    row.try_get::<String, _>(0)?,
                    row.try_get::<String, _>(1)?,
                    row.try_get::<String, _>(2)?,
                    row.try_get::<String, _>(3)?,
                    row.try_get::<i64, _>(4)?,
                ));
            }
            out
        });
        rows.into_iter()
            .map(
                |(kind, principal_id, policy_type, policy_name, attached_at_ms)| {
                    Ok(AttachmentRecord {
                        principal_kind: PrincipalKindRef::parse(&kind)?,
                        principal_id,
                        policy_type,
                        policy_name,
                        attached_at_ms,
                    })
                },
            )
            .collect()
    }

    /// How many users, groups and roles of the account a policy is attached to.
    pub async fn policy_attachment_count(
        &self,
        account_id: &str,
        policy_type: &str,
        policy_name: &str,
    ) -> Result<i64, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM ram_attachments WHERE account_id = $1 AND policy_type = $2 AND policy_name = $3",
            )
            .bind(account_id)
            .bind(policy_type)
            .bind(policy_name)
            .fetch_one(pool)
            .await?
        });
        Ok(n)
    }

    /// Policies attached to the user directly and through each group it belongs to
    /// (each policy once), with the text of their default versions.
    pub async fn policies_for_user(
        &self,
        account_id: &str,
        user_id: &str,
    ) -> Result<Vec<AttachedPolicy>, StoreError> {
        self.attached_policies(
            "(a.principal_kind = 'user' AND a.principal_id = $2) OR (a.principal_kind = 'group' AND a.principal_id IN (SELECT m.group_id FROM ram_group_members m WHERE m.account_id = $1 AND m.user_id = $2))",
            account_id,
            user_id,
        )
        .await
    }

    /// Policies attached to the role, with the text of their default versions.
    pub async fn policies_for_role(
        &self,
        account_id: &str,
        role_name: &str,
    ) -> Result<Vec<AttachedPolicy>, StoreError> {
        self.attached_policies(
            "a.principal_kind = 'role' AND a.principal_id IN (SELECT r.role_id FROM ram_roles r WHERE r.account_id = $1 AND r.role_name = $2)",
            account_id,
            role_name,
        )
        .await
    }

    async fn attached_policies(
        &self,
        condition: &'static str,
        account_id: &str,
        key: &str,
    ) -> Result<Vec<AttachedPolicy>, StoreError> {
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(sql!(
                "SELECT DISTINCT a.policy_type, a.policy_name, p.default_version, v.document FROM ram_attachments a \
                 LEFT JOIN ram_policies p ON p.account_id = a.account_id AND a.policy_type = 'Custom' AND p.policy_name = a.policy_name \
                 LEFT JOIN ram_policy_versions v ON v.account_id = p.account_id AND v.policy_name = p.policy_name AND v.version_id = p.default_version \
                 WHERE a.account_id = $1 AND ({condition}) ORDER BY a.policy_type, a.policy_name"
            ))
            .bind(account_id)
            .bind(key)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((
                    row.try_get::<String, _>(0)?,
                    row.try_get::<String, _>(1)?,
                    row.try_get::<Option<String>, _>(2)?,
                    row.try_get::<Option<String>, _>(3)?,
                ));
            }
            out
        });
        let mut out = Vec::with_capacity(rows.len());
        for (policy_type, policy_name, default_version, document) in rows {
            if policy_type == POLICY_TYPE_SYSTEM {
                // A system policy withdrawn from the catalogue no longer grants anything.
                if let Some(system) = system_policy(&policy_name) {
                    out.push(AttachedPolicy {
                        policy_type,
                        policy_name,
                        default_version: system.version.to_owned(),
                        document: system.document.to_owned(),
                    });
                }
            } else if policy_type == POLICY_TYPE_CUSTOM {
                match (default_version, document) {
                    (Some(default_version), Some(document)) => out.push(AttachedPolicy {
                        policy_type,
                        policy_name,
                        default_version,
                        document,
                    }),
                    // Attachments are removed before a policy can be deleted; a dangling
                    // one means the rows were edited behind our back.
                    _ => {
                        return Err(StoreError::Corrupt {
                            what: "ram_attachments: custom policy without default version",
                        });
                    }
                }
            } else {
                return Err(StoreError::Corrupt {
                    what: "ram_attachments.policy_type",
                });
            }
        }
        Ok(out)
    }

    /// Attaches a policy to a role by name (used by Resource Directory for the access
    /// role: `AdministratorAccess`). Idempotent: an existing attachment is success. The
    /// role and the policy must exist (`Corrupt` otherwise: the caller created them).
    pub async fn attach_policy_to_role(
        &self,
        account_id: &str,
        role_name: &str,
        policy_type: &str,
        policy_name: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let role = self
            .get_role(account_id, role_name)
            .await?
            .ok_or(StoreError::Corrupt {
                what: "attach_policy_to_role: the role does not exist",
            })?;
        let policy_exists = match policy_type {
            POLICY_TYPE_SYSTEM => system_policy(policy_name).is_some(),
            POLICY_TYPE_CUSTOM => self.get_policy(account_id, policy_name).await?.is_some(),
            _ => false,
        };
        if !policy_exists {
            return Err(StoreError::Corrupt {
                what: "attach_policy_to_role: the policy does not exist",
            });
        }
        match self
            .attach_policy(
                account_id,
                &AttachmentRecord {
                    principal_kind: PrincipalKindRef::Role,
                    principal_id: role.role_id,
                    policy_type: policy_type.to_owned(),
                    policy_name: policy_name.to_owned(),
                    attached_at_ms: now_ms,
                },
                i64::MAX,
            )
            .await
        {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }
}
