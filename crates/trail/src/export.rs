//! Export layout, writer, and the offline verifier.
//!
//! ```text
//! <export>/
//!   events-00000000000000000000.jsonl[.gz]   one line per event, in log order
//!   events-00000000000000100000.jsonl[.gz]   (file named by its first index)
//!   checkpoints/00000000000000100000.txt     one signed note per file, named by tree size
//!   keys.json                                public keys with ids and validity
//! ```
//!
//! Each event line is
//! `{"index":<n>,"leafHash":"<hex SHA-256(0x00 ‖ event)>","event":<canonical event>}`.
//! The leaf data is exactly the bytes of `<canonical event>`, so the verifier hashes
//! them as they stand and needs no JSON parser on the hot path; the stated `leafHash`
//! lets it name an edited line precisely when the editor did not also fix the hash
//! (if they did, the signed root at the next checkpoint still catches it, and the
//! report names that checkpoint and the range of indices it covers).
//!
//! `keys.json` in an export is a convenience copy: a verifier should pin the keys it
//! trusts out of band and pass them as the [`Keyring`].

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::checkpoint::{Checkpoint, CheckpointError, Keyring, SignedCheckpoint};
use crate::event::{EventError, RedactedEvent};
use crate::merkle::{Frontier, FrontierError, Hash, leaf_hash};

/// Name prefix of event files.
pub const EVENTS_PREFIX: &str = "events-";
/// Extension of plain event files.
pub const EVENTS_EXT: &str = ".jsonl";
/// Extension of gzip-compressed event files.
pub const EVENTS_GZ_EXT: &str = ".jsonl.gz";
/// Directory of checkpoint notes.
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// Public key file.
pub const KEYS_FILE: &str = "keys.json";

const LINE_PREFIX: &[u8] = b"{\"index\":";
const HASH_KEY: &[u8] = b",\"leafHash\":\"";
const EVENT_KEY: &[u8] = b"\",\"event\":";

/// Errors writing an export, or reading it at the directory level. Integrity
/// problems found while verifying are not errors: they are in [`VerifyReport`].
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// Writing to a caller-supplied sink failed.
    #[error("writing export data: {0}")]
    Write(#[from] io::Error),
    /// The target directory already holds an export.
    #[error("{0} already contains event files")]
    NotEmpty(PathBuf),
    /// Event bytes contain a newline, so they cannot be one JSON line.
    #[error("event bytes contain a newline")]
    Newline,
    /// Event serialization failed.
    #[error(transparent)]
    Event(#[from] EventError),
    /// Checkpoint encoding failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The tree is full.
    #[error(transparent)]
    Frontier(#[from] FrontierError),
    /// A checkpoint for this tree size was already written.
    #[error("a checkpoint for tree size {0} already exists")]
    DuplicateCheckpoint(u64),
    /// A checkpoint claims more events than were written.
    #[error("checkpoint for size {size} but only {written} events written")]
    CheckpointAhead {
        /// Checkpoint size.
        size: u64,
        /// Events written.
        written: u64,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes one export line for an event: index, leaf hash, canonical bytes.
pub fn write_event_line<W: Write + ?Sized>(
    out: &mut W,
    index: u64,
    leaf: &Hash,
    canonical: &[u8],
) -> io::Result<()> {
    let mut hex_buf = [0u8; 64];
    // Cannot fail: the buffer is exactly twice the hash length.
    hex::encode_to_slice(leaf, &mut hex_buf).map_err(io::Error::other)?;
    out.write_all(LINE_PREFIX)?;
    write!(out, "{index}")?;
    out.write_all(HASH_KEY)?;
    out.write_all(&hex_buf)?;
    out.write_all(EVENT_KEY)?;
    out.write_all(canonical)?;
    out.write_all(b"}\n")
}

/// A parsed event line: index, stated leaf hash, and the event bytes (leaf data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventLine<'a> {
    /// Log index.
    pub index: u64,
    /// Leaf hash as stated on the line.
    pub leaf_hash: Hash,
    /// Canonical event bytes.
    pub event: &'a [u8],
}

/// Parses an event line (without its trailing newline). Strict about the envelope;
/// the event bytes are returned as they are, unparsed.
#[must_use]
pub fn parse_event_line(line: &[u8]) -> Option<EventLine<'_>> {
    let rest = line.strip_prefix(LINE_PREFIX)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (num, rest) = rest.split_at_checked(digits)?;
    if num.is_empty() || num.len() > 20 || (num.len() > 1 && num.first() == Some(&b'0')) {
        return None;
    }
    let index: u64 = std::str::from_utf8(num).ok()?.parse().ok()?;
    let rest = rest.strip_prefix(HASH_KEY)?;
    let (hex_part, rest) = rest.split_at_checked(64)?;
    let leaf = decode_hex32(hex_part)?;
    let rest = rest.strip_prefix(EVENT_KEY)?;
    let event = rest.strip_suffix(b"}")?;
    if event.is_empty() {
        return None;
    }
    Some(EventLine {
        index,
        leaf_hash: leaf,
        event,
    })
}

/// Value of a lower-case hex digit, 0xff for any other byte. Lower-case only, so one
/// hash has one spelling.
fn hex_nibble(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => 0xff,
    }
}

/// Decodes 64 lower-case hex digits. Hand-rolled: this runs once per event line and
/// the generic `hex` decoder showed up at ~12% of verification time.
fn decode_hex32(text: &[u8]) -> Option<Hash> {
    let pairs = text.as_chunks::<2>();
    if !pairs.1.is_empty() || pairs.0.len() != 32 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (slot, [hi, lo]) in out.iter_mut().zip(pairs.0) {
        let (h, l) = (hex_nibble(*hi), hex_nibble(*lo));
        bad |= (h | l) & 0xf0;
        *slot = (h << 4) | (l & 0x0f);
    }
    (bad == 0).then_some(out)
}

/// Options for [`ExportWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// Events per file before starting the next one (at least 1).
    pub events_per_file: u64,
    /// Write `.jsonl.gz` instead of `.jsonl`.
    pub gzip: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            events_per_file: 100_000,
            gzip: false,
        }
    }
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Sink {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w,
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Gzip(w) => w.finish()?.flush(),
        }
    }
}

