//! Storage for STS sessions issued by AssumeRole.

/// Schema of this module for SQLite (applied as one migration).
pub(crate) const MIGRATION_SQLITE: &str = "SELECT 1;";
/// Schema of this module for PostgreSQL.
pub(crate) const MIGRATION_POSTGRES: &str = "SELECT 1;";
