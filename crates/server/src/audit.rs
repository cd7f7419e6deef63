//! The durable audit sink: one ActionTrail event per call, committed before the response.
//!
//! **Invariant (one durable audit event per call):** the RPC handler builds exactly one
//! event on every path (including authentication failures) and awaits
//! [`AuditSink::record`], which returns only after the event's transaction committed. A
//! dedicated writer thread drains everything queued and commits it in one transaction
//! (group commit), so the cost of an fsync is shared by all concurrent calls.

use std::path::Path;
use std::thread::JoinHandle;

use rusqlite::{Connection, params};
use tokio::sync::{mpsc, oneshot};

use crate::ServeError;
use crate::config::AuditDurability;

/// Most events committed in one transaction.
const MAX_BATCH: usize = 4096;

/// Index columns extracted from an event for lookups.
#[derive(Debug, Clone, Default)]
pub struct AuditIndex {
    /// Event id.
    pub event_id: String,
    /// Event time, ms since epoch.
    pub event_time_ms: i64,
    /// Owning account (empty for unauthenticated calls with no known account).
    pub account_id: String,
    /// Action name.
    pub event_name: String,
    /// Service name.
    pub service_name: String,
    /// `Read` or `Write`.
    pub event_rw: String,
    /// Caller name, if known.
    pub user_name: String,
    /// AccessKeyId used, if known.
    pub access_key_id: String,
}

struct Pending {
    index: AuditIndex,
    event_json: String,
    ack: oneshot::Sender<Result<u64, String>>,
}

/// Error from the audit sink. When it happens the call fails: an action whose event could
/// not be recorded must not be reported as done.
#[derive(Debug, thiserror::Error)]
#[error("audit log unavailable: {0}")]
pub struct AuditError(String);

/// Handle to the writer thread.
#[derive(Clone, Debug)]
pub struct AuditSink {
    tx: mpsc::Sender<Pending>,
}

/// Owns the writer thread; dropping every [`AuditSink`] and calling [`AuditWriter::join`]
/// flushes and closes the log.
#[derive(Debug)]
pub struct AuditWriter {
    thread: Option<JoinHandle<()>>,
}

impl AuditWriter {
    /// Waits for the writer to drain its queue and close the database.
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("audit writer thread panicked");
        }
    }
}

/// Opens `audit.db` in `dir` and starts the writer thread.
pub fn open(
    dir: &Path,
    durability: AuditDurability,
) -> Result<(AuditSink, AuditWriter), ServeError> {
    let path = dir.join("audit.db");
    let conn = Connection::open(&path)
        .map_err(|err| ServeError::Config(format!("cannot open {}: {err}", path.display())))?;
    let sync = match durability {
        AuditDurability::Fsync => "FULL",
        AuditDurability::Os => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL;
         PRAGMA synchronous={sync};
         CREATE TABLE IF NOT EXISTS events (
             seq INTEGER PRIMARY KEY,
             event_id TEXT NOT NULL UNIQUE,
             event_time_ms INTEGER NOT NULL,
             account_id TEXT NOT NULL,
             event_name TEXT NOT NULL,
             service_name TEXT NOT NULL,
             event_rw TEXT NOT NULL,
             user_name TEXT NOT NULL,
             access_key_id TEXT NOT NULL,
             event_json TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS events_account_time ON events(account_id, event_time_ms);
         CREATE INDEX IF NOT EXISTS events_account_user_time ON events(account_id, user_name, event_time_ms);"
    ))
    .map_err(|err| ServeError::Config(format!("cannot initialise {}: {err}", path.display())))?;
    let (tx, rx) = mpsc::channel(16 * 1024);
    let thread = std::thread::Builder::new()
        .name("audit-writer".to_owned())
        .spawn(move || writer_loop(conn, rx))
        .map_err(|err| ServeError::Config(format!("cannot start audit writer: {err}")))?;
    Ok((
        AuditSink { tx },
        AuditWriter {
            thread: Some(thread),
        },
    ))
}

impl AuditSink {
    /// Appends one event and waits until it is durable; returns its sequence number.
    pub async fn record(&self, index: AuditIndex, event_json: String) -> Result<u64, AuditError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Pending {
                index,
                event_json,
                ack,
            })
            .await
            .map_err(|_| AuditError("writer stopped".to_owned()))?;
        match done.await {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(err)) => Err(AuditError(err)),
            Err(_) => Err(AuditError("writer stopped".to_owned())),
        }
    }
}

fn writer_loop(mut conn: Connection, mut rx: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        match commit(&mut conn, &batch) {
            Ok(seqs) => {
                for (pending, seq) in batch.drain(..).zip(seqs) {
                    // The caller may have gone away (client disconnected); the event stays.
                    let _ = pending.ack.send(Ok(seq));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "audit commit failed");
                for pending in batch.drain(..) {
                    let _ = pending.ack.send(Err(err.to_string()));
                }
            }
        }
    }
    // All senders dropped: fold the WAL back so the file is complete on its own.
    if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);") {
        tracing::warn!(error = %err, "audit WAL checkpoint on close failed");
    }
}

fn commit(conn: &mut Connection, batch: &[Pending]) -> rusqlite::Result<Vec<u64>> {
    let tx = conn.transaction()?;
    let mut seqs = Vec::with_capacity(batch.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (event_id, event_time_ms, account_id, event_name, service_name, event_rw, user_name, access_key_id, event_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for pending in batch {
            let i = &pending.index;
            insert.execute(params![
                i.event_id,
                i.event_time_ms,
                i.account_id,
                i.event_name,
                i.service_name,
                i.event_rw,
                i.user_name,
                i.access_key_id,
                pending.event_json,
            ])?;
            seqs.push(u64::try_from(tx.last_insert_rowid()).unwrap_or(0));
        }
    }
    tx.commit()?;
    Ok(seqs)
}

/// Reads events back (newest first) for one account; used by tests and, until the
/// ActionTrail API lands, by operators through `sqlite3`.
pub fn read_events(dir: &Path, limit: usize) -> rusqlite::Result<Vec<serde_json::Value>> {
    let conn = Connection::open(dir.join("audit.db"))?;
    let mut stmt = conn.prepare("SELECT event_json FROM events ORDER BY seq DESC LIMIT ?1")?;
    let rows = stmt.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
        row.get::<_, String>(0)
    })?;
    let mut out = Vec::new();
    for row in rows {
        if let Ok(value) = serde_json::from_str(&row?) {
            out.push(value);
        }
    }
    Ok(out)
}