/// Writes an export directory. The server feeds it the stored canonical events and
/// checkpoints in log order; tests use it to build trails to tamper with.
pub struct ExportWriter {
    dir: PathBuf,
    options: ExportOptions,
    frontier: Frontier,
    sink: Option<(PathBuf, Sink)>,
    in_file: u64,
}

impl fmt::Debug for ExportWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportWriter")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .field("size", &self.frontier.size())
            .finish_non_exhaustive()
    }
}

impl ExportWriter {
    /// Starts an export in `dir` (created if missing; must hold no event files).
    pub fn create(dir: &Path, options: ExportOptions) -> Result<Self, ExportError> {
        fs::create_dir_all(dir.join(CHECKPOINT_DIR)).map_err(io_at(dir))?;
        if !event_files(dir)?.is_empty() {
            return Err(ExportError::NotEmpty(dir.to_owned()));
        }
        Ok(Self {
            dir: dir.to_owned(),
            options: ExportOptions {
                events_per_file: options.events_per_file.max(1),
                ..options
            },
            frontier: Frontier::new(),
            sink: None,
            in_file: 0,
        })
    }

    /// Events written so far (the next event's index).
    #[must_use]
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Root of the events written so far.
    #[must_use]
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// An unsigned checkpoint of the events written so far.
    #[must_use]
    pub fn checkpoint(&self, origin: &str, timestamp: u64) -> Checkpoint {
        Checkpoint {
            origin: origin.to_owned(),
            size: self.size(),
            root: self.root(),
            timestamp,
        }
    }

    /// Appends a redacted event; returns its index.
    pub fn append(&mut self, event: &RedactedEvent) -> Result<u64, ExportError> {
        let bytes = event.canonical_bytes()?;
        self.append_canonical(&bytes)
    }

    /// Appends an event given its stored canonical bytes; returns its index.
    pub fn append_canonical(&mut self, canonical: &[u8]) -> Result<u64, ExportError> {
        if canonical.contains(&b'\n') {
            return Err(ExportError::Newline);
        }
        if self.sink.is_none() || self.in_file >= self.options.events_per_file {
            self.rotate()?;
        }
        let leaf = leaf_hash(canonical);
        let index = self.frontier.size();
        if let Some((path, sink)) = self.sink.as_mut() {
            write_event_line(sink.writer(), index, &leaf, canonical).map_err(io_at(path))?;
        }
        self.frontier.append(leaf)?;
        self.in_file += 1;
        Ok(index)
    }

