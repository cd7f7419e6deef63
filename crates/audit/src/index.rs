//! The lookup indexes, in their own database file (`<data dir>/audit-index.db`) written by
//! their own thread.
//!
//! SQLite allows one writer per database file. Keeping secondary indexes out of
//! `audit.db` leaves the writer's commit (the path every API call waits for) with
//! append-only work: the event row, its leaf, completed subtrees and the frontier. After
//! each commit the writer hands the batch's index columns to the indexer, which inserts
//! them (sorted, in one transaction per hand-off) and records how far it got
//! (`meta.indexed`, in the same transaction).
//!
//! The index is derived data: on start the indexer catches up from `audit.db` (after a
//! crash, or if the file was deleted), and readers wait for it to reach the log size they
//! saw before they query, so a caller always finds the events committed before its call.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use crate::AuditError;
use crate::log::{EventRow, Shared, open_reader};

/// File name inside the data directory.
pub const INDEX_FILE: &str = "audit-index.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix_time (account_id TEXT NOT NULL, time_s INTEGER NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (account_id, time_s, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix_user (account_id TEXT NOT NULL, user_name TEXT NOT NULL, time_s INTEGER NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_name, time_s, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix_name (account_id TEXT NOT NULL, event_name TEXT NOT NULL, time_s INTEGER NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (account_id, event_name, time_s, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix_key (account_id TEXT NOT NULL, access_key_id TEXT NOT NULL, time_s INTEGER NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (account_id, access_key_id, time_s, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix_id (event_id TEXT NOT NULL PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix_res_type (account_id TEXT NOT NULL, rtype TEXT NOT NULL, rname TEXT NOT NULL, time_s INTEGER NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (account_id, rtype, rname, time_s, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ix_res_name (account_id TEXT NOT NULL, rname TEXT NOT NULL, time_s INTEGER NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (account_id, rname, time_s, idx)) WITHOUT ROWID;
";

const TABLES: &[&str] = &[
    "ix_time",
    "ix_user",
    "ix_name",
    "ix_key",
    "ix_id",
    "ix_res_type",
    "ix_res_name",
];

/// Index columns of one event.
#[derive(Debug, Clone)]
pub struct IndexRow {
    idx: i64,
    time_s: i64,
    account_id: String,
    user_name: String,
    event_name: String,
    access_key_id: String,
    event_id: String,
    resources: Vec<(String, String)>,
}

impl IndexRow {
    /// Takes the index columns out of a committed row.
    pub(crate) fn take(row: &mut EventRow, idx: u64) -> Self {
        Self {
            idx: i64::try_from(idx).unwrap_or(i64::MAX),
            time_s: row.time_s,
            account_id: std::mem::take(&mut row.account_id),
            user_name: std::mem::take(&mut row.user_name),
            event_name: std::mem::take(&mut row.event_name),
            access_key_id: std::mem::take(&mut row.access_key_id),
            event_id: std::mem::take(&mut row.event_id),
            resources: std::mem::take(&mut row.resources),
        }
    }
}

/// What the writer sends the indexer.
pub(crate) enum IndexMsg {
    /// Rows of a committed batch, in log order.
    Rows(Vec<IndexRow>),
    /// Drop index entries of events below this index (purged).
    Purge(i64),
}

fn open_index(path: &Path) -> Result<Connection, AuditError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Derived data: rebuilt from audit.db after a crash, so it needs no fsync.
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-131072;",
    )?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

fn indexed_mark(conn: &Connection) -> Result<u64, AuditError> {
    let v: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = 'indexed'", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(v.map_or(0, |v| u64::try_from(v).unwrap_or(0)))
}

