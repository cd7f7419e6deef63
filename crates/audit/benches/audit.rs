//! Audit log benchmarks (a plain harness: these are throughput and latency-distribution
//! measurements that criterion's per-iteration model does not fit).
//!
//! ```text
//! cargo bench -p cloudward-audit --bench audit -- ingest [EVENTS] [WRITERS] [IN-FLIGHT]
//! cargo bench -p cloudward-audit --bench audit -- lookup [EVENTS] [QUERIES]
//! cargo bench -p cloudward-audit --bench audit -- prepare [EVENTS]
//! ```
//!
//! * `ingest`: WRITERS concurrent tasks on a 2-worker runtime, each with up to IN-FLIGHT
//!   calls outstanding, call `AuditLog::record` (build → redact → canonical bytes → leaf hash → group commit)
//!   until EVENTS are durable; reports sustained events/s, then the same with prepared
//!   rows (`AuditLog::append`, store only). Durability `os` and `fsync` are both run.
//! * `prepare`: the caller's share of `record` per event, stage by stage, on one thread.
//! * `lookup`: fills (once; reused from `$CLOUDWARD_BENCH_DIR`, default
//!   `/tmp/cloudward-audit-bench-<EVENTS>`) a log with EVENTS events spread over 90 days,
//!   10 accounts × 100 users, then runs QUERIES `LookupEvents`-equivalent queries by
//!   user and a random 1-day window (50 results, newest first) and by user over the
//!   default 90-day window, and reports p50/p99/max.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudward_audit::log::{DB_FILE, open_reader};
use cloudward_audit::lookup::{Attribute, LookupQuery, lookup};
use cloudward_audit::{AuditLog, AuditOptions, CallFacts, Durability, EventRow, build_event};
use cloudward_service::{Clock, Params, Principal, PrincipalKind, RequestContext, SystemClock};
use cloudward_trail::ActionTrailEvent;
use serde_json::Value;

// The `cloudward` binary's allocator (crates/cli/src/main.rs), so that the numbers are
// the server's: glibc malloc was ~18 % of the ingest profile, mostly cross-thread frees.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SPAN: i64 = 90 * 86_400;

/// CPU time (user + system) this process has used so far, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Start of the synthetic 90-day span: ends an hour before now, so a server started on
/// the data (retention 90 days) keeps every event.
fn t0() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() - SPAN - 3600
}

fn principal(account: u32, user: u32) -> Principal {
    Principal {
        account_id: format!("{:016}", 1_000_000_000_000_000u64 + u64::from(account)),
        kind: PrincipalKind::User {
            user_id: format!("2{account:05}{user:010}"),
            user_name: format!("user{user:03}"),
        },
        access_key_id: format!("LTAI5t{account:04}{user:014}"),
    }
}

fn event_at(t: i64, account: u32, user: u32, i: u64) -> ActionTrailEvent {
    let who = principal(account, user);
    let ctx = RequestContext {
        request_id: format!("{i:032X}"),
        source_ip: "10.1.2.3".parse().unwrap(),
        secure_transport: true,
        received_at: time::OffsetDateTime::from_unix_timestamp(t).unwrap(),
        user_agent: "AlibabaCloud (linux; x86_64) Python/3.11 Core/0.4.6 TeaDSL/2".to_owned(),
        mfa_present: false,
    };
    let mut params = Params::new();
    params.insert("UserName".into(), format!("target{}", i % 5000));
    params.insert("Comments".into(), "benchmark event".into());
    params.insert("RegionId".into(), "cn-hangzhou".into());
    let action = [
        "GetUser",
        "CreateUser",
        "ListPolicies",
        "AttachPolicyToUser",
    ][(i % 4) as usize];
    let body = Value::Null;
    build_event(&CallFacts {
        spec: None,
        version: Some("2015-05-01"),
        action: Some(action),
        product: Some("Ram"),
        caller: Some(&who),
        claimed_account: None,
        claimed_access_key_id: None,
        params: Some(&params),
        result: Ok(&body),
        context: &ctx,
        region: "cn-hangzhou",
    })
    .unwrap()
}

fn open(dir: &Path, durability: Durability) -> (AuditLog, cloudward_audit::AuditWriter) {
    let mut o = AuditOptions::new(dir);
    o.durability = durability;
    o.maintenance = false;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (log, writer, _) = AuditLog::open(o, clock, None).unwrap();
    (log, writer)
}

