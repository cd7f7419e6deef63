//! Runs a conformance check against every configured backend: SQLite always, PostgreSQL
//! when `CLOUDWARD_TEST_PG_URL` is set (required when `CI=true`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cloudward_store::Store;

/// The stores to run a conformance test against, each fresh and empty.
pub async fn stores(test_name: &str) -> Vec<(&'static str, Store)> {
    let mut out = vec![("sqlite", Store::open_sqlite_memory().await.unwrap())];
    match std::env::var("CLOUDWARD_TEST_PG_URL") {
        Ok(url) => {
            let schema = format!("t_{}_{}", test_name, uuid_like());
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

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}
