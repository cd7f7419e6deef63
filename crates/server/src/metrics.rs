//! Prometheus text metrics, kept by hand: a few counters and one histogram do not need a
//! metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the request-duration histogram buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Server metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String), u64>>,
    buckets: [AtomicU64; 12],
    duration_count: AtomicU64,
    duration_sum_micros: AtomicU64,
    in_flight: AtomicI64,
    audit_events: AtomicU64,
}

impl Metrics {
    /// Counts a finished RPC call by action and result code (`OK` for success).
    pub fn observe(&self, action: &str, code: &str, elapsed: Duration) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((action.to_owned(), code.to_owned())).or_insert(0) += 1;
        }
        let secs = elapsed.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(self.buckets.iter()) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Tracks requests being processed.
    pub fn in_flight(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// Counts a durable audit event.
    pub fn audit_event(&self) {
        self.audit_events.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP cloudward_rpc_requests_total RPC calls by action and result code."
        );
        let _ = writeln!(out, "# TYPE cloudward_rpc_requests_total counter");
        if let Ok(map) = self.requests.lock() {
            for ((action, code), count) in map.iter() {
                let _ = writeln!(
                    out,
                    "cloudward_rpc_requests_total{{action=\"{}\",code=\"{}\"}} {count}",
                    escape(action),
                    escape(code)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP cloudward_rpc_request_duration_seconds Time from request received to response ready."
        );
        let _ = writeln!(
            out,
            "# TYPE cloudward_rpc_request_duration_seconds histogram"
        );
        for (bound, bucket) in BUCKETS.iter().zip(self.buckets.iter()) {
            let _ = writeln!(
                out,
                "cloudward_rpc_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.duration_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "cloudward_rpc_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.duration_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "cloudward_rpc_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "cloudward_rpc_request_duration_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP cloudward_rpc_in_flight RPC calls being processed."
        );
        let _ = writeln!(out, "# TYPE cloudward_rpc_in_flight gauge");
        let _ = writeln!(
            out,
            "cloudward_rpc_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP cloudward_audit_events_total Audit events made durable."
        );
        let _ = writeln!(out, "# TYPE cloudward_audit_events_total counter");
        let _ = writeln!(
            out,
            "cloudward_audit_events_total {}",
            self.audit_events.load(Ordering::Relaxed)
        );
        out
    }
}

/// Label values come from requests (the action name), so they are escaped.
fn escape(value: &str) -> String {
    value
        .chars()
        .take(128)
        .flat_map(|c| match c {
            '\\' => vec!['\\', '\\'],
            '"' => vec!['\\', '"'],
            '\n' => vec!['\\', 'n'],
            other => vec![other],
        })
        .collect()
}
