//! Export of the stored log in the `cloudward-trail` layout (event files, checkpoint
//! notes, `keys.json`), for `cloudward trail verify` and auditors.
//!
//! Works offline on a data directory (read-only; the server may be running). The export
//! covers the log from index 0 up to the latest signed checkpoint (or everything, with
//! `include_tail`), with every checkpoint inside that range.

use std::path::Path;

use cloudward_trail::{ExportOptions, ExportWriter, SignedCheckpoint};

use crate::AuditError;
use crate::keys::read_keyring;
use crate::log::{DB_FILE, open_reader, stored_checkpoint, stored_size};

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    /// Events written.
    pub events: u64,
    /// Checkpoints written.
    pub checkpoints: u64,
}

/// Exports the log of `data_dir` into `out`.
pub fn export_data_dir(
    data_dir: &Path,
    out: &Path,
    options: ExportOptions,
    include_tail: bool,
) -> Result<ExportSummary, AuditError> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(AuditError::NotFound(format!(
            "audit log {}",
            path.display()
        )));
    }
    let conn = open_reader(&path)?;
    let keyring = read_keyring(data_dir)?;
    // One read transaction: a consistent snapshot while the server keeps writing.
    let tx = conn.unchecked_transaction()?;
    let upto = if include_tail {
        stored_size(&tx)?
    } else {
        stored_checkpoint(&tx, None)?.map_or(0, |c| c.checkpoint.size)
    };
    let (_, first) = crate::blocks::stored_events(&tx)?;
    if upto > 0 && first.is_none_or(|f| f > 0) {
        return Err(AuditError::Invalid(format!(
            "events before index {} were purged by retention; an export must start at 0 (trail deliveries hold the older events)",
            first.unwrap_or(upto)
        )));
    }
    let mut writer = ExportWriter::create(out, options)?;
    {
        let mut expected = 0u64;
        crate::blocks::for_each_event(&tx, 0, upto, |idx, body| {
            if idx != expected {
                return Err(AuditError::Integrity(format!(
                    "event {expected} is missing from the store"
                )));
            }
            writer.append_canonical(body)?;
            expected += 1;
            Ok(())
        })?;
        if expected != upto {
            return Err(AuditError::Integrity(format!(
                "the store holds {expected} events, expected {upto}"
            )));
        }
    }
    let mut checkpoints = 0;
    {
        let mut stmt = tx.prepare("SELECT note FROM checkpoints WHERE size <= ?1 ORDER BY size")?;
        let mut rows = stmt.query([i64::try_from(upto).unwrap_or(i64::MAX)])?;
        while let Some(row) = rows.next()? {
            let note: String = row.get(0)?;
            let signed = SignedCheckpoint::parse(note.as_bytes())
                .map_err(|e| AuditError::Integrity(format!("stored checkpoint: {e}")))?;
            writer.write_checkpoint(&signed)?;
            checkpoints += 1;
        }
    }
    writer.write_keys(&keyring)?;
    let events = writer.finish()?;
    Ok(ExportSummary {
        events,
        checkpoints,
    })
}
