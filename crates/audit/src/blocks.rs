//! Event blocks and leaf chunks: how `audit.db` stores events (schema 2).
//!
//! One SQLite row per event costs a B-tree insert per event per table, which caps a
//! commit at roughly 100k rows/s on a small machine before any index. Events are
//! therefore stored in **blocks**: one `blocks` row holds up to [`BLOCK_EVENTS`]
//! consecutive events (at most [`BLOCK_BYTES`] of canonical bytes, unless a single event
//! is larger), keyed by the log index of its first event, with the concatenated
//! canonical bytes in `body` and the end offset of every event in `ends` (little-endian
//! `u32`s). The leaf hashes of the same events go into one `leaf_chunks` row with the
//! same key (32 bytes per leaf). A block never spans two group commits, so a crash
//! leaves whole blocks or none.
//!
//! Blocks are kept small (tens of KiB) because a lookup reads a whole block to return
//! one of its events.

use std::cell::RefCell;
use std::collections::BTreeMap;

use cloudward_trail::Hash;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use crate::AuditError;

/// Most events in one block.
pub const BLOCK_EVENTS: usize = 32;
/// Canonical bytes after which a block is closed.
pub const BLOCK_BYTES: usize = 32 * 1024;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// One stored block: its first log index, the end offsets and the bytes.
#[derive(Debug, Clone)]
pub struct Block {
    /// Log index of the first event.
    pub first: u64,
    ends: Vec<u8>,
    body: Vec<u8>,
}

impl Block {
    /// Events in the block.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len() / 4
    }

    /// Whether the block holds no event (never stored so).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn end(&self, i: usize) -> Option<usize> {
        let at = i.checked_mul(4)?;
        let b = self.ends.get(at..at + 4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        usize::try_from(u32::from_le_bytes(a)).ok()
    }

    /// Canonical bytes of the `i`-th event of the block.
    #[must_use]
    pub fn event(&self, i: usize) -> Option<&[u8]> {
        let start = if i == 0 { 0 } else { self.end(i - 1)? };
        let end = self.end(i)?;
        self.body.get(start..end)
    }

    /// Canonical bytes of the event at log index `idx`, if this block holds it.
    #[must_use]
    pub fn get(&self, idx: u64) -> Option<&[u8]> {
        let i = usize::try_from(idx.checked_sub(self.first)?).ok()?;
        self.event(i)
    }

    /// `(log index, canonical bytes)` of every event, in order.
    pub fn events(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        (0..self.len()).filter_map(|i| self.event(i).map(|b| (self.first + i as u64, b)))
    }

    fn check(&self) -> Result<(), AuditError> {
        if !self.ends.len().is_multiple_of(4)
            || (0..self.len()).any(|i| self.event(i).is_none())
            || self.end(self.len().saturating_sub(1)) != Some(self.body.len())
        {
            return Err(AuditError::Integrity(format!(
                "stored block at index {} is malformed",
                self.first
            )));
        }
        Ok(())
    }
}

/// Builds the rows of one commit: blocks of events and the matching leaf chunks.
#[derive(Debug, Default)]
pub(crate) struct BlockBuilder {
    first: u64,
    n: usize,
    tmin: i64,
    tmax: i64,
    ends: Vec<u8>,
    body: Vec<u8>,
    leaves: Vec<u8>,
}

impl BlockBuilder {
    /// Adds one event (index `idx`, which must follow the previous one).
    pub(crate) fn push(&mut self, idx: u64, time_s: i64, bytes: &[u8], leaf: &Hash) {
        if self.n == 0 {
            self.first = idx;
            self.tmin = time_s;
            self.tmax = time_s;
        }
        self.n += 1;
        self.tmin = self.tmin.min(time_s);
        self.tmax = self.tmax.max(time_s);
        self.body.extend_from_slice(bytes);
        let end = u32::try_from(self.body.len()).unwrap_or(u32::MAX);
        self.ends.extend_from_slice(&end.to_le_bytes());
        self.leaves.extend_from_slice(leaf);
    }

