//! The durable audit log: `<data dir>/audit.db` (SQLite, WAL) written by one thread with
//! group commit.
//!
//! **Invariant (one durable audit event per call):** [`AuditLog::record`] returns only
//! after the transaction holding the event committed. In that same transaction go the
//! event's block, its Merkle leaf hash, the perfect-subtree hashes it completed and the
//! persisted frontier, so after a crash either all of an event is there or none of it,
//! and the log's tree always matches its rows.
//!
//! Tables (schema 2): `blocks` (events, several per row, see [`crate::blocks`]; purged
//! after the retention period; their lookup indexes live in `audit-index.db`, see
//! [`crate::index`]), `leaf_chunks` (every leaf hash, one row per block, never purged),
//! `subtrees` (hashes of perfect subtrees of height ≥ [`MIN_CACHED_LEVEL`], the proof
//! cache), `checkpoints` (signed notes), `meta` (schema, origin, frontier), `trails`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cloudward_service::Clock;
use cloudward_trail::checkpoint::verify_checkpoint_consistency;
use cloudward_trail::merkle::{self, EMPTY_ROOT, node_hash};
use cloudward_trail::{
    ActionTrailEvent, Checkpoint, Frontier, Hash, Keyring, LeafHashes, SignedCheckpoint,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use crate::AuditError;
use crate::index::{IndexMsg, IndexRow};
use crate::keys::KeyStore;

/// Subtrees of at least this height (2^4 = 16 leaves) are cached: about n/8 rows, and a
/// proof then reads at most ~15 leaf hashes per level below it.
pub const MIN_CACHED_LEVEL: u32 = 4;
/// Most messages handled in one transaction.
const MAX_BATCH: usize = 8192;
/// How long the writer waits for more callers once a batch has started to form.
const GATHER: Duration = Duration::from_micros(150);
/// Schema version stored in `meta` (2: events in blocks, leaf hashes in chunks).
const SCHEMA_VERSION: &str = "2";
/// File name inside the data directory.
pub const DB_FILE: &str = "audit.db";

/// How hard each group commit pushes to disk before callers are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync every commit (survives power loss).
    Fsync,
    /// Hand to the OS (survives a process crash, not power loss).
    Os,
}

/// Settings of the audit log.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Data directory (holds `audit.db` and `audit-keys/`).
    pub data_dir: PathBuf,
    /// Commit durability.
    pub durability: Durability,
    /// How long events stay queryable (default 90 days).
    pub retention: Duration,
    /// How often a checkpoint is signed when the log grew (default 60 s).
    pub checkpoint_interval: Duration,
    /// Log origin for new logs (default `cloudward/audit/<random>`); an existing log
    /// keeps the origin it was created with.
    pub origin: Option<String>,
    /// Where trails deliver (local "buckets"); default `<data dir>/trail-delivery`.
    pub delivery_root: PathBuf,
    /// How often trails deliver (default 60 s).
    pub delivery_interval: Duration,
    /// Region name used in delivery paths.
    pub region: String,
    /// Run the background maintenance thread (checkpoints, delivery, retention).
    pub maintenance: bool,
}

impl AuditOptions {
    /// Defaults for a data directory.
    #[must_use]
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
            durability: Durability::Fsync,
            retention: Duration::from_secs(90 * 86_400),
            checkpoint_interval: Duration::from_secs(60),
            origin: None,
            delivery_root: data_dir.join("trail-delivery"),
            delivery_interval: Duration::from_secs(60),
            region: "cn-hangzhou".to_owned(),
            maintenance: true,
        }
    }

    /// Defaults, overridden by `CLOUDWARD_AUDIT_RETENTION_DAYS`,
    /// `CLOUDWARD_AUDIT_CHECKPOINT_SECS`, `CLOUDWARD_TRAIL_DELIVERY_SECS` and
    /// `CLOUDWARD_TRAIL_DELIVERY_DIR`. A malformed value is an error, not a fallback.
    pub fn from_env(data_dir: &Path) -> Result<Self, AuditError> {
        let mut options = Self::new(data_dir);
        let number = |name: &str, min: u64, max: u64| -> Result<Option<u64>, AuditError> {
            match std::env::var(name) {
                Err(_) => Ok(None),
                Ok(text) => match text.trim().parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                    _ => Err(AuditError::Invalid(format!(
                        "{name} must be a whole number from {min} to {max}, got {text:?}"
                    ))),
                },
            }
        };
        if let Some(days) = number("CLOUDWARD_AUDIT_RETENTION_DAYS", 1, 36_500)? {
            options.retention = Duration::from_secs(days * 86_400);
        }
        if let Some(s) = number("CLOUDWARD_AUDIT_CHECKPOINT_SECS", 1, 86_400)? {
            options.checkpoint_interval = Duration::from_secs(s);
        }
        if let Some(s) = number("CLOUDWARD_TRAIL_DELIVERY_SECS", 1, 86_400)? {
            options.delivery_interval = Duration::from_secs(s);
        }
        if let Ok(dir) = std::env::var("CLOUDWARD_TRAIL_DELIVERY_DIR")
            && !dir.is_empty()
        {
            options.delivery_root = PathBuf::from(dir);
        }
        Ok(options)
    }
}

