//! `cloudward-trail`: the tamper-evident audit trail.
//!
//! * [`event`]: the ActionTrail event model and its canonical bytes (the Merkle leaf).
//! * [`redact`]: secret redaction applied before an event gets canonical bytes.
//! * [`merkle`]: RFC 6962 hashing, the O(log n) append [`merkle::Frontier`], inclusion
//!   and consistency proofs over a [`merkle::LeafHashes`] source, and their verifiers.
//! * [`checkpoint`]: Ed25519-signed checkpoints in signed-note text, with a
//!   [`checkpoint::Keyring`] that keeps retired keys for old checkpoints.
//! * [`export`]: the export layout, its writer, and the offline verifier.
//!
//! The crate is pure: no network, no database, no clock (timestamps come from the
//! caller). Only [`export`] touches files, and its core ([`export::Verifier`],
//! [`export::write_event_line`]) works on any `Read`/`Write`.

pub mod checkpoint;
pub mod event;
pub mod export;
pub mod merkle;
pub mod redact;

pub use checkpoint::{
    Checkpoint, CheckpointError, CheckpointSigner, Keyring, SignedCheckpoint, TrustedKey,
};
pub use event::{ActionTrailEvent, EventError, RedactedEvent};
pub use export::{
    ExportOptions, ExportWriter, Failure, FailureKind, VerifyOptions, VerifyReport, verify_export,
};
pub use merkle::{Frontier, Hash, LeafHashes, MemoryTree};
