//! The lookup indexes and the AccessKey usage aggregate, in their own database file
//! (`<data dir>/audit-index.db`, schema 2) written by their own thread.
//!
//! SQLite allows one writer per database file. Keeping secondary indexes out of
//! `audit.db` leaves the writer's commit (the path every API call waits for) with
//! append-only work. After each commit the writer hands the batch's index columns to the
//! indexer, which gathers several commits (up to [`MAX_PENDING`] events or
//! [`FLUSH_AFTER`], sooner when a reader waits) and writes them in one transaction with
//! its high-water mark (`meta.indexed`).
//!
//! **Posting lists, not rows per event.** An index entry is a *posting row*: one row per
//! (kind, account, key) per indexer flush, holding the `(log index, eventTime)` pairs of
//! every event of the flush with that key, delta-encoded as varints. Strings (accounts,
//! user names, event names, AccessKey ids, services, resource types and names) are
//! interned to integers (`strings`). With a flush of tens of thousands of events this is
//! a few thousand rows instead of seven B-tree inserts per event. Event ids are not
//! indexed one by one: the `ID` kind is keyed by the millisecond inside the UUIDv7 event
//! id, and a look-up compares the few events of that millisecond (the canonical bytes
//! start with the event id).
//!
//! Each posting row carries its own time range (`tmin`, `tmax`) and two monotone bounds
//! that make time-ordered scans stop early although events of one row are only roughly in
//! time order: `tmax_upto`, the largest `eventTime` in this row or any earlier row of the
//! key, and `tmin_after`, the smallest in this row or any later one. Both never decrease
//! along `first` (see [`crate::lookup`]).
//!
//! The index is derived data: on start the indexer catches up from `audit.db` (after a
//! crash, or if the file was deleted), and readers wait for it to reach the log size they
//! saw before they query, so a caller always finds the events committed before its call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use crate::AuditError;
use crate::blocks::EventFields;
use crate::log::{EventRow, Shared, open_reader};