    fn rotate(&mut self) -> Result<(), ExportError> {
        self.close_file()?;
        let ext = if self.options.gzip {
            EVENTS_GZ_EXT
        } else {
            EVENTS_EXT
        };
        let path = self
            .dir
            .join(format!("{EVENTS_PREFIX}{:020}{ext}", self.frontier.size()));
        let file = File::create_new(&path).map_err(io_at(&path))?;
        let buffered = BufWriter::with_capacity(256 * 1024, file);
        let sink = if self.options.gzip {
            Sink::Gzip(GzEncoder::new(buffered, Compression::default()))
        } else {
            Sink::Plain(buffered)
        };
        self.sink = Some((path, sink));
        self.in_file = 0;
        Ok(())
    }

    fn close_file(&mut self) -> Result<(), ExportError> {
        if let Some((path, sink)) = self.sink.take() {
            sink.finish().map_err(io_at(&path))?;
        }
        Ok(())
    }

    /// Writes a signed checkpoint. Its size must not exceed the events written; its
    /// root is not checked here (the verifier does that).
    pub fn write_checkpoint(&mut self, signed: &SignedCheckpoint) -> Result<(), ExportError> {
        let size = signed.checkpoint.size;
        if size > self.size() {
            return Err(ExportError::CheckpointAhead {
                size,
                written: self.size(),
            });
        }
        let path = self
            .dir
            .join(CHECKPOINT_DIR)
            .join(format!("{size:020}.txt"));
        let text = signed.to_text()?;
        let mut file = match File::create_new(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(ExportError::DuplicateCheckpoint(size));
            }
            Err(e) => return Err(io_at(&path)(e)),
        };
        file.write_all(text.as_bytes()).map_err(io_at(&path))
    }

    /// Writes `keys.json`.
    pub fn write_keys(&mut self, keyring: &Keyring) -> Result<(), ExportError> {
        let path = self.dir.join(KEYS_FILE);
        fs::write(&path, keyring.to_json()?).map_err(io_at(&path))
    }

    /// Flushes and closes the last event file.
    pub fn finish(mut self) -> Result<u64, ExportError> {
        self.close_file()?;
        Ok(self.frontier.size())
    }
}

/// Event files of an export, sorted by name (= by first index).
fn event_files(dir: &Path) -> Result<Vec<String>, ExportError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(EVENTS_PREFIX)
            && (name.ends_with(EVENTS_EXT) || name.ends_with(EVENTS_GZ_EXT))
        {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// What went wrong, for the first bad record found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A line is not a well-formed event line.
    Malformed,
    /// An event's bytes do not match its stated leaf hash (edited in place).
    Edited,
    /// One or more event indices are absent.
    Missing,
    /// Events are out of order (an index appears later or earlier than its place).
    Reordered,
    /// The export ends early: a partial last line, an unreadable compressed tail, or
    /// fewer events than a checkpoint covers.
    Truncated,
    /// The tree over the events does not have the root a checkpoint signed.
    RootMismatch,
    /// A checkpoint signature by a trusted key does not verify.
    BadSignature,
    /// A checkpoint carries no signature by any trusted key.
    UntrustedKey,
    /// A checkpoint is signed by a trusted key outside the key's validity window.
    KeyNotValid,
    /// A checkpoint file does not parse.
    CheckpointMalformed,
    /// Checkpoints name different logs, or not the expected one.
    OriginMismatch,
    /// Two validly signed checkpoints give different roots for one size (a fork).
    Fork,
    /// Checkpoint timestamps decrease as the tree grows.
    TimeOrder,
    /// There is no checkpoint, so nothing is anchored.
    NoCheckpoint,
    /// Events after the last checkpoint are covered by no signature.
    UnanchoredTail,
    /// An event file could not be read.
    Unreadable,
    /// An event's bytes are not the canonical serialization of a valid event
    /// (only with [`VerifyOptions::check_events`]).
    InvalidEvent,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Malformed => "malformed line",
            Self::Edited => "edited event",
            Self::Missing => "missing events",
            Self::Reordered => "reordered events",
            Self::Truncated => "truncated export",
            Self::RootMismatch => "root mismatch",
            Self::BadSignature => "bad checkpoint signature",
            Self::UntrustedKey => "checkpoint not signed by a trusted key",
            Self::KeyNotValid => "checkpoint key not valid at its timestamp",
            Self::CheckpointMalformed => "malformed checkpoint",
            Self::OriginMismatch => "checkpoint origin mismatch",
            Self::Fork => "conflicting checkpoints (fork)",
            Self::TimeOrder => "checkpoint timestamps out of order",
            Self::NoCheckpoint => "no checkpoint",
            Self::UnanchoredTail => "events not covered by any checkpoint",
            Self::Unreadable => "unreadable event file",
            Self::InvalidEvent => "invalid event",
        };
        f.write_str(s)
    }
}

