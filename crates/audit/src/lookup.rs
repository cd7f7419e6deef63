//! `LookupEvents` queries over the stored events.
//!
//! Results are ordered by `(eventTime, log index)`, newest first (`BACKWARD`, the
//! default) or oldest first (`FORWARD`). A page ends with an opaque `NextToken` that
//! encodes the last `(eventTime, index)` returned, so paging is stable while new events
//! arrive. Every query is scoped to a list of accounts (the caller's, plus members of
//! its organization for a management account with an organization trail).
//!
//! A query reads the posting rows (see [`crate::index`]) of one key per account: the
//! most selective filter that has an index, or every event of the account. Events of a
//! posting row are only roughly in time order (a call received earlier can commit
//! later), so rows are merged with the bounds they carry: scanning newest first, every
//! event not yet read has `eventTime ≤ tmax_upto` of the next row, so a candidate at or
//! above that bound is final and can be returned (oldest first: `≥ tmin_after`). Final
//! candidates are read from their blocks and checked against the other filters; the
//! scan stops as soon as a page (plus one, to know whether more follow) is full.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::{BTreeSet, VecDeque};

use rusqlite::{Connection, params};

use crate::AuditError;
use crate::blocks::{Block, EventFields, block_at};
use crate::index::{decode_postings, id_candidates, id_prefix, kind, string_id};

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

/// A few recently read blocks (a page often takes several events from one block).
#[derive(Debug, Default)]
pub(crate) struct BlockCache {
    blocks: VecDeque<Block>,
    /// Ranges known to hold no block (purged).
    missing: Vec<u64>,
}

impl BlockCache {
    const KEEP: usize = 8;

    /// Canonical bytes of the event at `idx`, if stored.
    pub(crate) fn event(
        &mut self,
        conn: &Connection,
        idx: u64,
    ) -> Result<Option<&[u8]>, AuditError> {
        let pos = self
            .blocks
            .iter()
            .position(|b| idx >= b.first && idx < b.first + b.len() as u64);
        let pos = match pos {
            Some(p) => p,
            None => {
                if self.missing.contains(&idx) {
                    return Ok(None);
                }
                match block_at(conn, idx)? {
                    Some(b) => {
                        if self.blocks.len() >= Self::KEEP {
                            self.blocks.pop_front();
                        }
                        self.blocks.push_back(b);
                        self.blocks.len() - 1
                    }
                    None => {
                        self.missing.push(idx);
                        return Ok(None);
                    }
                }
            }
        };
        Ok(self.blocks.get(pos).and_then(|b| b.get(idx)))
    }
}

/// Whether the stored event satisfies every filter.
fn matches(f: &EventFields, filters: &[(Attribute, String)]) -> bool {
    let rtype = filters
        .iter()
        .find(|(a, _)| *a == Attribute::ResourceType)
        .map(|(_, v)| v.as_str());
    let rname = filters
        .iter()
        .find(|(a, _)| *a == Attribute::ResourceName)
        .map(|(_, v)| v.as_str());
    let resources = f.referenced_resources.as_ref();
    let resource_ok = match (rtype, rname) {
        (None, None) => true,
        (Some(t), None) => resources.is_some_and(|m| m.contains_key(t)),
        (None, Some(n)) => resources.is_some_and(|m| m.values().any(|l| l.iter().any(|x| x == n))),
        // Both: the same resource (as the old per-pair index answered).
        (Some(t), Some(n)) => {
            resources.is_some_and(|m| m.get(t).is_some_and(|l| l.iter().any(|x| x == n)))
        }
    };
    resource_ok
        && filters.iter().all(|(attr, v)| match attr {
            Attribute::EventName => f.event_name == *v,
            Attribute::EventRw => f.event_rw == *v,
            Attribute::EventAccessKeyId => f.user_identity.access_key_id.as_deref() == Some(v),
            Attribute::ServiceName => f.service_name == *v,
            Attribute::UserName => f.user_identity.user_name.as_deref() == Some(v),
            Attribute::EventId => f.event_id == *v,
            Attribute::ResourceName | Attribute::ResourceType => true,
        })
}

/// One posting row as a scan reads it.
struct PostRow {
    first: i64,
    /// `tmax_upto` (newest first) or `tmin_after` (oldest first).
    bound: i64,
    entries: Vec<(u64, i64)>,
}

/// The posting rows of one (kind, account, key), read a page at a time in scan order.
struct Stream {
    kind: i64,
    acct: i64,
    key: i64,
    rows: VecDeque<PostRow>,
    last_first: Option<i64>,
    done: bool,
}