/// One event ready for storage: canonical bytes, leaf hash and index columns.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// `eventId`.
    pub event_id: String,
    /// `eventTime`, unix seconds.
    pub time_s: i64,
    /// Owning account (`userIdentity.accountId`, or empty).
    pub account_id: String,
    /// `userIdentity.userName` (or empty).
    pub user_name: String,
    /// `eventName`.
    pub event_name: String,
    /// `serviceName`.
    pub service_name: String,
    /// `Read` / `Write`.
    pub event_rw: &'static str,
    /// `userIdentity.accessKeyId` (or empty).
    pub access_key_id: String,
    /// `(resource type, resource name)` from `referencedResources`.
    pub resources: Vec<(String, String)>,
    /// `sourceIpAddress` (for the AccessKey usage aggregate).
    pub source_ip: String,
    /// `userIdentity.type` (`anonymous` when the caller did not authenticate: only
    /// authenticated calls count as uses of their AccessKey).
    pub identity_type: &'static str,
    /// Canonical bytes (the leaf data).
    pub body: Vec<u8>,
    /// Leaf hash of `body`.
    pub leaf: Hash,
}

impl EventRow {
    /// Redacts `event` (with `extra_secrets` besides the registry), serializes it
    /// canonically and hashes it. Runs on the caller's thread, so concurrent callers
    /// share the CPU work and the writer only stores.
    pub fn from_event(event: ActionTrailEvent, extra_secrets: &[&str]) -> Result<Self, AuditError> {
        let redacted = event.redact_with(extra_secrets)?;
        let body = redacted.canonical_bytes()?;
        let leaf = merkle::leaf_hash(&body);
        // The event is not needed after serialization: move its strings into the row
        // instead of cloning them (this runs once per API call).
        let e = redacted.into_inner();
        let resources = e
            .referenced_resources
            .into_iter()
            .flatten()
            .flat_map(|(kind, names)| names.into_iter().map(move |n| (kind.clone(), n)))
            .collect();
        Ok(Self {
            event_id: e.event_id,
            time_s: e.event_time.unix(),
            account_id: e.user_identity.account_id.unwrap_or_default(),
            user_name: e.user_identity.user_name.unwrap_or_default(),
            event_name: e.event_name,
            service_name: e.service_name,
            event_rw: match e.event_rw {
                cloudward_trail::event::EventRw::Read => "Read",
                cloudward_trail::event::EventRw::Write => "Write",
            },
            access_key_id: e.user_identity.access_key_id.unwrap_or_default(),
            resources,
            source_ip: e.source_ip_address,
            identity_type: identity_type(e.user_identity.kind),
            body,
            leaf,
        })
    }
}

/// The `userIdentity.type` string of an identity kind (as the event JSON writes it).
#[must_use]
pub fn identity_type(kind: cloudward_trail::event::IdentityType) -> &'static str {
    use cloudward_trail::event::IdentityType as T;
    match kind {
        T::RootAccount => "root-account",
        T::RamUser => "ram-user",
        T::AssumedRole => "assumed-role",
        T::System => "system",
        T::CloudSsoUser => "cloudsso-user",
        T::SamlUser => "saml-user",
        T::OidcUser => "oidc-user",
        T::AlibabaCloudAccount => "alibaba-cloud-account",
        T::Anonymous => "anonymous",
    }
}

/// [`identity_type`] of a stored `userIdentity.type` string.
#[must_use]
pub fn identity_type_str(text: &str) -> &'static str {
    [
        "root-account",
        "ram-user",
        "assumed-role",
        "system",
        "cloudsso-user",
        "saml-user",
        "oidc-user",
        "alibaba-cloud-account",
        "anonymous",
    ]
    .into_iter()
    .find(|k| *k == text)
    .unwrap_or("unknown")
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

enum Msg {
    Append {
        row: Box<EventRow>,
        ack: oneshot::Sender<Result<u64, AuditError>>,
    },
    Checkpoint {
        ack: oneshot::Sender<Result<SignedCheckpoint, AuditError>>,
    },
    Run(Job),
    /// Forward to the indexer: drop index entries below this log index.
    IndexPurge(u64),
    Stop,
}

pub(crate) struct Shared {
    pub(crate) keys: Mutex<KeyStore>,
    pub(crate) origin: String,
    pub(crate) clock: Arc<dyn Clock>,
    readers: Mutex<Vec<Connection>>,
    pub(crate) path: PathBuf,
    pub(crate) options: AuditOptions,
    /// Tree size after the last commit.
    pub(crate) committed: AtomicU64,
    /// Unix seconds of the last checkpoint.
    pub(crate) last_checkpoint_ts: AtomicU64,
    pub(crate) store: Option<cloudward_store::Store>,
    pub(crate) runtime: Option<tokio::runtime::Handle>,
    /// Events the indexer has indexed (see [`crate::index`]).
    pub(crate) indexed: AtomicU64,
    /// The largest log size a reader is waiting for the indexer to reach (it then writes
    /// what it holds instead of gathering more).
    pub(crate) index_wanted: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("path", &self.path)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Handle to the audit log; cheap to clone. Put one in `ServiceState.extensions`.
#[derive(Clone, Debug)]
pub struct AuditLog {
    tx: mpsc::Sender<Msg>,
    pub(crate) shared: Arc<Shared>,
}

/// Owns the writer and maintenance threads; [`AuditWriter::join`] flushes and stops them.
#[derive(Debug)]
pub struct AuditWriter {
    tx: mpsc::Sender<Msg>,
    writer: Option<JoinHandle<()>>,
    maintenance: Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)>,
    checkpointer: Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)>,
    indexer: Option<JoinHandle<()>>,
}

impl AuditWriter {
    /// Stops maintenance, lets the writer drain everything queued before this call,
    /// folds the WAL back into the database and waits for both threads.
    pub fn join(mut self) {
        if let Some((stop, thread)) = self.maintenance.take() {
            let _ = stop.send(());
            if thread.join().is_err() {
                tracing::error!("audit maintenance thread panicked");
            }
        }
        if let Some((stop, thread)) = self.checkpointer.take() {
            let _ = stop.send(());
            if thread.join().is_err() {
                tracing::error!("audit checkpointer thread panicked");
            }
        }
        let _ = self.tx.blocking_send(Msg::Stop);
        if let Some(thread) = self.writer.take()
            && thread.join().is_err()
        {
            tracing::error!("audit writer thread panicked");
        }
        // The writer dropped its sender: the indexer finishes what it was handed.
        if let Some(thread) = self.indexer.take()
            && thread.join().is_err()
        {
            tracing::error!("audit indexer thread panicked");
        }
    }
}