/// Runs `total` calls of `one(n)` from `writers` tasks, each keeping up to `inflight`
/// calls outstanding (as a server with many concurrent requests does).
async fn drive<F, Fut>(writers: u64, inflight: usize, total: u64, one: F)
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let per = total / writers;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let one = one.clone();
        tasks.push(tokio::spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..per {
                if set.len() >= inflight {
                    set.join_next().await.unwrap().unwrap();
                }
                set.spawn(one(w * per + i));
            }
            while let Some(r) = set.join_next().await {
                r.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn ingest(events: u64, writers: u64, inflight: usize) {
    // Warm-up (not measured): the first hundred thousand calls of a process also pay for
    // fresh memory (page faults, allocator arenas), which a sustained rate should not
    // include; without it the first measured phase ran up to 40 % slower.
    {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (log, writer) = rt.block_on(async { open(dir.path(), Durability::Os) });
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let l = log.clone();
        let n = 100_000 / writers * writers;
        let started = Instant::now();
        rt.block_on(drive(writers, inflight, n, move |i| {
            let log = l.clone();
            async move {
                let e = event_at(now, (i % 10) as u32, (i % 100) as u32, i);
                log.record(e, &[]).await.unwrap();
            }
        }));
        println!(
            "warm-up: {n} events in {:.2} s (not counted)",
            started.elapsed().as_secs_f64()
        );
        drop(log);
        writer.join();
    }
    for durability in [Durability::Os, Durability::Fsync] {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (log, writer) = rt.block_on(async { open(dir.path(), durability) });
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let n = events / writers * writers;
        let load_before = loadavg();
        let cpu0 = cpu_seconds();
        let started = Instant::now();
        let l = log.clone();
        rt.block_on(drive(writers, inflight, n, move |i| {
            let log = l.clone();
            async move {
                let e = event_at(now, (i % 10) as u32, (i % 100) as u32, i);
                log.record(e, &[]).await.unwrap();
            }
        }));
        let acked = started.elapsed();
        // Sustained means the lookup indexes keep up too: wait for the indexer.
        while log.indexed() < log.size() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let full = started.elapsed();
        let cpu_record = cpu_seconds() - cpu0;
        // Store only: rows prepared up front (redaction, serialization, hashing excluded).
        let rows: Arc<Vec<EventRow>> = Arc::new(
            (0..n)
                .map(|i| {
                    EventRow::from_event(
                        event_at(now, (i % 10) as u32, (i % 100) as u32, i + n),
                        &[],
                    )
                    .unwrap()
                })
                .collect(),
        );
        let bytes: usize = rows.iter().map(|r| r.body.len()).sum();
        let cpu1 = cpu_seconds();
        let started = Instant::now();
        let l = log.clone();
        rt.block_on(drive(writers, inflight, n, move |i| {
            let log = l.clone();
            let rows = rows.clone();
            async move {
                log.append(rows[i as usize].clone()).await.unwrap();
            }
        }));
        let store_acked = started.elapsed();
        while log.indexed() < log.size() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let store = started.elapsed();
        let cpu_store = cpu_seconds() - cpu1;
        println!(
            "ingest durability={durability:?} writers={writers} in-flight/writer={inflight}: record() {n} events durable in {:.2} s = {:.0} events/s, indexed in {:.2} s = {:.0} events/s; append() of prepared rows: durable {:.0} events/s, indexed {:.0} events/s (avg event {} bytes)",
            acked.as_secs_f64(),
            n as f64 / acked.as_secs_f64(),
            full.as_secs_f64(),
            n as f64 / full.as_secs_f64(),
            n as f64 / store_acked.as_secs_f64(),
            n as f64 / store.as_secs_f64(),
            bytes / n.max(1) as usize,
        );
        println!(
            "  CPU (user+sys, whole process) record(): {:.2} s = {:.1} µs/event ({:.0} events per CPU-second); append(): {:.2} s = {:.1} µs/event; load average before {load_before}, after {}",
            cpu_record,
            cpu_record * 1e6 / n as f64,
            n as f64 / cpu_record.max(1e-9),
            cpu_store,
            cpu_store * 1e6 / n as f64,
            loadavg(),
        );
        drop(log);
        writer.join();
    }
}

/// Per-event CPU of the caller's side of `record`, stage by stage, on one thread:
/// build → redact → canonical bytes → leaf hash, and `EventRow::from_event` (all of it).
fn prepare(events: u64) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let n = events.max(1);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    let built: Vec<ActionTrailEvent> = (0..n)
        .map(|i| event_at(now, (i % 10) as u32, (i % 100) as u32, i))
        .collect();
    let build = t.elapsed();
    let t = Instant::now();
    let redacted: Vec<_> = built
        .iter()
        .cloned()
        .map(|e| e.redact_with(&[]).unwrap())
        .collect();
    let redact_and_clone = t.elapsed();
    let t = Instant::now();
    let _clones: Vec<ActionTrailEvent> = built.to_vec();
    let clone_only = t.elapsed();
    let t = Instant::now();
    let bodies: Vec<Vec<u8>> = redacted
        .iter()
        .map(|r| r.canonical_bytes().unwrap())
        .collect();
    let serialize = t.elapsed();
    let t = Instant::now();
    let mut x = 0u8;
    for b in &bodies {
        x ^= cloudward_trail::merkle::leaf_hash(b)[0];
    }
    let hash = t.elapsed();
    let t = Instant::now();
    let rows: Vec<EventRow> = built
        .into_iter()
        .map(|e| EventRow::from_event(e, &[]).unwrap())
        .collect();
    let whole = t.elapsed();
    println!(
        "prepare {n} events (one thread): build_event {:.2} µs, redact {:.2} µs, canonical bytes {:.2} µs, leaf hash {:.2} µs; EventRow::from_event (redact + bytes + hash + row) {:.2} µs; build + from_event = {:.2} µs/event [{x} {}]",
        per(build),
        per(redact_and_clone.saturating_sub(clone_only)),
        per(serialize),
        per(hash),
        per(whole),
        per(build + whole),
        rows.len(),
    );
}

fn fill(dir: &Path, events: u64) {
    let marker = dir.join("complete");
    if marker.exists() {
        println!("reusing {}", dir.display());
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (log, writer) = rt.block_on(async { open(dir, Durability::Os) });
    let writers = 64u64;
    let t0 = t0();
    let started = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for w in 0..writers {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = w;
                while n < events {
                    // Time grows with n: 90 days over the whole log.
                    let t = t0 + (n as i64 * SPAN) / events as i64;
                    let e = event_at(t, (n % 10) as u32, ((n / 10) % 100) as u32, n);
                    log.record(e, &[]).await.unwrap();
                    n += writers;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let took = started.elapsed();
    println!(
        "filled {events} events in {:.1} s ({:.0} events/s)",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64()
    );
    // A signed checkpoint over everything, so `cloudward trail export` covers it all.
    let cp = rt.block_on(log.checkpoint_now()).unwrap();
    assert_eq!(cp.checkpoint.size, events);
    std::fs::write(dir.join("t0"), t0.to_string()).unwrap();
    drop(log);
    writer.join();
    std::fs::write(marker, b"ok").unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn lookups(events: u64, queries: u64) {
    let dir = std::env::var("CLOUDWARD_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(format!("/tmp/cloudward-audit-bench-{events}")));
    fill(&dir, events);
    let t0: i64 = std::fs::read_to_string(dir.join("t0"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1_780_000_000);
    let conn = open_reader(&dir.join(DB_FILE)).unwrap();
    assert!(
        cloudward_audit::index::attach(&conn, &dir).unwrap(),
        "no index database"
    );
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (label, window) in [("1-day window", 86_400i64), ("default 90-day window", SPAN)] {
        let mut times = Vec::with_capacity(queries as usize);
        let mut returned = 0usize;
        for q in 0..queries + 100 {
            let account = (rnd() % 10) as u32;
            let user = (rnd() % 100) as u32;
            let start = if window >= SPAN {
                t0
            } else {
                t0 + (rnd() % (SPAN - window) as u64) as i64
            };
            let p = principal(account, user);
            let query = LookupQuery {
                accounts: vec![p.account_id.clone()],
                start_s: start,
                end_s: start + window,
                filters: vec![(Attribute::UserName, format!("user{user:03}"))],
                max_results: 50,
                backward: true,
                after: None,
            };
            let t = Instant::now();
            let page = lookup(&conn, &query).unwrap();
            // Parse the events as the API handler does.
            let parsed: Vec<Value> = page
                .events
                .iter()
                .map(|b| serde_json::from_slice(b).unwrap())
                .collect();
            let took = t.elapsed();
            if q >= 100 {
                times.push(took);
                returned += parsed.len();
            }
        }
        times.sort();
        println!(
            "lookup by user, {label}, {events} events, {queries} queries: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({:.1} events per page)",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3,
            returned as f64 / queries as f64,
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match args.first().map(String::as_str) {
        Some("ingest") => ingest(num(1, 500_000), num(2, 8), num(3, 512) as usize),
        Some("lookup") => lookups(num(1, 10_000_000), num(2, 2_000)),
        Some("prepare") => prepare(num(1, 200_000)),
        _ => {
            // `cargo bench` without arguments: a short smoke run of both.
            ingest(100_000, 8, 512);
        }
    }
}
