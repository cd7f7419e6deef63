//! The maintenance thread: periodic checkpoints, trail delivery and retention purge.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use crate::AuditError;
use crate::log::{AuditLog, now_unix};
use crate::trails::{self, Trail};

/// Rows deleted per purge transaction (keeps the writer's pauses short).
const PURGE_CHUNK: i64 = 20_000;

pub(crate) fn spawn(
    log: AuditLog,
) -> Result<(std::sync::mpsc::Sender<()>, JoinHandle<()>), AuditError> {
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("audit-maintenance".to_owned())
        .spawn(move || {
            let opts = log.shared.options.clone();
            let mut last_delivery = Instant::now();
            let mut last_purge: Option<Instant> = None;
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stop_rx.recv_timeout(Duration::from_millis(500))
            {
                let now = now_unix(log.shared.clock.as_ref());
                let last_cp = log.shared.last_checkpoint_ts.load(Ordering::Acquire);
                if now.saturating_sub(last_cp) >= opts.checkpoint_interval.as_secs().max(1)
                    && needs_checkpoint(&log)
                    && let Err(err) = log.checkpoint_blocking()
                {
                    tracing::warn!(error = %err, "periodic checkpoint failed");
                }
                if last_delivery.elapsed() >= opts.delivery_interval {
                    last_delivery = Instant::now();
                    if let Err(err) = trails::deliver_all(&log) {
                        tracing::warn!(error = %err, "trail delivery failed");
                    }
                }
                if last_purge.is_none_or(|t| t.elapsed() >= Duration::from_secs(600)) {
                    // At most 10 chunks per tick, so shutdown is never held up for long;
                    // while there is more to purge, the next tick continues.
                    match purge(&log, opts.retention, 10) {
                        Ok((n, more)) => {
                            if n > 0 {
                                tracing::info!(events = n, "purged events past retention");
                            }
                            if !more {
                                last_purge = Some(Instant::now());
                            }
                        }
                        Err(err) => {
                            last_purge = Some(Instant::now());
                            tracing::warn!(error = %err, "retention purge failed");
                        }
                    }
                }
            }
        })
        .map_err(|e| AuditError::Storage(format!("cannot start audit maintenance: {e}")))?;
    Ok((stop_tx, thread))
}

fn needs_checkpoint(log: &AuditLog) -> bool {
    let size = log.size();
    match log.read_blocking(|c| {
        Ok(c.query_row("SELECT MAX(size) FROM checkpoints", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?)
    }) {
        Ok(Some(latest)) => u64::try_from(latest).unwrap_or(0) < size,
        Ok(None) => true,
        Err(_) => false,
    }
}

/// Start of the first block holding an event at or after `cutoff_s`: blocks before it
/// are purgeable. Events are appended in receive order, so block times grow with the
/// index up to the commit skew of a batch: a binary search over block starts.
fn first_block_at(conn: &Connection, cutoff_s: i64) -> Result<Option<i64>, AuditError> {
    let bounds: Option<(i64, i64)> =
        conn.query_row("SELECT MIN(first), MAX(first) FROM blocks", [], |r| {
            Ok(
                match (r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                },
            )
        })?;
    let Some((mut lo, max)) = bounds else {
        return Ok(None);
    };
    let mut hi = max + 1;
    let mut stmt = conn.prepare_cached(
        "SELECT first, tmax FROM blocks WHERE first >= ?1 ORDER BY first LIMIT 1",
    )?;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let row: Option<(i64, i64)> = stmt
            .query_row([mid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            Some((first, tmax)) if tmax < cutoff_s => lo = first + 1,
            _ => hi = mid,
        }
    }
    Ok(Some(lo))
}

/// Deletes queryable events older than `retention`, whole blocks at a time (leaf hashes
/// stay, so proofs and checkpoints keep working). Never deletes what a logging trail
/// has yet to deliver.
pub(crate) fn purge(
    log: &AuditLog,
    retention: Duration,
    max_chunks: usize,
) -> Result<(u64, bool), AuditError> {
    let now = i64::try_from(now_unix(log.shared.clock.as_ref())).unwrap_or(0);
    let cutoff = now - i64::try_from(retention.as_secs()).unwrap_or(i64::MAX / 2);
    let mut total = 0u64;
    let mut last_end = None;
    for _ in 0..max_chunks {
        let deleted = log.write_blocking(move |c| {
            let Some(end) = first_block_at(c, cutoff)? else {
                return Ok((0, 0));
            };
            let cursor = trails::min_logging_cursor(c)?
                .map_or(i64::MAX, |v| i64::try_from(v).unwrap_or(i64::MAX));
            let start: Option<i64> =
                c.query_row("SELECT MIN(first) FROM blocks", [], |r| r.get(0))?;
            let Some(start) = start else {
                return Ok((0, 0));
            };
            let end = end.min(start + PURGE_CHUNK);
            // Whole blocks only, and none holding an event a trail has not delivered.
            let (n, upto): (i64, Option<i64>) = c.query_row(
                "SELECT COALESCE(SUM(n), 0), MAX(first + n) FROM blocks WHERE first < ?1 AND first + n <= ?2",
                params![end, cursor],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some(upto) = upto else {
                return Ok((0, 0));
            };
            c.execute(
                "DELETE FROM blocks WHERE first < ?1 AND first + n <= ?2",
                params![end, cursor],
            )?;
            Ok((u64::try_from(n).unwrap_or(0), u64::try_from(upto).unwrap_or(0)))
        })?;
        let (deleted, end) = deleted;
        total += deleted;
        if deleted == 0 {
            if let Some(end) = last_end {
                log.index_purged(end);
            }
            return Ok((total, false));
        }
        last_end = Some(end);
    }
    // Quota used up: more may remain; the index is told once per call (its clean-up
    // scans the posting table).
    if let Some(end) = last_end {
        log.index_purged(end);
    }
    Ok((total, true))
}

/// Copies a delivered file to S3-compatible storage when the `s3` feature is on and
/// `CLOUDWARD_TRAIL_S3_ENDPOINT` is set; a no-op otherwise.
#[cfg(not(feature = "s3"))]
pub(crate) fn upload(_log: &AuditLog, _trail: &Trail, _path: &Path, _bytes: &[u8]) {}

#[cfg(feature = "s3")]
pub(crate) fn upload(log: &AuditLog, trail: &Trail, path: &Path, bytes: &[u8]) {
    use object_store::ObjectStore;
    use object_store::aws::AmazonS3Builder;
    let Ok(endpoint) = std::env::var("CLOUDWARD_TRAIL_S3_ENDPOINT") else {
        return;
    };
    let Some(rt) = &log.shared.runtime else {
        return;
    };
    let root = &log.shared.options.delivery_root;
    let bucket = if trail.oss_bucket.is_empty() {
        return;
    } else {
        &trail.oss_bucket
    };
    let Ok(rel) = path.strip_prefix(root.join(bucket)) else {
        return;
    };
    let store = match AmazonS3Builder::from_env()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_allow_http(true)
        .build()
    {
        Ok(s) => s,
        Err(err) => {
            tracing::warn!(error = %err, "S3 delivery is misconfigured");
            return;
        }
    };
    let key = object_store::path::Path::from(rel.to_string_lossy().as_ref());
    let payload = object_store::PutPayload::from(bytes.to_vec());
    if let Err(err) = rt.block_on(store.put(&key, payload)) {
        tracing::warn!(error = %err, key = %key, "S3 delivery failed");
    }
}
