//! Storage for Resource Directory: the folder tree, member accounts, control policies and their attachments.
//!
//! Every row carries the `management_account_id` of the directory it belongs to and every
//! query filters by it (the tenant-scoping invariant of this crate): a directory is the
//! management account's data. The only lookups that start from a member account id are
//! [`Store::directory_management_account`] and [`Store::control_policy_path`], which first
//! resolve the owning directory and then query inside it.

use sqlx::Row;

use crate::{Store, StoreError, on_pool};

/// Schema of this module for SQLite (applied as one migration).
pub(crate) const MIGRATION_SQLITE: &str = MIGRATION_COMMON;
/// Schema of this module for PostgreSQL.
pub(crate) const MIGRATION_POSTGRES: &str = MIGRATION_COMMON;

/// The RD tables use only `TEXT` and `BIGINT`, so one text serves both dialects.
const MIGRATION_COMMON: &str = "
CREATE TABLE IF NOT EXISTS rd_directories (
    management_account_id TEXT PRIMARY KEY REFERENCES accounts(account_id),
    directory_id TEXT NOT NULL UNIQUE,
    root_folder_id TEXT NOT NULL,
    control_policy_status TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS rd_folders (
    management_account_id TEXT NOT NULL REFERENCES rd_directories(management_account_id),
    folder_id TEXT NOT NULL,
    parent_folder_id TEXT,
    folder_name TEXT NOT NULL,
    depth BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (management_account_id, folder_id)
);
CREATE INDEX IF NOT EXISTS rd_folders_parent ON rd_folders(management_account_id, parent_folder_id);
CREATE TABLE IF NOT EXISTS rd_members (
    account_id TEXT PRIMARY KEY REFERENCES accounts(account_id),
    management_account_id TEXT NOT NULL REFERENCES rd_directories(management_account_id),
    folder_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    account_name TEXT NOT NULL,
    account_type TEXT NOT NULL,
    join_method TEXT NOT NULL,
    status TEXT NOT NULL,
    joined_at_ms BIGINT NOT NULL,
    modified_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS rd_members_display_name ON rd_members(management_account_id, display_name);
CREATE UNIQUE INDEX IF NOT EXISTS rd_members_account_name ON rd_members(management_account_id, account_name);
CREATE INDEX IF NOT EXISTS rd_members_folder ON rd_members(management_account_id, folder_id);
CREATE TABLE IF NOT EXISTS rd_control_policies (
    management_account_id TEXT NOT NULL REFERENCES rd_directories(management_account_id),
    policy_id TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    policy_type TEXT NOT NULL,
    description TEXT NOT NULL,
    effect_scope TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (management_account_id, policy_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS rd_control_policies_name ON rd_control_policies(management_account_id, policy_name);
CREATE TABLE IF NOT EXISTS rd_policy_attachments (
    management_account_id TEXT NOT NULL REFERENCES rd_directories(management_account_id),
    target_id TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    target_type TEXT NOT NULL,
    attached_at_ms BIGINT NOT NULL,
    PRIMARY KEY (management_account_id, target_id, policy_id)
);
CREATE INDEX IF NOT EXISTS rd_policy_attachments_policy ON rd_policy_attachments(management_account_id, policy_id);
";

/// A resource directory, owned by its management account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRecord {
    /// The management (master) account; also the directory's scoping key.
    pub management_account_id: String,
    /// `rd-` id.
    pub directory_id: String,
    /// `r-` id of the Root folder.
    pub root_folder_id: String,
    /// Whether the control-policy feature is enabled for the directory.
    pub control_policy_enabled: bool,
    /// When the directory was enabled (ms since the epoch).
    pub created_at_ms: i64,
}

/// A folder; the Root folder has no parent and depth 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderRecord {
    /// `r-` (Root) or `fd-` id.
    pub folder_id: String,
    /// Parent folder id (`None` only for the Root folder).
    pub parent_folder_id: Option<String>,
    /// Folder name (`Root` for the Root folder).
    pub folder_name: String,
    /// Levels below Root (Root = 0; Alibaba allows 5 levels below Root).
    pub depth: i64,
    /// Creation time (ms since the epoch).
    pub created_at_ms: i64,
}

/// A member account's place in a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    /// The member's account id (a row in `accounts`).
    pub account_id: String,
    /// Folder the member sits in.
    pub folder_id: String,
    /// Display name, unique in the directory.
    pub display_name: String,
    /// Login name (`<prefix>@<rd-id>.aliyunid.com`), unique in the directory.
    pub account_name: String,
    /// `ResourceAccount` or `CloudAccount`.
    pub account_type: String,
    /// `created` or `invited`.
    pub join_method: String,
    /// `CreateSuccess`, `InviteSuccess`, ...
    pub status: String,
    /// When the member joined (ms since the epoch).
    pub joined_at_ms: i64,
    /// When the member last changed (ms since the epoch).
    pub modified_at_ms: i64,
}

/// A control policy (system or custom) of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPolicyRecord {
    /// `cp-` id (`cp-FullAliyunAccess` for the system policy).
    pub policy_id: String,
    /// Name, unique in the directory.
    pub policy_name: String,
    /// `System` or `Custom`.
    pub policy_type: String,
    /// Description (may be empty).
    pub description: String,
    /// `All` or `RAM`.
    pub effect_scope: String,
    /// The policy document (JSON text, validated by the caller).
    pub document: String,
    /// Creation time (ms since the epoch).
    pub created_at_ms: i64,
    /// Last update (ms since the epoch).
    pub updated_at_ms: i64,
}