fn options_durability(shared: &Shared) -> Durability {
    shared.options.durability
}

/// Longest a reader waits for the indexer to catch up.
const INDEX_WAIT: Duration = Duration::from_secs(5);

/// WAL size past which the checkpointer forces a RESTART checkpoint.
const WAL_RESTART_BYTES: u64 = 64 * 1024 * 1024;

/// How often the checkpointer folds the WAL back into the database.
const WAL_CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// A thread that runs passive WAL checkpoints on its own connection, so the writer's
/// commits only ever append to the WAL.
fn spawn_checkpointer(
    path: &Path,
    durability: Durability,
) -> Result<(std::sync::mpsc::Sender<()>, JoinHandle<()>), AuditError> {
    let conn = open_conn(path, durability)?;
    conn.execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;")?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("audit-checkpointer".to_owned())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stop_rx.recv_timeout(WAL_CHECKPOINT_EVERY)
            {
                // A passive checkpoint never blocks the writer, but under continuous
                // writes it never reaches the end of the WAL, so the WAL would grow
                // without bound; past WAL_RESTART_BYTES a RESTART checkpoint makes the
                // writer wait once while the WAL is folded back and then reused.
                let big = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_RESTART_BYTES);
                let mode = if big { "RESTART" } else { "PASSIVE" };
                if let Err(err) =
                    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
                {
                    tracing::warn!(error = %err, mode, "audit WAL checkpoint failed");
                }
            }
        })
        .map_err(|e| AuditError::Storage(format!("cannot start the WAL checkpointer: {e}")))?;
    Ok((stop_tx, thread))
}

pub(crate) fn now_unix(clock: &dyn Clock) -> u64 {
    u64::try_from(clock.now().unix_timestamp()).unwrap_or(0)
}

/// Refuses a database written with another storage layout before anything is written to
/// it: schema 1 (one `events` row and one `leaves` row per event) and the pre-Merkle
/// layout are not migrated (the product was unreleased when the layout changed), and
/// creating the new tables next to old ones would leave a file neither version reads.
fn check_layout(conn: &Connection, path: &Path) -> Result<(), AuditError> {
    let has_table = |name: &str| -> Result<bool, AuditError> {
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )? > 0)
    };
    if has_table("events")? || has_table("leaves")? {
        return Err(AuditError::Storage(format!(
            "{} was written by an older Cloudward with the one-row-per-event audit layout (schema 1); \
             this version stores events in blocks (schema 2) and does not convert old logs: \
             export it with the older version if needed (`cloudward trail export`), then move the data directory aside",
            path.display()
        )));
    }
    if has_table("meta")?
        && let Some(v) = get_meta(conn, "schema")?
        && v != SCHEMA_VERSION.as_bytes()
    {
        return Err(AuditError::Storage(format!(
            "{} has audit schema version {:?}; this version reads only {SCHEMA_VERSION}",
            path.display(),
            String::from_utf8_lossy(&v)
        )));
    }
    Ok(())
}

fn open_conn(path: &Path, durability: Durability) -> Result<Connection, AuditError> {
    let conn = Connection::open(path)?;
    let sync = match durability {
        Durability::Fsync => "FULL",
        Durability::Os => "NORMAL",
    };
    conn.busy_timeout(Duration::from_secs(10))?;
    // 16 KiB pages for a new file (a no-op on an existing one): a block (≤ 32 KiB) spans
    // 2–3 pages instead of 8–9, so a commit writes (and the checkpointer copies) a quarter
    // as many WAL frames, each one a system call. Must come before the switch to WAL.
    conn.execute_batch(&format!(
        "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA cache_size=-2000;"
    ))?;
    Ok(conn)
}

/// Opens a read-only connection to a data directory's log (used by readers and by the
/// offline tools).
pub fn open_reader(path: &Path) -> Result<Connection, AuditError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch("PRAGMA cache_size=-32768;")?;
    Ok(conn)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leaf_chunks (first INTEGER PRIMARY KEY, hashes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS subtrees (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
    first INTEGER PRIMARY KEY,
    n INTEGER NOT NULL,
    tmin INTEGER NOT NULL,
    tmax INTEGER NOT NULL,
    ends BLOB NOT NULL,
    body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trails (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    event_rw TEXT NOT NULL,
    is_org INTEGER NOT NULL,
    oss_bucket TEXT NOT NULL,
    oss_prefix TEXT NOT NULL,
    oss_role TEXT NOT NULL,
    sls_project TEXT NOT NULL,
    sls_role TEXT NOT NULL,
    trail_region TEXT NOT NULL,
    home_region TEXT NOT NULL,
    logging INTEGER NOT NULL,
    created_s INTEGER NOT NULL,
    updated_s INTEGER NOT NULL,
    start_logging_s INTEGER,
    stop_logging_s INTEGER,
    cursor INTEGER NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    last_delivery_s INTEGER,
    last_error TEXT,
    PRIMARY KEY (account_id, name)) WITHOUT ROWID;
";

fn get_meta(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, AuditError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

fn encode_frontier(size: u64, nodes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 32 * nodes.len());
    out.extend_from_slice(&size.to_be_bytes());
    for n in nodes {
        out.extend_from_slice(n);
    }
    out
}

fn decode_frontier(bytes: &[u8]) -> Result<Frontier, AuditError> {
    let bad = || AuditError::Integrity("stored frontier is malformed".to_owned());
    let (size, rest) = bytes.split_first_chunk::<8>().ok_or_else(bad)?;
    let size = u64::from_be_bytes(*size);
    if rest.len() % 32 != 0 {
        return Err(bad());
    }
    let nodes = rest
        .chunks_exact(32)
        .map(|c| <[u8; 32]>::try_from(c).map_err(|_| bad()))
        .collect::<Result<Vec<_>, _>>()?;
    Frontier::from_parts(size, nodes).map_err(|e| AuditError::Integrity(e.to_string()))
}

/// Leaf hashes and cached subtrees of the stored log, for proof generation.
pub struct StoreLeaves<'c> {
    conn: &'c Connection,
    len: u64,
    cache: crate::blocks::LeafCache,
}

impl std::fmt::Debug for StoreLeaves<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLeaves")
            .field("len", &self.len)
            .finish()
    }
}

