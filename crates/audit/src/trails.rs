//! Trails: named, per-account delivery of events beyond the queryable retention.
//!
//! A logging trail delivers, every `delivery_interval`, the events committed since its
//! last delivery that belong to its scope (its account, or for an organization trail the
//! management account and every member of its resource directory) and match its
//! `EventRW`. Each delivery is one gzip JSON-lines file (export line format:
//! `{"index","leafHash","event"}`) plus the signed checkpoint that covers it and the
//! public keyring, under
//!
//! ```text
//! <delivery root>/<OssBucketName>/<OssKeyPrefix>/AliyunLogs/Actiontrail/<account>/
//!     <region>/<yyyy>/<mm>/<dd>/<account>_CloudwardTrail_<region>_<time>_<first>-<last>.jsonl.gz
//!     checkpoints/<size>.txt
//!     keys.json
//! ```
//!
//! A trail without a bucket delivers to `<delivery root>/trail-<account>-<name>/`. Files
//! are written to a temporary name and renamed, so a reader never sees half a file.
//! Delivered files are never removed by retention.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use cloudward_trail::export::write_event_line;
use cloudward_trail::merkle::leaf_hash;
use flate2::Compression;
use flate2::write::GzEncoder;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use crate::AuditError;
use crate::log::{AuditLog, now_unix, stored_checkpoint};

/// One trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trail {
    /// Owning account.
    pub account_id: String,
    /// Trail name.
    pub name: String,
    /// `All`, `Read` or `Write`.
    pub event_rw: String,
    /// Organization trail (management account only).
    pub is_org: bool,
    /// Delivery bucket (a directory under the delivery root, or an S3 bucket).
    pub oss_bucket: String,
    /// Key prefix inside the bucket.
    pub oss_prefix: String,
    /// `OssWriteRoleArn` (kept, not used: delivery is local).
    pub oss_role: String,
    /// `SlsProjectArn` (kept, not used).
    pub sls_project: String,
    /// `SlsWriteRoleArn` (kept, not used).
    pub sls_role: String,
    /// `TrailRegion` (`All` by default).
    pub trail_region: String,
    /// Region the trail was created in.
    pub home_region: String,
    /// Whether it is logging.
    pub logging: bool,
    /// Creation time, unix seconds.
    pub created_s: i64,
    /// Last update, unix seconds.
    pub updated_s: i64,
    /// Last `StartLogging`.
    pub start_logging_s: Option<i64>,
    /// Last `StopLogging`.
    pub stop_logging_s: Option<i64>,
    /// Next log index to consider for delivery.
    pub cursor: u64,
    /// Events delivered so far.
    pub delivered: u64,
    /// Last successful delivery.
    pub last_delivery_s: Option<i64>,
    /// Last delivery error.
    pub last_error: Option<String>,
}

const COLS: &str = "account_id, name, event_rw, is_org, oss_bucket, oss_prefix, oss_role, sls_project, sls_role, trail_region, home_region, logging, created_s, updated_s, start_logging_s, stop_logging_s, cursor, delivered, last_delivery_s, last_error";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Trail> {
    Ok(Trail {
        account_id: r.get(0)?,
        name: r.get(1)?,
        event_rw: r.get(2)?,
        is_org: r.get::<_, i64>(3)? != 0,
        oss_bucket: r.get(4)?,
        oss_prefix: r.get(5)?,
        oss_role: r.get(6)?,
        sls_project: r.get(7)?,
        sls_role: r.get(8)?,
        trail_region: r.get(9)?,
        home_region: r.get(10)?,
        logging: r.get::<_, i64>(11)? != 0,
        created_s: r.get(12)?,
        updated_s: r.get(13)?,
        start_logging_s: r.get(14)?,
        stop_logging_s: r.get(15)?,
        cursor: u64::try_from(r.get::<_, i64>(16)?).unwrap_or(0),
        delivered: u64::try_from(r.get::<_, i64>(17)?).unwrap_or(0),
        last_delivery_s: r.get(18)?,
        last_error: r.get(19)?,
    })
}