/// File name inside the data directory.
pub const INDEX_FILE: &str = "audit-index.db";
/// Schema version of the index file; another version is dropped and rebuilt.
const INDEX_SCHEMA: i64 = 2;
/// Most events gathered before the indexer writes.
pub const MAX_PENDING: usize = 65_536;
/// Longest the indexer holds events before it writes (unless a reader waits).
pub const FLUSH_AFTER: Duration = Duration::from_millis(250);
/// How often the indexer looks for waiting readers while it gathers.
const POLL: Duration = Duration::from_millis(2);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS strings (id INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS post (
    kind INTEGER NOT NULL, acct INTEGER NOT NULL, key INTEGER NOT NULL, first INTEGER NOT NULL,
    last INTEGER NOT NULL, n INTEGER NOT NULL, tmin INTEGER NOT NULL, tmax INTEGER NOT NULL,
    tmax_upto INTEGER NOT NULL, tmin_after INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (kind, acct, key, first)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS post_upto ON post (kind, acct, key, tmax_upto);
CREATE INDEX IF NOT EXISTS post_after ON post (kind, acct, key, tmin_after);
CREATE TABLE IF NOT EXISTS ak_use (
    acct INTEGER NOT NULL, ak INTEGER NOT NULL, service INTEGER NOT NULL, action INTEGER NOT NULL,
    ip INTEGER NOT NULL, n INTEGER NOT NULL, last_ms INTEGER NOT NULL,
    PRIMARY KEY (acct, ak, service, action, ip)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ak_last (
    acct INTEGER NOT NULL, ak INTEGER NOT NULL, user INTEGER NOT NULL, itype INTEGER NOT NULL,
    service INTEGER NOT NULL, action INTEGER NOT NULL, ip INTEGER NOT NULL, last_ms INTEGER NOT NULL,
    PRIMARY KEY (acct, ak)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ak_res (
    acct INTEGER NOT NULL, ak INTEGER NOT NULL, service INTEGER NOT NULL, rtype INTEGER NOT NULL,
    rname INTEGER NOT NULL, n INTEGER NOT NULL, last_ms INTEGER NOT NULL,
    PRIMARY KEY (acct, ak, service, rtype, rname)) WITHOUT ROWID;
";

/// Index kinds (the `post.kind` column).
pub mod kind {
    /// Every event of an account (key 0).
    pub const TIME: i64 = 0;
    /// `userIdentity.userName`.
    pub const USER: i64 = 1;
    /// `eventName`.
    pub const NAME: i64 = 2;
    /// `userIdentity.accessKeyId`.
    pub const KEY: i64 = 3;
    /// `serviceName`.
    pub const SERVICE: i64 = 4;
    /// `eventRW` (key 0 = Read, 1 = Write).
    pub const RW: i64 = 5;
    /// A resource type of `referencedResources`.
    pub const RTYPE: i64 = 6;
    /// A resource name of `referencedResources`.
    pub const RNAME: i64 = 7;
    /// The millisecond of a UUIDv7 event id (account 0).
    pub const ID: i64 = 8;
}

/// One committed event as the indexer sees it: its log index and its row (the canonical
/// bytes are not read; the writer hands the whole row over so that its memory is freed
/// here rather than on the commit path).
#[derive(Debug)]
pub struct IndexRow {
    idx: u64,
    row: Box<EventRow>,
}

impl IndexRow {
    /// The row of the event at `idx`.
    pub(crate) fn new(idx: u64, row: Box<EventRow>) -> Self {
        Self { idx, row }
    }

    /// The index columns of a stored event (catch-up).
    fn from_stored(idx: u64, bytes: &[u8]) -> Result<Self, AuditError> {
        let f = EventFields::parse(bytes)?;
        let time_s = f.time_s()?;
        let resources = f.resources();
        Ok(Self {
            idx,
            row: Box::new(EventRow {
                event_id: f.event_id,
                time_s,
                account_id: f.user_identity.account_id.unwrap_or_default(),
                user_name: f.user_identity.user_name.unwrap_or_default(),
                event_name: f.event_name,
                service_name: f.service_name,
                event_rw: if f.event_rw == "Write" {
                    "Write"
                } else {
                    "Read"
                },
                access_key_id: f.user_identity.access_key_id.unwrap_or_default(),
                resources,
                source_ip: f.source_ip,
                identity_type: crate::log::identity_type_str(&f.user_identity.kind),
                body: Vec::new(),
                leaf: [0; 32],
            }),
        })
    }
}

/// What the writer sends the indexer.
pub(crate) enum IndexMsg {
    /// Rows of a committed batch, in log order.
    Rows(Vec<IndexRow>),
    /// Drop index entries of events below this index (purged).
    Purge(u64),
}

/// The `ID` key of an event id: the millisecond timestamp of a UUIDv7, or (for any other
/// id) a negative 47-bit FNV-1a hash, which cannot collide with a timestamp.
#[must_use]
pub fn id_key(event_id: &str) -> i64 {
    if let Ok(u) = uuid::Uuid::parse_str(event_id)
        && u.get_version_num() == 7
    {
        let b = u.as_bytes();
        let mut ms = [0u8; 8];
        ms[2..].copy_from_slice(&b[..6]);
        return i64::from_be_bytes(ms);
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in event_id.bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    -1 - i64::try_from(h & 0x7fff_ffff_ffff).unwrap_or(0)
}

// ---- varint posting encoding ------------------------------------------------------

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(data: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *data.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Encodes `(log index, time)` pairs (indexes increasing): index deltas from `first`,
/// time deltas from the previous entry (zigzag).
fn encode_postings(first: u64, entries: &[(u64, i64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 3);
    let (mut prev_i, mut prev_t) = (first, 0i64);
    for (i, (idx, t)) in entries.iter().enumerate() {
        put_varint(&mut out, idx - prev_i);
        let dt = if i == 0 { *t } else { t.wrapping_sub(prev_t) };
        put_varint(&mut out, zigzag(dt));
        prev_i = *idx;
        prev_t = *t;
    }
    out
}

/// Decodes what [`encode_postings`] wrote.
pub(crate) fn decode_postings(first: u64, data: &[u8]) -> Result<Vec<(u64, i64)>, AuditError> {
    let bad = || AuditError::Integrity("a posting row of audit-index.db is malformed".to_owned());
    let mut out = Vec::new();
    let (mut at, mut idx, mut t) = (0usize, first, 0i64);
    while at < data.len() {
        let di = get_varint(data, &mut at).ok_or_else(bad)?;
        let dt = unzigzag(get_varint(data, &mut at).ok_or_else(bad)?);
        idx = idx.checked_add(di).ok_or_else(bad)?;
        t = if out.is_empty() {
            dt
        } else {
            t.wrapping_add(dt)
        };
        out.push((idx, t));
    }
    Ok(out)
}

// ---- the indexer ------------------------------------------------------------------

fn open_index(path: &Path) -> Result<Connection, AuditError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Derived data: rebuilt from audit.db after a crash, so it needs no fsync.
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
    )?;
    let version: Option<i64> = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .filter(|n| *n > 0)
        .and_then(|_| {
            conn.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .ok()
            .flatten()
        });
    if version != Some(INDEX_SCHEMA) {
        // Another layout (or an empty file): drop everything and rebuild from audit.db.
        let tables: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for t in tables {
            conn.execute_batch(&format!("DROP TABLE IF EXISTS \"{t}\";"))?;
        }
        conn.execute_batch(SCHEMA)?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
            [INDEX_SCHEMA],
        )?;
    }
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

type PostKey = (i64, i64, i64);
/// (account, key, service, action or resource type, IP or resource name), all interned.
type UseKey = (i64, i64, i64, i64, i64);

/// A multiply-rotate hasher for the indexer's maps keyed by interned integer ids: these
/// keys are small integers the indexer assigned, not caller-chosen data, so SipHash's
/// flooding resistance buys nothing there (the string-keyed intern map keeps SipHash).
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

/// The indexer's connection and in-memory state: interned strings and, per posting key,
/// the bounds of its last row.
struct Indexer {
    conn: Connection,
    strings: HashMap<String, i64>,
    next_string: i64,
    bounds: IdMap<PostKey, (i64, i64)>,
}

impl Indexer {
    fn new(conn: Connection) -> Result<Self, AuditError> {
        let mut me = Self {
            conn,
            strings: HashMap::new(),
            next_string: 1,
            bounds: IdMap::default(),
        };
        me.load_strings()?;
        Ok(me)
    }

    fn load_strings(&mut self) -> Result<(), AuditError> {
        self.strings.clear();
        self.bounds.clear();
        let mut stmt = self.conn.prepare("SELECT id, s FROM strings")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut max = 0;
        for row in rows {
            let (id, s) = row?;
            max = max.max(id);
            self.strings.insert(s, id);
        }
        self.next_string = max + 1;
        Ok(())
    }

    /// Writes `rows` (log order, contiguous) in one transaction.
    fn write(&mut self, rows: &[IndexRow]) -> Result<(), AuditError> {
        let Some(end) = rows.last().map(|r| r.idx + 1) else {
            return Ok(());
        };
        let result = self.write_inner(rows, end);
        if result.is_err() {
            // Interned ids of the failed transaction are gone: reload.
            let _ = self.load_strings();
        }
        result
    }

    fn write_inner(&mut self, rows: &[IndexRow], end: u64) -> Result<(), AuditError> {
        let tx = self.conn.transaction()?;
        let mut new_strings: Vec<(i64, String)> = Vec::new();
        let strings = &mut self.strings;
        let next = &mut self.next_string;
        let mut intern = |s: &str| -> i64 {
            if let Some(id) = strings.get(s) {
                return *id;
            }
            let id = *next;
            *next += 1;
            strings.insert(s.to_owned(), id);
            new_strings.push((id, s.to_owned()));
            id
        };
        let mut groups: IdMap<PostKey, Vec<(u64, i64)>> = IdMap::default();
        let mut push = |k: PostKey, idx: u64, t: i64| {
            let list = groups.entry(k).or_default();
            // An event with two resources of one type or name is listed once.
            if list.last().is_none_or(|(i, _)| *i != idx) {
                list.push((idx, t));
            }
        };
        // (acct, ak, service, action, ip) and (acct, ak, service, rtype, rname) -> (count, last ms)
        let mut use_agg: IdMap<UseKey, (i64, i64)> = IdMap::default();
        let mut res_agg: IdMap<UseKey, (i64, i64)> = IdMap::default();
        // (acct, ak) -> (user, identity type, service, action, ip, ms) of the latest use
        #[allow(clippy::type_complexity)]
        let mut last_use: IdMap<(i64, i64), (i64, i64, i64, i64, i64, i64)> = IdMap::default();
        for IndexRow { idx, row: r } in rows {
            let (idx, t) = (*idx, r.time_s);
            let a = intern(&r.account_id);
            push((kind::TIME, a, 0), idx, t);
            push((kind::USER, a, intern(&r.user_name)), idx, t);
            push((kind::NAME, a, intern(&r.event_name)), idx, t);
            let ak = intern(&r.access_key_id);
            push((kind::KEY, a, ak), idx, t);
            let service = intern(&r.service_name);
            push((kind::SERVICE, a, service), idx, t);
            push((kind::RW, a, i64::from(r.event_rw == "Write")), idx, t);
            let mut res_ids = Vec::with_capacity(r.resources.len());
            for (rtype, rname) in &r.resources {
                let (ti, ni) = (intern(rtype), intern(rname));
                res_ids.push((ti, ni));
                push((kind::RTYPE, a, ti), idx, t);
                push((kind::RNAME, a, ni), idx, t);
            }
            push((kind::ID, 0, id_key(&r.event_id)), idx, t);
            // AccessKey usage: only calls the key authenticated count as uses.
            if r.identity_type != "anonymous" && !r.access_key_id.is_empty() {
                let ms = t.saturating_mul(1000);
                let action = intern(&r.event_name);
                let ip = intern(&r.source_ip);
                // Rows are in log order: the last one of a key is its latest use (up to
                // the commit skew, which the upsert's time check absorbs).
                let user = intern(&r.user_name);
                let itype = intern(r.identity_type);
                let e = last_use
                    .entry((a, ak))
                    .or_insert((user, itype, service, action, ip, ms));
                if ms >= e.5 {
                    *e = (user, itype, service, action, ip, ms);
                }
                let key = (a, ak, service, action, ip);
                let e = use_agg.entry(key).or_insert((0, ms));
                e.0 += 1;
                e.1 = e.1.max(ms);
                for (ti, ni) in &res_ids {
                    let e = res_agg.entry((a, ak, service, *ti, *ni)).or_insert((0, ms));
                    e.0 += 1;
                    e.1 = e.1.max(ms);
                }
            }
        }
        {
            let mut ins = tx.prepare_cached("INSERT INTO strings (id, s) VALUES (?1, ?2)")?;
            for (id, s) in &new_strings {
                ins.execute(params![id, s])?;
            }
        }
        let mut keys: Vec<PostKey> = groups.keys().copied().collect();
        // Key order: each B-tree page is visited once per flush.
        keys.sort_unstable();
        {
            let mut ins = tx.prepare_cached(
                "INSERT OR REPLACE INTO post (kind, acct, key, first, last, n, tmin, tmax, tmax_upto, tmin_after, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut last_row = tx.prepare_cached(
                "SELECT tmax_upto, tmin_after FROM post WHERE kind = ?1 AND acct = ?2 AND key = ?3 ORDER BY first DESC LIMIT 1",
            )?;
            let mut lower = tx.prepare_cached(
                "UPDATE post SET tmin_after = ?4 WHERE kind = ?1 AND acct = ?2 AND key = ?3 AND tmin_after > ?4",
            )?;
            for k in keys {
                let Some(entries) = groups.get(&k) else {
                    continue;
                };
                let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
                    continue;
                };
                let (first, last) = (first.0, last.0);
                let tmin = entries.iter().map(|e| e.1).min().unwrap_or(0);
                let tmax = entries.iter().map(|e| e.1).max().unwrap_or(0);
                let tmax_upto = if k.0 == kind::ID {
                    // Looked up by key only, never scanned in time order.
                    tmax
                } else {
                    let prev = match self.bounds.get(&k) {
                        Some(b) => Some(*b),
                        None => last_row
                            .query_row(params![k.0, k.1, k.2], |r| Ok((r.get(0)?, r.get(1)?)))
                            .optional()?,
                    };
                    let upto = prev.map_or(tmax, |(u, _)| u.max(tmax));
                    // Earlier rows whose suffix minimum is above this row's minimum
                    // are lowered to it (usually none: time grows with the index).
                    if prev.is_some_and(|(_, after)| after > tmin) {
                        lower.execute(params![k.0, k.1, k.2, tmin])?;
                    }
                    self.bounds.insert(k, (upto, tmin));
                    upto
                };
                ins.execute(params![
                    k.0,
                    k.1,
                    k.2,
                    i64::try_from(first).unwrap_or(i64::MAX),
                    i64::try_from(last).unwrap_or(i64::MAX),
                    entries.len() as i64,
                    tmin,
                    tmax,
                    tmax_upto,
                    tmin,
                    encode_postings(first, entries)
                ])?;
            }
        }
        {
            let mut up = tx.prepare_cached(
                "INSERT INTO ak_use (acct, ak, service, action, ip, n, last_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET n = n + excluded.n, last_ms = MAX(last_ms, excluded.last_ms)",
            )?;
            for ((a, ak, s, act, ip), (n, ms)) in &use_agg {
                up.execute(params![a, ak, s, act, ip, n, ms])?;
            }
            let mut up = tx.prepare_cached(
                "INSERT INTO ak_res (acct, ak, service, rtype, rname, n, last_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET n = n + excluded.n, last_ms = MAX(last_ms, excluded.last_ms)",
            )?;
            for ((a, ak, s, t, nm), (n, ms)) in &res_agg {
                up.execute(params![a, ak, s, t, nm, n, ms])?;
            }
            let mut up = tx.prepare_cached(
                "INSERT INTO ak_last (acct, ak, user, itype, service, action, ip, last_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO UPDATE SET user = excluded.user, itype = excluded.itype, service = excluded.service, action = excluded.action, ip = excluded.ip, last_ms = excluded.last_ms WHERE excluded.last_ms >= ak_last.last_ms",
            )?;
            for ((a, ak), (user, itype, s, act, ip, ms)) in &last_use {
                up.execute(params![a, ak, user, itype, s, act, ip, ms])?;
            }
        }
        set_mark(&tx, end)?;
        tx.commit()?;
        Ok(())
    }

    fn purge(&mut self, end: u64) {
        // Rows partly below `end` stay: their purged entries find no block and are skipped.
        if let Err(err) = self.conn.execute(
            "DELETE FROM post WHERE last < ?1",
            [i64::try_from(end).unwrap_or(i64::MAX)],
        ) {
            tracing::warn!(error = %err, "purging the audit index failed");
        }
    }
}

fn set_mark(conn: &Connection, end: u64) -> Result<(), AuditError> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('indexed', ?1) ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)",
    )?
    .execute([i64::try_from(end).unwrap_or(i64::MAX)])?;
    Ok(())
}

/// Reads index rows of events `[from, to)` back from `audit.db` (catch-up).
fn rows_from_log(main: &Connection, from: u64, to: u64) -> Result<Vec<IndexRow>, AuditError> {
    let mut out = Vec::new();
    crate::blocks::for_each_event(main, from, to, |idx, bytes| {
        out.push(IndexRow::from_stored(idx, bytes)?);
        Ok(())
    })?;
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
    let conn = open_index(&path)?;
    let mut indexed = indexed_mark(&conn)?;
    if indexed > log_size {
        // An index ahead of the log (the log was restored from an older copy): rebuild.
        conn.execute_batch(
            "DELETE FROM post; DELETE FROM ak_use; DELETE FROM ak_res; DELETE FROM ak_last; DELETE FROM meta WHERE key = 'indexed';",
        )?;
        indexed = 0;
    }
    let mut ix = Indexer::new(conn)?;
    shared.indexed.store(indexed, Ordering::Release);
    std::thread::Builder::new()
        .name("audit-indexer".to_owned())
        .spawn(move || {
            if indexed < log_size {
                catch_up(&mut ix, &main_path, &shared, indexed, log_size);
            }
            run(&mut ix, &shared, &rx);
        })
        .map_err(|e| AuditError::Storage(format!("cannot start the audit indexer: {e}")))
}

fn catch_up(ix: &mut Indexer, main_path: &Path, shared: &Shared, indexed: u64, log_size: u64) {
    let started = Instant::now();
    let main = match open_reader(main_path) {
        Ok(m) => m,
        Err(err) => {
            tracing::error!(error = %err, "audit index catch-up failed");
            return;
        }
    };
    let mut from = indexed;
    while from < log_size {
        let to = (from + 50_000).min(log_size);
        let result = rows_from_log(&main, from, to).and_then(|rows| ix.write(&rows));
        if let Err(err) = result {
            tracing::error!(error = %err, "audit index catch-up failed");
            return;
        }
        // Purged ranges hold no rows: the mark still moves on.
        let _ = set_mark(&ix.conn, to);
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

fn run(ix: &mut Indexer, shared: &Shared, rx: &std::sync::mpsc::Receiver<IndexMsg>) {
    let mut pending: Vec<IndexRow> = Vec::new();
    let mut since: Option<Instant> = None;
    let mut purge: Option<u64> = None;
    let mut open = true;
    while open {
        match rx.recv_timeout(POLL) {
            Ok(msg) => {
                let take =
                    |msg: IndexMsg, pending: &mut Vec<IndexRow>, purge: &mut Option<u64>| match msg
                    {
                        IndexMsg::Rows(r) => pending.extend(r),
                        IndexMsg::Purge(end) => *purge = Some(purge.map_or(end, |p| p.max(end))),
                    };
                take(msg, &mut pending, &mut purge);
                while pending.len() < MAX_PENDING {
                    match rx.try_recv() {
                        Ok(msg) => take(msg, &mut pending, &mut purge),
                        Err(_) => break,
                    }
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => open = false,
        }
        if pending.is_empty() {
            since = None;
        } else {
            let started = *since.get_or_insert_with(Instant::now);
            // A reader waiting for events we hold makes us write now.
            let wanted = shared.index_wanted.load(Ordering::Acquire)
                > shared.indexed.load(Ordering::Acquire);
            if !open || wanted || pending.len() >= MAX_PENDING || started.elapsed() >= FLUSH_AFTER {
                let end = pending.last().map(|r| r.idx + 1);
                match ix.write(&pending) {
                    Ok(()) => {
                        if let Some(end) = end {
                            shared.indexed.fetch_max(end, Ordering::AcqRel);
                        }
                    }
                    Err(err) => tracing::error!(
                        error = %err,
                        "audit indexing failed; lookups may miss events until restart"
                    ),
                }
                pending.clear();
                since = None;
            }
        }
        if pending.is_empty()
            && let Some(end) = purge.take()
        {
            ix.purge(end);
        }
    }
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

/// Waits until the indexer has indexed at least `size` events (or `timeout` passed),
/// asking it to write what it holds.
pub(crate) fn wait_for(shared: &Shared, size: u64, timeout: Duration) -> bool {
    if shared.indexed.load(Ordering::Acquire) >= size {
        return true;
    }
    shared.index_wanted.fetch_max(size, Ordering::AcqRel);
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

/// The interned id of `s` in the attached index, if it was ever indexed.
pub(crate) fn string_id(conn: &Connection, s: &str) -> Result<Option<i64>, AuditError> {
    Ok(conn
        .prepare_cached("SELECT id FROM ix.strings WHERE s = ?1")?
        .query_row([s], |r| r.get(0))
        .optional()?)
}

/// Log indexes of events whose id falls in the `ID` key of `event_id` (candidates).
pub(crate) fn id_candidates(conn: &Connection, event_id: &str) -> Result<Vec<u64>, AuditError> {
    let mut stmt = conn.prepare_cached(
        "SELECT first, data FROM ix.post WHERE kind = ?1 AND acct = 0 AND key = ?2 ORDER BY first",
    )?;
    let mut rows = stmt.query(params![kind::ID, id_key(event_id)])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let first = u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0);
        let data = r
            .get_ref(1)?
            .as_blob()
            .map_err(|e| AuditError::Storage(e.to_string()))?;
        out.extend(decode_postings(first, data)?.into_iter().map(|(i, _)| i));
    }
    Ok(out)
}

/// The canonical bytes begin with `{"eventId":<id>` (eventId is the first field).
pub(crate) fn id_prefix(event_id: &str) -> Vec<u8> {
    let mut p = b"{\"eventId\":".to_vec();
    // A JSON string encoding cannot fail for a &str.
    if serde_json::to_writer(&mut p, event_id).is_err() {
        p.clear();
    }
    p
}

/// Finds a stored event by id: its log index and account.
pub(crate) fn find_event(
    conn: &Connection,
    event_id: &str,
) -> Result<Option<(u64, String)>, AuditError> {
    let prefix = id_prefix(event_id);
    let mut blocks = crate::lookup::BlockCache::default();
    for idx in id_candidates(conn, event_id)? {
        let Some(bytes) = blocks.event(conn, idx)? else {
            continue;
        };
        if bytes.starts_with(&prefix) {
            let f = EventFields::parse(bytes)?;
            if f.event_id == event_id {
                return Ok(Some((idx, f.user_identity.account_id.unwrap_or_default())));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_round_trip() {
        let entries = vec![
            (10u64, 1_790_000_000i64),
            (11, 1_789_999_990),
            (400, 1_790_000_500),
        ];
        let data = encode_postings(10, &entries);
        assert_eq!(decode_postings(10, &data).unwrap(), entries);
        assert!(decode_postings(10, &[0x80]).is_err());
    }

    #[test]
    fn id_keys() {
        let u = uuid::Uuid::now_v7();
        let k = id_key(&u.to_string());
        assert!(k > 1_600_000_000_000);
        assert!(id_key("not-a-uuid") < 0);
        assert_eq!(id_key("x"), id_key("x"));
    }
}