impl<'c> StoreLeaves<'c> {
    /// The first `len` leaves of the log behind `conn`.
    #[must_use]
    pub fn new(conn: &'c Connection, len: u64) -> Self {
        Self {
            conn,
            len,
            cache: crate::blocks::LeafCache::default(),
        }
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl LeafHashes for StoreLeaves<'_> {
    type Error = rusqlite::Error;

    fn len(&self) -> u64 {
        self.len
    }

    fn leaf_hash(&self, index: u64) -> Result<Hash, rusqlite::Error> {
        self.cache.leaf(self.conn, index)
    }

    fn subtree_hash(&self, level: u32, index: u64) -> Result<Option<Hash>, rusqlite::Error> {
        if level < MIN_CACHED_LEVEL {
            return Ok(None);
        }
        self.conn
            .prepare_cached("SELECT hash FROM subtrees WHERE level = ?1 AND idx = ?2")?
            .query_row(params![level, to_i64(index)], |r| r.get::<_, [u8; 32]>(0))
            .optional()
    }
}

/// Committed tree size as stored (the frontier's size).
pub fn stored_size(conn: &Connection) -> Result<u64, AuditError> {
    match get_meta(conn, "frontier")? {
        Some(bytes) => Ok(decode_frontier(&bytes)?.size()),
        None => Ok(0),
    }
}

/// The checkpoint signed for exactly `size`, or the latest one when `size` is `None`.
pub fn stored_checkpoint(
    conn: &Connection,
    size: Option<u64>,
) -> Result<Option<SignedCheckpoint>, AuditError> {
    let note: Option<String> = match size {
        Some(s) => conn
            .query_row(
                "SELECT note FROM checkpoints WHERE size = ?1",
                [to_i64(s)],
                |r| r.get(0),
            )
            .optional()?,
        None => conn
            .query_row(
                "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?,
    };
    note.map(|n| {
        SignedCheckpoint::parse(n.as_bytes())
            .map_err(|e| AuditError::Integrity(format!("stored checkpoint does not parse: {e}")))
    })
    .transpose()
}

/// The smallest checkpoint whose size is at least `size`.
pub fn checkpoint_covering(
    conn: &Connection,
    size: u64,
) -> Result<Option<SignedCheckpoint>, AuditError> {
    let note: Option<String> = conn
        .query_row(
            "SELECT note FROM checkpoints WHERE size >= ?1 ORDER BY size LIMIT 1",
            [to_i64(size)],
            |r| r.get(0),
        )
        .optional()?;
    note.map(|n| {
        SignedCheckpoint::parse(n.as_bytes())
            .map_err(|e| AuditError::Integrity(format!("stored checkpoint does not parse: {e}")))
    })
    .transpose()
}

fn drain(rx: &mut mpsc::Receiver<Msg>, batch: &mut Vec<Msg>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
}

struct WriterState {
    conn: Connection,
    tree: Tree,
    blocks: crate::blocks::BlockBuilder,
    shared: Arc<Shared>,
    index_tx: std::sync::mpsc::Sender<IndexMsg>,
}

/// The in-memory tree state of the writer.
#[derive(Clone)]
struct Tree {
    /// Frontier nodes (perfect-subtree roots, left to right), as in `Frontier`.
    stack: Vec<Hash>,
    size: u64,
}

impl Tree {
    /// Appends a leaf, merging completed subtrees; reports the cached ones.
    fn push_leaf(&mut self, leaf: Hash, completed: &mut Vec<(u32, u64, Hash)>) {
        let mut h = leaf;
        let mut pos = self.size;
        let mut level = 0u32;
        while pos & 1 == 1 {
            let Some(left) = self.stack.pop() else { break };
            h = node_hash(&left, &h);
            level += 1;
            pos >>= 1;
            if level >= MIN_CACHED_LEVEL {
                completed.push((level, pos, h));
            }
        }
        self.stack.push(h);
        self.size += 1;
    }

    fn root(&self) -> Hash {
        Frontier::from_parts(self.size, self.stack.clone())
            .map(|f| f.root())
            .unwrap_or(EMPTY_ROOT)
    }

    fn sign(&self, shared: &Shared, timestamp: u64) -> Result<SignedCheckpoint, AuditError> {
        let checkpoint = Checkpoint {
            origin: shared.origin.clone(),
            size: self.size,
            root: self.root(),
            timestamp,
        };
        let keys = shared
            .keys
            .lock()
            .map_err(|_| AuditError::Storage("key store lock poisoned".to_owned()))?;
        Ok(keys.signer().sign(checkpoint)?)
    }
}

impl WriterState {
    fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        let mut batch: Vec<Msg> = Vec::with_capacity(MAX_BATCH);
        let mut completed: Vec<(u32, u64, Hash)> = Vec::new();
        let (mut nb, mut nr, mut busy) = (0u64, 0u64, Duration::ZERO);
        loop {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            batch.push(first);
            drain(&mut rx, &mut batch);
            // Group commit: when more than one caller is waiting, give the others a
            // moment to join this transaction (a commit costs far more than the wait).
            if batch.len() > 1 && batch.len() < MAX_BATCH {
                std::thread::sleep(GATHER);
                drain(&mut rx, &mut batch);
            }
            nb += 1;
            nr += batch.len() as u64;
            let t = std::time::Instant::now();
            let stop = self.process(&mut batch, &mut completed);
            busy += t.elapsed();
            if stop {
                break;
            }
        }
        tracing::debug!(
            batches = nb,
            messages = nr,
            busy_s = busy.as_secs_f64(),
            "audit writer stopped"
        );
        if let Err(err) = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);") {
            tracing::warn!(error = %err, "audit WAL checkpoint on close failed");
        }
    }

    /// Commits one batch; returns true when asked to stop.
    fn process(&mut self, batch: &mut Vec<Msg>, completed: &mut Vec<(u32, u64, Hash)>) -> bool {
        let saved = self.tree.clone();
        let mut rows: Vec<Box<EventRow>> = Vec::with_capacity(batch.len());
        let mut row_acks: Vec<oneshot::Sender<Result<u64, AuditError>>> =
            Vec::with_capacity(batch.len());
        // (number of rows queued before the request, ack)
        let mut cp_at: Vec<usize> = Vec::new();
        let mut cp_acks: Vec<oneshot::Sender<Result<SignedCheckpoint, AuditError>>> = Vec::new();
        let mut jobs: Vec<Job> = Vec::new();
        let mut stop = false;
        for msg in batch.drain(..) {
            match msg {
                Msg::Append { row, ack } => {
                    rows.push(row);
                    row_acks.push(ack);
                }
                // A checkpoint covers every append queued before it.
                Msg::Checkpoint { ack } => {
                    cp_at.push(rows.len());
                    cp_acks.push(ack);
                }
                Msg::Run(job) => jobs.push(job),
                Msg::IndexPurge(end) => {
                    let _ = self.index_tx.send(IndexMsg::Purge(end));
                }
                Msg::Stop => stop = true,
            }
        }
        completed.clear();
        let now = now_unix(self.shared.clock.as_ref());
        let first_index = self.tree.size;
        let mut signed: Vec<SignedCheckpoint> = Vec::with_capacity(cp_at.len());
        let result = if rows.is_empty() && cp_at.is_empty() {
            Ok(())
        } else {
            self.commit(&rows, &cp_at, now, completed, &mut signed)
        };
        match result {
            Ok(()) => {
                self.shared
                    .committed
                    .store(self.tree.size, Ordering::Release);
                if !signed.is_empty() {
                    self.shared.last_checkpoint_ts.store(now, Ordering::Release);
                }
                for (i, ack) in row_acks.into_iter().enumerate() {
                    // The caller may have gone away (client disconnected); the event stays.
                    let _ = ack.send(Ok(first_index + i as u64));
                }
                if !rows.is_empty() {
                    // The rows go to the indexer, which may hold them for a while to
                    // gather a large flush: their bytes (the bulk of their memory) are
                    // released now so that memory is reused at once.
                    let index_rows = rows
                        .into_iter()
                        .enumerate()
                        .map(|(i, mut r)| {
                            r.body = Vec::new();
                            IndexRow::new(first_index + i as u64, r)
                        })
                        .collect();
                    if self.index_tx.send(IndexMsg::Rows(index_rows)).is_err() {
                        tracing::error!("the audit indexer stopped; lookups will miss new events");
                    }
                }
                for (ack, cp) in cp_acks.into_iter().zip(signed) {
                    let _ = ack.send(Ok(cp));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "audit commit failed");
                self.tree = saved;
                for ack in row_acks {
                    let _ = ack.send(Err(err.clone()));
                }
                for ack in cp_acks {
                    let _ = ack.send(Err(err.clone()));
                }
            }
        }
        for job in jobs {
            job(&mut self.conn);
        }
        stop
    }

    fn commit(
        &mut self,
        rows: &[Box<EventRow>],
        cp_at: &[usize],
        now: u64,
        completed: &mut Vec<(u32, u64, Hash)>,
        signed: &mut Vec<SignedCheckpoint>,
    ) -> Result<(), AuditError> {
        let tree = &mut self.tree;
        let shared = &self.shared;
        let tx = self.conn.transaction()?;
        {
            let mut ins_sub = tx.prepare_cached(
                "INSERT OR REPLACE INTO subtrees (level, idx, hash) VALUES (?1, ?2, ?3)",
            )?;
            let mut ins_cp = tx.prepare_cached(
                "INSERT OR IGNORE INTO checkpoints (size, timestamp, note) VALUES (?1, ?2, ?3)",
            )?;
            let blocks = &mut self.blocks;
            let mut cps = cp_at.iter().peekable();
            for (i, row) in rows.iter().enumerate() {
                while cps.next_if(|at| **at == i).is_some() {
                    let cp = tree.sign(shared, now)?;
                    ins_cp.execute(params![
                        to_i64(cp.checkpoint.size),
                        to_i64(now),
                        cp.to_text()?
                    ])?;
                    signed.push(cp);
                }
                if blocks.full() {
                    blocks.flush(&tx)?;
                }
                blocks.push(tree.size, row.time_s, &row.body, &row.leaf);
                tree.push_leaf(row.leaf, completed);
            }
            // A block never spans two commits: a crash keeps whole blocks only.
            blocks.flush(&tx)?;
            for _ in cps {
                let cp = tree.sign(shared, now)?;
                ins_cp.execute(params![
                    to_i64(cp.checkpoint.size),
                    to_i64(now),
                    cp.to_text()?
                ])?;
                signed.push(cp);
            }
            for (level, idx, hash) in completed.iter() {
                ins_sub.execute(params![level, to_i64(*idx), hash])?;
            }
            tx.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('frontier', ?1)")?
                .execute([encode_frontier(tree.size, &tree.stack)])?;
        }
        let committed = tx.commit();
        if committed.is_err() {
            // Drop a half-built block of the failed transaction.
            self.blocks = crate::blocks::BlockBuilder::default();
        }
        committed?;
        Ok(())
    }
}