const ROWS_PER_READ: i64 = 16;

impl Stream {
    /// The next row's bound, reading more rows when needed; `None` when no row can
    /// contribute any more.
    fn peek(&mut self, conn: &Connection, q: &LookupQuery) -> Result<Option<i64>, AuditError> {
        if self.rows.is_empty() && !self.done {
            self.read(conn, q)?;
        }
        let Some(row) = self.rows.front() else {
            return Ok(None);
        };
        // Newest first: rows from here on hold nothing at or after start_s.
        // Oldest first: nothing at or before end_s.
        let out = if q.backward {
            row.bound < q.start_s
        } else {
            row.bound > q.end_s
        };
        if out {
            self.rows.clear();
            self.done = true;
            return Ok(None);
        }
        Ok(Some(row.bound))
    }

    fn read(&mut self, conn: &Connection, q: &LookupQuery) -> Result<(), AuditError> {
        let sql = match (q.backward, self.last_first.is_some()) {
            // First page: skip the rows whose events are all past the window (bounds
            // are monotone, so they form the tail / the head of the key's rows).
            (true, false) => {
                "SELECT first, tmax_upto, data FROM ix.post WHERE kind = ?1 AND acct = ?2 AND key = ?3 AND tmin_after <= ?4 ORDER BY tmin_after DESC, first DESC LIMIT ?5"
            }
            (true, true) => {
                "SELECT first, tmax_upto, data FROM ix.post WHERE kind = ?1 AND acct = ?2 AND key = ?3 AND first < ?4 ORDER BY first DESC LIMIT ?5"
            }
            (false, false) => {
                "SELECT first, tmin_after, data FROM ix.post WHERE kind = ?1 AND acct = ?2 AND key = ?3 AND tmax_upto >= ?4 ORDER BY tmax_upto, first LIMIT ?5"
            }
            (false, true) => {
                "SELECT first, tmin_after, data FROM ix.post WHERE kind = ?1 AND acct = ?2 AND key = ?3 AND first > ?4 ORDER BY first LIMIT ?5"
            }
        };
        let arg = match (self.last_first, q.backward) {
            (Some(f), _) => f,
            (None, true) => q.after.map_or(q.end_s, |c| c.time_s.min(q.end_s)),
            (None, false) => q.after.map_or(q.start_s, |c| c.time_s.max(q.start_s)),
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![self.kind, self.acct, self.key, arg, ROWS_PER_READ])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            n += 1;
            let first: i64 = r.get(0)?;
            let data = r
                .get_ref(2)?
                .as_blob()
                .map_err(|e| AuditError::Storage(e.to_string()))?;
            self.rows.push_back(PostRow {
                first,
                bound: r.get(1)?,
                entries: decode_postings(u64::try_from(first).unwrap_or(0), data)?,
            });
            self.last_first = Some(first);
        }
        if n < ROWS_PER_READ {
            self.done = true;
        }
        Ok(())
    }
}

/// Whether `(t, idx)` lies in the window and after the page cursor.
fn in_range(q: &LookupQuery, t: i64, idx: u64) -> bool {
    if t < q.start_s || t > q.end_s {
        return false;
    }
    let i = i64::try_from(idx).unwrap_or(i64::MAX);
    match q.after {
        None => true,
        Some(c) if q.backward => (t, i) < (c.time_s, c.index),
        Some(c) => (t, i) > (c.time_s, c.index),
    }
}

