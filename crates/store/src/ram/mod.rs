//! Storage for RAM: users, groups, roles, policies, attachments, AccessKey metadata, login
//! profiles, MFA, account settings and tags.
//!
//! Every table has an `account_id` column and every query filters by it: there is no
//! function here that reads another account's RAM entities. The one global exception is
//! the catalogue of **system policies**, which is not a table at all but versioned data
//! compiled into the binary ([`system_policies`]); it holds no tenant data. Attachments of
//! system policies are ordinary account-scoped rows.
//!
//! Limits are enforced atomically where it matters: the `*_limited` inserts are
//! `INSERT … SELECT … WHERE (SELECT COUNT(*) …) < limit`, so two concurrent creates on
//! SQLite (one writer) cannot both pass the check. On PostgreSQL under READ COMMITTED a
//! narrow race remains; limits are quotas, not security boundaries.

/// SQL text assembled from this module's constants (never from input), marked safe.
macro_rules! sql {
    ($($arg:tt)*) => {
        sqlx::AssertSqlSafe(format!($($arg)*))
    };
}

mod console;
mod credentials;
mod groups;
mod policies;
mod roles;
mod settings;
mod system;
mod users;

pub(crate) use console::MIGRATION as CONSOLE_MIGRATION;
pub use console::{ConsoleSessionRecord, PASSWORD_HISTORY_KEEP, SigninTicketRecord};
pub use credentials::{LoginProfileRecord, LoginProfileStatus, MfaDeviceRecord};
pub use groups::{GroupMembership, GroupRecord};
pub use policies::{
    AttachedPolicy, AttachmentRecord, CreateVersionOutcome, PolicyRecord, PolicyVersionRecord,
    PrincipalKindRef,
};
pub use roles::RoleRecord;
pub use settings::TagRecord;
pub use system::{SystemPolicy, system_policies, system_policy};
pub use users::{UserDependents, UserRecord};

/// `System` policy type (Alibaba's spelling).
pub const POLICY_TYPE_SYSTEM: &str = "System";
/// `Custom` policy type (Alibaba's spelling).
pub const POLICY_TYPE_CUSTOM: &str = "Custom";

/// Tables whose SQL is the same on both backends (a macro so `concat!` can use it).
macro_rules! common_schema {
    () => {
        "
CREATE TABLE IF NOT EXISTS ram_users (
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    mobile_phone TEXT NOT NULL,
    email TEXT NOT NULL,
    comments TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    last_login_at_ms BIGINT,
    PRIMARY KEY (account_id, user_name)
);
CREATE UNIQUE INDEX IF NOT EXISTS ram_users_id ON ram_users(account_id, user_id);
CREATE TABLE IF NOT EXISTS ram_groups (
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    group_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    comments TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, group_name)
);
CREATE UNIQUE INDEX IF NOT EXISTS ram_groups_id ON ram_groups(account_id, group_id);
CREATE TABLE IF NOT EXISTS ram_group_members (
    account_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    joined_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, group_id, user_id)
);
CREATE INDEX IF NOT EXISTS ram_group_members_user ON ram_group_members(account_id, user_id);
CREATE TABLE IF NOT EXISTS ram_roles (
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    role_id TEXT NOT NULL,
    role_name TEXT NOT NULL,
    arn TEXT NOT NULL,
    description TEXT NOT NULL,
    assume_role_policy_document TEXT NOT NULL,
    max_session_duration BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, role_name)
);
CREATE UNIQUE INDEX IF NOT EXISTS ram_roles_id ON ram_roles(account_id, role_id);
CREATE TABLE IF NOT EXISTS ram_policies (
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    policy_name TEXT NOT NULL,
    description TEXT NOT NULL,
    default_version TEXT NOT NULL,
    next_version BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, policy_name)
);
CREATE TABLE IF NOT EXISTS ram_policy_versions (
    account_id TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    version_id TEXT NOT NULL,
    version_num BIGINT NOT NULL,
    document TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, policy_name, version_id)
);
CREATE TABLE IF NOT EXISTS ram_attachments (
    account_id TEXT NOT NULL,
    principal_kind TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    policy_type TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    attached_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, principal_kind, principal_id, policy_type, policy_name)
);
CREATE INDEX IF NOT EXISTS ram_attachments_policy ON ram_attachments(account_id, policy_type, policy_name);
CREATE TABLE IF NOT EXISTS ram_login_profiles (
    account_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    password_reset_required BIGINT NOT NULL,
    mfa_bind_required BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE TABLE IF NOT EXISTS ram_account_settings (
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    setting TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, setting)
);
CREATE TABLE IF NOT EXISTS ram_account_aliases (
    account_id TEXT NOT NULL PRIMARY KEY REFERENCES accounts(account_id),
    alias TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS ram_tags (
    account_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (account_id, resource_type, resource_name, tag_key)
);
"
    };
}

/// Schema of this module for SQLite (applied as one migration).
pub(crate) const MIGRATION_SQLITE: &str = concat!(
    common_schema!(),
    "
CREATE TABLE IF NOT EXISTS ram_mfa_devices (
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    device_name TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    seed_ciphertext BLOB NOT NULL,
    created_at_ms BIGINT NOT NULL,
    user_id TEXT,
    activated_at_ms BIGINT,
    last_used_step BIGINT,
    PRIMARY KEY (account_id, device_name)
);
CREATE UNIQUE INDEX IF NOT EXISTS ram_mfa_devices_user ON ram_mfa_devices(account_id, user_id);
"
);
/// Schema of this module for PostgreSQL.
pub(crate) const MIGRATION_POSTGRES: &str = concat!(
    common_schema!(),
    "
CREATE TABLE IF NOT EXISTS ram_mfa_devices (
    account_id TEXT NOT NULL REFERENCES accounts(account_id),
    device_name TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    seed_ciphertext BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL,
    user_id TEXT,
    activated_at_ms BIGINT,
    last_used_step BIGINT,
    PRIMARY KEY (account_id, device_name)
);
CREATE UNIQUE INDEX IF NOT EXISTS ram_mfa_devices_user ON ram_mfa_devices(account_id, user_id);
"
);

/// Converts a stored 0/1 flag.
pub(crate) fn flag(value: i64) -> bool {
    value != 0
}

/// Converts a flag for storage (BIGINT 0/1 on both backends).
pub(crate) fn to_flag(value: bool) -> i64 {
    i64::from(value)
}