/// What [`AuditLog::open`] found on disk.
#[derive(Debug, Clone)]
pub struct OpenReport {
    /// Events in the log.
    pub size: u64,
    /// The latest checkpoint, verified against the stored leaves.
    pub latest_checkpoint: Option<Checkpoint>,
}

impl AuditLog {
    /// Opens (or creates) the log in `options.data_dir`, checks that the stored tree
    /// matches the stored frontier and the latest signed checkpoint, and starts the
    /// writer (and, if enabled, maintenance) threads. `store` resolves organization
    /// membership for organization trails; `None` disables that.
    pub fn open(
        options: AuditOptions,
        clock: Arc<dyn Clock>,
        store: Option<cloudward_store::Store>,
    ) -> Result<(Self, AuditWriter, OpenReport), AuditError> {
        std::fs::create_dir_all(&options.data_dir)
            .map_err(|e| AuditError::Storage(format!("{}: {e}", options.data_dir.display())))?;
        let path = options.data_dir.join(DB_FILE);
        let mut conn = open_conn(&path, options.durability)?;
        // The writer never checkpoints the WAL itself (a checkpoint copies pages and
        // fsyncs the database file, which would stall every caller in the batch); the
        // checkpointer thread does it alongside (see `spawn_checkpointer`).
        conn.execute_batch("PRAGMA wal_autocheckpoint=0;")?;
        check_layout(&conn, &path)?;
        conn.execute_batch(SCHEMA)?;
        let now = now_unix(clock.as_ref());
        let origin = {
            let tx = conn.transaction()?;
            match get_meta(&tx, "schema")? {
                None => {
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                        [SCHEMA_VERSION.as_bytes()],
                    )?;
                }
                Some(v) if v == SCHEMA_VERSION.as_bytes() => {}
                Some(_) => {
                    return Err(AuditError::Storage(
                        "audit.db has an unknown schema version".to_owned(),
                    ));
                }
            }
            let origin = match get_meta(&tx, "origin")? {
                Some(v) => String::from_utf8(v)
                    .map_err(|_| AuditError::Integrity("stored origin is not UTF-8".to_owned()))?,
                None => {
                    let origin = match &options.origin {
                        Some(o) => o.clone(),
                        None => {
                            let id = cloudward_service::random_bytes::<8>()
                                .map_err(|e| AuditError::Storage(e.to_string()))?;
                            format!("cloudward/audit/{}", hex::encode(id))
                        }
                    };
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES ('origin', ?1)",
                        [origin.as_bytes()],
                    )?;
                    origin
                }
            };
            tx.commit()?;
            origin
        };
        let frontier = match get_meta(&conn, "frontier")? {
            Some(bytes) => decode_frontier(&bytes)?,
            None => Frontier::new(),
        };
        let leaves = crate::blocks::stored_leaves(&conn)?;
        if leaves != frontier.size() {
            return Err(AuditError::Integrity(format!(
                "the log holds {leaves} leaves but its frontier says {}",
                frontier.size()
            )));
        }
        let src = StoreLeaves::new(&conn, frontier.size());
        let stored_root = merkle::root(&src, frontier.size())?;
        if stored_root != frontier.root() {
            return Err(AuditError::Integrity(
                "the stored leaves do not hash to the stored frontier".to_owned(),
            ));
        }
        let keys = KeyStore::open(&options.data_dir, now)?;
        let latest = stored_checkpoint(&conn, None)?;
        if let Some(cp) = &latest {
            verify_stored_checkpoint(&conn, keys.keyring(), cp, &origin)?;
        }
        let report = OpenReport {
            size: frontier.size(),
            latest_checkpoint: latest.as_ref().map(|c| c.checkpoint.clone()),
        };
        let shared = Arc::new(Shared {
            keys: Mutex::new(keys),
            origin,
            clock,
            readers: Mutex::new(Vec::new()),
            path: path.clone(),
            committed: AtomicU64::new(frontier.size()),
            last_checkpoint_ts: AtomicU64::new(
                latest.as_ref().map_or(0, |c| c.checkpoint.timestamp),
            ),
            options,
            store,
            runtime: tokio::runtime::Handle::try_current().ok(),
            indexed: AtomicU64::new(0),
            index_wanted: AtomicU64::new(0),
        });
        let (index_tx, index_rx) = std::sync::mpsc::channel();
        let indexer = crate::index::spawn(
            &shared.options.data_dir,
            path.clone(),
            frontier.size(),
            shared.clone(),
            index_rx,
        )?;
        let (tx, rx) = mpsc::channel(64 * 1024);
        let state = WriterState {
            conn,
            tree: Tree {
                stack: frontier.nodes().to_vec(),
                size: frontier.size(),
            },
            blocks: crate::blocks::BlockBuilder::default(),
            shared: shared.clone(),
            index_tx,
        };
        let writer = std::thread::Builder::new()
            .name("audit-writer".to_owned())
            .spawn(move || state.run(rx))
            .map_err(|e| AuditError::Storage(format!("cannot start the audit writer: {e}")))?;
        let checkpointer = spawn_checkpointer(&path, options_durability(&shared))?;
        let log = AuditLog {
            tx: tx.clone(),
            shared,
        };
        let maintenance = if log.shared.options.maintenance {
            Some(crate::maintenance::spawn(log.clone())?)
        } else {
            None
        };
        Ok((
            log,
            AuditWriter {
                tx,
                writer: Some(writer),
                maintenance,
                checkpointer: Some(checkpointer),
                indexer: Some(indexer),
            },
            report,
        ))
    }

    /// Builds, redacts and stores one event; returns its log index once it is durable.
    /// `extra_secrets` are redacted besides the trail crate's registry.
    pub async fn record(
        &self,
        event: ActionTrailEvent,
        extra_secrets: &[&str],
    ) -> Result<u64, AuditError> {
        let row = EventRow::from_event(event, extra_secrets)?;
        self.append(row).await
    }

    /// Stores an already prepared row (see [`EventRow::from_event`]).
    pub async fn append(&self, row: EventRow) -> Result<u64, AuditError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Append {
                row: Box::new(row),
                ack,
            })
            .await
            .map_err(|_| AuditError::Stopped)?;
        done.await.map_err(|_| AuditError::Stopped)?
    }

    /// Signs a checkpoint of everything committed before this call (on demand).
    pub async fn checkpoint_now(&self) -> Result<SignedCheckpoint, AuditError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Checkpoint { ack })
            .await
            .map_err(|_| AuditError::Stopped)?;
        done.await.map_err(|_| AuditError::Stopped)?
    }

    /// As [`AuditLog::checkpoint_now`], from a non-async thread.
    pub fn checkpoint_blocking(&self) -> Result<SignedCheckpoint, AuditError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .blocking_send(Msg::Checkpoint { ack })
            .map_err(|_| AuditError::Stopped)?;
        done.blocking_recv().map_err(|_| AuditError::Stopped)?
    }

    /// Runs `job` on the writer connection (serialized with appends), from a blocking
    /// thread, and returns its result.
    pub fn write_blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, AuditError> + Send + 'static,
    ) -> Result<T, AuditError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .blocking_send(Msg::Run(Box::new(move |conn| {
                let _ = ack.send(job(conn));
            })))
            .map_err(|_| AuditError::Stopped)?;
        done.blocking_recv().map_err(|_| AuditError::Stopped)?
    }

    /// As [`AuditLog::write_blocking`], awaiting.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, AuditError> + Send + 'static,
    ) -> Result<T, AuditError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Run(Box::new(move |conn| {
                let _ = ack.send(job(conn));
            })))
            .await
            .map_err(|_| AuditError::Stopped)?;
        done.await.map_err(|_| AuditError::Stopped)?
    }

    /// Runs a read on a pooled read-only connection (blocking).
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, AuditError>,
    ) -> Result<T, AuditError> {
        let pooled = self.shared.readers.lock().ok().and_then(|mut p| p.pop());
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = open_reader(&self.shared.path)?;
                crate::index::attach(&c, &self.shared.options.data_dir)?;
                c
            }
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.shared.readers.lock()
            && pool.len() < 8
        {
            pool.push(conn);
        }
        out
    }

    /// Runs a read on a blocking thread.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, AuditError> + Send + 'static,
    ) -> Result<T, AuditError> {
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.read_blocking(f))
            .await
            .map_err(|e| AuditError::Storage(format!("read task failed: {e}")))?
    }

    /// Runs a `LookupEvents` query, after the indexer has caught up with every event
    /// committed before this call.
    pub async fn lookup(
        &self,
        query: crate::lookup::LookupQuery,
    ) -> Result<crate::lookup::LookupPage, AuditError> {
        let shared = self.shared.clone();
        let size = self.size();
        self.read(move |c| {
            if !crate::index::wait_for(&shared, size, INDEX_WAIT) {
                tracing::warn!("audit index is behind; LookupEvents may miss recent events");
            }
            crate::lookup::lookup(c, &query)
        })
        .await
    }

    /// Runs a read of `audit-index.db` (attached as `ix`) after the indexer has caught up
    /// with every event committed before this call.
    pub async fn read_indexed<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, AuditError> + Send + 'static,
    ) -> Result<T, AuditError> {
        let shared = self.shared.clone();
        let size = self.size();
        self.read(move |c| {
            if !crate::index::wait_for(&shared, size, INDEX_WAIT) {
                tracing::warn!("audit index is behind; the answer may miss recent events");
            }
            f(c)
        })
        .await
    }

    /// Tells the indexer that events below `end` were purged.
    pub(crate) fn index_purged(&self, end: u64) {
        let _ = self.tx.blocking_send(Msg::IndexPurge(end));
    }

    /// Purges events past the retention period now (blocking; see the maintenance
    /// thread, which does this every ten minutes). Returns the number deleted.
    pub fn purge_now(&self) -> Result<u64, AuditError> {
        let mut total = 0;
        loop {
            let (n, more) = crate::maintenance::purge(self, self.shared.options.retention, 100)?;
            total += n;
            if !more {
                return Ok(total);
            }
        }
    }

    /// Events committed so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.shared.committed.load(Ordering::Acquire)
    }

    /// Events the lookup indexes cover (the indexer runs behind the writer).
    #[must_use]
    pub fn indexed(&self) -> u64 {
        self.shared.indexed.load(Ordering::Acquire)
    }

    /// The log's origin line.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The public keyring (retired keys included).
    pub fn keyring(&self) -> Result<Keyring, AuditError> {
        self.shared
            .keys
            .lock()
            .map(|k| k.keyring().clone())
            .map_err(|_| AuditError::Storage("key store lock poisoned".to_owned()))
    }

    /// Rotates the checkpoint signing key (the old public key stays trusted for older
    /// checkpoints) and signs a checkpoint with the new key.
    pub async fn rotate_key(&self) -> Result<SignedCheckpoint, AuditError> {
        let now = now_unix(self.shared.clock.as_ref());
        {
            let mut keys = self
                .shared
                .keys
                .lock()
                .map_err(|_| AuditError::Storage("key store lock poisoned".to_owned()))?;
            keys.rotate(now)?;
        }
        self.checkpoint_now().await
    }

    /// The latest stored checkpoint.
    pub async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, AuditError> {
        self.read(|c| stored_checkpoint(c, None)).await
    }

    /// Inclusion proof of the event `event_id` in the tree of the checkpoint `size`
    /// (default: the latest checkpoint covering it, signing one if none does yet).
    /// `accounts` scopes the look-up (the event must belong to one of them).
    pub async fn inclusion_proof(
        &self,
        event_id: String,
        accounts: Vec<String>,
        size: Option<u64>,
    ) -> Result<InclusionProof, AuditError> {
        let shared = self.shared.clone();
        let found: Option<(u64, String)> = self
            .read(move |c| {
                crate::index::wait_for(
                    &shared,
                    shared.committed.load(Ordering::Acquire),
                    INDEX_WAIT,
                );
                crate::index::find_event(c, &event_id)
            })
            .await?;
        let Some((index, account)) = found else {
            return Err(AuditError::NotFound("event".to_owned()));
        };
        if !accounts.contains(&account) {
            return Err(AuditError::NotFound("event".to_owned()));
        }
        let checkpoint = match size {
            Some(s) => self
                .read(move |c| stored_checkpoint(c, Some(s)))
                .await?
                .ok_or_else(|| AuditError::NotFound(format!("checkpoint of size {s}")))?,
            None => match self
                .read(move |c| checkpoint_covering(c, index + 1))
                .await?
            {
                Some(cp) => cp,
                None => self.checkpoint_now().await?,
            },
        };
        let tree_size = checkpoint.checkpoint.size;
        if index >= tree_size {
            return Err(AuditError::Invalid(format!(
                "event index {index} is not in the tree of size {tree_size}"
            )));
        }
        let (leaf, proof) = self
            .read(move |c| {
                let src = StoreLeaves::new(c, tree_size);
                let leaf = src.leaf_hash(index)?;
                let proof = merkle::inclusion_proof(&src, index, tree_size)?;
                Ok((leaf, proof))
            })
            .await?;
        Ok(InclusionProof {
            index,
            leaf_hash: leaf,
            proof,
            checkpoint,
        })
    }

    /// Consistency proof between two signed checkpoints (by size).
    pub async fn consistency_proof(
        &self,
        size1: u64,
        size2: u64,
    ) -> Result<ConsistencyProof, AuditError> {
        if size1 > size2 {
            return Err(AuditError::Invalid(
                "FirstTreeSize must not exceed SecondTreeSize".to_owned(),
            ));
        }
        self.read(move |c| {
            let first = stored_checkpoint(c, Some(size1))?
                .ok_or_else(|| AuditError::NotFound(format!("checkpoint of size {size1}")))?;
            let second = stored_checkpoint(c, Some(size2))?
                .ok_or_else(|| AuditError::NotFound(format!("checkpoint of size {size2}")))?;
            let src = StoreLeaves::new(c, size2);
            let proof = merkle::consistency_proof(&src, size1, size2)?;
            Ok(ConsistencyProof {
                first,
                second,
                proof,
            })
        })
        .await
    }
}

