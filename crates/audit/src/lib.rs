//! `cloudward-audit`: the operation audit service.
//!
//! * [`log`]: the durable, append-only event log (`<data dir>/audit.db`): one writer
//!   thread with group commit; each batch's event blocks, Merkle leaf chunks, cached
//!   subtree hashes and the frontier commit in one transaction. Proofs come from the
//!   store through [`cloudward_trail::LeafHashes`] with the subtree cache.
//! * [`blocks`]: the storage layout of events (blocks) and leaf hashes (chunks).
//! * [`index`]: lookup posting lists and the AccessKey usage aggregate
//!   (`audit-index.db`), written by the indexer thread.
//! * [`keys`]: the Ed25519 checkpoint key (`audit-keys/signing.key`, 0600) and the
//!   public keyring with every retired key.
//! * [`event`]: the ActionTrail event of one call, built from what the server knows.
//! * [`lookup`]: `LookupEvents` queries.
//! * [`usage`]: the AccessKey usage aggregate behind `GetAccessKeyLastUsed*`.
//! * [`trails`]: trails (`CreateTrail` ...) and their delivery of gzip JSON-lines files
//!   and checkpoint files.
//! * [`export`]: export of the log in the `cloudward-trail` layout for offline
//!   verification.
//! * [`actions`]: the ActionTrail `2020-07-06` API and Cloudward's proof extensions, as
//!   [`cloudward_service::ActionSpec`]s ([`actions()`]).

pub mod actions;
pub mod blocks;
pub mod event;
pub mod export;
pub mod index;
pub mod keys;
pub mod log;
pub mod lookup;
mod maintenance;
pub mod trails;
pub mod usage;

pub use actions::actions;
pub use event::{CallFacts, build_event};
pub use log::{AuditLog, AuditOptions, AuditWriter, Durability, EventRow, OpenReport};

/// Errors of the audit service. Cloneable, because one failed group commit is reported
/// to every caller in the batch.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    /// The database failed.
    #[error("audit store: {0}")]
    Storage(String),
    /// The stored log does not match itself or its signed checkpoints.
    #[error("audit log integrity: {0}")]
    Integrity(String),
    /// Key files are missing, malformed or unsafe.
    #[error("audit keys: {0}")]
    Keys(String),
    /// The event could not be serialized.
    #[error("audit event: {0}")]
    Event(String),
    /// The writer has stopped.
    #[error("audit writer stopped")]
    Stopped,
    /// Something asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A request that cannot be answered as asked.
    #[error("{0}")]
    Invalid(String),
    /// Delivery or export I/O failed.
    #[error("audit I/O: {0}")]
    Io(String),
}

impl From<rusqlite::Error> for AuditError {
    fn from(e: rusqlite::Error) -> Self {
        AuditError::Storage(e.to_string())
    }
}

impl From<cloudward_trail::EventError> for AuditError {
    fn from(e: cloudward_trail::EventError) -> Self {
        AuditError::Event(e.to_string())
    }
}

impl From<cloudward_trail::CheckpointError> for AuditError {
    fn from(e: cloudward_trail::CheckpointError) -> Self {
        AuditError::Keys(e.to_string())
    }
}

impl<E: std::error::Error + 'static> From<cloudward_trail::merkle::ProofError<E>> for AuditError {
    fn from(e: cloudward_trail::merkle::ProofError<E>) -> Self {
        match e {
            cloudward_trail::merkle::ProofError::Source(inner) => {
                AuditError::Storage(inner.to_string())
            }
            other => AuditError::Invalid(other.to_string()),
        }
    }
}

impl From<cloudward_trail::export::ExportError> for AuditError {
    fn from(e: cloudward_trail::export::ExportError) -> Self {
        AuditError::Io(e.to_string())
    }
}