/// The first integrity failure, located as precisely as the evidence allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What was wrong.
    pub kind: FailureKind,
    /// File (relative to the export) where it was found.
    pub file: Option<String>,
    /// 1-based line in that file (for event files).
    pub line: Option<u64>,
    /// Log index of the event concerned (the expected index for missing events).
    pub event_index: Option<u64>,
    /// `eventId` of the event on that line, if it could be read.
    pub event_id: Option<String>,
    /// Tree size of the checkpoint concerned.
    pub checkpoint_size: Option<u64>,
    /// Human-readable detail.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(file) = &self.file {
            write!(f, " in {file}")?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
        }
        if let Some(i) = self.event_index {
            write!(f, ", event index {i}")?;
        }
        if let Some(id) = &self.event_id {
            write!(f, ", eventId {id}")?;
        }
        if let Some(s) = self.checkpoint_size {
            write!(f, ", checkpoint at size {s}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl Failure {
    fn new(kind: FailureKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            file: None,
            line: None,
            event_index: None,
            event_id: None,
            checkpoint_size: None,
            detail: detail.into(),
        }
    }
    fn at(mut self, file: &str, line: u64) -> Self {
        self.file = Some(file.to_owned());
        self.line = Some(line);
        self
    }
    fn index(mut self, i: u64) -> Self {
        self.event_index = Some(i);
        self
    }
    fn event_id(mut self, event: Option<&[u8]>) -> Self {
        self.event_id = event.and_then(event_id_of);
        self
    }
    fn checkpoint(mut self, file: &str, size: u64) -> Self {
        self.file = Some(file.to_owned());
        self.checkpoint_size = Some(size);
        self
    }
}

/// The `eventId` of event bytes, read leniently (only on the failure path).
fn event_id_of(event: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        #[serde(rename = "eventId")]
        event_id: String,
    }
    serde_json::from_slice::<IdOnly>(event)
        .ok()
        .map(|e| e.event_id)
}

/// Options for verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Require every checkpoint to carry this origin.
    pub expected_origin: Option<String>,
    /// Accept events after the last checkpoint (reported in
    /// [`VerifyReport::unanchored_events`]) instead of failing.
    pub allow_unanchored_tail: bool,
    /// Also parse every event and check it is canonical (slower; the Merkle checks do
    /// not need it, since they commit to the bytes).
    pub check_events: bool,
    /// Threads used to hash leaves; 0 = one per available core (at most 8).
    pub threads: usize,
}

/// Result of verifying an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Event lines accepted (in order, before any failure).
    pub events: u64,
    /// Event files read.
    pub files: u64,
    /// Checkpoints whose signature and root were verified.
    pub checkpoints_verified: u64,
    /// The latest verified checkpoint.
    pub latest_checkpoint: Option<Checkpoint>,
    /// Root of the accepted events.
    pub root: Hash,
    /// Events after the latest checkpoint.
    pub unanchored_events: u64,
    /// The first failure, if any.
    pub failure: Option<Failure>,
}

impl VerifyReport {
    /// True when the export verified with no failure.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

struct PendingCheckpoint {
    file: String,
    signed: SignedCheckpoint,
}

/// Streaming verifier. [`verify_export`] drives it over a directory; other callers can
/// feed checkpoints and event streams from anywhere (`Read`), in log order.
pub struct Verifier<'k> {
    keyring: &'k Keyring,
    options: VerifyOptions,
    checkpoints: Vec<PendingCheckpoint>,
    next_checkpoint: usize,
    last_verified: Option<usize>,
    frontier: Frontier,
    files: u64,
    failure: Option<Failure>,
    batch: Batch,
    threads: usize,
    started: bool,
}