    /// Whether the block should be written before the next event is added.
    pub(crate) fn full(&self) -> bool {
        self.n >= BLOCK_EVENTS || self.body.len() >= BLOCK_BYTES
    }

    /// Writes the block (if any) and starts a new one.
    pub(crate) fn flush(&mut self, tx: &Connection) -> Result<(), AuditError> {
        if self.n == 0 {
            return Ok(());
        }
        tx.prepare_cached(
            "INSERT INTO blocks (first, n, tmin, tmax, ends, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            to_i64(self.first),
            self.n as i64,
            self.tmin,
            self.tmax,
            self.ends,
            self.body
        ])?;
        tx.prepare_cached("INSERT INTO leaf_chunks (first, hashes) VALUES (?1, ?2)")?
            .execute(params![to_i64(self.first), self.leaves])?;
        self.n = 0;
        self.ends.clear();
        self.body.clear();
        self.leaves.clear();
        Ok(())
    }
}

/// The block holding log index `idx`, if it is stored (not purged, not beyond the log).
pub fn block_at(conn: &Connection, idx: u64) -> Result<Option<Block>, AuditError> {
    let row: Option<(i64, Vec<u8>, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT first, ends, body FROM blocks WHERE first <= ?1 ORDER BY first DESC LIMIT 1",
        )?
        .query_row([to_i64(idx)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((first, ends, body)) = row else {
        return Ok(None);
    };
    let block = Block {
        first: to_u64(first),
        ends,
        body,
    };
    block.check()?;
    Ok((idx < block.first + block.len() as u64).then_some(block))
}

/// Canonical bytes of the event at `idx`, if stored.
pub fn event_at(conn: &Connection, idx: u64) -> Result<Option<Vec<u8>>, AuditError> {
    Ok(block_at(conn, idx)?.and_then(|b| b.get(idx).map(<[u8]>::to_vec)))
}

/// Calls `f(index, bytes)` for every stored event with index in `[from, to)`, in order.
/// Purged ranges are skipped.
pub fn for_each_event(
    conn: &Connection,
    from: u64,
    to: u64,
    mut f: impl FnMut(u64, &[u8]) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    if from >= to {
        return Ok(());
    }
    // Start at the block holding `from` (its key may be lower).
    let start: Option<i64> = conn
        .prepare_cached("SELECT MAX(first) FROM blocks WHERE first <= ?1")?
        .query_row([to_i64(from)], |r| r.get(0))?;
    let start = start.unwrap_or(to_i64(from));
    let mut stmt = conn.prepare_cached(
        "SELECT first, ends, body FROM blocks WHERE first >= ?1 AND first < ?2 ORDER BY first",
    )?;
    let mut rows = stmt.query(params![start, to_i64(to)])?;
    while let Some(r) = rows.next()? {
        let block = Block {
            first: to_u64(r.get(0)?),
            ends: r.get(1)?,
            body: r.get(2)?,
        };
        block.check()?;
        for (idx, bytes) in block.events() {
            if idx >= from && idx < to {
                f(idx, bytes)?;
            }
        }
    }
    Ok(())
}

/// Every stored event with index in `[from, to)`: `(index, canonical bytes)`, in order.
/// (A convenience for tests and tools; the server streams with [`for_each_event`].)
pub fn read_events(
    conn: &Connection,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, Vec<u8>)>, AuditError> {
    let mut out = Vec::new();
    for_each_event(conn, from, to, |i, b| {
        out.push((i, b.to_vec()));
        Ok(())
    })?;
    Ok(out)
}

/// Number of queryable (not purged) events and the lowest stored index.
pub fn stored_events(conn: &Connection) -> Result<(u64, Option<u64>), AuditError> {
    let (n, first): (i64, Option<i64>) = conn.query_row(
        "SELECT COALESCE(SUM(n), 0), MIN(first) FROM blocks",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((to_u64(n), first.map(to_u64)))
}

/// Number of stored leaf hashes (the end of the last chunk).
pub fn stored_leaves(conn: &Connection) -> Result<u64, AuditError> {
    let end: Option<i64> = conn
        .query_row(
            "SELECT first + length(hashes) / 32 FROM leaf_chunks ORDER BY first DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(end.map_or(0, to_u64))
}

/// Reads leaf hashes chunk by chunk, keeping the last chunk read (proofs read
/// neighbouring leaves).
#[derive(Debug, Default)]
pub(crate) struct LeafCache {
    chunk: RefCell<Option<(u64, Vec<u8>)>>,
}

impl LeafCache {
    pub(crate) fn leaf(&self, conn: &Connection, index: u64) -> Result<Hash, rusqlite::Error> {
        let hit = |first: u64, hashes: &[u8]| -> Option<Hash> {
            let i = usize::try_from(index.checked_sub(first)?).ok()?;
            let b = hashes.get(i.checked_mul(32)?..i.checked_mul(32)? + 32)?;
            <[u8; 32]>::try_from(b).ok()
        };
        if let Some((first, hashes)) = self.chunk.borrow().as_ref()
            && let Some(h) = hit(*first, hashes)
        {
            return Ok(h);
        }
        let (first, hashes): (i64, Vec<u8>) = conn
            .prepare_cached(
                "SELECT first, hashes FROM leaf_chunks WHERE first <= ?1 ORDER BY first DESC LIMIT 1",
            )?
            .query_row([to_i64(index)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let first = to_u64(first);
        let h = hit(first, &hashes).ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        *self.chunk.borrow_mut() = Some((first, hashes));
        Ok(h)
    }
}

/// The fields of a stored event that filters, scoping and the indexer need, parsed
/// without building the whole event (unknown fields are skipped).
#[derive(Debug, Deserialize)]
pub struct EventFields {
    /// `eventId`.
    #[serde(rename = "eventId")]
    pub event_id: String,
    /// `eventName`.
    #[serde(rename = "eventName")]
    pub event_name: String,
    /// `eventRW`.
    #[serde(rename = "eventRW")]
    pub event_rw: String,
    /// `eventTime` (text).
    #[serde(rename = "eventTime")]
    pub event_time: String,
    /// `serviceName`.
    #[serde(rename = "serviceName")]
    pub service_name: String,
    /// `sourceIpAddress`.
    #[serde(rename = "sourceIpAddress", default)]
    pub source_ip: String,
    /// `userIdentity`.
    #[serde(rename = "userIdentity")]
    pub user_identity: IdentityFields,
    /// `referencedResources`.
    #[serde(rename = "referencedResources", default)]
    pub referenced_resources: Option<BTreeMap<String, Vec<String>>>,
}

/// The parts of `userIdentity` that [`EventFields`] keeps.
#[derive(Debug, Deserialize)]
pub struct IdentityFields {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `accountId`.
    #[serde(rename = "accountId", default)]
    pub account_id: Option<String>,
    /// `userName`.
    #[serde(rename = "userName", default)]
    pub user_name: Option<String>,
    /// `accessKeyId`.
    #[serde(rename = "accessKeyId", default)]
    pub access_key_id: Option<String>,
}

impl EventFields {
    /// Parses the fields out of canonical bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, AuditError> {
        serde_json::from_slice(bytes)
            .map_err(|e| AuditError::Integrity(format!("stored event does not parse: {e}")))
    }

    /// `eventTime` as unix seconds.
    pub fn time_s(&self) -> Result<i64, AuditError> {
        cloudward_protocol::parse_timestamp(&self.event_time)
            .map(|t| t.unix_timestamp())
            .map_err(|_| AuditError::Integrity("stored eventTime does not parse".to_owned()))
    }

    /// `(type, name)` pairs of `referencedResources`.
    #[must_use]
    pub fn resources(&self) -> Vec<(String, String)> {
        self.referenced_resources
            .iter()
            .flatten()
            .flat_map(|(k, names)| names.iter().map(move |n| (k.clone(), n.clone())))
            .collect()
    }
}
