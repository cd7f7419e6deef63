//! Helpers for the audit crate's tests: a settable clock, principals, events.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use cloudward_audit::{AuditLog, AuditOptions, AuditWriter, CallFacts, build_event};
use cloudward_protocol::ApiError;
use cloudward_service::{ActionSpec, Clock, Params, Principal, PrincipalKind, RequestContext};
use cloudward_trail::ActionTrailEvent;
use serde_json::Value;

/// A clock tests move by hand.
#[derive(Debug)]
pub struct TestClock(pub AtomicI64);

impl TestClock {
    pub fn at(unix: i64) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(unix)))
    }
    pub fn set(&self, unix: i64) {
        self.0.store(unix, Ordering::SeqCst);
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(self.0.load(Ordering::SeqCst)).unwrap()
    }
}

pub const T0: i64 = 1_790_000_000;

pub fn options(dir: &std::path::Path) -> AuditOptions {
    let mut o = AuditOptions::new(dir);
    o.durability = cloudward_audit::Durability::Os;
    o.maintenance = false;
    o
}

pub fn open(dir: &std::path::Path, clock: Arc<TestClock>) -> (AuditLog, AuditWriter) {
    let (log, writer, _) = AuditLog::open(options(dir), clock, None).unwrap();
    (log, writer)
}

pub fn user(account: &str, name: &str) -> Principal {
    Principal {
        account_id: account.to_owned(),
        kind: PrincipalKind::User {
            user_id: format!("2000{name}"),
            user_name: name.to_owned(),
        },
        access_key_id: format!("LTAI{name}"),
    }
}

pub fn context(clock: &TestClock) -> RequestContext {
    RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        source_ip: "127.0.0.1".parse().unwrap(),
        secure_transport: false,
        received_at: clock.now(),
        user_agent: "test".to_owned(),
        mfa_present: false,
    }
}

/// An event of `action` (an unregistered read) by `who`.
pub fn event(
    clock: &TestClock,
    who: &Principal,
    action: &str,
    params: &Params,
) -> ActionTrailEvent {
    let ctx = context(clock);
    let body = Value::Null;
    build_event(&CallFacts {
        spec: None,
        version: Some("2015-05-01"),
        action: Some(action),
        product: Some("Ram"),
        caller: Some(who),
        claimed_account: None,
        claimed_access_key_id: None,
        params: Some(params),
        result: Ok(&body),
        context: &ctx,
        region: "cn-hangzhou",
    })
    .unwrap()
}

/// An event for a registered action spec with its response body or error.
pub fn spec_event(
    clock: &TestClock,
    spec: &ActionSpec,
    who: &Principal,
    params: &Params,
    result: Result<&Value, &ApiError>,
) -> ActionTrailEvent {
    let ctx = context(clock);
    build_event(&CallFacts {
        spec: Some(spec),
        version: Some(spec.version),
        action: Some(spec.name),
        product: None,
        caller: Some(who),
        claimed_account: None,
        claimed_access_key_id: None,
        params: Some(params),
        result,
        context: &ctx,
        region: "cn-hangzhou",
    })
    .unwrap()
}

pub fn params(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