impl fmt::Debug for Verifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("events", &self.frontier.size())
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

impl<'k> Verifier<'k> {
    /// A verifier trusting `keyring`.
    #[must_use]
    pub fn new(keyring: &'k Keyring, options: VerifyOptions) -> Self {
        let threads = match options.threads {
            0 => std::thread::available_parallelism()
                .map_or(1, usize::from)
                .min(8),
            n => n,
        };
        Self {
            keyring,
            options,
            checkpoints: Vec::new(),
            next_checkpoint: 0,
            last_verified: None,
            frontier: Frontier::new(),
            files: 0,
            failure: None,
            batch: Batch::default(),
            threads,
            started: false,
        }
    }

    /// True once a failure has been recorded (further input is ignored).
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }

    fn fail(&mut self, failure: Failure) {
        if self.failure.is_none() {
            self.failure = Some(failure);
        }
    }

    /// Adds a checkpoint note (all checkpoints must be added before the first event).
    pub fn add_checkpoint(&mut self, file: &str, text: &[u8]) {
        if self.failed() {
            return;
        }
        match SignedCheckpoint::parse(text) {
            Ok(signed) => self.checkpoints.push(PendingCheckpoint {
                file: file.to_owned(),
                signed,
            }),
            Err(e) => {
                let mut f = Failure::new(FailureKind::CheckpointMalformed, e.to_string());
                f.file = Some(file.to_owned());
                self.fail(f);
            }
        }
    }

    /// Orders checkpoints and checks what can be checked without events.
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        self.checkpoints.sort_by_key(|c| c.signed.checkpoint.size);
        if self.checkpoints.is_empty() {
            self.fail(Failure::new(
                FailureKind::NoCheckpoint,
                "the export has no checkpoint",
            ));
            return;
        }
        let expected = self
            .options
            .expected_origin
            .clone()
            .or_else(|| {
                self.checkpoints
                    .first()
                    .map(|c| c.signed.checkpoint.origin.clone())
            })
            .unwrap_or_default();
        let mut prev: Option<&PendingCheckpoint> = None;
        let mut failure = None;
        for c in &self.checkpoints {
            let cp = &c.signed.checkpoint;
            if cp.origin != expected {
                failure = Some(
                    Failure::new(
                        FailureKind::OriginMismatch,
                        format!("origin {:?}, expected {expected:?}", cp.origin),
                    )
                    .checkpoint(&c.file, cp.size),
                );
                break;
            }
            if let Some(p) = prev {
                let pc = &p.signed.checkpoint;
                if pc.size == cp.size && pc.root != cp.root {
                    failure = Some(
                        Failure::new(
                            FailureKind::Fork,
                            format!("{} and {} sign different roots", p.file, c.file),
                        )
                        .checkpoint(&c.file, cp.size),
                    );
                    break;
                }
                if cp.timestamp < pc.timestamp {
                    failure = Some(
                        Failure::new(
                            FailureKind::TimeOrder,
                            format!(
                                "timestamp {} is before {} of {}",
                                cp.timestamp, pc.timestamp, p.file
                            ),
                        )
                        .checkpoint(&c.file, cp.size),
                    );
                    break;
                }
            }
            prev = Some(c);
        }
        if let Some(f) = failure {
            self.fail(f);
            return;
        }
        // A size-0 checkpoint is due before any event.
        self.check_due_checkpoints();
    }

    /// Verifies every checkpoint whose size equals the number of events seen.
    fn check_due_checkpoints(&mut self) {
        let size = self.frontier.size();
        while let Some(c) = self.checkpoints.get(self.next_checkpoint) {
            let cp = &c.signed.checkpoint;
            if cp.size != size {
                break;
            }
            let failure = match self.keyring.verify(&c.signed) {
                Err(e) => {
                    let kind = match e {
                        CheckpointError::BadSignature { .. } => FailureKind::BadSignature,
                        CheckpointError::KeyNotValid { .. } => FailureKind::KeyNotValid,
                        CheckpointError::NoTrustedSignature => FailureKind::UntrustedKey,
                        _ => FailureKind::CheckpointMalformed,
                    };
                    Some(Failure::new(kind, e.to_string()).checkpoint(&c.file, cp.size))
                }
                Ok(_) if cp.root != self.frontier.root() => {
                    let from = self
                        .last_verified
                        .and_then(|i| self.checkpoints.get(i))
                        .map_or(0, |p| p.signed.checkpoint.size);
                    Some(
                        Failure::new(
                            FailureKind::RootMismatch,
                            format!(
                                "events [{from}, {size}) do not hash to the signed root: \
                                 one of them was changed, replaced, reordered or removed"
                            ),
                        )
                        .checkpoint(&c.file, cp.size)
                        .index(from),
                    )
                }
                Ok(_) => None,
            };
            if let Some(f) = failure {
                self.fail(f);
                return;
            }
            self.last_verified = Some(self.next_checkpoint);
            self.next_checkpoint += 1;
        }
    }

    /// Feeds one event file, in log order. Returns `false` once a failure is recorded.
    ///
    /// Lines are read in batches; leaf hashes of a batch are computed on several
    /// threads (hashing is most of the work), then every line is checked strictly in
    /// order, so the first failure reported is the first in the log.
    pub fn feed<R: BufRead>(&mut self, file: &str, mut reader: R) -> bool {
        self.start();
        if self.failed() {
            return false;
        }
        self.files += 1;
        let mut line_no = 0u64;
        let mut batch = std::mem::take(&mut self.batch);
        'file: loop {
            batch.clear();
            let mut eof = false;
            let mut read_error = None;
            while batch.data.len() < BATCH_BYTES && batch.lines.len() < BATCH_LINES {
                let start = batch.data.len();
                match reader.read_until(b'\n', &mut batch.data) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(_) => batch.lines.push(start..batch.data.len()),
                    Err(e) => {
                        // Bytes of the failed read are not a line; drop them.
                        batch.data.truncate(start);
                        read_error = Some(e);
                        break;
                    }
                }
            }
            batch.analyze(self.threads);
            for k in 0..batch.lines.len() {
                line_no += 1;
                if !self.check_line(file, line_no, &batch, k, &mut reader) {
                    break 'file;
                }
            }
            if let Some(e) = read_error {
                let expected = self.frontier.size();
                self.fail(
                    Failure::new(
                        FailureKind::Unreadable,
                        format!("read error after line {line_no}: {e}"),
                    )
                    .at(file, line_no + 1)
                    .index(expected),
                );
                break;
            }
            if eof {
                break;
            }
        }
        self.batch = batch;
        !self.failed()
    }

    fn check_line<R: BufRead>(
        &mut self,
        file: &str,
        line_no: u64,
        batch: &Batch,
        k: usize,
        rest: &mut R,
    ) -> bool {
        let expected = self.frontier.size();
        let info = batch.infos.get(k).cloned().unwrap_or(LineInfo::Pending);
        let (index, stated, leaf, event) = match info {
            LineInfo::NoNewline => {
                self.fail(
                    Failure::new(
                        FailureKind::Truncated,
                        "last line is incomplete (no newline): the file was cut short",
                    )
                    .at(file, line_no)
                    .index(expected),
                );
                return false;
            }
            LineInfo::Malformed | LineInfo::Pending => {
                let body = batch.line(k).map(|l| l.strip_suffix(b"\n").unwrap_or(l));
                self.fail(
                    Failure::new(FailureKind::Malformed, "not an event line")
                        .at(file, line_no)
                        .index(expected)
                        .event_id(body.and_then(find_event_bytes)),
                );
                return false;
            }
            LineInfo::Parsed {
                index,
                stated,
                leaf,
                event,
            } => (index, stated, leaf, batch.data.get(event)),
        };
        if index != expected {
            let later = batch
                .lines
                .get(k + 1..)
                .unwrap_or(&[])
                .iter()
                .filter_map(|r| batch.data.get(r.clone()));
            let f = classify_sequence(expected, index, later, rest)
                .at(file, line_no)
                .event_id(event);
            self.fail(f);
            return false;
        }
        if leaf != stated {
            self.fail(
                Failure::new(
                    FailureKind::Edited,
                    "event bytes do not match the leaf hash recorded with them",
                )
                .at(file, line_no)
                .index(expected)
                .event_id(event),
            );
            return false;
        }
        if self.options.check_events {
            let verdict = event.map(RedactedEvent::from_canonical_bytes);
            if let Some(Err(e)) = verdict {
                self.fail(
                    Failure::new(FailureKind::InvalidEvent, e.to_string())
                        .at(file, line_no)
                        .index(expected)
                        .event_id(event),
                );
                return false;
            }
        }
        if let Err(e) = self.frontier.append(leaf) {
            self.fail(Failure::new(FailureKind::Malformed, e.to_string()).at(file, line_no));
            return false;
        }
        if self
            .checkpoints
            .get(self.next_checkpoint)
            .is_some_and(|c| c.signed.checkpoint.size == expected + 1)
        {
            self.check_due_checkpoints();
            if self.failed() {
                return false;
            }
        }
        true
    }

    /// Ends verification and reports.
    #[must_use]
    pub fn finish(mut self) -> VerifyReport {
        self.start();
        let size = self.frontier.size();
        if !self.failed()
            && let Some(c) = self.checkpoints.get(self.next_checkpoint)
        {
            let f = Failure::new(
                FailureKind::Truncated,
                format!(
                    "checkpoint covers {} events but the export holds only {size}",
                    c.signed.checkpoint.size
                ),
            )
            .checkpoint(&c.file, c.signed.checkpoint.size)
            .index(size);
            self.fail(f);
        }
        let latest = self
            .last_verified
            .and_then(|i| self.checkpoints.get(i))
            .map(|c| c.signed.checkpoint.clone());
        let anchored = latest.as_ref().map_or(0, |c| c.size);
        let unanchored = size.saturating_sub(anchored);
        if !self.failed() && unanchored > 0 && !self.options.allow_unanchored_tail {
            self.fail(
                Failure::new(
                    FailureKind::UnanchoredTail,
                    format!("{unanchored} events after the last checkpoint are not signed"),
                )
                .index(anchored),
            );
        }
        VerifyReport {
            events: size,
            files: self.files,
            checkpoints_verified: self.last_verified.map_or(0, |i| i as u64 + 1),
            latest_checkpoint: latest,
            root: self.frontier.root(),
            unanchored_events: unanchored,
            failure: self.failure,
        }
    }
}