/// Runs a query (on a connection with the index attached as `ix`).
pub fn lookup(conn: &Connection, q: &LookupQuery) -> Result<LookupPage, AuditError> {
    let empty = || LookupPage {
        events: Vec::new(),
        next: None,
    };
    if q.accounts.is_empty() || q.max_results == 0 {
        return Ok(empty());
    }
    if let Some((_, id)) = q.filters.iter().find(|(a, _)| *a == Attribute::EventId) {
        return lookup_by_id(conn, q, id);
    }
    // The index to scan: the most selective filter that has one.
    let has = |a: Attribute| q.filters.iter().position(|(x, _)| *x == a);
    let chosen = [
        (Attribute::UserName, kind::USER),
        (Attribute::EventName, kind::NAME),
        (Attribute::EventAccessKeyId, kind::KEY),
        (Attribute::ResourceName, kind::RNAME),
        (Attribute::ResourceType, kind::RTYPE),
        (Attribute::ServiceName, kind::SERVICE),
        (Attribute::EventRw, kind::RW),
    ]
    .into_iter()
    .find_map(|(a, k)| has(a).map(|p| (p, k)));
    let (key, residual): (i64, Vec<(Attribute, String)>) = match chosen {
        None => (0, q.filters.clone()),
        Some((pos, k)) => {
            let value = q.filters.get(pos).map(|(_, v)| v.as_str()).unwrap_or("");
            let key = if k == kind::RW {
                match value {
                    "Read" => Some(0),
                    "Write" => Some(1),
                    _ => None,
                }
            } else {
                string_id(conn, value)?
            };
            let Some(key) = key else {
                return Ok(empty());
            };
            let rest: Vec<_> = q
                .filters
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != pos)
                .map(|(_, f)| f.clone())
                .collect();
            // A resource name or type is checked on the event when the other one is
            // filtered too (they must name the same resource).
            let rest = if rest.is_empty() {
                rest
            } else {
                q.filters.clone()
            };
            (key, rest)
        }
    };
    let index_kind = chosen.map_or(kind::TIME, |(_, k)| k);
    let mut streams = Vec::with_capacity(q.accounts.len());
    for a in &q.accounts {
        if let Some(acct) = string_id(conn, a)? {
            streams.push(Stream {
                kind: index_kind,
                acct,
                key,
                rows: VecDeque::new(),
                last_first: None,
                done: false,
            });
        }
    }
    let want = q.max_results + 1;
    let mut found: Vec<(i64, u64, Vec<u8>)> = Vec::with_capacity(want);
    let mut candidates: BTreeSet<(i64, u64)> = BTreeSet::new();
    let mut blocks = BlockCache::default();
    'scan: loop {
        // The stream whose next row could hold the next result.
        let mut best: Option<(usize, i64)> = None;
        for (i, s) in streams.iter_mut().enumerate() {
            if let Some(b) = s.peek(conn, q)? {
                let better = best.is_none_or(|(_, x)| if q.backward { b > x } else { b < x });
                if better {
                    best = Some((i, b));
                }
            }
        }
        // Every candidate on the right side of the bound is final.
        loop {
            let top = if q.backward {
                candidates.last().copied()
            } else {
                candidates.first().copied()
            };
            let Some((t, idx)) = top else { break };
            let fin = best.is_none_or(|(_, b)| if q.backward { t >= b } else { t <= b });
            if !fin {
                break;
            }
            candidates.remove(&(t, idx));
            let Some(bytes) = blocks.event(conn, idx)? else {
                // Purged after the index was written.
                continue;
            };
            if !residual.is_empty() && !matches(&EventFields::parse(bytes)?, &residual) {
                continue;
            }
            found.push((t, idx, bytes.to_vec()));
            if found.len() == want {
                break 'scan;
            }
        }
        let Some((i, _)) = best else { break };
        let Some(row) = streams.get_mut(i).and_then(|s| s.rows.pop_front()) else {
            break;
        };
        let _ = row.first;
        candidates.extend(
            row.entries
                .into_iter()
                .filter(|(idx, t)| in_range(q, *t, *idx))
                .map(|(idx, t)| (t, idx)),
        );
    }
    Ok(page(found, q.max_results))
}

fn page(mut found: Vec<(i64, u64, Vec<u8>)>, max: usize) -> LookupPage {
    let more = found.len() > max;
    found.truncate(max);
    let next = if more {
        found.last().map(|(t, i, _)| Cursor {
            time_s: *t,
            index: i64::try_from(*i).unwrap_or(i64::MAX),
        })
    } else {
        None
    };
    LookupPage {
        events: found.into_iter().map(|(_, _, b)| b).collect(),
        next,
    }
}

/// `EventId` filter: the candidates of the id's millisecond, compared by prefix.
fn lookup_by_id(conn: &Connection, q: &LookupQuery, id: &str) -> Result<LookupPage, AuditError> {
    let prefix = id_prefix(id);
    let mut blocks = BlockCache::default();
    let mut found = Vec::new();
    for idx in id_candidates(conn, id)? {
        let Some(bytes) = blocks.event(conn, idx)? else {
            continue;
        };
        if !bytes.starts_with(&prefix) {
            continue;
        }
        let f = EventFields::parse(bytes)?;
        let t = f.time_s()?;
        let account = f.user_identity.account_id.clone().unwrap_or_default();
        if q.accounts.contains(&account) && in_range(q, t, idx) && matches(&f, &q.filters) {
            found.push((t, idx, bytes.to_vec()));
        }
    }
    if q.backward {
        found.sort_by_key(|a| std::cmp::Reverse((a.0, a.1)));
    } else {
        found.sort_by_key(|a| (a.0, a.1));
    }
    Ok(page(found, q.max_results))
}
