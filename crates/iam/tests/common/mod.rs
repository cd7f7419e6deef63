//! Shared harness for the identity-service tests: a service state on a fresh store with the
//! management account bootstrapped, root principals, and direct handler calls through the
//! real authorizer (no HTTP).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use cloudward_protocol::ApiError;
use cloudward_service::{
    ActionSpec, Authenticated, Authorizer, Call, Params, Principal, PrincipalKind, RequestContext,
    SecretBox, ServiceState, SystemClock,
};
use cloudward_store::Store;
use serde_json::Value;

/// A service state and the bootstrapped management account.
pub struct Env {
    pub state: ServiceState,
    pub management: String,
}

/// A fresh in-memory SQLite store with the management account bootstrapped.
pub async fn env() -> Env {
    env_on(Store::open_sqlite_memory().await.unwrap()).await
}

/// The same on a given (fresh) store.
pub async fn env_on(store: Store) -> Env {
    let secrets = SecretBox::new(&[7u8; 32]);
    let boot = cloudward_iam::bootstrap::ensure_management_account(&store, &secrets, None, 1_000)
        .await
        .unwrap();
    Env {
        state: ServiceState::new(
            store,
            secrets,
            Arc::new(SystemClock),
            "cn-hangzhou".to_owned(),
        ),
        management: boot.account_id,
    }
}

/// Fresh stores to run a test against: SQLite always, PostgreSQL when
/// `CLOUDWARD_TEST_PG_URL` is set (required when `CI=true`).
pub async fn stores(test_name: &str) -> Vec<(&'static str, Store)> {
    let mut out = vec![("sqlite", Store::open_sqlite_memory().await.unwrap())];
    match std::env::var("CLOUDWARD_TEST_PG_URL") {
        Ok(url) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let schema = format!("t_{test_name}_{nanos:x}{:x}", std::process::id());
            out.push((
                "postgres",
                Store::open_postgres_schema(&url, &schema).await.unwrap(),
            ));
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but CLOUDWARD_TEST_PG_URL is not set: the PostgreSQL backend would go untested"
            );
        }
        Err(_) => eprintln!(
            "SKIPPED PostgreSQL backend for {test_name}: CLOUDWARD_TEST_PG_URL is not set"
        ),
    }
    out
}

/// The root identity of an account.
pub fn root(account_id: &str) -> Principal {
    Principal {
        account_id: account_id.to_owned(),
        kind: PrincipalKind::Root,
        access_key_id: "LTAI5tTestRootKey0000000".to_owned(),
    }
}

/// A request context for tests.
pub fn context() -> RequestContext {
    RequestContext {
        request_id: "00000000-0000-4000-8000-000000000000".to_owned(),
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        secure_transport: true,
        received_at: time::OffsetDateTime::now_utc(),
        user_agent: "cloudward-tests".to_owned(),
        mfa_present: false,
    }
}

/// The registered spec of `(version, action)`.
pub fn spec(version: &str, action: &str) -> ActionSpec {
    *cloudward_iam::actions()
        .iter()
        .find(|s| s.version == version && s.name == action)
        .unwrap_or_else(|| panic!("no action {version}/{action}"))
}

/// Authorizes `principal` with the default authorizer (no policy source: roots in their
/// own account only) and runs the handler.
pub async fn call(
    state: &ServiceState,
    principal: &Principal,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
) -> Result<Value, ApiError> {
    let spec = spec(version, action);
    let params: Params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let caller = Authenticated::after_signature_verified(principal.clone(), context());
    let auth = Authorizer::new(None)
        .authorize(caller, &spec, &params)
        .await?;
    (spec.handler)(Call {
        state,
        auth: &auth,
        params: &params,
    })
    .await
}

// ---- RAM helpers (added by the RAM tests) ----------------------------------------------

/// A clock the test sets (ms since the epoch); for TOTP and timestamps.
#[derive(Debug, Default)]
pub struct TestClock(pub std::sync::atomic::AtomicI64);

impl TestClock {
    /// Sets the time.
    pub fn set_ms(&self, ms: i64) {
        self.0.store(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl cloudward_service::Clock for TestClock {
    fn now(&self) -> time::OffsetDateTime {
        let ms = self.0.load(std::sync::atomic::Ordering::SeqCst);
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
    }
}

/// Like [`env_on`], with a test-controlled clock starting at `start_ms`.
pub async fn env_with_clock(store: Store, start_ms: i64) -> (Env, Arc<TestClock>) {
    let clock = Arc::new(TestClock::default());
    clock.set_ms(start_ms);
    let mut env = env_on(store).await;
    env.state.clock = clock.clone();
    (env, clock)
}

/// Runs a RAM (`2015-05-01`) action as the management account's root.
pub async fn ram(env: &Env, action: &str, params: &[(&str, &str)]) -> Result<Value, ApiError> {
    call(
        &env.state,
        &root(&env.management),
        "2015-05-01",
        action,
        params,
    )
    .await
}

/// Creates another (member) account in the store and returns its id.
pub async fn other_account(env: &Env, account_id: &str) -> String {
    env.state
        .store
        .insert_account(&cloudward_store::AccountRecord {
            account_id: account_id.to_owned(),
            display_name: format!("account {account_id}"),
            kind: cloudward_store::AccountKind::Member,
            created_at_ms: 1_000,
        })
        .await
        .unwrap();
    account_id.to_owned()
}