/// The event bytes of a line that failed envelope parsing, if they can be found.
fn find_event_bytes(line: &[u8]) -> Option<&[u8]> {
    let at = line.windows(EVENT_KEY.len()).position(|w| w == EVENT_KEY)?;
    line.get(at + EVENT_KEY.len()..)?.strip_suffix(b"}")
}

/// Names an index discontinuity: if the expected index turns up later in the same
/// file the events were reordered, otherwise they are missing. `later` are the lines
/// already read after this one, `rest` the unread remainder of the file.
fn classify_sequence<'a, R: BufRead>(
    expected: u64,
    found: u64,
    later: impl Iterator<Item = &'a [u8]>,
    rest: &mut R,
) -> Failure {
    if found < expected {
        return Failure::new(
            FailureKind::Reordered,
            format!("found index {found} where {expected} was expected (index went backwards)"),
        )
        .index(found);
    }
    let is_expected = |raw: &[u8]| {
        let body = raw.strip_suffix(b"\n").unwrap_or(raw);
        parse_event_line(body).is_some_and(|l| l.index == expected)
    };
    let mut distance = 0u64;
    let mut seen = false;
    for raw in later {
        distance += 1;
        if is_expected(raw) {
            seen = true;
            break;
        }
    }
    let mut buf = Vec::new();
    while !seen {
        buf.clear();
        match rest.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                distance += 1;
                seen = is_expected(&buf);
            }
        }
    }
    if seen {
        return Failure::new(
            FailureKind::Reordered,
            format!(
                "found index {found} where {expected} was expected; \
                 {expected} appears {distance} lines further on"
            ),
        )
        .index(expected);
    }
    Failure::new(
        FailureKind::Missing,
        format!(
            "found index {found} where {expected} was expected: events [{expected}, {found}) are absent"
        ),
    )
    .index(expected)
}

