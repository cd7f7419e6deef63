//! `LookupEvents` queries over the stored events.
//!
//! Results are ordered by `(eventTime, log index)`, newest first (`BACKWARD`, the
//! default) or oldest first (`FORWARD`). A page ends with an opaque `NextToken` that
//! encodes the last `(eventTime, index)` returned, so paging is stable while new events
//! arrive. Every query is scoped to a list of accounts (the caller's, plus members of
//! its organization for a management account with an organization trail).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use crate::AuditError;

/// A `LookupAttribute.N.Key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    /// `EventName`.
    EventName,
    /// `ResourceName` (a name in `referencedResources`).
    ResourceName,
    /// `ResourceType` (a type in `referencedResources`, e.g. `ACS::RAM::User`).
    ResourceType,
    /// `EventRW` (`Read` / `Write`).
    EventRw,
    /// `EventAccessKeyId`.
    EventAccessKeyId,
    /// `ServiceName`.
    ServiceName,
    /// `UserName` (`userIdentity.userName`).
    UserName,
    /// `EventId`.
    EventId,
}

impl Attribute {
    /// Parses an attribute key as the API spells it.
    #[must_use]
    pub fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "EventName" => Self::EventName,
            "ResourceName" => Self::ResourceName,
            "ResourceType" => Self::ResourceType,
            "EventRW" => Self::EventRw,
            "EventAccessKeyId" => Self::EventAccessKeyId,
            "ServiceName" => Self::ServiceName,
            "UserName" => Self::UserName,
            "EventId" => Self::EventId,
            _ => return None,
        })
    }
}

/// Position after which a page continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// `eventTime` (unix seconds) of the last event returned.
    pub time_s: i64,
    /// Its log index.
    pub index: i64,
}

impl Cursor {
    /// The opaque `NextToken`.
    #[must_use]
    pub fn token(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("cw1.{}.{}", self.time_s, self.index))
    }

    /// Parses a `NextToken`.
    #[must_use]
    pub fn from_token(token: &str) -> Option<Self> {
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let mut parts = text.split('.');
        let (Some("cw1"), Some(t), Some(i), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(Self {
            time_s: t.parse().ok()?,
            index: i.parse().ok()?,
        })
    }
}

/// One `LookupEvents` query.
#[derive(Debug, Clone)]
pub struct LookupQuery {
    /// Accounts whose events may be returned (never empty in practice).
    pub accounts: Vec<String>,
    /// Window start, unix seconds (inclusive).
    pub start_s: i64,
    /// Window end, unix seconds (inclusive).
    pub end_s: i64,
    /// Attribute filters, all of which must match.
    pub filters: Vec<(Attribute, String)>,
    /// Page size.
    pub max_results: usize,
    /// Newest first (`BACKWARD`) when true.
    pub backward: bool,
    /// Continue after this position.
    pub after: Option<Cursor>,
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct LookupPage {
    /// Canonical event bytes, in order.
    pub events: Vec<Vec<u8>>,
    /// Where the next page starts, if there may be more.
    pub next: Option<Cursor>,
}

/// Runs a query.
pub fn lookup(conn: &Connection, q: &LookupQuery) -> Result<LookupPage, AuditError> {
    if q.accounts.is_empty() || q.max_results == 0 {
        return Ok(LookupPage {
            events: Vec::new(),
            next: None,
        });
    }
    // The index to scan: the most selective filter that has one.
    let has = |a: Attribute| {
        q.filters
            .iter()
            .find(|(x, _)| *x == a)
            .map(|(_, v)| v.clone())
    };
    let mut args: Vec<SqlValue> = Vec::new();
    let (table, key): (&str, Vec<(&str, String)>) = if let Some(id) = has(Attribute::EventId) {
        ("ix_id", vec![("event_id", id)])
    } else if let Some(u) = has(Attribute::UserName) {
        ("ix_user", vec![("user_name", u)])
    } else if let Some(n) = has(Attribute::EventName) {
        ("ix_name", vec![("event_name", n)])
    } else if let Some(k) = has(Attribute::EventAccessKeyId) {
        ("ix_key", vec![("access_key_id", k)])
    } else if let Some(t) = has(Attribute::ResourceType) {
        let mut key = vec![("rtype", t)];
        if let Some(n) = has(Attribute::ResourceName) {
            key.push(("rname", n));
        }
        ("ix_res_type", key)
    } else if let Some(n) = has(Attribute::ResourceName) {
        ("ix_res_name", vec![("rname", n)])
    } else {
        ("ix_time", vec![])
    };
    let by_id = table == "ix_id";
    let mut sql = String::with_capacity(512);
    sql.push_str(&format!(
        "SELECT e.idx, e.time_s, e.body FROM ix.{table} i JOIN events e ON e.idx = i.idx WHERE "
    ));
    // ix_id has no account or time columns: those are checked on the event row.
    let t = if by_id { "e" } else { "i" };
    if let [only] = q.accounts.as_slice() {
        sql.push_str(&format!("{t}.account_id = ?"));
        args.push(SqlValue::Text(only.clone()));
    } else {
        sql.push_str(&format!("{t}.account_id IN ("));
        for (i, a) in q.accounts.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('?');
            args.push(SqlValue::Text(a.clone()));
        }
        sql.push(')');
    }
    for (column, value) in &key {
        sql.push_str(&format!(" AND i.{column} = ?"));
        args.push(SqlValue::Text(value.clone()));
    }
    sql.push_str(&format!(" AND {t}.time_s BETWEEN ? AND ?"));
    args.push(SqlValue::Integer(q.start_s));
    args.push(SqlValue::Integer(q.end_s));
    for (attr, value) in &q.filters {
        // Filters the index does not cover are checked on the event row.
        let column = match attr {
            Attribute::EventName => "e.event_name",
            Attribute::EventRw => "e.event_rw",
            Attribute::EventAccessKeyId => "e.access_key_id",
            Attribute::ServiceName => "e.service_name",
            Attribute::UserName => "e.user_name",
            Attribute::EventId => "e.event_id",
            // Only one resource name/type pair is indexed per row; a second resource
            // filter is satisfied by the index choice above.
            Attribute::ResourceName | Attribute::ResourceType => continue,
        };
        sql.push_str(&format!(" AND {column} = ?"));
        args.push(SqlValue::Text(value.clone()));
    }
    let (cmp, dir) = if q.backward {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(c) = q.after {
        sql.push_str(&format!(" AND ({t}.time_s, i.idx) {cmp} (?, ?)"));
        args.push(SqlValue::Integer(c.time_s));
        args.push(SqlValue::Integer(c.index));
    }
    sql.push_str(&format!(" ORDER BY {t}.time_s {dir}, i.idx {dir} LIMIT ?"));
    args.push(SqlValue::Integer(
        i64::try_from(q.max_results).unwrap_or(50) + 1,
    ));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut events = Vec::with_capacity(q.max_results);
    let mut last: Option<Cursor> = None;
    let mut more = false;
    while let Some(row) = rows.next()? {
        let index: i64 = row.get(0)?;
        if last.is_some_and(|c| c.index == index) {
            // The same event reached through two of its resources.
            continue;
        }
        if events.len() == q.max_results {
            more = true;
            break;
        }
        let time_s: i64 = row.get(1)?;
        events.push(row.get::<_, Vec<u8>>(2)?);
        last = Some(Cursor { time_s, index });
    }
    Ok(LookupPage {
        events,
        next: if more { last } else { None },
    })
}