/// One control-policy attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPolicyAttachmentRecord {
    /// The attached policy.
    pub policy_id: String,
    /// Root folder, folder or member account id.
    pub target_id: String,
    /// `Root`, `Folder` or `Account`.
    pub target_type: String,
    /// When it was attached (ms since the epoch).
    pub attached_at_ms: i64,
}

/// Result of [`Store::rd_attach_control_policy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachOutcome {
    /// The attachment was created.
    Attached,
    /// The policy was already attached to the target.
    AlreadyAttached,
    /// The target already has the maximum number of attachments.
    LimitExceeded,
}

/// Control policies that apply to an account, for the policy engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPolicyPath {
    /// True for the directory's management account (exempt from control policies).
    pub is_management_account: bool,
    /// Levels from the account's own attachments up to the Root folder; each level is the list of (policy id, EffectScope "All"|"RAM", document JSON) attached at that node.
    pub levels: Vec<Vec<(String, String, String)>>,
}

const STATUS_ENABLED: &str = "Enabled";
const STATUS_DISABLED: &str = "Disabled";

/// Folder-tree walks stop after this many steps (Root + 5 levels, with margin), so a
/// corrupt parent cycle cannot loop forever.
const MAX_WALK: usize = 16;

type FolderRow = (String, Option<String>, String, i64, i64);
type MemberRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);
type PolicyRow = (String, String, String, String, String, String, i64, i64);

fn folder_from(row: FolderRow) -> FolderRecord {
    FolderRecord {
        folder_id: row.0,
        parent_folder_id: row.1,
        folder_name: row.2,
        depth: row.3,
        created_at_ms: row.4,
    }
}

fn member_from(row: MemberRow) -> MemberRecord {
    MemberRecord {
        account_id: row.0,
        folder_id: row.1,
        display_name: row.2,
        account_name: row.3,
        account_type: row.4,
        join_method: row.5,
        status: row.6,
        joined_at_ms: row.7,
        modified_at_ms: row.8,
    }
}

fn policy_from(row: PolicyRow) -> ControlPolicyRecord {
    ControlPolicyRecord {
        policy_id: row.0,
        policy_name: row.1,
        policy_type: row.2,
        description: row.3,
        effect_scope: row.4,
        document: row.5,
        created_at_ms: row.6,
        updated_at_ms: row.7,
    }
}