/// Lines per verification batch, and bytes per batch (whichever comes first).
const BATCH_LINES: usize = 8192;
const BATCH_BYTES: usize = 8 << 20;
/// Below this many lines a batch is hashed on the calling thread.
const PARALLEL_MIN_LINES: usize = 512;

/// What a line says, worked out off the ordered path.
#[derive(Debug, Clone)]
enum LineInfo {
    /// Not analysed yet.
    Pending,
    /// The line has no terminating newline (end of a cut file).
    NoNewline,
    /// Not an event line.
    Malformed,
    /// A well-formed line: its index, stated and computed leaf hash, event byte range.
    Parsed {
        index: u64,
        stated: Hash,
        leaf: Hash,
        event: std::ops::Range<usize>,
    },
}

/// A batch of raw lines and what each says.
#[derive(Debug, Default)]
struct Batch {
    data: Vec<u8>,
    lines: Vec<std::ops::Range<usize>>,
    infos: Vec<LineInfo>,
}

impl Batch {
    fn clear(&mut self) {
        self.data.clear();
        self.lines.clear();
        self.infos.clear();
    }

    fn line(&self, k: usize) -> Option<&[u8]> {
        self.lines.get(k).and_then(|r| self.data.get(r.clone()))
    }

    /// Parses and hashes every line, on up to `threads` threads.
    fn analyze(&mut self, threads: usize) {
        let Batch { data, lines, infos } = self;
        infos.clear();
        infos.resize(lines.len(), LineInfo::Pending);
        let data: &[u8] = data;
        let run = |ls: &[std::ops::Range<usize>], out: &mut [LineInfo]| {
            for (r, slot) in ls.iter().zip(out.iter_mut()) {
                *slot = analyze_line(data, r.clone());
            }
        };
        if threads <= 1 || lines.len() < PARALLEL_MIN_LINES {
            run(lines, infos);
            return;
        }
        let chunk = lines.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let mut parts = lines.chunks(chunk).zip(infos.chunks_mut(chunk));
            // The calling thread takes the first part itself.
            let first = parts.next();
            for (ls, out) in parts {
                // If no thread can be had, the part stays `Pending` and is done below.
                let _ = std::thread::Builder::new().spawn_scoped(scope, move || run(ls, out));
            }
            if let Some((ls, out)) = first {
                run(ls, out);
            }
        });
        for (r, slot) in lines.iter().zip(infos.iter_mut()) {
            if matches!(slot, LineInfo::Pending) {
                *slot = analyze_line(data, r.clone());
            }
        }
    }
}

