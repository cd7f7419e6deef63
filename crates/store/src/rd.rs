//! Storage for Resource Directory: the folder tree, member accounts, control policies and their attachments.

/// Schema of this module for SQLite (applied as one migration).
pub(crate) const MIGRATION_SQLITE: &str = "SELECT 1;";
/// Schema of this module for PostgreSQL.
pub(crate) const MIGRATION_POSTGRES: &str = "SELECT 1;";