const FOLDER_COLS: &str = "folder_id, parent_folder_id, folder_name, depth, created_at_ms";
const MEMBER_COLS: &str = "account_id, folder_id, display_name, account_name, account_type, join_method, status, joined_at_ms, modified_at_ms";
const POLICY_COLS: &str = "policy_id, policy_name, policy_type, description, effect_scope, document, created_at_ms, updated_at_ms";

impl Store {
    /// Creates a directory with its Root folder and its system control policies (one
    /// transaction). `AlreadyExists { entity: "resource directory" }` if the management
    /// account already has one.
    pub async fn rd_create_directory(
        &self,
        directory: &DirectoryRecord,
        root: &FolderRecord,
        system_policies: &[ControlPolicyRecord],
    ) -> Result<(), StoreError> {
        let mgmt = &directory.management_account_id;
        on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "INSERT INTO rd_directories (management_account_id, directory_id, root_folder_id, control_policy_status, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(mgmt)
            .bind(&directory.directory_id)
            .bind(&directory.root_folder_id)
            .bind(if directory.control_policy_enabled { STATUS_ENABLED } else { STATUS_DISABLED })
            .bind(directory.created_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(|err| StoreError::from_insert(err, "resource directory"))?;
            sqlx::query(
                "INSERT INTO rd_folders (management_account_id, folder_id, parent_folder_id, folder_name, depth, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(mgmt)
            .bind(&root.folder_id)
            .bind(&root.parent_folder_id)
            .bind(&root.folder_name)
            .bind(root.depth)
            .bind(root.created_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(|err| StoreError::from_insert(err, "folder"))?;
            for policy in system_policies {
                sqlx::query(
                    "INSERT INTO rd_control_policies (management_account_id, policy_id, policy_name, policy_type, description, effect_scope, document, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(mgmt)
                .bind(&policy.policy_id)
                .bind(&policy.policy_name)
                .bind(&policy.policy_type)
                .bind(&policy.description)
                .bind(&policy.effect_scope)
                .bind(&policy.document)
                .bind(policy.created_at_ms)
                .bind(policy.updated_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(|err| StoreError::from_insert(err, "control policy"))?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The directory whose management account is `management_account_id`.
    pub async fn rd_get_directory(
        &self,
        management_account_id: &str,
    ) -> Result<Option<DirectoryRecord>, StoreError> {
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT management_account_id, directory_id, root_folder_id, control_policy_status, created_at_ms FROM rd_directories WHERE management_account_id = $1",
            )
            .bind(management_account_id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some((
                    row.try_get::<String, _>(0)?,
                    row.try_get::<String, _>(1)?,
                    row.try_get::<String, _>(2)?,
                    row.try_get::<String, _>(3)?,
                    row.try_get::<i64, _>(4)?,
                )),
            }
        });
        row.map(
            |(management_account_id, directory_id, root_folder_id, status, created_at_ms)| {
                let control_policy_enabled = match status.as_str() {
                    STATUS_ENABLED => true,
                    STATUS_DISABLED => false,
                    _ => {
                        return Err(StoreError::Corrupt {
                            what: "rd_directories.control_policy_status",
                        });
                    }
                };
                Ok(DirectoryRecord {
                    management_account_id,
                    directory_id,
                    root_folder_id,
                    control_policy_enabled,
                    created_at_ms,
                })
            },
        )
        .transpose()
    }

    /// The management account that owns the directory containing `account_id` (the
    /// account itself when it is a management account with a directory); `None` when the
    /// account is in no directory.
    pub async fn directory_management_account(
        &self,
        account_id: &str,
    ) -> Result<Option<String>, StoreError> {
        if self.rd_get_directory(account_id).await?.is_some() {
            return Ok(Some(account_id.to_owned()));
        }
        let mgmt: Option<String> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT management_account_id FROM rd_members WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(mgmt)
    }

    /// Control policies that apply to an account, for the policy engine. `None` when the
    /// account is not in a directory or the directory's control policies are disabled
    /// (then none apply).
    pub async fn control_policy_path(
        &self,
        account_id: &str,
    ) -> Result<Option<ControlPolicyPath>, StoreError> {
        let Some(mgmt) = self.directory_management_account(account_id).await? else {
            return Ok(None);
        };
        let Some(directory) = self.rd_get_directory(&mgmt).await? else {
            return Ok(None);
        };
        if !directory.control_policy_enabled {
            return Ok(None);
        }
        if mgmt == account_id {
            return Ok(Some(ControlPolicyPath {
                is_management_account: true,
                levels: Vec::new(),
            }));
        }
        let Some(member) = self.rd_get_member(&mgmt, account_id).await? else {
            return Ok(None);
        };
        let mut levels = vec![self.rd_level(&mgmt, account_id).await?];
        let mut next = Some(member.folder_id);
        let mut steps = 0usize;
        while let Some(folder_id) = next {
            steps += 1;
            if steps > MAX_WALK {
                return Err(StoreError::Corrupt {
                    what: "rd_folders.parent_folder_id (cycle)",
                });
            }
            let folder =
                self.rd_get_folder(&mgmt, &folder_id)
                    .await?
                    .ok_or(StoreError::Corrupt {
                        what: "rd_members.folder_id",
                    })?;
            levels.push(self.rd_level(&mgmt, &folder.folder_id).await?);
            next = folder.parent_folder_id;
        }
        Ok(Some(ControlPolicyPath {
            is_management_account: false,
            levels,
        }))
    }

    async fn rd_level(
        &self,
        mgmt: &str,
        target_id: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(self
            .rd_attachments_for_target(mgmt, target_id)
            .await?
            .into_iter()
            .map(|(policy, _)| (policy.policy_id, policy.effect_scope, policy.document))
            .collect())
    }

    /// Turns the control-policy feature on or off. Enabling attaches `system_policy_id`
    /// to the Root folder, every folder and every member; disabling detaches every
    /// control policy (the policies themselves stay), as Alibaba Cloud does.
    pub async fn rd_set_control_policy_enabled(
        &self,
        management_account_id: &str,
        enabled: bool,
        system_policy_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            let changed = sqlx::query(
                "UPDATE rd_directories SET control_policy_status = $2 WHERE management_account_id = $1",
            )
            .bind(management_account_id)
            .bind(if enabled { STATUS_ENABLED } else { STATUS_DISABLED })
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if enabled {
                sqlx::query(
                    "INSERT INTO rd_policy_attachments (management_account_id, target_id, policy_id, target_type, attached_at_ms)
                     SELECT management_account_id, folder_id, $2, CASE WHEN parent_folder_id IS NULL THEN 'Root' ELSE 'Folder' END, $3
                     FROM rd_folders WHERE management_account_id = $1
                     ON CONFLICT DO NOTHING",
                )
                .bind(management_account_id)
                .bind(system_policy_id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO rd_policy_attachments (management_account_id, target_id, policy_id, target_type, attached_at_ms)
                     SELECT management_account_id, account_id, $2, 'Account', $3
                     FROM rd_members WHERE management_account_id = $1
                     ON CONFLICT DO NOTHING",
                )
                .bind(management_account_id)
                .bind(system_policy_id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query("DELETE FROM rd_policy_attachments WHERE management_account_id = $1")
                    .bind(management_account_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            changed
        });
        Ok(changed == 1)
    }

    /// Inserts a folder and, when `attach` names a policy, attaches it to the new folder in
    /// the same transaction. `AlreadyExists { entity: "folder" }` on an id collision.
    pub async fn rd_insert_folder(
        &self,
        management_account_id: &str,
        folder: &FolderRecord,
        attach: Option<&str>,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "INSERT INTO rd_folders (management_account_id, folder_id, parent_folder_id, folder_name, depth, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(management_account_id)
            .bind(&folder.folder_id)
            .bind(&folder.parent_folder_id)
            .bind(&folder.folder_name)
            .bind(folder.depth)
            .bind(folder.created_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(|err| StoreError::from_insert(err, "folder"))?;
            if let Some(policy_id) = attach {
                sqlx::query(
                    "INSERT INTO rd_policy_attachments (management_account_id, target_id, policy_id, target_type, attached_at_ms) VALUES ($1, $2, $3, 'Folder', $4)",
                )
                .bind(management_account_id)
                .bind(&folder.folder_id)
                .bind(policy_id)
                .bind(folder.created_at_ms)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Looks a folder (or the Root folder) up.
    pub async fn rd_get_folder(
        &self,
        management_account_id: &str,
        folder_id: &str,
    ) -> Result<Option<FolderRecord>, StoreError> {
        let sql = format!(
            "SELECT {FOLDER_COLS} FROM rd_folders WHERE management_account_id = $1 AND folder_id = $2"
        );
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(management_account_id)
                .bind(folder_id)
                .fetch_optional(pool)
                .await?;
            match row {
                None => None,
                Some(row) => Some(folder_row(&row)?),
            }
        });
        Ok(row.map(folder_from))
    }

    /// Direct subfolders of `parent_folder_id`, oldest first (ties by id).
    pub async fn rd_list_child_folders(
        &self,
        management_account_id: &str,
        parent_folder_id: &str,
    ) -> Result<Vec<FolderRecord>, StoreError> {
        let sql = format!(
            "SELECT {FOLDER_COLS} FROM rd_folders WHERE management_account_id = $1 AND parent_folder_id = $2 ORDER BY created_at_ms, folder_id"
        );
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(management_account_id)
                .bind(parent_folder_id)
                .fetch_all(pool)
                .await?;
            rows.iter().map(folder_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows.into_iter().map(folder_from).collect())
    }

    /// Number of folders in the directory, the Root folder excluded.
    pub async fn rd_count_folders(&self, management_account_id: &str) -> Result<i64, StoreError> {
        let n: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM rd_folders WHERE management_account_id = $1 AND parent_folder_id IS NOT NULL",
            )
            .bind(management_account_id)
            .fetch_one(pool)
            .await?
        });
        Ok(n)
    }

    /// Renames a folder; returns whether it existed.
    pub async fn rd_rename_folder(
        &self,
        management_account_id: &str,
        folder_id: &str,
        new_name: &str,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE rd_folders SET folder_name = $3 WHERE management_account_id = $1 AND folder_id = $2",
            )
            .bind(management_account_id)
            .bind(folder_id)
            .bind(new_name)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Deletes a non-Root folder and its attachments; the caller checks it is empty.
    /// Returns whether it existed.
    pub async fn rd_delete_folder(
        &self,
        management_account_id: &str,
        folder_id: &str,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "DELETE FROM rd_policy_attachments WHERE management_account_id = $1 AND target_id = $2",
            )
            .bind(management_account_id)
            .bind(folder_id)
            .execute(&mut *tx)
            .await?;
            let n = sqlx::query(
                "DELETE FROM rd_folders WHERE management_account_id = $1 AND folder_id = $2 AND parent_folder_id IS NOT NULL",
            )
            .bind(management_account_id)
            .bind(folder_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            n
        });
        Ok(n == 1)
    }

    /// Inserts a member and, when `attach` names a policy, attaches it to the member in the
    /// same transaction. The account row must exist. `AlreadyExists { entity: "member" }`
    /// when the account is already in a directory or the display or account name is taken.
    pub async fn rd_insert_member(
        &self,
        management_account_id: &str,
        member: &MemberRecord,
        attach: Option<&str>,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "INSERT INTO rd_members (account_id, management_account_id, folder_id, display_name, account_name, account_type, join_method, status, joined_at_ms, modified_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&member.account_id)
            .bind(management_account_id)
            .bind(&member.folder_id)
            .bind(&member.display_name)
            .bind(&member.account_name)
            .bind(&member.account_type)
            .bind(&member.join_method)
            .bind(&member.status)
            .bind(member.joined_at_ms)
            .bind(member.modified_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(|err| StoreError::from_insert(err, "member"))?;
            if let Some(policy_id) = attach {
                sqlx::query(
                    "INSERT INTO rd_policy_attachments (management_account_id, target_id, policy_id, target_type, attached_at_ms) VALUES ($1, $2, $3, 'Account', $4)",
                )
                .bind(management_account_id)
                .bind(&member.account_id)
                .bind(policy_id)
                .bind(member.joined_at_ms)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A member of the directory.
    pub async fn rd_get_member(
        &self,
        management_account_id: &str,
        account_id: &str,
    ) -> Result<Option<MemberRecord>, StoreError> {
        let sql = format!(
            "SELECT {MEMBER_COLS} FROM rd_members WHERE management_account_id = $1 AND account_id = $2"
        );
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(management_account_id)
                .bind(account_id)
                .fetch_optional(pool)
                .await?;
            match row {
                None => None,
                Some(row) => Some(member_row(&row)?),
            }
        });
        Ok(row.map(member_from))
    }

    /// Members of the directory, oldest first (ties by id); only those directly in
    /// `folder_id` when given.
    pub async fn rd_list_members(
        &self,
        management_account_id: &str,
        folder_id: Option<&str>,
    ) -> Result<Vec<MemberRecord>, StoreError> {
        let sql = format!(
            "SELECT {MEMBER_COLS} FROM rd_members WHERE management_account_id = $1 AND ($2 IS NULL OR folder_id = $2) ORDER BY joined_at_ms, account_id"
        );
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(management_account_id)
                .bind(folder_id)
                .fetch_all(pool)
                .await?;
            rows.iter().map(member_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows.into_iter().map(member_from).collect())
    }

    /// Number of members in the directory.
    pub async fn rd_count_members(&self, management_account_id: &str) -> Result<i64, StoreError> {
        let n: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM rd_members WHERE management_account_id = $1")
                .bind(management_account_id)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// Moves a member to another folder; returns whether it existed.
    pub async fn rd_move_member(
        &self,
        management_account_id: &str,
        account_id: &str,
        folder_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE rd_members SET folder_id = $3, modified_at_ms = $4 WHERE management_account_id = $1 AND account_id = $2",
            )
            .bind(management_account_id)
            .bind(account_id)
            .bind(folder_id)
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Removes a member (and its attachments) from the directory; returns whether it was
    /// a member. The account row itself is left alone.
    pub async fn rd_delete_member(
        &self,
        management_account_id: &str,
        account_id: &str,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            sqlx::query(
                "DELETE FROM rd_policy_attachments WHERE management_account_id = $1 AND target_id = $2",
            )
            .bind(management_account_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
            let n = sqlx::query(
                "DELETE FROM rd_members WHERE management_account_id = $1 AND account_id = $2",
            )
            .bind(management_account_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            n
        });
        Ok(n == 1)
    }

    /// Inserts a control policy. `AlreadyExists { entity: "control policy" }` when the
    /// id or the name is taken in the directory.
    pub async fn rd_insert_control_policy(
        &self,
        management_account_id: &str,
        policy: &ControlPolicyRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO rd_control_policies (management_account_id, policy_id, policy_name, policy_type, description, effect_scope, document, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(management_account_id)
            .bind(&policy.policy_id)
            .bind(&policy.policy_name)
            .bind(&policy.policy_type)
            .bind(&policy.description)
            .bind(&policy.effect_scope)
            .bind(&policy.document)
            .bind(policy.created_at_ms)
            .bind(policy.updated_at_ms)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "control policy"))?;
        });
        Ok(())
    }