fn analyze_line(data: &[u8], range: std::ops::Range<usize>) -> LineInfo {
    let start = range.start;
    let Some(raw) = data.get(range) else {
        return LineInfo::Malformed;
    };
    let Some(body) = raw.strip_suffix(b"\n") else {
        return LineInfo::NoNewline;
    };
    let Some(line) = parse_event_line(body) else {
        return LineInfo::Malformed;
    };
    // The event is the body minus its envelope prefix and the closing brace.
    let offset = start + body.len() - 1 - line.event.len();
    LineInfo::Parsed {
        index: line.index,
        stated: line.leaf_hash,
        leaf: leaf_hash(line.event),
        event: offset..offset + line.event.len(),
    }
}

/// Verifies an export directory against `keyring` (see the module docs for the
/// layout). Reads each file once, streaming; memory stays O(log n + checkpoints).
pub fn verify_export(
    dir: &Path,
    keyring: &Keyring,
    options: &VerifyOptions,
) -> Result<VerifyReport, ExportError> {
    let mut verifier = Verifier::new(keyring, options.clone());
    let cp_dir = dir.join(CHECKPOINT_DIR);
    let mut cp_files = Vec::new();
    match fs::read_dir(&cp_dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(io_at(&cp_dir))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".txt") {
                    cp_files.push(name);
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_at(&cp_dir)(e)),
    }
    cp_files.sort();
    for name in cp_files {
        let path = cp_dir.join(&name);
        let mut text = Vec::new();
        // One byte over the limit is enough to have the parser reject it.
        File::open(&path)
            .and_then(|f| {
                f.take(crate::checkpoint::MAX_NOTE_LEN as u64 + 1)
                    .read_to_end(&mut text)
            })
            .map_err(io_at(&path))?;
        verifier.add_checkpoint(&format!("{CHECKPOINT_DIR}/{name}"), &text);
    }
    for name in event_files(dir)? {
        let path = dir.join(&name);
        let file = File::open(&path).map_err(io_at(&path))?;
        let ok = if name.ends_with(EVENTS_GZ_EXT) {
            let reader = BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(file));
            verifier.feed(&name, reader)
        } else {
            verifier.feed(&name, BufReader::with_capacity(256 * 1024, file))
        };
        if !ok {
            break;
        }
    }
    Ok(verifier.finish())
}
