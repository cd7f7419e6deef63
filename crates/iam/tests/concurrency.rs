//! Concurrent writes on the embedded store must queue, not fail: SQLite answers a deferred
//! transaction that reads then writes with `SQLITE_BUSY` when another writer got in first,
//! which surfaced as 500s under load before write transactions began `IMMEDIATE`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cloudward_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_read_modify_write_calls_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("c.db")).await.unwrap();
    let env = common::env_on(store).await;
    let root = common::root(&env.management);
    let v = "2015-05-01";
    common::call(&env.state, &root, v, "CreateUser", &[("UserName", "alice")])
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let state = env.state.clone();
        let root = root.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("display-{i}");
            common::call(
                &state,
                &root,
                "2015-05-01",
                "UpdateUser",
                &[("UserName", "alice"), ("NewDisplayName", &name)],
            )
            .await
        }));
    }
    for task in tasks {
        let result = task.await.unwrap();
        assert!(result.is_ok(), "a concurrent UpdateUser failed: {result:?}");
    }
}
