//! The AccessKey usage aggregate (ActionTrail `GetAccessKeyLastUsed*`).
//!
//! The indexer keeps, in `audit-index.db`, per AccessKey of an account: one row per
//! (service, action, source IP) and one per (service, resource type, resource name)
//! with a count and the last use time, and the latest use (`ak_last`). It upserts each
//! distinct tuple once per flush, not once per event. Only authenticated calls count (an
//! `anonymous` event carries a *claimed* key id). The aggregate is not purged by
//! retention, so it remembers uses older than the queryable events; rebuilding the index
//! from `audit.db` (a deleted index file) recounts only the events still stored.

use rusqlite::{Connection, OptionalExtension, params};

use crate::AuditError;
use crate::index::string_id;

/// The latest use of an AccessKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUse {
    /// `userIdentity.userName` of the call.
    pub user_name: String,
    /// `userIdentity.type` of the call.
    pub identity_type: String,
    /// `serviceName`.
    pub service: String,
    /// `eventName`.
    pub action: String,
    /// `sourceIpAddress`.
    pub ip: String,
    /// Unix milliseconds (event times have whole seconds).
    pub last_ms: i64,
    /// Uses recorded in all.
    pub total: i64,
}

/// One aggregated item: a service, action, IP, or `type\u{0}name` resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// What was used (service, action, IP address; resource name).
    pub name: String,
    /// The resource type (resources only).
    pub kind: Option<String>,
    /// Uses recorded.
    pub count: i64,
    /// Unix milliseconds of the last use.
    pub last_ms: i64,
}

/// What to aggregate within one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Actions (`eventName`).
    Events,
    /// Source IP addresses.
    Ips,
    /// Referenced resources.
    Resources,
}

fn ids(conn: &Connection, account: &str, key: &str) -> Result<Option<(i64, i64)>, AuditError> {
    let (Some(a), Some(k)) = (string_id(conn, account)?, string_id(conn, key)?) else {
        return Ok(None);
    };
    Ok(Some((a, k)))
}

/// The latest use of `key` in `account`; `None` when the key has no recorded use there
/// (unknown, another account's, or never used).
pub fn last_used(
    conn: &Connection,
    account: &str,
    key: &str,
) -> Result<Option<LastUse>, AuditError> {
    let Some((a, k)) = ids(conn, account, key)? else {
        return Ok(None);
    };
    let row = conn
        .query_row(
            "SELECT u.s, t.s, s.s, e.s, i.s, l.last_ms,
                    (SELECT COALESCE(SUM(n), 0) FROM ix.ak_use WHERE acct = l.acct AND ak = l.ak)
             FROM ix.ak_last l
             JOIN ix.strings u ON u.id = l.user JOIN ix.strings t ON t.id = l.itype
             JOIN ix.strings s ON s.id = l.service JOIN ix.strings e ON e.id = l.action
             JOIN ix.strings i ON i.id = l.ip
             WHERE l.acct = ?1 AND l.ak = ?2",
            params![a, k],
            |r| {
                Ok(LastUse {
                    user_name: r.get(0)?,
                    identity_type: r.get(1)?,
                    service: r.get(2)?,
                    action: r.get(3)?,
                    ip: r.get(4)?,
                    last_ms: r.get(5)?,
                    total: r.get(6)?,
                })
            },
        )
        .optional()?;
    Ok(row)
}

/// Services `key` was used with, latest first.
pub fn products(conn: &Connection, account: &str, key: &str) -> Result<Vec<Usage>, AuditError> {
    let Some((a, k)) = ids(conn, account, key)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT s.s, SUM(u.n), MAX(u.last_ms) FROM ix.ak_use u JOIN ix.strings s ON s.id = u.service
         WHERE u.acct = ?1 AND u.ak = ?2 GROUP BY u.service ORDER BY 3 DESC, 1",
    )?;
    let rows = stmt.query_map(params![a, k], |r| {
        Ok(Usage {
            name: r.get(0)?,
            kind: None,
            count: r.get(1)?,
            last_ms: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Actions, IPs or resources of `key` within `service` (ASCII case-insensitive), in
/// name order (resources: type, then name), at most `limit` items after `after` (the
/// last item of the previous page). Name order keeps pages stable while uses are
/// recorded (an order by last use would move items between pages).
pub fn within_service(
    conn: &Connection,
    account: &str,
    key: &str,
    service: &str,
    dim: Dimension,
    after: Option<(&str, &str)>,
    limit: usize,
) -> Result<Vec<Usage>, AuditError> {
    let Some((a, k)) = ids(conn, account, key)? else {
        return Ok(Vec::new());
    };
    let sql = match dim {
        Dimension::Events => {
            "SELECT e.s, NULL, SUM(u.n), MAX(u.last_ms) FROM ix.ak_use u
             JOIN ix.strings s ON s.id = u.service JOIN ix.strings e ON e.id = u.action
             WHERE u.acct = ?1 AND u.ak = ?2 AND s.s = ?3 COLLATE NOCASE AND ?4 = '' AND e.s > ?5
             GROUP BY u.action ORDER BY 1 LIMIT ?6"
        }
        Dimension::Ips => {
            "SELECT i.s, NULL, SUM(u.n), MAX(u.last_ms) FROM ix.ak_use u
             JOIN ix.strings s ON s.id = u.service JOIN ix.strings i ON i.id = u.ip
             WHERE u.acct = ?1 AND u.ak = ?2 AND s.s = ?3 COLLATE NOCASE AND ?4 = '' AND i.s > ?5
             GROUP BY u.ip ORDER BY 1 LIMIT ?6"
        }
        Dimension::Resources => {
            "SELECT n.s, t.s, SUM(u.n), MAX(u.last_ms) FROM ix.ak_res u
             JOIN ix.strings s ON s.id = u.service JOIN ix.strings t ON t.id = u.rtype
             JOIN ix.strings n ON n.id = u.rname
             WHERE u.acct = ?1 AND u.ak = ?2 AND s.s = ?3 COLLATE NOCASE AND (t.s, n.s) > (?4, ?5)
             GROUP BY u.rtype, u.rname ORDER BY 2, 1 LIMIT ?6"
        }
    };
    // Events and IPs have no kind: the first key part is always '' there.
    let (after_kind, after_name) = match (dim, after) {
        (_, None) => ("", ""),
        (Dimension::Resources, Some((k, n))) => (k, n),
        (_, Some((_, n))) => ("", n),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(
        params![
            a,
            k,
            service,
            after_kind,
            after_name,
            i64::try_from(limit).unwrap_or(i64::MAX)
        ],
        |r| {
            Ok(Usage {
                name: r.get(0)?,
                kind: r.get(1)?,
                count: r.get(2)?,
                last_ms: r.get(3)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