fn i(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Inserts a trail; false if one with that name exists in the account.
pub fn insert(conn: &Connection, t: &Trail) -> Result<bool, AuditError> {
    let n = conn.execute(
        &format!("INSERT OR IGNORE INTO trails ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"),
        params![
            t.account_id, t.name, t.event_rw, i64::from(t.is_org), t.oss_bucket, t.oss_prefix,
            t.oss_role, t.sls_project, t.sls_role, t.trail_region, t.home_region,
            i64::from(t.logging), t.created_s, t.updated_s, t.start_logging_s, t.stop_logging_s,
            i(t.cursor), i(t.delivered), t.last_delivery_s, t.last_error
        ],
    )?;
    Ok(n == 1)
}

/// Replaces a trail's settings (not its delivery state).
pub fn update(conn: &Connection, t: &Trail) -> Result<bool, AuditError> {
    let n = conn.execute(
        "UPDATE trails SET event_rw = ?3, oss_bucket = ?4, oss_prefix = ?5, oss_role = ?6, sls_project = ?7, sls_role = ?8, trail_region = ?9, updated_s = ?10 WHERE account_id = ?1 AND name = ?2",
        params![
            t.account_id, t.name, t.event_rw, t.oss_bucket, t.oss_prefix, t.oss_role,
            t.sls_project, t.sls_role, t.trail_region, t.updated_s
        ],
    )?;
    Ok(n == 1)
}

/// Deletes a trail; false if it did not exist.
pub fn delete(conn: &Connection, account: &str, name: &str) -> Result<bool, AuditError> {
    Ok(conn.execute(
        "DELETE FROM trails WHERE account_id = ?1 AND name = ?2",
        params![account, name],
    )? == 1)
}

/// Starts or stops logging. Starting moves the cursor to `from` (the current log size)
/// if the trail was stopped, so a stopped period is not delivered later.
pub fn set_logging(
    conn: &Connection,
    account: &str,
    name: &str,
    on: bool,
    now: i64,
    from: u64,
) -> Result<bool, AuditError> {
    let n = if on {
        conn.execute(
            "UPDATE trails SET cursor = CASE WHEN logging = 1 THEN cursor ELSE ?4 END, logging = 1, start_logging_s = ?3 WHERE account_id = ?1 AND name = ?2",
            params![account, name, now, i(from)],
        )?
    } else {
        conn.execute(
            "UPDATE trails SET logging = 0, stop_logging_s = ?3 WHERE account_id = ?1 AND name = ?2 AND logging = 1",
            params![account, name, now],
        )?;
        conn.query_row(
            "SELECT COUNT(*) FROM trails WHERE account_id = ?1 AND name = ?2",
            params![account, name],
            |r| r.get::<_, i64>(0),
        )
        .map(|c| usize::try_from(c).unwrap_or(0))?
    };
    Ok(n == 1)
}

/// One trail.
pub fn get(conn: &Connection, account: &str, name: &str) -> Result<Option<Trail>, AuditError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLS} FROM trails WHERE account_id = ?1 AND name = ?2"),
            params![account, name],
            from_row,
        )
        .optional()?)
}

/// The trails of an account, by name.
pub fn list(conn: &Connection, account: &str) -> Result<Vec<Trail>, AuditError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLS} FROM trails WHERE account_id = ?1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([account], from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Every trail that is logging.
pub fn logging(conn: &Connection) -> Result<Vec<Trail>, AuditError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLS} FROM trails WHERE logging = 1 ORDER BY account_id, name"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Whether `account` has a logging organization trail.
pub fn has_org_trail(conn: &Connection, account: &str) -> Result<bool, AuditError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM trails WHERE account_id = ?1 AND is_org = 1 AND logging = 1",
        [account],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

/// The API representation (`DescribeTrails` / `CreateTrail` responses).
#[must_use]
pub fn to_json(t: &Trail, region: &str) -> Value {
    json!({
        "Name": t.name,
        "HomeRegion": t.home_region,
        "EventRW": t.event_rw,
        "IsOrganizationTrail": t.is_org,
        "OssBucketName": t.oss_bucket,
        "OssKeyPrefix": t.oss_prefix,
        "OssWriteRoleArn": t.oss_role,
        "SlsProjectArn": t.sls_project,
        "SlsWriteRoleArn": t.sls_role,
        "TrailRegion": t.trail_region,
        "Region": region,
        "Status": if t.logging { "Enable" } else { "Disable" },
        "TrailArn": format!("acs:actiontrail:{}:{}:trail/{}", t.home_region, t.account_id, t.name),
        "CreateTime": iso(t.created_s),
        "UpdateTime": iso(t.updated_s),
        "StartLoggingTime": t.start_logging_s.map(iso).unwrap_or_default(),
        "StopLoggingTime": t.stop_logging_s.map(iso).unwrap_or_default(),
    })
}

/// `yyyy-MM-ddTHH:mm:ssZ`.
#[must_use]
pub fn iso(s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(s)
        .map(cloudward_protocol::format_timestamp)
        .unwrap_or_default()
}

/// Where a trail's files go.
#[must_use]
pub fn delivery_base(root: &Path, t: &Trail) -> PathBuf {
    let mut base = if t.oss_bucket.is_empty() {
        root.join(format!("trail-{}-{}", t.account_id, t.name))
    } else {
        root.join(&t.oss_bucket)
    };
    for part in t
        .oss_prefix
        .split('/')
        .filter(|p| !p.is_empty() && *p != "..")
    {
        base.push(part);
    }
    base.join("AliyunLogs")
        .join("Actiontrail")
        .join(&t.account_id)
}

fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    let io = |e: std::io::Error| AuditError::Io(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// Accounts a trail covers.
fn scope(log: &AuditLog, t: &Trail) -> BTreeSet<String> {
    let mut accounts = BTreeSet::from([t.account_id.clone()]);
    if t.is_org
        && let (Some(store), Some(rt)) = (&log.shared.store, &log.shared.runtime)
    {
        match rt.block_on(store.rd_list_members(&t.account_id, None)) {
            Ok(members) => accounts.extend(members.into_iter().map(|m| m.account_id)),
            Err(err) => {
                tracing::warn!(error = %err, trail = %t.name, "cannot list organization members")
            }
        }
    }
    accounts
}

/// Delivers every logging trail once (called by the maintenance thread, and by tests).
/// Returns the number of events delivered.
pub fn deliver_all(log: &AuditLog) -> Result<u64, AuditError> {
    let trails = log.read_blocking(logging)?;
    let mut total = 0;
    for t in trails {
        let outcome = deliver_one(log, &t);
        let now = i64::try_from(now_unix(log.shared.clock.as_ref())).unwrap_or(0);
        let (account, name) = (t.account_id.clone(), t.name.clone());
        match outcome {
            Ok(Some((cursor, n))) => {
                total += n;
                log.write_blocking(move |c| {
                    c.execute(
                        "UPDATE trails SET cursor = ?3, delivered = delivered + ?4, last_delivery_s = ?5, last_error = NULL WHERE account_id = ?1 AND name = ?2",
                        params![account, name, i(cursor), i(n), now],
                    )?;
                    Ok(())
                })?;
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %err, trail = %t.name, "trail delivery failed");
                let msg = err.to_string();
                log.write_blocking(move |c| {
                    c.execute(
                        "UPDATE trails SET last_error = ?3 WHERE account_id = ?1 AND name = ?2",
                        params![account, name, msg],
                    )?;
                    Ok(())
                })?;
            }
        }
    }
    Ok(total)
}

/// Delivers one trail; returns the new cursor and the number of events written.
fn deliver_one(log: &AuditLog, t: &Trail) -> Result<Option<(u64, u64)>, AuditError> {
    let size = log.size();
    if t.cursor >= size {
        return Ok(None);
    }
    let latest = log.read_blocking(|c| stored_checkpoint(c, None))?;
    let cp = match latest {
        Some(cp) if cp.checkpoint.size >= size => cp,
        _ => log.checkpoint_blocking()?,
    };
    let upto = cp.checkpoint.size;
    let accounts = scope(log, t);
    let rw = t.event_rw.clone();
    let from = t.cursor;
    let rows: Vec<(u64, Vec<u8>)> = log.read_blocking(move |c| {
        let mut out = Vec::new();
        crate::blocks::for_each_event(c, from, upto, |idx, body| {
            let f = crate::blocks::EventFields::parse(body)?;
            let account = f.user_identity.account_id.as_deref().unwrap_or("");
            if accounts.iter().any(|a| a == account) && (rw == "All" || rw == f.event_rw) {
                out.push((idx, body.to_vec()));
            }
            Ok(())
        })?;
        Ok(out)
    })?;
    let base = delivery_base(&log.shared.options.delivery_root, t);
    let region = &log.shared.options.region;
    let now = now_unix(log.shared.clock.as_ref());
    let n = rows.len() as u64;
    if let (Some((first, _)), Some((last, _))) = (rows.first(), rows.last()) {
        let when = time::OffsetDateTime::from_unix_timestamp(i64::try_from(now).unwrap_or(0))
            .map_err(|e| AuditError::Io(e.to_string()))?;
        let dir = base
            .join(region)
            .join(format!("{:04}", when.year()))
            .join(format!("{:02}", u8::from(when.month())))
            .join(format!("{:02}", when.day()));
        let stamp = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            when.year(),
            u8::from(when.month()),
            when.day(),
            when.hour(),
            when.minute(),
            when.second()
        );
        let file = dir.join(format!(
            "{}_CloudwardTrail_{region}_{stamp}_{first:020}-{last:020}.jsonl.gz",
            t.account_id
        ));
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        for (index, body) in &rows {
            write_event_line(&mut gz, *index, &leaf_hash(body), body)
                .map_err(|e| AuditError::Io(e.to_string()))?;
        }
        let bytes = gz.finish().map_err(|e| AuditError::Io(e.to_string()))?;
        write_file_atomic(&file, &bytes)?;
        crate::maintenance::upload(log, t, &file, &bytes);
    }
    let cp_path = base.join("checkpoints").join(format!("{upto:020}.txt"));
    let cp_text = cp.to_text()?;
    write_file_atomic(&cp_path, cp_text.as_bytes())?;
    crate::maintenance::upload(log, t, &cp_path, cp_text.as_bytes());
    let keys = log.keyring()?.to_json()?;
    let keys_path = base.join("keys.json");
    write_file_atomic(&keys_path, &keys)?;
    crate::maintenance::upload(log, t, &keys_path, &keys);
    Ok(Some((upto, n)))
}

/// Lowest cursor among logging trails (retention must not purge what they have yet to
/// deliver).
pub fn min_logging_cursor(conn: &Connection) -> Result<Option<u64>, AuditError> {
    let v: Option<i64> = conn.query_row(
        "SELECT MIN(cursor) FROM trails WHERE logging = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(v.map(|v| u64::try_from(v).unwrap_or(0)))
}

/// Validates a trail name: 6–36 characters, lower-case letters, digits, `-` and `_`,
/// starting with a lower-case letter.
#[must_use]
pub fn valid_name(name: &str) -> bool {
    (6..=36).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}
