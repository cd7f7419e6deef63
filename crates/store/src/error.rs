use thiserror::Error;

/// Errors from the storage layer. Messages never contain row contents (which may hold
/// encrypted secrets) — only what kind of failure happened.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A row with the same unique key already exists.
    #[error("{entity} already exists")]
    AlreadyExists {
        /// What kind of row collided (for the caller's error mapping).
        entity: &'static str,
    },
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A stored value could not be interpreted (corruption or a newer schema).
    #[error("corrupt stored value in {what}")]
    Corrupt {
        /// Which column or record was unreadable.
        what: &'static str,
    },
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Database(err)
    }
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::AlreadyExists`].
    pub(crate) fn from_insert(err: sqlx::Error, entity: &'static str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::AlreadyExists { entity }
            }
            _ => StoreError::Database(err),
        }
    }
}