    /// A control policy of the directory.
    pub async fn rd_get_control_policy(
        &self,
        management_account_id: &str,
        policy_id: &str,
    ) -> Result<Option<ControlPolicyRecord>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM rd_control_policies WHERE management_account_id = $1 AND policy_id = $2"
        );
        let row = on_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(management_account_id)
                .bind(policy_id)
                .fetch_optional(pool)
                .await?;
            match row {
                None => None,
                Some(row) => Some(policy_row(&row, 0)?),
            }
        });
        Ok(row.map(policy_from))
    }

    /// Control policies of the directory, system policies first, then by creation time and
    /// id; only those of `policy_type` when given.
    pub async fn rd_list_control_policies(
        &self,
        management_account_id: &str,
        policy_type: Option<&str>,
    ) -> Result<Vec<ControlPolicyRecord>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM rd_control_policies WHERE management_account_id = $1 AND ($2 IS NULL OR policy_type = $2) ORDER BY CASE WHEN policy_type = 'System' THEN 0 ELSE 1 END, created_at_ms, policy_id"
        );
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(management_account_id)
                .bind(policy_type)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| policy_row(row, 0))
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows.into_iter().map(policy_from).collect())
    }

    /// Replaces a policy's name, description, scope, document and update time (matched by
    /// id). Returns whether it existed; `AlreadyExists` when the new name is taken.
    pub async fn rd_update_control_policy(
        &self,
        management_account_id: &str,
        policy: &ControlPolicyRecord,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE rd_control_policies SET policy_name = $3, description = $4, effect_scope = $5, document = $6, updated_at_ms = $7 WHERE management_account_id = $1 AND policy_id = $2",
            )
            .bind(management_account_id)
            .bind(&policy.policy_id)
            .bind(&policy.policy_name)
            .bind(&policy.description)
            .bind(&policy.effect_scope)
            .bind(&policy.document)
            .bind(policy.updated_at_ms)
            .execute(pool)
            .await
            .map_err(|err| StoreError::from_insert(err, "control policy"))?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Deletes a control policy that has no attachments. Returns `Ok(None)` when it does
    /// not exist, `Ok(Some(false))` when it is still attached (nothing deleted) and
    /// `Ok(Some(true))` when deleted. The check and the delete are one statement, so a
    /// concurrent attach cannot slip in between.
    pub async fn rd_delete_control_policy(
        &self,
        management_account_id: &str,
        policy_id: &str,
    ) -> Result<Option<bool>, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM rd_control_policies WHERE management_account_id = $1 AND policy_id = $2
                 AND NOT EXISTS (SELECT 1 FROM rd_policy_attachments a WHERE a.management_account_id = $1 AND a.policy_id = $2)",
            )
            .bind(management_account_id)
            .bind(policy_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 1 {
            return Ok(Some(true));
        }
        Ok(self
            .rd_get_control_policy(management_account_id, policy_id)
            .await?
            .map(|_| false))
    }

    /// Attaches a policy to a target unless it is already attached or the target already
    /// has `max_per_target` attachments.
    pub async fn rd_attach_control_policy(
        &self,
        management_account_id: &str,
        attachment: &ControlPolicyAttachmentRecord,
        max_per_target: i64,
    ) -> Result<AttachOutcome, StoreError> {
        let outcome = on_pool!(self, |pool| {
            let mut tx = crate::BeginWrite::begin_write(pool).await?;
            let existing: Vec<String> = sqlx::query_scalar(
                "SELECT policy_id FROM rd_policy_attachments WHERE management_account_id = $1 AND target_id = $2",
            )
            .bind(management_account_id)
            .bind(&attachment.target_id)
            .fetch_all(&mut *tx)
            .await?;
            let outcome = if existing.iter().any(|p| p == &attachment.policy_id) {
                AttachOutcome::AlreadyAttached
            } else if i64::try_from(existing.len()).unwrap_or(i64::MAX) >= max_per_target {
                AttachOutcome::LimitExceeded
            } else {
                let inserted = sqlx::query(
                    "INSERT INTO rd_policy_attachments (management_account_id, target_id, policy_id, target_type, attached_at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(management_account_id)
                .bind(&attachment.target_id)
                .bind(&attachment.policy_id)
                .bind(&attachment.target_type)
                .bind(attachment.attached_at_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 1 {
                    AttachOutcome::Attached
                } else {
                    AttachOutcome::AlreadyAttached
                }
            };
            tx.commit().await?;
            outcome
        });
        Ok(outcome)
    }

    /// Detaches a policy from a target; returns whether it was attached.
    pub async fn rd_detach_control_policy(
        &self,
        management_account_id: &str,
        policy_id: &str,
        target_id: &str,
    ) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM rd_policy_attachments WHERE management_account_id = $1 AND policy_id = $2 AND target_id = $3",
            )
            .bind(management_account_id)
            .bind(policy_id)
            .bind(target_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// The policies attached to a target with their attach times, in attach order.
    pub async fn rd_attachments_for_target(
        &self,
        management_account_id: &str,
        target_id: &str,
    ) -> Result<Vec<(ControlPolicyRecord, i64)>, StoreError> {
        let sql = "SELECT p.policy_id, p.policy_name, p.policy_type, p.description, p.effect_scope, p.document, p.created_at_ms, p.updated_at_ms, a.attached_at_ms
             FROM rd_policy_attachments a JOIN rd_control_policies p
               ON p.management_account_id = a.management_account_id AND p.policy_id = a.policy_id
             WHERE a.management_account_id = $1 AND a.target_id = $2
             ORDER BY a.attached_at_ms, p.policy_id";
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(sql)
                .bind(management_account_id)
                .bind(target_id)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| Ok::<_, sqlx::Error>((policy_row(row, 0)?, row.try_get::<i64, _>(8)?)))
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows
            .into_iter()
            .map(|(row, at)| (policy_from(row), at))
            .collect())
    }

    /// The targets a policy is attached to, in attach order.
    pub async fn rd_targets_for_control_policy(
        &self,
        management_account_id: &str,
        policy_id: &str,
    ) -> Result<Vec<ControlPolicyAttachmentRecord>, StoreError> {
        let rows = on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT policy_id, target_id, target_type, attached_at_ms FROM rd_policy_attachments WHERE management_account_id = $1 AND policy_id = $2 ORDER BY attached_at_ms, target_id",
            )
            .bind(management_account_id)
            .bind(policy_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok::<_, sqlx::Error>(ControlPolicyAttachmentRecord {
                        policy_id: row.try_get(0)?,
                        target_id: row.try_get(1)?,
                        target_type: row.try_get(2)?,
                        attached_at_ms: row.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// How many targets a policy is attached to.
    pub async fn rd_count_control_policy_attachments(
        &self,
        management_account_id: &str,
        policy_id: &str,
    ) -> Result<i64, StoreError> {
        let n: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM rd_policy_attachments WHERE management_account_id = $1 AND policy_id = $2",
            )
            .bind(management_account_id)
            .bind(policy_id)
            .fetch_one(pool)
            .await?
        });
        Ok(n)
    }
}

fn folder_row<R: Row>(row: &R) -> Result<FolderRow, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
    ))
}

fn member_row<R: Row>(row: &R) -> Result<MemberRow, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
        row.try_get(7)?,
        row.try_get(8)?,
    ))
}

fn policy_row<R: Row>(row: &R, base: usize) -> Result<PolicyRow, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        row.try_get(base)?,
        row.try_get(base + 1)?,
        row.try_get(base + 2)?,
        row.try_get(base + 3)?,
        row.try_get(base + 4)?,
        row.try_get(base + 5)?,
        row.try_get(base + 6)?,
        row.try_get(base + 7)?,
    ))
}