/// An inclusion proof with the checkpoint it leads to.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    /// Leaf index of the event.
    pub index: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
    /// Audit path, leaf sibling first.
    pub proof: Vec<Hash>,
    /// The signed checkpoint whose root the path reaches.
    pub checkpoint: SignedCheckpoint,
}

/// A consistency proof between two signed checkpoints.
#[derive(Debug, Clone)]
pub struct ConsistencyProof {
    /// The older checkpoint.
    pub first: SignedCheckpoint,
    /// The newer checkpoint.
    pub second: SignedCheckpoint,
    /// The proof.
    pub proof: Vec<Hash>,
}

/// Checks a stored checkpoint: signature, origin, and root against the stored leaves.
pub fn verify_stored_checkpoint(
    conn: &Connection,
    keyring: &Keyring,
    cp: &SignedCheckpoint,
    origin: &str,
) -> Result<(), AuditError> {
    keyring
        .verify(cp)
        .map_err(|e| AuditError::Integrity(format!("latest checkpoint: {e}")))?;
    if cp.checkpoint.origin != origin {
        return Err(AuditError::Integrity(
            "latest checkpoint has another origin".to_owned(),
        ));
    }
    let src = StoreLeaves::new(conn, cp.checkpoint.size);
    let root = merkle::root(&src, cp.checkpoint.size)?;
    if root != cp.checkpoint.root {
        return Err(AuditError::Integrity(format!(
            "the stored leaves do not match the signed checkpoint of size {}",
            cp.checkpoint.size
        )));
    }
    Ok(())
}

/// Verifies that `new` extends `old` using the stored tree (a helper for tests and tools).
pub fn check_consistency(
    conn: &Connection,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<(), AuditError> {
    let src = StoreLeaves::new(conn, new.size);
    let proof = merkle::consistency_proof(&src, old.size, new.size)?;
    verify_checkpoint_consistency(old, new, &proof)
        .map_err(|e| AuditError::Integrity(e.to_string()))
}