fn insert(conn: &mut Connection, rows: &mut [IndexRow]) -> Result<(), AuditError> {
    let Some(end) = rows.iter().map(|r| r.idx + 1).max() else {
        return Ok(());
    };
    let tx = conn.transaction()?;
    {
        let mut t = tx.prepare_cached("INSERT OR IGNORE INTO ix_time VALUES (?1, ?2, ?3)")?;
        let mut u = tx.prepare_cached("INSERT OR IGNORE INTO ix_user VALUES (?1, ?2, ?3, ?4)")?;
        let mut n = tx.prepare_cached("INSERT OR IGNORE INTO ix_name VALUES (?1, ?2, ?3, ?4)")?;
        let mut k = tx.prepare_cached("INSERT OR IGNORE INTO ix_key VALUES (?1, ?2, ?3, ?4)")?;
        let mut i = tx.prepare_cached("INSERT OR IGNORE INTO ix_id VALUES (?1, ?2)")?;
        let mut rt =
            tx.prepare_cached("INSERT OR IGNORE INTO ix_res_type VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let mut rn =
            tx.prepare_cached("INSERT OR IGNORE INTO ix_res_name VALUES (?1, ?2, ?3, ?4)")?;
        // Insert in key order per index: each B-tree page is then visited once per batch.
        rows.sort_unstable_by(|a, b| {
            (&a.account_id, &a.user_name).cmp(&(&b.account_id, &b.user_name))
        });
        for r in rows.iter() {
            u.execute(params![r.account_id, r.user_name, r.time_s, r.idx])?;
        }
        rows.sort_unstable_by(|a, b| {
            (&a.account_id, &a.event_name).cmp(&(&b.account_id, &b.event_name))
        });
        for r in rows.iter() {
            n.execute(params![r.account_id, r.event_name, r.time_s, r.idx])?;
        }
        rows.sort_unstable_by(|a, b| {
            (&a.account_id, &a.access_key_id).cmp(&(&b.account_id, &b.access_key_id))
        });
        for r in rows.iter() {
            k.execute(params![r.account_id, r.access_key_id, r.time_s, r.idx])?;
        }
        rows.sort_unstable_by(|a, b| {
            (&a.account_id, a.time_s, a.idx).cmp(&(&b.account_id, b.time_s, b.idx))
        });
        for r in rows.iter() {
            t.execute(params![r.account_id, r.time_s, r.idx])?;
            for (rtype, rname) in &r.resources {
                rt.execute(params![r.account_id, rtype, rname, r.time_s, r.idx])?;
                rn.execute(params![r.account_id, rname, r.time_s, r.idx])?;
            }
        }
        rows.sort_unstable_by(|a, b| a.event_id.cmp(&b.event_id));
        for r in rows.iter() {
            i.execute(params![r.event_id, r.idx])?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('indexed', ?1) ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)",
            [end],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Reads index rows of events `[from, to)` back from `audit.db` (catch-up).
fn rows_from_log(main: &Connection, from: u64, to: u64) -> Result<Vec<IndexRow>, AuditError> {
    let mut stmt = main.prepare_cached(
        "SELECT idx, time_s, account_id, user_name, event_name, access_key_id, event_id, body FROM events WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    )?;
    let mut rows = stmt.query(params![
        i64::try_from(from).unwrap_or(i64::MAX),
        i64::try_from(to).unwrap_or(i64::MAX)
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let body: Vec<u8> = r.get(7)?;
        let resources = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("referencedResources").cloned())
            .and_then(|v| {
                serde_json::from_value::<std::collections::BTreeMap<String, Vec<String>>>(v).ok()
            })
            .map(|m| {
                m.into_iter()
                    .flat_map(|(k, names)| names.into_iter().map(move |n| (k.clone(), n)))
                    .collect()
            })
            .unwrap_or_default();
        out.push(IndexRow {
            idx: r.get(0)?,
            time_s: r.get(1)?,
            account_id: r.get(2)?,
            user_name: r.get(3)?,
            event_name: r.get(4)?,
            access_key_id: r.get(5)?,
            event_id: r.get(6)?,
            resources,
        });
    }
    Ok(out)
}

/// Starts the indexer: catches up from `audit.db` to `log_size`, then indexes what the
/// writer hands over until the writer's sender is dropped.
pub(crate) fn spawn(
    data_dir: &Path,
    main_path: PathBuf,
    log_size: u64,
    shared: Arc<Shared>,
    rx: std::sync::mpsc::Receiver<IndexMsg>,
) -> Result<JoinHandle<()>, AuditError> {
    let path = data_dir.join(INDEX_FILE);
    let mut conn = open_index(&path)?;
    let mut indexed = indexed_mark(&conn)?;
    if indexed > log_size {
        // An index ahead of the log (the log was restored from an older copy): rebuild.
        for t in TABLES {
            conn.execute(&format!("DELETE FROM {t}"), [])?;
        }
        conn.execute("DELETE FROM meta", [])?;
        indexed = 0;
    }
    shared.indexed.store(indexed, Ordering::Release);
    std::thread::Builder::new()
        .name("audit-indexer".to_owned())
        .spawn(move || {
            if indexed < log_size {
                let started = Instant::now();
                match open_reader(&main_path) {
                    Ok(main) => {
                        let mut from = indexed;
                        while from < log_size {
                            let to = (from + 50_000).min(log_size);
                            let result = rows_from_log(&main, from, to)
                                .and_then(|mut rows| insert(&mut conn, &mut rows));
                            if let Err(err) = result {
                                tracing::error!(error = %err, "audit index catch-up failed");
                                break;
                            }
                            // Purged ranges hold no rows: the mark still moves on.
                            let _ = conn.execute(
                                "INSERT INTO meta (key, value) VALUES ('indexed', ?1) ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)",
                                [i64::try_from(to).unwrap_or(i64::MAX)],
                            );
                            shared.indexed.store(to, Ordering::Release);
                            from = to;
                        }
                        tracing::info!(
                            from = indexed,
                            to = log_size,
                            seconds = started.elapsed().as_secs_f64(),
                            "audit index caught up"
                        );
                    }
                    Err(err) => tracing::error!(error = %err, "audit index catch-up failed"),
                }
            }
            while let Ok(first) = rx.recv() {
                let mut rows = Vec::new();
                let mut purge = None;
                let mut take = |msg: IndexMsg, rows: &mut Vec<IndexRow>| match msg {
                    IndexMsg::Rows(r) => rows.extend(r),
                    IndexMsg::Purge(end) => purge = Some(end),
                };
                take(first, &mut rows);
                while rows.len() < 200_000 {
                    match rx.try_recv() {
                        Ok(msg) => take(msg, &mut rows),
                        Err(_) => break,
                    }
                }
                let end = rows.iter().map(|r| r.idx + 1).max();
                if let Err(err) = insert(&mut conn, &mut rows) {
                    tracing::error!(error = %err, "audit indexing failed; lookups may miss events until restart");
                } else if let Some(end) = end {
                    shared
                        .indexed
                        .fetch_max(u64::try_from(end).unwrap_or(0), Ordering::AcqRel);
                }
                if let Some(end) = purge {
                    for t in TABLES {
                        if let Err(err) = conn.execute(&format!("DELETE FROM {t} WHERE idx < ?1"), [end]) {
                            tracing::warn!(error = %err, table = t, "purging the audit index failed");
                        }
                    }
                }
            }
        })
        .map_err(|e| AuditError::Storage(format!("cannot start the audit indexer: {e}")))
}

/// Attaches the index database to a reader connection as `ix` (if it exists).
pub fn attach(conn: &Connection, data_dir: &Path) -> Result<bool, AuditError> {
    let path = data_dir.join(INDEX_FILE);
    if !path.exists() {
        return Ok(false);
    }
    conn.execute(
        "ATTACH DATABASE ?1 AS ix",
        [path.to_string_lossy().as_ref()],
    )?;
    Ok(true)
}

/// Waits until the indexer has indexed at least `size` events (or `timeout` passed).
pub(crate) fn wait_for(shared: &Shared, size: u64, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if shared.indexed.load(Ordering::Acquire) >= size {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
